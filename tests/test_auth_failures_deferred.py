"""While an address has spent its failed-authentication budget, every request from it that bears
credentials gets 429 and nothing else, on /graphql too, where the endpoint checks the budget in
the round trip that spends the request's weight (gateway/auth_failures.py): a valid token runs
nothing and writes nothing, an invalid one is not told apart, and a request refused for another
reason before that check (a 401, a refused document, a 400, a 413) gets the 429 instead."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import app as app_module
from gateway import auth
from gateway.auth_failures import AuthFailureLimit, deferred_check
from gateway.rate_limits import RateLimits
from gateway.settings import Settings
from gateway.trusted_documents import document_hash
from models import AuditEntry
from tests.conftest import Gateway, bearer, error_codes, persisted

PORTAL_OPERATIONS = Path(__file__).resolve().parents[1] / "portal" / "operations"
BAD = {"Authorization": "Bearer not-a-token"}
PAGE = {"query": (PORTAL_OPERATIONS / "BillingShell.graphql").read_text()}
MUTATION = {
    "query": (PORTAL_OPERATIONS / "SetUpgradePreference.graphql").read_text(),
    "variables": {"product": "email", "preference": "FLEXIBLE_OVERAGE"},
}
BLOCKED = {"GATEWAY_AUTH_FAILURE_LIMIT": "2/minute"}


async def _spend_the_failures_budget(http: httpx.AsyncClient) -> None:
    answers = [await http.post("/graphql", json={"query": "{ __typename }"}, headers=BAD)]
    answers.append(await http.get("/usage.csv", headers=BAD))
    assert [a.status_code for a in answers] == [401, 401]


def _is_the_failures_refusal(response: httpx.Response) -> bool:
    body = response.json()
    return (
        response.status_code == 429
        and error_codes(body) == ["RATE_LIMITED"]
        and "failed sign-ins from this address" in body["errors"][0]["message"]
        and "data" not in body
        and response.headers["RateLimit-Limit"] == "2"
        and response.headers["RateLimit-Remaining"] == "0"
        and int(response.headers["Retry-After"]) >= 1
    )


async def test_a_valid_token_from_a_blocked_address_runs_nothing_and_writes_nothing(
    gateway: Gateway,
) -> None:
    owner = await bearer("owner@acme.test")
    entries = await AuditEntry.all().count()
    async with gateway(**BLOCKED) as http:
        await _spend_the_failures_budget(http)
        page = await http.post("/graphql", json=PAGE, headers=owner)
        mutation = await http.post("/graphql", json=MUTATION, headers=owner)
        assert _is_the_failures_refusal(page)
        assert _is_the_failures_refusal(mutation)
    assert await AuditEntry.all().count() == entries
    # From another address the same mutation runs and writes its audit entry.
    async with gateway(peer="192.0.2.10", **BLOCKED) as http:
        ran = await http.post("/graphql", json=MUTATION, headers=owner)
        assert ran.json()["data"]["setUpgradePreference"]["preference"] == "FLEXIBLE_OVERAGE"
        assert await AuditEntry.all().count() == entries + 1
        # Acme's seeded choice back, for the tests that read it (the database is the session's).
        seeded = {**MUTATION, "variables": {"product": "email", "preference": "AUTO_UPGRADE"}}
        restored = await http.post("/graphql", json=seeded, headers=owner)
        assert restored.json()["data"]["setUpgradePreference"]["preference"] == "AUTO_UPGRADE"


async def test_an_invalid_token_from_a_blocked_address_gets_429_not_401(gateway: Gateway) -> None:
    async with gateway(**BLOCKED) as http:
        await _spend_the_failures_budget(http)
        for headers in (BAD, {"Authorization": "Basic b3duZXI6cGFzcw=="}):
            assert _is_the_failures_refusal(await http.post("/graphql", json=PAGE, headers=headers))
        # Requests without credentials keep their own budget.
        anonymous = await http.post("/graphql", json={"query": "{ __typename }"})
        assert anonymous.json() == {"data": {"__typename": "Query"}}


async def test_requests_refused_for_another_reason_get_the_429_from_a_blocked_address(
    gateway: Gateway,
) -> None:
    owner = await bearer("owner@acme.test")
    too_many_aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }"
    async with gateway(GATEWAY_MAX_BODY_BYTES="2048", **BLOCKED) as http:
        await _spend_the_failures_budget(http)
        refused = [
            await http.post("/graphql", json={"query": too_many_aliases}, headers=owner),
            # An unknown hash, a malformed one (refused before and in `_spend`).
            await http.post("/graphql", json={"extensions": persisted("0" * 64)}, headers=owner),
            await http.post(
                "/graphql",
                json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x"}}},
                headers=owner,
            ),
            await http.post(
                "/graphql",
                content=b"{not json",
                headers={**owner, "Content-Type": "application/json"},
            ),
            await http.post("/graphql", json={"query": "{" + " " * 4096 + "}"}, headers=owner),
            await http.get("/graphql", headers={**owner, "Accept": "text/html"}),
            await http.get("/usage.csv", headers=owner),
        ]
        assert all(_is_the_failures_refusal(r) for r in refused), [
            (r.status_code, r.text[:200]) for r in refused
        ]
    # The same requests from an address in good standing get their own answers.
    async with gateway(GATEWAY_MAX_BODY_BYTES="2048", peer="192.0.2.11") as http:
        unknown = await http.post(
            "/graphql", json={"extensions": persisted("0" * 64)}, headers=owner
        )
        assert error_codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        complex_ = await http.post("/graphql", json={"query": too_many_aliases}, headers=owner)
        assert complex_.status_code == 400


async def test_a_blocked_address_registers_no_persisted_query(gateway: Gateway) -> None:
    owner = await bearer("owner@acme.test")
    query = "query Registered { viewer { user { email } } }"
    sha256 = document_hash(query)
    async with gateway(peer="192.0.2.12", **BLOCKED) as http:
        await _spend_the_failures_budget(http)
        sent = await http.post(
            "/graphql", json={"query": query, "extensions": persisted(sha256)}, headers=owner
        )
        assert _is_the_failures_refusal(sent)
        # The same app, from an address in good standing, has not heard of the document.
        app = http._transport.app  # type: ignore[attr-defined]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.13", 40000)),
        base_url="http://gateway.test",
    ) as elsewhere:
        by_hash = await elsewhere.post(
            "/graphql", json={"extensions": persisted(sha256)}, headers=owner
        )
        assert error_codes(by_hash.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        registered = await elsewhere.post(
            "/graphql", json={"query": query, "extensions": persisted(sha256)}, headers=owner
        )
        assert registered.json()["data"]["viewer"]["user"]["email"] == "owner@acme.test"
        again = await elsewhere.post(
            "/graphql", json={"extensions": persisted(sha256)}, headers=owner
        )
        assert again.json()["data"]["viewer"]["user"]["email"] == "owner@acme.test"


async def _blocked(limits: RateLimits, address: str) -> None:
    for _ in range(limits.auth_failures.amount):
        await limits.authentication_failed(address)


async def _answers(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("the app's answer")(scope, receive, send)


async def _checks_then_answers(scope: Scope, receive: Receive, send: Send) -> None:
    check = deferred_check(scope)
    assert check is not None
    check.done = True  # as the endpoint's `_spend` does once it has checked
    await _answers(scope, receive, send)


async def _fails(scope: Scope, receive: Receive, send: Send) -> None:
    assert deferred_check(scope) is not None
    raise RuntimeError("the app failed")


@pytest.mark.parametrize(
    ("app", "status"), [(_answers, 429), (_fails, 429), (_checks_then_answers, 200)]
)
async def test_an_answer_the_endpoint_did_not_check_is_replaced_by_the_429(
    settings: Settings, app: ASGIApp, status: int
) -> None:
    """The middleware alone, around an app that answers or fails without the endpoint's
    check, or answers after it: only the checked answer goes out as it is."""
    limits = RateLimits(replace(settings, auth_failure_limit="1/minute"))
    await _blocked(limits, "198.51.100.7")
    limited = AuthFailureLimit(app, limits, (), deferred_paths=("/graphql",))
    transport = httpx.ASGITransport(
        app=limited, client=("198.51.100.7", 40000), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post("/graphql", headers=BAD)
    assert response.status_code == status
    if status == 429:
        assert error_codes(response.json()) == ["RATE_LIMITED"]
        assert "the app's answer" not in response.text


async def test_a_process_refuses_a_known_failing_address_before_looking_at_credentials(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once this process has refused an address, it refuses its credentials before they are
    looked at until the window's oldest failure leaves it (the window is full until then)."""
    looked_at: list[str | None] = []
    authenticate = auth.authenticate

    async def noted(authorization: str | None, *args: Any) -> Any:
        looked_at.append(authorization)
        return await authenticate(authorization, *args)

    monkeypatch.setattr(app_module, "authenticate", noted)
    owner = await bearer("owner@acme.test")
    async with gateway(**BLOCKED) as http:
        await _spend_the_failures_budget(http)
        looked_at.clear()
        first = await http.post("/graphql", json=PAGE, headers=owner)
        assert _is_the_failures_refusal(first)
        assert len(looked_at) == 1  # the endpoint found the budget spent after the credentials
        later = [
            await http.post("/graphql", json=PAGE, headers=owner),
            await http.post("/graphql", json=PAGE, headers=BAD),
            await http.get("/usage.csv", headers=owner),
        ]
        assert all(_is_the_failures_refusal(r) for r in later)
        assert len(looked_at) == 1


def test_a_remembered_refusal_ends_with_the_window(settings: Settings) -> None:
    limits = RateLimits(settings)
    limits._failing_until["198.51.100.8"] = time.time() + 30
    limits._failing_until["198.51.100.9"] = time.time() - 0.001
    refused = limits.known_failing("198.51.100.8")
    assert refused is not None and 29 <= refused.decision.reset_seconds <= 30
    assert refused.decision.headers()["RateLimit-Remaining"] == "0"
    assert limits.known_failing("198.51.100.9") is None
    assert "198.51.100.9" not in limits._failing_until
