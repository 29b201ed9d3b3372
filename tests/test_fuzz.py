"""Fuzzing the GraphQL endpoint: queries and mutations generated from the schema by
hypothesis-graphql, sent through the real ASGI app with the shipped (sandbox) settings as a
signed-in billing admin and as an anonymous caller. Whatever is generated, the answer is never a
5xx and never INTERNAL (issue 11, item 7; the fixed malformed bodies are in test_caller_input.py).

Bounded and reproducible for CI (derandomized, FUZZ_EXAMPLES examples per test, 60 by default);
hunt with more: `FUZZ_EXAMPLES=3000 .venv/bin/python -m pytest tests/test_fuzz.py -s`."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries

from gateway.settings import DEFAULT_CATALOG_FILE
from schema import schema
from tests.conftest import SEEDED_AT, token_for
from tests.factories import organization_with

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
SCHEMA = schema._schema
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the httpx client holds no state between examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

_OFFSETS = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_EARLIEST, _LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)
# DateTime values as a client might send them: with and without a time zone, and not dates at all.
_DATETIMES = st.one_of(
    st.datetimes(_EARLIEST, _LATEST, timezones=st.one_of(st.just(UTC), _OFFSETS)).map(
        datetime.isoformat
    ),
    st.datetimes(_EARLIEST, _LATEST).map(datetime.isoformat),
    st.text(max_size=30),
).map(lambda text: graphql.StringValueNode(value=text))
# Strings: mostly names the gateway knows (so generated requests reach deep into the resolvers),
# else any text, NUL included, now and then longer than any maximum.
_KNOWN = sorted(
    set(re.findall(r'(?:code|metric) = "([^"]+)"', DEFAULT_CATALOG_FILE.read_text()))
    | {"emails", "profiles", "contacts", "requests", "tickets", "support", "sales"}
    | {"2026-03", "2026-02", "2025-12", "9999-12", "0000-01", "x", "pm_card_visa"}
    | {"pm_card_chargeDeclined", "pm_card_authenticationRequired", "aW52b2ljZToy"}
)
_STRINGS = st.one_of(
    st.sampled_from(_KNOWN),
    st.text(max_size=20),
    st.text(alphabet="ab\x00", min_size=60, max_size=300),
).map(lambda text: graphql.StringValueNode(value=text))
_IDS = st.one_of(st.uuids().map(str), st.text(max_size=40)).map(
    lambda text: graphql.StringValueNode(value=text)
)
# Ints: small ones, the bounds the rules check, and GraphQL's own 32-bit limits and beyond.
_INTS = st.one_of(
    st.integers(min_value=-3, max_value=40),
    st.sampled_from([100, 799, 800, 801, 1000, 10_000, 2**31 - 1, -(2**31), 2**31, 10**30]),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
).map(lambda number: graphql.IntValueNode(value=str(number)))
CUSTOM_SCALARS = {"DateTime": _DATETIMES, "String": _STRINGS, "ID": _IDS, "Int": _INTS}

STATUSES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    print(f"\nfuzz: {sum(STATUSES.values())} generated requests; by status: {dict(STATUSES)}")


_callers: dict[str, dict[str, str]] = {}


async def _caller(name: str) -> dict[str, str]:
    """Headers of each caller, made once per process: anonymous, the demo data's billing admin
    (queries only: they change nothing) and the billing admin and owner of an organization made
    like it, which generated mutations may change at will without touching the demo data."""
    if not _callers:
        _callers["anonymous"] = {}
        _callers["demo billing admin"] = await _bearer("billing@acme.test")
        period = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
        organization, owner = await organization_with(
            [
                {"product": "email", "plan": "email-1000"},
                {"product": "messaging", "plan": "growth"},
            ],
            period=period,
        )
        _callers["billing admin"] = await _bearer(f"billing@{organization.slug}.test")
        _callers["owner"] = await _bearer(owner)
    return _callers[name]


async def _bearer(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(email)}"}


async def _assert_answered(
    client: httpx.AsyncClient, document: str, headers: dict[str, str]
) -> None:
    response = await client.post("/graphql", json={"query": document}, headers=headers)
    STATUSES[str(response.status_code)] += 1
    assert response.status_code < 500, (document, response.text[:2000])
    body: dict[str, Any] = response.json()
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors") or []]
    assert "INTERNAL" not in codes, (document, body)
    assert None not in codes, (document, body)  # every error carries a code


@FUZZ_SETTINGS
@given(document=queries(SCHEMA, custom_scalars=CUSTOM_SCALARS))
async def test_generated_queries_never_answer_5xx_or_internal(
    client: httpx.AsyncClient, document: str
) -> None:
    for caller in ("anonymous", "demo billing admin"):
        await _assert_answered(client, document, await _caller(caller))


@FUZZ_SETTINGS
@given(document=mutations(SCHEMA, custom_scalars=CUSTOM_SCALARS))
async def test_generated_mutations_never_answer_5xx_or_internal(
    client: httpx.AsyncClient, document: str
) -> None:
    for caller in ("anonymous", "billing admin", "owner"):
        await _assert_answered(client, document, await _caller(caller))
