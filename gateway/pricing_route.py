"""GET /pricing (issue 14 item 5): the public pricing page. Its HTML only; the page's script and
styles are the portal's files under /portal/pricing/, and its prices come from the anonymous,
cacheable trusted document PricingPage (gateway/public_catalog.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response


def pricing_page_endpoint() -> Callable[[Request], Awaitable[Response]]:
    page = resources.files("portal").joinpath("pricing/index.html").read_text(encoding="utf-8")

    async def pricing(_: Request) -> Response:
        # Revalidated on each load: a new gateway version may change the page.
        return HTMLResponse(page, headers={"cache-control": "no-cache"})

    return pricing
