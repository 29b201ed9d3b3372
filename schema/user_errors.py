"""A refused change as the answer a client reads (UserError)."""

from __future__ import annotations

from billing.errors import BillingError, ForbiddenError, NotFoundError
from resolvers.idempotency import note_refused
from schema.plan_change import UserError


def user_error(error: BillingError) -> UserError:
    """Bad input and refused transitions are answers (UserError); authorisation failures stay
    errors (FORBIDDEN, NOT_FOUND) and are raised again."""
    if isinstance(error, ForbiddenError | NotFoundError):
        raise error
    note_refused()  # IDM-1: nothing was applied, so an idempotency key is not spent on this
    return UserError.of(error)
