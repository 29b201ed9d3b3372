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


def auth_error_response(error: BillingError) -> JSONResponse:
    """401 for a refused token; 503 when the identity provider's keys could not be had."""
    if error.code is ErrorCode.UNAVAILABLE:
        return error_response(503, ErrorCode.UNAVAILABLE, error.message)
    return error_response(401, ErrorCode.UNAUTHENTICATED, error.message)


async def signed_in_user(
    request: Request, settings: Settings, missing: str
) -> Viewer | JSONResponse:
    """The signed-in user (not an API key), or the 401 to answer with."""
    try:
        caller = await authenticate(request.headers.get("authorization"), settings)
    except BillingError as error:
        return auth_error_response(error)
    if not isinstance(caller, Viewer):
        return error_response(401, ErrorCode.UNAUTHENTICATED, missing)
    return caller
