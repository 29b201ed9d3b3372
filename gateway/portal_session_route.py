"""GET /billing/session/{secret}: opens a portal session's one-time link (issue 14, ACC-6).

The first opening of an unused, unexpired link gets a page that keeps a short-lived token, bound
to the link's user and organization, in sessionStorage and moves to /billing; every other opening
gets a page saying why not (used, expired, unknown), never JSON or a stack trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from billing.clock import Clock
from gateway.auth import issue_token
from gateway.portal_session_pages import language, opening_page, refusal_page
from gateway.settings import Settings
from resolvers.portal_sessions import PATH, Exchanged, Refusal, exchange_portal_session

ROUTE = PATH + "{secret}"
_MAX_SECRET = 200
_STATUS = {Refusal.UNKNOWN: 404, Refusal.USED: 410, Refusal.EXPIRED: 410, Refusal.NOT_A_MEMBER: 403}


def portal_session_endpoint(
    settings: Settings, clock: Clock
) -> Callable[[Request], Awaitable[Response]]:
    async def open_link(request: Request) -> Response:
        if request.method == "HEAD":
            # Link checkers and chat previews often send HEAD: it must not spend the link.
            return HTMLResponse(None, headers={"content-type": "text/html; charset=utf-8"})
        lang = language(request.headers.get("accept-language"))
        secret = request.path_params["secret"]
        if len(secret) > _MAX_SECRET:
            return HTMLResponse(refusal_page(lang, Refusal.UNKNOWN, None), status_code=404)
        outcome = await exchange_portal_session(secret, clock.now())
        if not isinstance(outcome, Exchanged):
            page = refusal_page(lang, outcome.reason, outcome.return_url)
            return HTMLResponse(page, status_code=_STATUS[outcome.reason])
        token = issue_token(
            outcome.user_id,
            settings.jwt_secret,
            settings.portal_sessions.session_seconds,
            organization_id=outcome.organization_id,
        )
        return HTMLResponse(opening_page(lang, token, outcome.return_url))

    return open_link
