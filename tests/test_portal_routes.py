"""The billing page's routes (issue 14): GET /billing under its CSP (Stripe.js allowed only with
the Stripe processor), its files, the sandbox-only demo sign-in, GATEWAY_FIXED_CLOCK and
STRIPE_PUBLISHABLE_KEY, and `make check-operations` finding invalid or stale documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Mode, Settings, SettingsError, load_settings
from gateway.trusted_documents import (
    PORTAL_DOCUMENTS,
    SCHEMA_FILE,
    document_problems,
    portal_documents_text,
)
from tests.conftest import JWT_SECRET


def _client(settings: Settings, clock: FixedClock) -> httpx.AsyncClient:
    app = create_app(settings, clock, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")


@pytest_asyncio.fixture
async def production(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    configured = replace(settings, mode=Mode.PRODUCTION, stripe_api_key="sk_test_x")
    async with _client(configured, clock) as http:
        yield http


async def test_the_page_and_its_files_are_served_with_the_page_policy(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/billing")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "js.stripe.com" not in policy
    assert "frame-ancestors 'none'" in policy
    assert '<meta name="billing-gateway-config"' in page.text
    assert "&quot;sandbox&quot;:true" in page.text
    script = await client.get("/portal/billing/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    again = await client.get(
        "/portal/billing/app.js", headers={"if-none-match": script.headers["etag"]}
    )
    assert again.status_code == 304
    documents = await client.get("/portal/shared/documents.js")
    assert documents.text == PORTAL_DOCUMENTS.read_text()


@pytest.mark.parametrize(
    "path", ["/portal/operations/BillingShell.graphql", "/portal/__init__.py", "/portal/../x.js"]
)
async def test_only_the_pages_own_files_are_served(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_with_stripe_the_policy_allows_exactly_stripe_js(
    production: httpx.AsyncClient,
) -> None:
    page = await production.get("/billing")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' https://js.stripe.com;" in policy
    assert "&quot;processor&quot;:&quot;stripe&quot;" in page.text
    assert "&quot;sandbox&quot;:false" in page.text
    api = await production.get("/health")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_demo_sign_in_lists_users_and_mints_a_token_in_sandbox(
    client: httpx.AsyncClient,
) -> None:
    users = (await client.get("/billing/sandbox/users")).json()["users"]
    assert {
        "email": "billing@acme.test",
        "name": "Bill Acme",
        "organization": "Acme",
        "role": "BILLING_ADMIN",
    } in users
    minted = await client.post("/billing/sandbox/token", json={"email": "Billing@Acme.test "})
    assert minted.status_code == 200
    claims = jwt.decode(
        minted.json()["token"], JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False}
    )
    assert claims["sub"]
    unknown = await client.post("/billing/sandbox/token", json={"email": "nobody@acme.test"})
    assert unknown.status_code == 404
    assert "nobody@acme.test" in unknown.json()["errors"][0]["message"]
    bad = await client.post("/billing/sandbox/token", content=b"not json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_demo_sign_in_is_refused_outside_sandbox(
    production: httpx.AsyncClient,
) -> None:
    for answer in (
        await production.get("/billing/sandbox/users"),
        await production.post("/billing/sandbox/token", json={"email": "owner@acme.test"}),
    ):
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "sandbox mode only" in answer.json()["errors"][0]["message"]
        assert "token" not in answer.json()


def test_the_fixed_clock_setting_is_sandbox_only_and_needs_an_offset() -> None:
    base = {"GATEWAY_JWT_SECRET": "s" * 40}
    fixed = load_settings({**base, "GATEWAY_FIXED_CLOCK": "2026-03-12T10:30:00+01:00"})
    assert fixed.fixed_clock == datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    assert load_settings(base).fixed_clock is None
    with pytest.raises(SettingsError, match="GATEWAY_FIXED_CLOCK: expected an ISO 8601"):
        load_settings({**base, "GATEWAY_FIXED_CLOCK": "2026-03-12 10:30"})
    with pytest.raises(SettingsError, match="only allowed with GATEWAY_MODE=sandbox"):
        load_settings(
            {
                **base,
                "GATEWAY_MODE": "production",
                "STRIPE_API_KEY": "sk_x",
                "GATEWAY_FIXED_CLOCK": "2026-03-12T09:30:00Z",
            }
        )


def test_the_publishable_key_is_never_a_secret_key() -> None:
    base = {"GATEWAY_JWT_SECRET": "s" * 40}
    assert load_settings({**base, "STRIPE_PUBLISHABLE_KEY": "pk_test_1"}).stripe_publishable_key
    with pytest.raises(SettingsError, match="STRIPE_PUBLISHABLE_KEY: expected"):
        load_settings({**base, "STRIPE_PUBLISHABLE_KEY": "sk_test_1"})


def test_check_operations_finds_invalid_misnamed_and_stale_documents(tmp_path: Path) -> None:
    schema = SCHEMA_FILE.read_text()
    assert document_problems((tmp_path,), schema) == []
    (tmp_path / "Good.graphql").write_text("query Good { viewer { user { email } } }")
    (tmp_path / "Wrong.graphql").write_text("query Other { viewer { user { email } } }")
    (tmp_path / "Invalid.graphql").write_text("query Invalid { viewer { nothing } }")
    (tmp_path / "Broken.graphql").write_text("query Broken {")
    problems = document_problems((tmp_path,), schema)
    assert len(problems) == 3, problems
    assert any("Wrong.graphql: expected one operation named Wrong" in p for p in problems)
    assert any("Invalid.graphql" in p and "nothing" in p for p in problems)
    assert any("Broken.graphql" in p for p in problems)
    assert '"Good": "' in portal_documents_text(tmp_path)
    assert PORTAL_DOCUMENTS.read_text() == portal_documents_text()
