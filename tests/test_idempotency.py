"""IDM-1 through the real ASGI app: mutations that move money or record usage, sent with an
`Idempotency-Key`, run at most once per caller and key for 24 hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings
from models import (
    IdempotencyKey,
    Invoice,
    Payment,
    PaymentMethod,
    Refund,
    SubscriptionItem,
    UsageCounter,
)
from payments.port import CardDetails
from payments.sandbox import SandboxProcessor
from resolvers.api_keys import create_api_key
from resolvers.idempotency import purge_expired
from tests.conftest import SEEDED_AT, token_for, trusted_request
from tests.factories import organization_with

RUNNING = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
PREVIEW = "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { amountDueNow { amount } } }"
CHANGE = """mutation ($input: PlanChangeInput!, $due: Int!) { changePlan(input: $input, confirmAmountDue: $due) {
  __typename ... on PlanChangeApplied { invoice { id number status total { amount } } subscription { items { plan { code } } } }
  ... on UserError { code message } } }"""
RECORD = """mutation ($events: [UsageEventInput!]!) { recordUsage(events: $events) {
  __typename ... on UsageRecorded { accepted duplicates } ... on UserError { code message } } }"""
REPLACE = """mutation ($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) {
  __typename ... on PaymentMethodReplaced { paymentMethod { last4 } } ... on UserError { code } } }"""
TO_1500 = {"product": "email", "plan": "email-1500"}


async def _post(
    http: httpx.AsyncClient,
    user: str,
    query: str,
    variables: dict[str, Any],
    key: str | bytes | None = None,
) -> httpx.Response:
    headers: dict[str, Any] = {"Authorization": f"Bearer {await token_for(user)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def _due(http: httpx.AsyncClient, user: str, change: dict[str, Any]) -> int:
    body = (await _post(http, user, PREVIEW, {"input": change})).json()
    due: int = body["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    return due


async def _charges(organization_id: object) -> tuple[int, int]:
    invoices = await Invoice.filter(organization_id=organization_id, kind="PLAN_CHANGE").count()
    payments = await Payment.filter(invoice__organization_id=organization_id).count()
    return invoices, payments


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_rule_idm_1_change_plan_sent_twice_with_a_key_charges_once(
    client: httpx.AsyncClient,
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    variables = {"input": TO_1500, "due": await _due(client, owner, TO_1500)}
    first = await _post(client, owner, CHANGE, variables, key="order-7f3a")
    second = await _post(client, owner, CHANGE, variables, key="order-7f3a")

    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["changePlan"]["__typename"] == "PlanChangeApplied", first.text
    assert second.content == first.content
    assert second.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _charges(organization.id) == (1, 1)


async def test_rule_idm_1_four_at_once_with_one_key_run_once(client: httpx.AsyncClient) -> None:
    # On PostgreSQL the four really run side by side; on SQLite they interleave at every await.
    # Either way one runs and each other gets 409 or the first one's stored answer.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    variables = {"input": TO_1500, "due": await _due(client, owner, TO_1500)}
    responses = await asyncio.gather(
        *(_post(client, owner, CHANGE, variables, key="four-at-once") for _ in range(4))
    )

    ran = [r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1, [(r.status_code, r.text) for r in responses]
    assert ran[0].json()["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    for other in responses:
        if other is ran[0]:
            continue
        if other.status_code == 409:
            assert _code(other) == "IDEMPOTENCY_IN_PROGRESS"
            assert other.headers["retry-after"] == "1"
        else:
            assert (other.status_code, other.content) == (200, ran[0].content)
    assert await _charges(organization.id) == (1, 1)
    again = await _post(client, owner, CHANGE, variables, key="four-at-once")
    assert again.content == ran[0].content


async def test_rule_idm_1_same_key_with_another_request_is_refused(
    client: httpx.AsyncClient,
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    variables = {"input": TO_1500, "due": await _due(client, owner, TO_1500)}
    assert (await _post(client, owner, CHANGE, variables, key="k-1")).status_code == 200
    to_2500 = {"product": "email", "plan": "email-2500"}
    other = {"input": to_2500, "due": await _due(client, owner, to_2500)}

    refused = await _post(client, owner, CHANGE, other, key="k-1")

    assert refused.status_code == 422
    assert _code(refused) == "IDEMPOTENCY_KEY_REUSED"
    assert "new key" in refused.json()["errors"][0]["message"]
    assert await _charges(organization.id) == (1, 1)
    items = await SubscriptionItem.filter(
        subscription__organization_id=organization.id
    ).prefetch_related("plan")
    assert [item.plan.code for item in items] == ["email-1500"]


async def test_rule_idm_1_a_key_belongs_to_its_caller(client: httpx.AsyncClient) -> None:
    first_org, first_owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    second_org, second_owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    variables = {"input": TO_1500, "due": await _due(client, first_owner, TO_1500)}

    first = await _post(client, first_owner, CHANGE, variables, key="shared-key")
    second = await _post(client, second_owner, CHANGE, variables, key="shared-key")

    assert "idempotent-replayed" not in second.headers
    assert first.json()["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    assert second.json()["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    assert first.json() != second.json()  # each its own invoice
    assert await _charges(first_org.id) == (1, 1)
    assert await _charges(second_org.id) == (1, 1)


async def test_rule_idm_1_a_key_is_free_again_after_24_hours(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-2500"}], period=RUNNING
    )

    def batch(name: str) -> dict[str, Any]:
        return {"events": [{"id": name, "product": "email", "metric": "emails", "quantity": 5}]}

    first = await _post(client, owner, RECORD, batch("day-1"), key="daily")
    assert first.json()["data"]["recordUsage"] == {
        "__typename": "UsageRecorded",
        "accepted": 1,
        "duplicates": 0,
    }
    try:
        clock.set(SEEDED_AT + timedelta(hours=23, minutes=59))
        early = await _post(client, owner, RECORD, batch("day-2"), key="daily")
        clock.set(SEEDED_AT + timedelta(hours=24))
        later = await _post(client, owner, RECORD, batch("day-2"), key="daily")
    finally:
        clock.set(SEEDED_AT)

    assert (early.status_code, _code(early)) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert later.status_code == 200
    assert later.json()["data"]["recordUsage"]["accepted"] == 1
    counter = await UsageCounter.get(
        organization_id=organization.id, metric="emails", workspace="*"
    )
    assert counter.value == 10


async def test_rule_idm_1_record_usage_resent_with_its_key_counts_once(
    client: httpx.AsyncClient,
) -> None:
    # Past email-1000's limit with AUTO_UPGRADE: the batch's automatic upgrade charges after the
    # batch commits. The resent batch answers the first answer (accepted, not duplicates) and
    # neither counts nor charges again.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "AUTO_UPGRADE"}],
        period=RUNNING,
    )
    events = {"events": [{"id": "big", "product": "email", "metric": "emails", "quantity": 10_050}]}

    first = await _post(client, owner, RECORD, events, key="batch-0001")
    again = await _post(client, owner, RECORD, events, key="batch-0001")
    unkeyed = await _post(client, owner, RECORD, events)

    assert first.json()["data"]["recordUsage"] == {
        "__typename": "UsageRecorded",
        "accepted": 1,
        "duplicates": 0,
    }
    assert again.content == first.content
    assert unkeyed.json()["data"]["recordUsage"]["duplicates"] == 1  # the event id's own check
    counter = await UsageCounter.get(
        organization_id=organization.id, metric="emails", workspace="*"
    )
    assert counter.value == 10_050
    assert await _charges(organization.id) == (1, 1)


async def test_rule_idm_1_a_failed_validation_does_not_spend_the_key(
    client: httpx.AsyncClient,
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    due = await _due(client, owner, TO_1500)
    bad_batch = {"events": [{"id": "x", "product": "email", "metric": "nope", "quantity": 1}]}
    refused = await _post(client, owner, RECORD, bad_batch, key="fix-and-retry")
    assert refused.json()["data"]["recordUsage"]["__typename"] == "UserError"
    invalid = await _post(
        client, owner, "mutation { changePlan { nope } }", {}, key="fix-and-retry"
    )
    assert _code(invalid) == "BAD_USER_INPUT"
    wrong_amount = await _post(
        client, owner, CHANGE, {"input": TO_1500, "due": due + 1}, key="fix-and-retry"
    )
    assert wrong_amount.json()["data"]["changePlan"]["code"] == "AMOUNT_CHANGED"
    assert await _charges(organization.id) == (0, 0)

    applied = await _post(
        client, owner, CHANGE, {"input": TO_1500, "due": due}, key="fix-and-retry"
    )

    assert applied.json()["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    assert await _charges(organization.id) == (1, 1)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "empty"),
        ("k" * 256, "256 characters"),
        ("caf\u00e9".encode(), "printable ASCII"),
        ("tab\there", "printable ASCII"),
    ],
)
async def test_rule_idm_1_a_malformed_key_is_refused(
    client: httpx.AsyncClient, key: str | bytes, words: str
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    variables = {"input": TO_1500, "due": await _due(client, owner, TO_1500)}

    response = await _post(client, owner, CHANGE, variables, key=key)

    assert (response.status_code, _code(response)) == (400, "BAD_USER_INPUT")
    assert words in response.json()["errors"][0]["message"]
    assert await _charges(organization.id) == (0, 0)
    longest = await _post(client, owner, CHANGE, variables, key="k" * 255)
    assert longest.json()["data"]["changePlan"]["__typename"] == "PlanChangeApplied"


async def test_rule_idm_1_queries_and_other_mutations_ignore_the_key(
    client: httpx.AsyncClient,
) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=RUNNING)
    before = await IdempotencyKey.all().count()
    for _ in range(2):
        preview = await _post(
            client, owner, PREVIEW, {"input": TO_1500}, key=("\u00e9" * 300).encode()
        )
        assert preview.status_code == 200
        assert "errors" not in preview.json(), preview.text
        billing = await _post(
            client,
            owner,
            'mutation { setAutoDowngrade(product: "email", enabled: true) { __typename } }',
            {},
            key="same",
        )
        assert "idempotent-replayed" not in billing.headers
    assert await IdempotencyKey.all().count() == before


class _GatedProcessor(SandboxProcessor):
    """Holds the first card attachment until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.go = asyncio.Event(), asyncio.Event()

    async def attach_payment_method(self, customer_id: str, payment_method_id: str) -> CardDetails:
        self.entered.set()
        await self.go.wait()
        return await super().attach_payment_method(customer_id, payment_method_id)


async def test_rule_idm_1_a_retry_while_the_first_runs_gets_409(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    processor = _GatedProcessor()
    app = create_app(settings, clock, processor, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        variables = {"pm": "pm_card_mastercard"}
        first = asyncio.create_task(_post(http, owner, REPLACE, variables, key="new-card"))
        try:
            await asyncio.wait_for(processor.entered.wait(), 10)
            retry = await asyncio.wait_for(
                _post(http, owner, REPLACE, variables, key="new-card"), 10
            )
        finally:
            processor.go.set()
            done = await first
        after = await _post(http, owner, REPLACE, variables, key="new-card")

    assert (retry.status_code, _code(retry)) == (409, "IDEMPOTENCY_IN_PROGRESS")
    assert "still running" in retry.json()["errors"][0]["message"]
    assert done.json()["data"]["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced"
    assert after.content == done.content
    assert await PaymentMethod.filter(organization_id=organization.id).count() == 1


async def test_rule_idm_1_a_partner_refund_resent_by_hash_refunds_once(
    client: httpx.AsyncClient,
) -> None:
    # The partner sends the trusted document's hash (ACC-6); the key is the API key's own, so
    # the user who made the change holds no claim on it.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=RUNNING
    )
    variables = {"input": TO_1500, "due": await _due(client, owner, TO_1500)}
    assert (await _post(client, owner, CHANGE, variables, key="r-1")).status_code == 200
    invoice = await Invoice.get(organization_id=organization.id, kind="PLAN_CHANGE")
    secret = await create_api_key(
        organization.slug, "support desk", ["billing:refund"], datetime.now(UTC)
    )
    request = trusted_request(
        "RefundInvoice", {"invoiceId": str(invoice.id), "amount": 300, "reason": "Goodwill"}
    )
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "r-1"}

    first = await client.post("/graphql", json=request, headers=headers)
    again = await client.post("/graphql", json=request, headers=headers)

    assert first.json()["data"]["refundInvoice"]["invoice"]["status"] == "PARTIALLY_REFUNDED"
    assert again.content == first.content
    assert [r.amount for r in await Refund.filter(invoice_id=invoice.id)] == [300]


async def test_rule_idm_1_two_mutations_under_one_key_are_one_operation(
    client: httpx.AsyncClient,
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-2500"}], period=RUNNING
    )
    both = """mutation { a: recordUsage(events: [{id: "a", product: "email", metric: "emails", quantity: 2}]) {
      ... on UsageRecorded { accepted } }
    b: recordUsage(events: [{id: "b", product: "email", metric: "emails", quantity: 3}]) {
      ... on UsageRecorded { accepted } } }"""

    first = await _post(client, owner, both, {}, key="pair")
    again = await _post(client, owner, both, {}, key="pair")

    assert first.json() == {"data": {"a": {"accepted": 1}, "b": {"accepted": 1}}}
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    counter = await UsageCounter.get(
        organization_id=organization.id, metric="emails", workspace="*"
    )
    assert counter.value == 5


@pytest.mark.usefixtures("database")
async def test_rule_idm_1_the_billing_clock_purges_keys_past_24_hours() -> None:
    old = await IdempotencyKey.create(
        caller="user:purge-test",
        key="old",
        fingerprint="f",
        state="DONE",
        created_at=SEEDED_AT - timedelta(hours=24, seconds=1),
    )
    young = await IdempotencyKey.create(
        caller="user:purge-test",
        key="young",
        fingerprint="f",
        state="DONE",
        created_at=SEEDED_AT - timedelta(hours=23),
    )

    # The worker's tick calls this; the tick itself is not run here, as it would run every
    # organization's due work in the shared test database.
    assert await purge_expired(SEEDED_AT) >= 1

    assert not await IdempotencyKey.exists(id=old.id)
    assert await IdempotencyKey.exists(id=young.id)
