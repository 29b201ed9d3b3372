"""Edge cases of prices, cards, cancellation and retries (rules CAT-6, CHG-1, CAN-2, DUN-3, PAY-3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import Invoice, PaymentMethod, Plan, Price, Product
from payments.port import ChargeRequest
from payments.sandbox import SandboxProcessor
from resolvers.catalog import catalog_changed
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
PREVIEW = "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { amountDueNow { amount } lines { amount { amount } } blockers { code } } }"


async def test_adding_a_seat_keeps_the_plan_price_version(gql: GraphQLClient) -> None:
    # rule CAT-6: Plus goes from $49 to $59 after this subscriber signed up; adding a seat
    # charges the seat only, and the plan stays at $49.
    _, owner = await organization_with(
        [{"product": "marketing", "plan": "plus", "contact_limit": 1000, "seats": 1}], period=PERIOD
    )
    product = await Product.get(code="marketing")
    plan = await Plan.get(product=product, bundle=None, code="plus")
    old = await Price.get(key=f"plan:{plan.id}:MONTHLY", is_current=True)
    await Price.filter(id=old.id).update(is_current=False)
    new = await Price.create(
        product=product,
        kind="PLAN",
        plan=plan,
        interval="MONTHLY",
        key=old.key,
        version=old.version + 1,
        amount=5900,
        currency="USD",
    )
    await catalog_changed()  # as the catalog loader does when it writes a new price
    try:
        preview = (
            await gql(PREVIEW, {"input": {"product": "marketing", "seats": 2}}, as_user=owner)
        )["data"]["previewPlanChange"]
        # 21 of 31 days: -$49.00 x 21/31 = -33.19; ($49 + $19) x 21/31 = 46.06
        assert [line["amount"]["amount"] for line in preview["lines"]] == [-3319, 4606]
    finally:
        await Price.filter(id=new.id).delete()
        await Price.filter(id=old.id).update(is_current=True)
        await catalog_changed()


async def test_an_expired_card_is_no_payment_method(gql: GraphQLClient) -> None:
    # rule CHG-1, PAY-3: the blocker shows in the preview, not as a decline after applying.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD, card="pm_card_expired"
    )
    await PaymentMethod.filter(processor_id="pm_card_expired").update(exp_year=2020)
    preview = (
        await gql(PREVIEW, {"input": {"product": "email", "plan": "email-1500"}}, as_user=owner)
    )["data"]["previewPlanChange"]
    assert preview["blockers"] == [{"code": "NO_PAYMENT_METHOD"}]


async def test_cancelling_with_an_unpaid_renewal_freezes_then_cancels(gql: GraphQLClient) -> None:
    # rule CAN-2 lets one more renewal happen; it is declined; at the cancellation date the
    # subscription is FROZEN for a period to pay in (SUB-3), then CANCELLED (DUN-3).
    organization, owner = await organization_with(
        [{"product": "recommendations", "plan": "rec-10k"}],
        period=(SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1)),
        card="pm_card_chargeDeclinedInsufficientFunds",
    )
    body = await gql(
        'mutation { cancelSubscription(reason: "Season over") { ... on SubscriptionCancelled { cancelAt } } }',
        as_user=owner,
    )
    assert body["data"]["cancelSubscription"]["cancelAt"] == "2026-04-13T09:30:00+00:00"
    advance = "mutation { advanceTestClock(days: %d) { events } }"
    events = (await gql(advance % 1, as_user=owner))["data"]["advanceTestClock"]["events"]
    assert any("unpaid (insufficient_funds)" in e for e in events)
    events = (await gql(advance % 31, as_user=owner))["data"]["advanceTestClock"]["events"]
    assert any("frozen at the end of the period, an invoice is overdue" in e for e in events)
    status = "{ organization { subscription { status currentPeriodEnd } } }"
    assert (await gql(status, as_user=owner))["data"]["organization"]["subscription"] == {
        "status": "FROZEN",
        "currentPeriodEnd": "2026-05-13T09:30:00+00:00",
    }
    events = (await gql(advance % 31, as_user=owner))["data"]["advanceTestClock"]["events"]
    assert any("cancelled, unpaid at the end of the period" in e for e in events)
    assert await Invoice.filter(organization_id=organization.id).count() == 1


@pytest.mark.usefixtures("database")
async def test_the_same_charge_key_never_charges_twice() -> None:
    # A retry after a crash between the charge and the database write finds the first charge.
    processor = SandboxProcessor()
    request = ChargeRequest("pm_card_visa", 1016, "USD", "change:abc:pm_card_visa", "Invoice X")
    first, second = await processor.charge(request), await processor.charge(request)
    assert first == second
