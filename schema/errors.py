"""Every error leaves with an `extensions.code`; unexpected ones are masked (no stack trace)."""

from __future__ import annotations

import logging
import traceback

from graphql import GraphQLError

from billing.errors import BillingError, ErrorCode
from resolvers.availability import UNAVAILABLE_MESSAGE, database_unavailable

log = logging.getLogger("billing_gateway.errors")


def coded_error(error: GraphQLError) -> GraphQLError:
    extensions = error.extensions or {}
    if "code" in extensions:
        return error
    original = error.original_error
    if isinstance(original, BillingError):
        code, message = original.code, original.message
        extra = {"field": original.field} if original.field else {}
        if original.reason:  # the finer code, as a UserError's `code` gives it (e.g. DSC-1's)
            extra["reason"] = original.reason
    elif original is None or isinstance(original, GraphQLError) or error.path is None:
        # Syntax, validation and variable-coercion errors: the request itself is wrong.
        code, message, extra = ErrorCode.BAD_USER_INPUT, error.message, {}
    elif database_unavailable(original):
        log.warning("database unavailable at %s: %r", error.path, original)
        code, message, extra = ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, {}
    else:
        log.error("unexpected error at %s\n%s", error.path, clipped_traceback(original))
        code, message, extra = ErrorCode.INTERNAL, "Internal error: it has been logged.", {}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value, **extra},
    )


_LOGGED_LINE = 1000  # characters per line of a logged traceback


def clipped_traceback(error: BaseException) -> str:
    """The traceback with each line cut short: an exception's message may carry a whole
    caller-sent value (a 100,000-character id), which the log should not repeat."""
    lines = "".join(traceback.format_exception(error)).splitlines()
    return "\n".join(
        line if len(line) <= _LOGGED_LINE else f"{line[:_LOGGED_LINE]}… ({len(line):,} characters)"
        for line in lines
    )
