"""Domain errors with a stable code; gateway/errors.py maps them onto GraphQL errors."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"  # a dependency (the database) is out of reach: try again later


class BillingError(Exception):
    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self, message: str, *, field: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason  # a finer code for clients, e.g. SEATS_IN_USE or AMOUNT_CHANGED

    @property
    def user_code(self) -> str:
        return self.reason or self.code.value


class NotFoundError(BillingError):
    code = ErrorCode.NOT_FOUND


class ForbiddenError(BillingError):
    code = ErrorCode.FORBIDDEN


class UnauthenticatedError(BillingError):
    code = ErrorCode.UNAUTHENTICATED


class UnavailableError(BillingError):
    code = ErrorCode.UNAVAILABLE
