"""Headers on every response: nosniff, a referrer policy, a CSP whose frame-ancestors follow
GATEWAY_FRAME_ANCESTORS (the GraphiQL page loads only the gateway's own files), and `no-store` on
anything with money or personal data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import pytest_asyncio
from starlette.types import Message

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.security_headers import _Headed
from gateway.settings import Settings
from models import Invoice
from tests.conftest import token_for


@pytest_asyncio.fixture
async def embeddable(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    configured = replace(settings, frame_ancestors="'self' https://billing.example.com")
    app = create_app(configured, clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


async def _responses(client: httpx.AsyncClient) -> dict[str, httpx.Response]:
    token = await token_for("owner@acme.test")
    signed_in = {"Authorization": f"Bearer {token}"}
    invoice = await Invoice.filter(organization__slug="acme").first()
    assert invoice is not None
    return {
        "health": await client.get("/health"),
        "graphql signed in": await client.post(
            "/graphql",
            json={"query": "{ organization { creditBalance { amount } } }"},
            headers=signed_in,
        ),
        "graphql anonymous": await client.post(
            "/graphql", json={"query": "{ catalog { currency } }"}
        ),
        "graphql refused": await client.post("/graphql", content=b"{", headers=signed_in),
        "pdf": await client.get(f"/invoices/{invoice.id}.pdf", headers=signed_in),
        "csv": await client.get("/usage.csv", headers=signed_in),
        "csv unauthenticated": await client.get("/usage.csv"),
        "not found": await client.get("/nothing-here"),
    }


async def test_every_response_is_headed_and_not_stored(client: httpx.AsyncClient) -> None:
    for name, response in (await _responses(client)).items():
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "no-referrer", name
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ), name
        assert response.headers["x-frame-options"] == "DENY", name
        assert response.headers["cache-control"] == "no-store", name


async def test_money_and_personal_data_are_no_store(client: httpx.AsyncClient) -> None:
    responses = await _responses(client)
    assert responses["graphql signed in"].json()["data"]["organization"]["creditBalance"]
    assert responses["pdf"].headers["content-type"] == "application/pdf"
    assert responses["csv"].headers["content-type"].startswith("text/csv")
    for name in ("graphql signed in", "pdf", "csv"):
        assert responses[name].status_code == 200, name
        assert responses[name].headers["cache-control"] == "no-store", name


async def test_gateway_frame_ancestors_lets_a_billing_page_embed_it(
    embeddable: httpx.AsyncClient,
) -> None:
    response = await embeddable.get("/health")
    assert response.headers["content-security-policy"].endswith(
        "; frame-ancestors 'self' https://billing.example.com"
    )
    assert "x-frame-options" not in response.headers


async def test_the_graphiql_page_may_run_its_own_scripts_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert "<script>" not in page.text  # no inline script: the page's scripts are files of ours
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("frame_ancestors", ["'none'", "https://app.example"])
@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-type", b"application/json"), (b"content-length", b"2")],
        [(b"content-type", b"text/html; charset=utf-8")],
        [(b"content-type", b"text/csv"), (b"cache-control", b"public, max-age=60")],
        [(b"content-security-policy", b"default-src 'self'"), (b"content-type", b"text/html")],
        [(b"x-frame-options", b"SAMEORIGIN"), (b"referrer-policy", b"origin")],  # replaced
        [],
    ],
)
async def test_the_headers_appended_are_those_set_one_by_one(
    headers: list[tuple[bytes, bytes]], frame_ancestors: str
) -> None:
    """The answer's headers appended at once when none of them is to be replaced are those
    Starlette's MutableHeaders writes, in the same order."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    headed = _Headed(send, frame_ancestors)
    await headed.send({"type": "http.response.start", "status": 200, "headers": list(headers)})
    expected: Message = {"type": "http.response.start", "status": 200, "headers": list(headers)}
    headed._headed(expected)
    assert sent[0]["headers"] == expected["headers"]
