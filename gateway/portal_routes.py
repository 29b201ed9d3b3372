"""The billing page (issue 14): `GET /billing`, its files under `/portal/`, and in sandbox the
sign-in that lists the demo users.

The page is plain ES modules and CSS from the `portal` package (package data: an installed gateway
serves it offline, no CDN, no toolchain). It talks to the gateway only through `/graphql` with
persisted documents and the PDF and CSV routes. Its CSP is the gateway's page policy; with the
Stripe processor it also allows Stripe.js, which Stripe requires to be loaded from Stripe.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from billing.errors import ErrorCode
from gateway.auth import issue_token
from gateway.http_errors import error_response
from gateway.security_headers import content_security_policy
from gateway.settings import Settings
from models import Membership

PORTAL = Path(str(resources.files("portal")))
_SERVED_SUFFIXES = frozenset({".js", ".css", ".json", ".svg"})
_MAX_DEMO_USERS = 100
_CONFIG_MARK = "<!--config-->"


class _PortalFiles(StaticFiles):
    """The page's own files only (not the .graphql sources or Python), revalidated on each load
    by their ETag (a 304 costs no body)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if Path(path).suffix not in _SERVED_SUFFIXES:
            return error_response(404, "NOT_FOUND", "No such file of the billing page.")
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = "no-cache"
        return response


def portal_routes(settings: Settings) -> list[BaseRoute]:
    page = _page_html(settings)
    policy = content_security_policy(
        settings.frame_ancestors, page=True, stripe=settings.stripe_api_key is not None
    )

    async def billing_page(_: Request) -> Response:
        return HTMLResponse(
            page, headers={"cache-control": "no-cache", "content-security-policy": policy}
        )

    return [
        Route("/billing", billing_page, methods=["GET"]),
        Route("/billing/sandbox/users", _sandbox_only(settings, _demo_users), methods=["GET"]),
        Route(
            "/billing/sandbox/token",
            _sandbox_only(settings, _token_endpoint(settings)),
            methods=["POST"],
        ),
        Mount("/portal", app=_PortalFiles(directory=PORTAL), name="portal"),
    ]


def page_config(settings: Settings) -> dict[str, Any]:
    """What the shell reads before its first request: the processor (Stripe.js or the sandbox's
    test dialogs) and Stripe's publishable key when there is one."""
    return {
        "sandbox": settings.is_sandbox,
        "processor": "stripe" if settings.stripe_api_key else "sandbox",
        "stripePublishableKey": settings.stripe_publishable_key,
    }


def _page_html(settings: Settings) -> str:
    template = (PORTAL / "billing" / "index.html").read_text(encoding="utf-8")
    config = escape(json.dumps(page_config(settings), separators=(",", ":")), quote=True)
    return template.replace(
        _CONFIG_MARK, f'<meta name="billing-gateway-config" content="{config}">', 1
    )


def _sandbox_only(settings: Settings, endpoint: Any) -> Any:
    async def guarded(request: Request) -> Response:
        if not settings.is_sandbox:
            return error_response(
                403,
                ErrorCode.FORBIDDEN,
                "The demo sign-in exists in sandbox mode only; sign in through your application.",
            )
        response: Response = await endpoint(request)
        return response

    return guarded


async def _demo_users(_: Request) -> Response:
    memberships = (
        await Membership.all()
        .select_related("user", "organization")
        .order_by("organization__slug", "created_at")
        .limit(_MAX_DEMO_USERS)
    )
    users = [
        {
            "email": m.user.email,
            "name": m.user.name,
            "organization": m.organization.name,
            "role": m.role.value,
        }
        for m in memberships
    ]
    return JSONResponse({"users": users})


def _token_endpoint(settings: Settings) -> Any:
    async def token(request: Request) -> Response:
        """Like `billing-gateway token EMAIL`: a development token for a user (sandbox only)."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or not email.strip() or len(email) > 254:
            return error_response(
                400, ErrorCode.BAD_USER_INPUT, 'Send {"email": "<a demo user\'s e-mail>"}.'
            )
        membership = (
            await Membership.filter(user__email=email.strip().lower())
            .select_related("user")
            .first()
        )
        if membership is None:
            return error_response(
                404,
                "NOT_FOUND",
                f"No user with e-mail {email.strip()!r} belongs to an organization.",
            )
        ttl = min(settings.token_ttl_seconds, settings.token_max_lifetime_seconds)
        return JSONResponse({"token": issue_token(membership.user.id, settings.jwt_secret, ttl)})

    return token
