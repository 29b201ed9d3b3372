"""CORS for GATEWAY_CORS_ORIGINS on /graphql, /invoices/{id}.pdf and /usage.csv: an allowed
origin's preflight and requests get the headers, any other origin gets none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings
from models import Invoice
from tests.conftest import token_for

ALLOWED = "http://localhost:3000"
REFUSED = "https://evil.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest_asyncio.fixture
async def browser(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    configured = replace(settings, cors_origins=(ALLOWED, "https://app.example.com"))
    app = create_app(configured, clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def _browser_paths() -> list[str]:
    invoice = await Invoice.filter(organization__slug="acme").first()
    assert invoice is not None
    return ["/graphql", f"/invoices/{invoice.id}.pdf", "/usage.csv"]


async def test_preflight_from_an_allowed_origin(browser: httpx.AsyncClient) -> None:
    for path in await _browser_paths():
        response = await browser.options(path, headers={"Origin": ALLOWED, **PREFLIGHT})
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert response.headers["access-control-allow-methods"] == "GET, POST"
        allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"Authorization", "Content-Type", "Idempotency-Key"} <= allowed
        assert response.headers["access-control-max-age"] == "600"
        assert "access-control-allow-credentials" not in response.headers


async def test_a_request_from_an_allowed_origin_may_read_the_answer(
    browser: httpx.AsyncClient,
) -> None:
    token = await token_for("billing@acme.test")
    for path in await _browser_paths():
        response = await browser.get(
            path,
            params={"query": "{ organization { name } }"} if path == "/graphql" else None,
            headers={"Origin": ALLOWED, "Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "Origin" in response.headers["vary"]
        assert "Content-Disposition" in response.headers["access-control-expose-headers"]


async def test_a_refused_origin_gets_no_cors_headers(browser: httpx.AsyncClient) -> None:
    for path in await _browser_paths():
        preflight = await browser.options(path, headers={"Origin": REFUSED, **PREFLIGHT})
        assert preflight.status_code == 403, path
        assert _cors_headers(preflight) == {}
        assert preflight.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "GATEWAY_CORS_ORIGINS" in preflight.json()["errors"][0]["message"]
    request = await browser.post(
        "/graphql", json={"query": "{ catalog { currency } }"}, headers={"Origin": REFUSED}
    )
    assert request.status_code == 200  # the browser, not the gateway, withholds it from the page
    assert _cors_headers(request) == {}
    assert "Origin" in request.headers["vary"]


async def test_an_allowed_origin_may_not_ask_for_other_headers_or_methods(
    browser: httpx.AsyncClient,
) -> None:
    other_header = await browser.options(
        "/graphql",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-secret",
        },
    )
    assert other_header.status_code == 400
    delete = await browser.options(
        "/graphql", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "DELETE"}
    )
    assert delete.status_code == 400


@pytest.mark.parametrize("origin", [ALLOWED, REFUSED])
async def test_server_to_server_routes_get_no_cors(browser: httpx.AsyncClient, origin: str) -> None:
    response = await browser.options("/webhooks/stripe", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 405
    assert _cors_headers(response) == {}


async def test_no_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/graphql", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert preflight.status_code == 403
    assert _cors_headers(preflight) == {}
