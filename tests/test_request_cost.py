"""What an app's entitlements request costs in SQL statements, whole (EVT-2: at most two), and
how stale what a process keeps between requests may be: the caller (GATEWAY_CALLER_CACHE_SECONDS)
and the catalog revision (GATEWAY_CATALOG_CHECK_SECONDS)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from billing.access import Role
from billing.clock import FixedClock
from gateway.app import create_app
from gateway.cache_settings import CacheSettings
from gateway.settings import Settings
from models import ApiKey, CatalogRevision, Membership, Organization, User
from resolvers.api_keys import create_api_key, revoke_api_key
from resolvers.memberships import change_member_role
from tests.conftest import SEEDED_AT, QueryCounter, error_codes, token_for, trusted_request
from tests.factories import member_of, organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ITEMS = [
    {"product": "messaging", "plan": "growth"},
    {"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"},
]
MEMBER_ENTITLEMENTS = """{ organization { entitlements { status products { product plan
  features { feature enabled } limits { metric limit used remaining resetsAt allowed reason } } } } }"""
pytestmark = pytest.mark.usefixtures("database")
CACHES = CacheSettings(catalog_check_seconds=1.0, caller_cache_seconds=5.0)

Send = Callable[[], Any]


@asynccontextmanager
async def _gateway(settings: Settings, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """One gateway process, on its own clock, with the default caches."""
    app = create_app(replace(settings, caches=CACHES), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


async def _as_key(http: httpx.AsyncClient, key: str) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json=trusted_request("Entitlements", {}),
        headers={"Authorization": f"Bearer {key}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def _as_user(http: httpx.AsyncClient, token: str, query: str) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    body: dict[str, Any] = response.json()
    return body


async def _statements(sql_queries: QueryCounter, send: Send) -> list[str]:
    start = sql_queries.count
    body = await send()
    assert "errors" not in body, body
    return sql_queries.statements[start:]


def _touches(statements: list[str], table: str) -> bool:
    return any(f'"{table}"' in s for s in statements)


async def test_a_partner_keys_entitlements_request_costs_two_statements_rule_evt_2(
    settings: Settings, sql_queries: QueryCounter
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    key = await create_api_key(organization.slug, "app", ["entitlements:read"], datetime.now(UTC))
    async with _gateway(settings, FixedClock(SEEDED_AT)) as http:
        first = await _statements(sql_queries, lambda: _as_key(http, key))
        assert _touches(first, "api_key") and len(first) > 2
        for _ in range(3):
            steady = await _statements(sql_queries, lambda: _as_key(http, key))
            # The subscription lines (joined to their subscription and organization), then this
            # month's counters: the key and the catalog are what the process keeps.
            assert len(steady) == 2, steady
            assert not _touches(steady, "api_key") and not _touches(steady, "catalog_revision")


async def test_a_members_entitlements_request_costs_two_statements_rule_evt_2(
    settings: Settings, sql_queries: QueryCounter
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    token = await token_for(await member_of(organization))
    async with _gateway(settings, FixedClock(SEEDED_AT)) as http:
        first = await _statements(sql_queries, lambda: _as_user(http, token, MEMBER_ENTITLEMENTS))
        assert _touches(first, "app_user") and _touches(first, "membership")
        steady = await _statements(sql_queries, lambda: _as_user(http, token, MEMBER_ENTITLEMENTS))
        assert len(steady) == 2, steady
        # The organization's row is read only by the fields that need it.
        named = await _statements(
            sql_queries, lambda: _as_user(http, token, "{ organization { id name slug } }")
        )
        assert len(named) == 1 and _touches(named, "organization"), named


async def test_a_key_revoked_in_this_process_is_refused_at_once(
    settings: Settings, sql_queries: QueryCounter
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    key = await create_api_key(organization.slug, "app", ["entitlements:read"], datetime.now(UTC))
    async with _gateway(settings, FixedClock(SEEDED_AT)) as http:
        assert "errors" not in await _as_key(http, key)
        assert not _touches(
            await _statements(sql_queries, lambda: _as_key(http, key)), "api_key"
        )  # kept
        await revoke_api_key(key, datetime.now(UTC))
        response = await http.post(
            "/graphql",
            json=trusted_request("Entitlements", {}),
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_another_process_revocation_is_seen_within_the_cache_time(
    settings: Settings,
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    key = await create_api_key(organization.slug, "app", ["entitlements:read"], datetime.now(UTC))
    clock = FixedClock(SEEDED_AT)
    async with _gateway(settings, clock) as http:
        assert "errors" not in await _as_key(http, key)
        # As `billing-gateway api-key revoke` does from its own process: nothing here forgets.
        await ApiKey.filter(organization_id=organization.id).update(revoked_at=datetime.now(UTC))
        clock.set(SEEDED_AT + CACHES.caller_ttl - timedelta(milliseconds=1))
        assert "errors" not in await _as_key(http, key)  # the documented staleness
        clock.set(SEEDED_AT + CACHES.caller_ttl)
        assert error_codes(await _as_key(http, key)) == ["UNAUTHENTICATED"]


async def test_role_changes_here_at_once_and_from_elsewhere_within_the_cache_time(
    settings: Settings,
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    organization.external_id = f"ext-{organization.slug}"
    await organization.save(update_fields=["external_id"])
    member = await member_of(organization)
    token = await token_for(member)
    role = "{ organization { viewerRole } }"
    clock = FixedClock(SEEDED_AT)

    async def viewer_role() -> str:
        body = await _as_user(http, token, role)
        answer: str = body["data"]["organization"]["viewerRole"]
        return answer

    async with _gateway(settings, clock) as http:
        assert await viewer_role() == "MEMBER"
        await change_member_role(organization.external_id, member, Role.BILLING_ADMIN)
        assert await viewer_role() == "BILLING_ADMIN"  # changed in this process: at once

        user = await User.get(email=member)
        await Membership.filter(user_id=user.id).update(role=Role.MEMBER)  # another process
        assert await viewer_role() == "BILLING_ADMIN"
        clock.set(SEEDED_AT + CACHES.caller_ttl)
        assert await viewer_role() == "MEMBER"


async def test_a_catalog_change_is_seen_within_the_check_interval(
    settings: Settings, sql_queries: QueryCounter
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    key = await create_api_key(organization.slug, "app", ["entitlements:read"], datetime.now(UTC))
    clock = FixedClock(SEEDED_AT + timedelta(days=400))  # no other test's check is this late
    async with _gateway(settings, clock) as http:
        await _as_key(http, key)
        revision = await CatalogRevision.get(id=1)
        # Another process wrote the catalog (its own process forgets at once, not this one).
        await CatalogRevision.filter(id=1).update(revision=str(uuid4()))
        try:
            clock.set(clock.now() + CACHES.catalog_check - timedelta(milliseconds=1))
            within = await _statements(sql_queries, lambda: _as_key(http, key))
            assert not _touches(within, "catalog_revision")
            clock.set(clock.now() + timedelta(milliseconds=1))
            after = await _statements(sql_queries, lambda: _as_key(http, key))
            assert _touches(after, "catalog_revision")
            assert _touches(after, "product") and _touches(after, "plan")  # read again
        finally:
            await CatalogRevision.filter(id=1).update(revision=revision.revision)


async def test_a_cache_time_of_zero_reads_the_caller_every_time(
    settings: Settings, sql_queries: QueryCounter
) -> None:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    key = await create_api_key(organization.slug, "app", ["entitlements:read"], datetime.now(UTC))
    off = replace(settings, caches=CacheSettings(catalog_check_seconds=0, caller_cache_seconds=0))
    app = create_app(off, FixedClock(SEEDED_AT), manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as http:
        await _as_key(http, key)
        again = await _statements(sql_queries, lambda: _as_key(http, key))
    # The key, the catalog revision and the entitlements' two: the cost before the caches.
    assert len(again) == 4, again
    assert _touches(again, "api_key") and _touches(again, "catalog_revision")
    assert await Organization.exists(id=organization.id)
