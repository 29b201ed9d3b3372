"""Errors of the plain HTTP routes, in the same shape as GraphQL's, and their sign-in check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from billing.errors import BillingError, ErrorCode
from gateway.auth import authenticate
from gateway.settings import Settings
from resolvers.viewer import Viewer


def error_response(status: int, code: ErrorCode | str, message: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(code)}}]}
    return JSONResponse(body, status_code=status)


async def signed_in_user(
    request: Request, settings: Settings, missing: str
) -> Viewer | JSONResponse:
    """The signed-in user (not an API key), or the 401 to answer with."""
    try:
        caller = await authenticate(
            request.headers.get("authorization"),
            settings.jwt_secret,
            settings.token_max_lifetime_seconds,
        )
    except BillingError as error:
        return error_response(401, ErrorCode.UNAUTHENTICATED, error.message)
    if not isinstance(caller, Viewer):
        return error_response(401, ErrorCode.UNAUTHENTICATED, missing)
    return caller
