"""Rate limits per caller, weighted, through the real ASGI app with in-process counters
(README "Rate limits"); the Redis-shared ones are in test_rate_limits_redis.py."""

from __future__ import annotations

import logging
from dataclasses import replace
from uuid import uuid4

import pytest

from gateway import request_weight
from gateway.client_address import parse_networks
from gateway.rate_limits import RateLimits
from gateway.settings import Mode, Settings
from tests.conftest import Gateway, bearer

VIEWER = {"query": "{ viewer { user { email } } }"}
ANONYMOUS = {"query": "{ __typename }"}


async def test_a_caller_over_its_budget_gets_429_with_the_headers(gateway: Gateway) -> None:
    async with gateway(GATEWAY_RATE_LIMIT="3/minute") as http:
        owner = await bearer("owner@acme.test")
        allowed = [await http.post("/graphql", json=VIEWER, headers=owner) for _ in range(3)]
        assert [r.status_code for r in allowed] == [200, 200, 200]
        assert [r.headers["RateLimit-Remaining"] for r in allowed] == ["2", "1", "0"]
        assert {r.headers["RateLimit-Limit"] for r in allowed} == {"3"}
        assert all(0 < int(r.headers["RateLimit-Reset"]) <= 60 for r in allowed)
        assert "Retry-After" not in allowed[0].headers

        refused = await http.post("/graphql", json=VIEWER, headers=owner)
        assert refused.status_code == 429
        body = refused.json()
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "3 units per minute" in body["errors"][0]["message"]
        assert "data" not in body
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit-Limit"] == "3"
        assert refused.headers["RateLimit-Remaining"] == "0"

        # Another user, and the same user's organization's API key, have budgets of their own.
        other = await http.post("/graphql", json=VIEWER, headers=await bearer("billing@acme.test"))
        assert other.status_code == 200
        assert other.json()["data"]["viewer"]["user"]["email"] == "billing@acme.test"
        assert other.headers["RateLimit-Remaining"] == "2"


async def test_anonymous_requests_spend_their_address_budget(gateway: Gateway) -> None:
    async with gateway(GATEWAY_RATE_LIMIT_ANONYMOUS="2/minute") as http:
        codes = [(await http.post("/graphql", json=ANONYMOUS)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        # A signed-in user from the same address spends their own budget.
        signed_in = await http.post(
            "/graphql", json=VIEWER, headers=await bearer("owner@acme.test")
        )
        assert signed_in.status_code == 200
        assert signed_in.headers["RateLimit-Limit"] == "600"
    async with gateway(peer="127.0.0.2", GATEWAY_RATE_LIMIT_ANONYMOUS="2/minute") as http:
        assert (await http.post("/graphql", json=ANONYMOUS)).status_code == 200


def test_the_weight_is_the_estimated_cost_in_units_of_100() -> None:
    assert [request_weight.request_weight(cost) for cost in (0, 1, 100, 101, 311, 3000)] == [
        1,
        1,
        1,
        2,
        4,
        30,
    ]


async def test_heavier_requests_spend_the_budget_faster(gateway: Gateway) -> None:
    # 100 invoices with their numbers: an estimated cost of 311, so 4 units; the viewer 1.
    heavy = {"query": "{ organization { invoices(first: 100) { edges { node { number } } } } }"}
    async with gateway(GATEWAY_RATE_LIMIT="10/minute") as http:
        owner = await bearer("owner@acme.test")
        first = await http.post("/graphql", json=heavy, headers=owner)
        second = await http.post("/graphql", json=heavy, headers=owner)
        assert [first.status_code, second.status_code] == [200, 200]
        assert [first.headers["RateLimit-Remaining"], second.headers["RateLimit-Remaining"]] == [
            "6",
            "2",
        ]
        third = await http.post("/graphql", json=heavy, headers=owner)
        assert third.status_code == 429
        assert "this request weighs 4" in third.json()["errors"][0]["message"]
        # The two units left still pay for light requests.
        light = await http.post("/graphql", json=VIEWER, headers=owner)
        assert light.status_code == 200
        assert light.headers["RateLimit-Remaining"] == "1"


async def test_a_request_heavier_than_the_whole_budget_spends_all_of_it(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_weight, "request_weight", lambda cost: 50)
    async with gateway(GATEWAY_RATE_LIMIT="10/minute") as http:
        owner = await bearer("owner@acme.test")
        first = await http.post("/graphql", json=VIEWER, headers=owner)
        assert first.status_code == 200
        assert first.headers["RateLimit-Remaining"] == "0"
        assert (await http.post("/graphql", json=VIEWER, headers=owner)).status_code == 429


async def test_failed_authentications_are_limited_per_address(gateway: Gateway) -> None:
    bad = [
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer bgk_000000000000_" + "x" * 40},  # an unknown API key
        {"Authorization": "Basic b3duZXI6cGFzcw=="},
    ]
    async with gateway(GATEWAY_AUTH_FAILURE_LIMIT="3/minute") as http:
        answers = [await http.post("/graphql", json=VIEWER, headers=h) for h in bad]
        assert [r.status_code for r in answers] == [401, 401, 401]
        assert {r.json()["errors"][0]["extensions"]["code"] for r in answers} == {"UNAUTHENTICATED"}

        refused = await http.post("/graphql", json=VIEWER, headers=bad[0])
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "failed sign-ins from this address" in refused.json()["errors"][0]["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        # While the budget is spent, credentials from here are not even looked at...
        valid = await http.post("/graphql", json=VIEWER, headers=await bearer("owner@acme.test"))
        assert valid.status_code == 429
        # ...but requests without credentials still run on their own budget.
        assert (await http.post("/graphql", json=ANONYMOUS)).status_code == 200
    async with gateway(peer="192.0.2.9", GATEWAY_AUTH_FAILURE_LIMIT="3/minute") as http:
        valid = await http.post("/graphql", json=VIEWER, headers=await bearer("owner@acme.test"))
        assert valid.status_code == 200


async def test_two_thousand_bad_credentials_get_429s_under_the_default_budget(
    gateway: Gateway,
) -> None:
    async with gateway() as http:
        codes = [
            (
                await http.post(
                    "/graphql", json=VIEWER, headers={"Authorization": f"Bearer guess-{n}"}
                )
            ).status_code
            for n in range(2000)
        ]
    assert codes.count(401) == 20
    assert codes.count(429) == 1980
    assert codes[:20] == [401] * 20


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(gateway: Gateway) -> None:
    proxied = {"GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8", "GATEWAY_RATE_LIMIT_ANONYMOUS": "1/minute"}
    async with gateway(peer="10.0.0.5", **proxied) as http:

        async def via(forwarded: str) -> int:
            response = await http.post(
                "/graphql", json=ANONYMOUS, headers={"X-Forwarded-For": forwarded}
            )
            return response.status_code

        assert await via("203.0.113.7") == 200
        assert await via("203.0.113.7") == 429
        assert await via("203.0.113.8") == 200  # another client behind the same proxy
        # The right-most untrusted address counts: what the client wrote to its left does not.
        assert await via("198.51.100.1, 203.0.113.7, 10.0.0.9") == 429
        assert await via("203.0.113.9, 10.1.2.3") == 200

    async with gateway(peer="127.0.0.1", **proxied) as http:
        # An untrusted peer's header is not read: forging a new address each time changes nothing.
        codes = [
            (
                await http.post(
                    "/graphql", json=ANONYMOUS, headers={"X-Forwarded-For": f"198.51.100.{n}"}
                )
            ).status_code
            for n in range(3)
        ]
        assert codes == [200, 429, 429]


async def test_a_browser_app_may_read_the_rate_limit_headers(gateway: Gateway) -> None:
    origin = "https://app.example.com"
    async with gateway(GATEWAY_RATE_LIMIT="1/minute", GATEWAY_CORS_ORIGINS=origin) as http:
        headers = {"Origin": origin, **await bearer("owner@acme.test")}
        assert (await http.post("/graphql", json=VIEWER, headers=headers)).status_code == 200
        refused = await http.post("/graphql", json=VIEWER, headers=headers)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == origin
    exposed = {h.strip() for h in refused.headers["access-control-expose-headers"].split(",")}
    assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= exposed


async def test_failed_authentications_on_every_route_spend_the_same_budget(
    gateway: Gateway,
) -> None:
    async with gateway(GATEWAY_AUTH_FAILURE_LIMIT="2/minute") as http:
        bad = {"Authorization": "Bearer not-a-token"}
        csv = await http.get("/usage.csv", headers=bad)
        pdf = await http.get(f"/invoices/{uuid4()}.pdf", headers=bad)
        assert [csv.status_code, pdf.status_code] == [401, 401]
        refused = await http.get("/usage.csv", headers=await bearer("owner@acme.test"))
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        graphql = await http.post("/graphql", json=VIEWER, headers=bad)
        assert graphql.status_code == 429


def test_production_without_trusted_proxies_is_warned_about(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.rate_limits")
    RateLimits(replace(settings, mode=Mode.PRODUCTION))
    assert "GATEWAY_TRUSTED_PROXIES is empty" in caplog.text
    caplog.clear()
    RateLimits(
        replace(settings, mode=Mode.PRODUCTION, trusted_proxies=parse_networks("10.0.0.0/8"))
    )
    RateLimits(settings)
    assert caplog.text == ""
