"""Whatever a caller sends gets a 4xx or a coded GraphQL error it can act on, and changes nothing:
never a 500 or INTERNAL. Each case was found by fuzzing or by hand (issue 11, item 4)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe

from models import AccountChangeRequest, BillingInfo, Organization, ProcessedEvent, UsageEvent
from payments.sandbox import SANDBOX_WEBHOOK_SECRET
from resolvers.loaders import Loaders
from tests.conftest import SEEDED_AT, error_codes, token_for
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
BILLING_INFO = """mutation ($name: String!) {
  updateBillingInfo(input: {companyName: $name, billingEmail: "ap@example.com"}) {
    __typename ... on UserError { code message }
  }
}"""
RECORD = """mutation ($events: [UsageEventInput!]!) {
  recordUsage(events: $events) { __typename ... on UserError { code message } }
}"""


async def _owner() -> tuple[Organization, dict[str, str]]:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    return organization, {"Authorization": f"Bearer {await token_for(owner)}"}


async def _post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_failed_field_does_not_cancel_the_loads_its_aliases_share(
    client: httpx.AsyncClient,
) -> None:
    # `a.usage` fails, graphql-core cancels `a.subscription`, whose DataLoader future `b` awaits
    # too: that cancellation escaped as a plain-text 500.
    query = """{
      a: organization { usage(month: "x") { metric } subscription { items { plan { code } } } }
      b: organization { subscription { items { plan { code } } } }
    }"""
    headers = {"Authorization": f"Bearer {await token_for('billing@acme.test')}"}
    body = await _post(client, query, {}, headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"]["a"] is None
    plans = [item["plan"]["code"] for item in body["data"]["b"]["subscription"]["items"]]
    assert plans == ["growth", "email-1000", "business"]


MALFORMED_BODIES = {
    "null": (b"null", "The request body is null, not a JSON object"),
    "a string": (b'"string"', "The request body is a string, not a JSON object"),
    "a number": (b"123", "The request body is a number, not a JSON object"),
    "a boolean": (b"true", "The request body is true or false, not a JSON object"),
    "100k nested lists": (b"[" * 100_000, "The request body nests too deeply"),
    "a 5,000-digit integer in variables": (
        b'{"query": "query ($d: Int!) { advanceTestClock(days: $d) { now } }", '
        b'"variables": {"d": ' + b"9" * 5000 + b"}}",
        "A number in the request has more than 4,300 digits",
    ),
    "a lone surrogate in variables": (
        b'{"query": "mutation ($m: String!) { requestAccountChange(message: $m) '
        b'{ __typename } }", "variables": {"m": "\\ud800"}}',
        "The request holds a lone UTF-16 surrogate",
    ),
    "a lone surrogate 500 lists deep": (
        b'{"query": "{ viewer { user { name } } }", "variables": {"a": '
        + b"[" * 500
        + b'"\\ud800"'
        + b"]" * 500
        + b"}}",
        "The request holds a lone UTF-16 surrogate",
    ),
    "bytes that are not UTF-8": (b'{"query": "\xff"}', "The request body is not UTF-8 text."),
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
async def test_a_malformed_request_body_is_a_400_saying_what_to_send(
    client: httpx.AsyncClient, body: tuple[bytes, str]
) -> None:
    content, message = body
    headers = {
        "content-type": "application/json",
        "Authorization": f"Bearer {await token_for('owner@acme.test')}",
    }
    response = await client.post("/graphql", content=content, headers=headers)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(message)


async def test_a_paired_surrogate_escape_is_text(client: httpx.AsyncClient) -> None:
    # "\ud83d\ude00" is one character (😀), not a lone surrogate: the check must let it through.
    content = b'{"query": "{ catalog { product(code: \\"\\ud83d\\ude00\\") { name } } }"}'
    headers = {"content-type": "application/json"}
    headers["Authorization"] = f"Bearer {await token_for('owner@acme.test')}"
    response = await client.post("/graphql", content=content, headers=headers)
    assert response.json() == {"data": {"catalog": {"product": None}}}


async def test_get_variables_may_still_be_null_but_not_a_huge_number(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Authorization": f"Bearer {await token_for('member@acme.test')}"}
    query = "{ organization { name } }"
    ok = await client.get("/graphql", params={"query": query, "variables": "null"}, headers=headers)
    assert ok.json() == {"data": {"organization": {"name": "Acme"}}}
    huge = await client.get(
        "/graphql", params={"query": query, "variables": '{"n": ' + "9" * 5000 + "}"}
    )
    assert huge.status_code == 400
    assert error_codes(huge.json()) == ["BAD_USER_INPUT"]


async def test_a_nul_character_in_a_string_argument_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    organization, headers = await _owner()
    query = "mutation ($m: String!) { requestAccountChange(message: $m) { __typename } }"
    body = await _post(client, query, {"m": "Please\x00 merge"}, headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        "`message` contains a NUL character (\\u0000), which text cannot hold; remove it."
    )
    assert await AccountChangeRequest.filter(organization_id=organization.id).count() == 0


async def test_a_1_mb_company_name_is_refused_naming_the_argument_and_its_maximum(
    client: httpx.AsyncClient,
) -> None:
    organization, headers = await _owner()
    body = await _post(client, BILLING_INFO, {"name": "x" * 1_000_000}, headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        "`input.companyName` is too long: at most 200 characters, got 1,000,000."
    )
    assert await BillingInfo.filter(organization_id=organization.id).count() == 0


async def test_a_100k_character_event_id_is_refused_rule_use_1(client: httpx.AsyncClient) -> None:
    organization, headers = await _owner()
    event = {"id": "e" * 100_000, "product": "email", "metric": "emails", "quantity": 1}
    body = await _post(client, RECORD, {"events": [event]}, headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        "`events[0].id` is too long: at most 100 characters, got 100,000."
    )
    assert await UsageEvent.filter(organization_id=organization.id).count() == 0


async def test_an_occurred_at_without_a_time_zone_refuses_the_batch_rule_use_1(
    client: httpx.AsyncClient,
) -> None:
    organization, headers = await _owner()
    event = {
        "id": "naive-1",
        "product": "email",
        "metric": "emails",
        "quantity": 1,
        "occurredAt": "2026-03-12T09:00:00",
    }
    body = await _post(client, RECORD, {"events": [event]}, headers)
    result = body["data"]["recordUsage"]
    assert result["__typename"] == "UserError"
    assert result["code"] == "BAD_USER_INPUT"
    assert "events[0].occurredAt: give a time zone, e.g. 2026-03-12T09:00:00Z" in result["message"]
    assert await UsageEvent.filter(organization_id=organization.id).count() == 0


async def test_advancing_the_test_clock_a_billion_days_is_refused(
    client: httpx.AsyncClient,
) -> None:
    organization, headers = await _owner()
    query = "mutation { advanceTestClock(days: 1000000000) { now } }"
    body = await _post(client, query, {}, headers)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Move the test clock at most 800 days at a time."
    await organization.refresh_from_db()
    assert organization.clock_offset_seconds == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "9999-12"}, "Choose a month in the year 9998 or earlier."),
        ({"workspace": "w" * 65}, "`workspace` is too long: at most 64 characters, got 65."),
        ({"workspace": "a\x00b"}, "`workspace` contains a NUL character"),
    ],
    ids=["month 9999-12", "a 65-character workspace", "a NUL in the workspace"],
)
async def test_usage_csv_parameters_a_caller_sent_are_a_400_rule_use_3(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    _, headers = await _owner()
    response = await client.get("/usage.csv", params=params, headers=headers)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(message)


async def test_a_signed_webhook_with_a_10000_character_id_is_a_400_and_not_recorded(
    client: httpx.AsyncClient,
) -> None:
    event_id = "evt_" + "x" * 10_000
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_unknown", "object": "payment_intent"}},
        }
    )
    signature = stripe.WebhookSignature.generate_signature_header(payload, SANDBOX_WEBHOOK_SECRET)
    response = await client.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": signature}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "The event's id is not a Stripe id: expected text of at most 200 characters."
    }
    assert not await ProcessedEvent.exists(id=event_id[:200])


async def test_an_unexpected_error_is_logged_with_its_lines_cut_short(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: Loaders) -> Any:
        raise RuntimeError("caller value " + "v" * 100_000)

    monkeypatch.setattr(Loaders, "catalog", broken)
    headers = {"Authorization": f"Bearer {await token_for('owner@acme.test')}"}
    with caplog.at_level(logging.ERROR, logger="billing_gateway.errors"):
        body = await _post(client, "{ catalog { currency } }", {}, headers)
    assert error_codes(body) == ["INTERNAL"]
    logged = caplog.text
    assert "RuntimeError: caller value vvv" in logged
    assert "… (100,027 characters)" in logged
    assert len(logged) < 20_000


async def test_an_invoice_pdf_path_of_5000_characters_is_a_404_that_does_not_echo_it_whole(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Authorization": f"Bearer {await token_for('owner@acme.test')}"}
    response = await client.get(f"/invoices/{'x' * 5000}.pdf", headers=headers)
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == f"No invoice with id '{'x' * 64}…' is visible to you."


async def test_introspection_arguments_pass_the_length_check(client: httpx.AsyncClient) -> None:
    # `__type(name:)` is introspection's own field, not one of Query's: the argument check looked
    # it up among Query's fields and answered INTERNAL (found by the graphql-http audit).
    query = "query Type($name: String!) { __type(name: $name) { name } }"
    for name in ("Money", "NoSuchType"):
        body = await _post(client, query, {"name": name}, {})
        assert "errors" not in body
    assert (await _post(client, query, {"name": "Money"}, {}))["data"] == {
        "__type": {"name": "Money"}
    }
