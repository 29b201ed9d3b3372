"""Applying plan changes through the API: every bad input a clear UserError that changes nothing,
stale confirmations, declined cards, 3-D Secure, features kept across a downgrade, interval
switches and cancellation notice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from billing.subscription_status import SubscriptionStatus
from models import FeatureSetting, Invoice, Organization, Subscription
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import member_of, organization_with, state_of

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))

CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) { changePlan(input: $input, confirmAmountDue: $confirm) {
  __typename
  ... on PlanChangeApplied { invoice { number amountDue { amount } } subscription { status billingInterval currentPeriodEnd } }
  ... on PaymentActionRequired { clientSecret pendingInvoice: invoice { status amountDue { amount } } }
  ... on UserError { code message field } } }"""
PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  amountDueNow { amount } featuresLost blockers { code message } creditBalanceAfter { amount } effectiveAt nextBillingDate } }"""


async def _change(
    gql: GraphQLClient, owner: str, change: dict[str, Any], confirm: int
) -> dict[str, Any]:
    body = await gql(CHANGE, {"input": change, "confirm": confirm}, as_user=owner)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["changePlan"]
    return result


@pytest.mark.parametrize(
    ("items", "change", "code", "message"),
    [
        (
            [{"product": "email", "plan": "email-1000"}],
            {"product": "sms"},
            "BAD_USER_INPUT",
            "Unknown product 'sms'",
        ),
        (
            [{"product": "email", "plan": "email-1000"}],
            {"product": "email", "plan": "email-9000"},
            "BAD_USER_INPUT",
            "Unknown plan 'email-9000'",
        ),
        (
            [{"product": "marketing", "plan": "plus", "contact_limit": 1000, "seats": 1}],
            {"product": "marketing", "addOns": ["fax"]},
            "BAD_USER_INPUT",
            "Unknown add-on 'fax'",
        ),
        (  # CHG-10
            [
                {
                    "product": "marketing",
                    "plan": "plus",
                    "contact_limit": 1000,
                    "seats": 3,
                    "seats_in_use": 3,
                }
            ],
            {"product": "marketing", "seats": 2},
            "SEATS_IN_USE",
            "3 seats are in use",
        ),
        (  # CHG-11
            [{"product": "marketing", "plan": "plus", "contact_limit": 1000, "seats": 1}],
            {"product": "marketing", "contactLimit": 3000},
            "BAD_USER_INPUT",
            "Contact limit 3,000 is not on the ladder: choose one of 1,000, 2,500, 5,000, 10,000.",
        ),
        (  # CAT-4
            [{"product": "marketing", "plan": "starter", "contact_limit": 1000, "seats": 1}],
            {"product": "marketing", "addOns": ["custom_domain"]},
            "BAD_USER_INPUT",
            "Custom domain is offered on Plus and above, not on Starter",
        ),
        (
            [{"product": "email", "plan": "email-1000"}],
            {"product": "email", "billingInterval": "ANNUAL"},
            "BAD_USER_INPUT",
            "Email is not sold ANNUAL: it is sold MONTHLY",
        ),
        (  # CHG-1: profiles stored do not fit the smaller tier
            [{"product": "email", "plan": "email-1000", "stock": {"profiles": 640}}],
            {"product": "email", "plan": "email-500"},
            "STOCK_ABOVE_LIMIT",
            "640 profiles are stored",
        ),
    ],
)
async def test_bad_input_is_a_user_error_and_changes_nothing(
    gql: GraphQLClient, items: list[dict[str, Any]], change: dict[str, Any], code: str, message: str
) -> None:
    organization, owner = await organization_with(items, period=PERIOD)
    before = await state_of(organization)
    result = await _change(gql, owner, change, 0)
    assert result["__typename"] == "UserError"
    assert result["code"] == code
    assert message in result["message"]
    assert await state_of(organization) == before


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (SubscriptionStatus.FROZEN, "SUBSCRIPTION_FROZEN"),
    ],
)
async def test_no_changes_while_frozen_or_cancelled(
    gql: GraphQLClient, status: SubscriptionStatus, code: str
) -> None:
    # rule SUB-3, DUN-3
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD, status=status
    )
    before = await state_of(organization)
    preview = (
        await gql(PREVIEW, {"input": {"product": "email", "plan": "email-1500"}}, as_user=owner)
    )["data"]["previewPlanChange"]
    assert code in [b["code"] for b in preview["blockers"]]
    result = await _change(
        gql, owner, {"product": "email", "plan": "email-1500"}, preview["amountDueNow"]["amount"]
    )
    assert (result["__typename"], result["code"]) == ("UserError", code)
    assert await state_of(organization) == before


async def test_a_stale_confirmation_is_refused(gql: GraphQLClient) -> None:
    # rule CHG-2: the client confirms $10.16; the amount is recomputed and differs.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    before = await state_of(organization)
    result = await _change(gql, owner, {"product": "email", "plan": "email-1500"}, 1000)
    assert result["code"] == "AMOUNT_CHANGED"
    assert "The amount due is now $10.16, not the 1000 (cents) you confirmed" in result["message"]
    assert await state_of(organization) == before


async def test_a_declined_card_changes_and_charges_nothing(gql: GraphQLClient) -> None:
    # rule CHG-5, PAY-3
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD, card="pm_card_chargeDeclined"
    )
    before = await state_of(organization)
    result = await _change(gql, owner, {"product": "email", "plan": "email-1500"}, 1016)
    assert result["code"] == "PAYMENT_DECLINED"
    assert result["message"].startswith(
        "The card was declined by the bank. Nothing was changed or charged"
    )
    assert await state_of(organization) == before


async def test_three_d_secure_leaves_the_plan_until_paid(gql: GraphQLClient) -> None:
    # rule CHG-5: the payment waits for the customer; the old plan stays.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=PERIOD,
        card="pm_card_authenticationRequired",
    )
    result = await _change(gql, owner, {"product": "email", "plan": "email-1500"}, 1016)
    assert result["__typename"] == "PaymentActionRequired"
    assert result["clientSecret"].endswith("_secret")
    assert result["pendingInvoice"] == {"status": "OPEN", "amountDue": {"amount": 1016}}
    body = await gql("{ organization { subscription { items { plan { code } } } } }", as_user=owner)
    assert body["data"]["organization"]["subscription"]["items"][0]["plan"]["code"] == "email-1000"
    invoice = await Invoice.get(organization_id=organization.id)
    assert invoice.pending_change is not None


async def test_settings_of_lost_features_are_kept_and_come_back(gql: GraphQLClient) -> None:
    # rule CHG-9 (Ecwid: custom invoice templates come back); CHG-7 downgrade is immediate.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}], period=PERIOD
    )
    await FeatureSetting.create(
        organization=organization, feature="custom_invoices", key="template", value="Letterhead"
    )
    preview = (
        await gql(PREVIEW, {"input": {"product": "store", "plan": "venture"}}, as_user=owner)
    )["data"]["previewPlanChange"]
    assert preview["featuresLost"] == ["custom_invoices", "product_variations"]
    await _change(gql, owner, {"product": "store", "plan": "venture"}, 0)
    settings = "{ organization { featureSettings { feature key value active } } }"
    lost = (await gql(settings, as_user=owner))["data"]["organization"]["featureSettings"]
    assert lost == [
        {"feature": "custom_invoices", "key": "template", "value": "Letterhead", "active": False}
    ]
    up = (await gql(PREVIEW, {"input": {"product": "store", "plan": "business"}}, as_user=owner))[
        "data"
    ]["previewPlanChange"]
    await _change(
        gql, owner, {"product": "store", "plan": "business"}, up["amountDueNow"]["amount"]
    )
    back = (await gql(settings, as_user=owner))["data"]["organization"]["featureSettings"]
    assert back[0]["active"] is True


async def test_monthly_to_annual_and_back(gql: GraphQLClient, clock: Any) -> None:
    # rule INT-1: $450 now; the paid month runs out, then the year: renewal on 2 Apr 2027.
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}], period=PERIOD
    )
    result = await _change(gql, owner, {"product": "store", "billingInterval": "ANNUAL"}, 45000)
    assert result["invoice"]["amountDue"]["amount"] == 45000
    scheduled = "{ organization { subscription { billingInterval nextBillingDate scheduledChange { effectiveAt billingInterval } } } }"
    subscription = (await gql(scheduled, as_user=owner))["data"]["organization"]["subscription"]
    assert subscription["scheduledChange"] == {
        "effectiveAt": "2026-04-02T09:30:00+00:00",
        "billingInterval": "ANNUAL",
    }
    blocked = await _change(gql, owner, {"product": "store", "plan": "unlimited"}, 0)
    assert blocked["code"] == "INTERVAL_SWITCH_PENDING"
    walk = await gql("mutation { advanceTestClock(days: 21) { now events } }", as_user=owner)
    walked = [
        e.replace(organization.name, "Store") for e in walk["data"]["advanceTestClock"]["events"]
    ]
    assert any("Store: renewed to 2 Apr 2027" in e for e in walked)

    subscription = (await gql(scheduled, as_user=owner))["data"]["organization"]["subscription"]
    assert subscription == {
        "billingInterval": "ANNUAL",
        "nextBillingDate": "2027-04-02T09:30:00+00:00",
        "scheduledChange": None,
    }
    assert (
        await Invoice.filter(organization_id=organization.id).count() == 1
    )  # the year was not charged twice
    # rule INT-2, INT-3: back to monthly as the year starts: the unused annual time goes to
    # the credit balance, which pays this month's $45 first.
    preview = (
        await gql(
            PREVIEW, {"input": {"product": "store", "billingInterval": "MONTHLY"}}, as_user=owner
        )
    )["data"]["previewPlanChange"]
    assert preview["amountDueNow"]["amount"] == 0
    result = await _change(gql, owner, {"product": "store", "billingInterval": "MONTHLY"}, 0)
    assert result["subscription"]["billingInterval"] == "MONTHLY"
    await organization.refresh_from_db()
    # The test clock stands at the first instant of the year: all of it is unused.
    assert organization.credit_balance == preview["creditBalanceAfter"]["amount"] == 45000 - 4500


async def test_recommendations_cancellation_needs_a_month_of_notice(gql: GraphQLClient) -> None:
    # rule CAN-2: asked 10 days into the period starting 2 Mar: the rest of the month plus one.
    _, owner = await organization_with(
        [{"product": "recommendations", "plan": "rec-10k"}], period=PERIOD
    )
    body = await gql(
        'mutation { cancelSubscription(reason: "Moving to another tool") { ... on SubscriptionCancelled { cancelAt subscription { status nextBillingDate } } } }',
        as_user=owner,
    )
    cancelled = body["data"]["cancelSubscription"]
    assert cancelled["cancelAt"] == "2026-05-02T09:30:00+00:00"
    assert cancelled["subscription"]["status"] == "CANCELLING"
    assert (
        cancelled["subscription"]["nextBillingDate"] == "2026-04-02T09:30:00+00:00"
    )  # one more renewal


async def test_cancelling_needs_a_reason_and_the_owner(gql: GraphQLClient) -> None:
    # rule CAN-1, ACC-4
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    before = await state_of(organization)
    body = await gql(
        'mutation { cancelSubscription(reason: "   ") { ... on UserError { code message field } } }',
        as_user=owner,
    )
    assert body["data"]["cancelSubscription"] == {
        "code": "BAD_USER_INPUT",
        "message": "Tell us why you are cancelling: a reason is required.",
        "field": "reason",
    }
    body = await gql(
        'mutation { cancelSubscription(reason: "Too expensive") { __typename } }',
        as_user=owner.replace("owner@", "billing@"),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await state_of(organization) == before


@pytest.mark.usefixtures("database")
async def test_seeded_acme_is_untouched_by_these_tests() -> None:
    acme = await Organization.get(slug="acme")
    subscription = await Subscription.get(organization_id=acme.id)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_start < SEEDED_AT


async def test_one_overdue_invoice_is_one_blocker_chg_1(gql: GraphQLClient) -> None:
    # rule CHG-1: PENDING_PAYMENT with one overdue invoice listed OVERDUE_INVOICE twice.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=PERIOD,
        status=SubscriptionStatus.PENDING_PAYMENT,
    )
    await Invoice.create(
        organization=organization,
        number="OVERDUE-1",
        sequence=0,
        kind="SUBSCRIPTION",
        status="OPEN",
        currency="USD",
        total=3000,
        amount_due=3000,
        issued_at=PERIOD[0],
        due_at=PERIOD[0],
    )
    preview = (
        await gql(PREVIEW, {"input": {"product": "email", "plan": "email-1500"}}, as_user=owner)
    )["data"]["previewPlanChange"]
    assert [b["code"] for b in preview["blockers"]] == ["OVERDUE_INVOICE"]


async def test_preview_selected_on_every_result_member_validates(gql: GraphQLClient) -> None:
    # rule CHG-1, CHG-5: `preview` has one type on every PlanChangeResult member, so a client can
    # select it on each of them in one document.
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    document = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
      changePlan(input: $input, confirmAmountDue: $confirm) { __typename
        ... on PlanChangeApplied { preview { kind amountDueNow { amount } } }
        ... on PlanChangeScheduled { preview { kind } }
        ... on PaymentActionRequired { preview { kind } } } }"""
    change = {"product": "email", "plan": "email-1500"}
    due = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    body = await gql(
        document, {"input": change, "confirm": due["amountDueNow"]["amount"]}, as_user=owner
    )
    assert "errors" not in body, body
    result = body["data"]["changePlan"]
    assert result["__typename"] == "PlanChangeApplied"
    assert result["preview"] == {"kind": "UPGRADE", "amountDueNow": due["amountDueNow"]}


SUBSCRIBE = """mutation ($input: PlanChangeInput!, $confirm: Int!) { subscribe(input: $input, confirmAmountDue: $confirm) {
  __typename
  ... on PlanChangeApplied { invoice { status amountDue { amount } } subscription { id status items { plan { code } } } }
  ... on UserError { code message } } }"""


async def _cancelled_organization(
    data_delete_at: datetime, card: str = "pm_card_visa"
) -> tuple[Organization, str]:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1500"}],
        period=PERIOD,
        status=SubscriptionStatus.CANCELLED,
        card=card,
    )
    await Invoice.create(
        organization=organization,
        number="OLD-1",
        sequence=0,
        kind="SUBSCRIPTION",
        status="PAID",
        currency="USD",
        total=4500,
        amount_due=4500,
        issued_at=PERIOD[0],
        due_at=PERIOD[0],
    )
    await Subscription.filter(organization_id=organization.id).update(
        cancelled_at=PERIOD[1], cancel_at=PERIOD[1], cancel_reason="too dear"
    )
    organization.data_delete_at = data_delete_at
    await organization.save(update_fields=["data_delete_at"])
    return organization, owner


async def test_a_cancelled_organization_subscribes_again_sub_3(gql: GraphQLClient) -> None:
    # rule SUB-3 (CANCELLED -> ACTIVE), CAN-3: before the retention deletion. subscribe answered
    # "already has a paid subscription: use changePlan", changePlan "cancelled".
    organization, owner = await _cancelled_organization(datetime(2026, 7, 1, tzinfo=UTC))
    old = await Subscription.get(organization_id=organization.id)
    change = {"product": "email", "plan": "email-1000"}
    refused = await _change(gql, owner, change, 3000)
    assert (refused["__typename"], refused["code"]) == ("UserError", "SUBSCRIPTION_CANCELLED")
    assert "subscribe" in refused["message"]
    document = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
      kind amountDueNow { amount } blockers { code } } }"""
    preview = (await gql(document, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert preview == {"kind": "NEW", "amountDueNow": {"amount": 3000}, "blockers": []}
    body = await gql(SUBSCRIBE, {"input": change, "confirm": 3000}, as_user=owner)
    applied = body["data"]["subscribe"]
    assert applied["__typename"] == "PlanChangeApplied", applied
    assert applied["invoice"] == {"status": "PAID", "amountDue": {"amount": 3000}}
    subscription = applied["subscription"]
    assert (subscription["status"], subscription["items"]) == (
        "ACTIVE",
        [{"plan": {"code": "email-1000"}}],
    )
    assert subscription["id"] != str(old.id)  # a new subscription
    row = await Subscription.get(organization_id=organization.id)
    assert row.cancel_at is None and row.cancelled_at is None and not row.cancel_reason
    assert row.current_period_start == SEEDED_AT
    await organization.refresh_from_db()
    assert organization.data_delete_at is None  # CAN-3: no deletion is due any more
    numbers = [i.number for i in await Invoice.filter(organization_id=organization.id)]
    assert sorted(numbers)[0] == "OLD-1" and len(numbers) == 2  # the old invoices stay
    again = await gql(SUBSCRIBE, {"input": change, "confirm": 0}, as_user=owner)
    assert again["data"]["subscribe"]["code"] == "BAD_USER_INPUT"


async def test_subscribing_again_after_3d_secure_starts_the_new_subscription_sub_3(
    gql: GraphQLClient,
) -> None:
    # rule SUB-3, CHG-5: the new subscription starts once the authenticated payment succeeds;
    # before the fix, completing it answered INTERNAL (items written before their subscription).
    _, owner = await _cancelled_organization(
        datetime(2026, 7, 1, tzinfo=UTC), card="pm_card_authenticationRequired"
    )
    change = {"product": "email", "plan": "email-1000"}
    document = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
      subscribe(input: $input, confirmAmountDue: $confirm) {
        __typename ... on PaymentActionRequired { invoice { id } } } }"""
    waiting = (await gql(document, {"input": change, "confirm": 3000}, as_user=owner))["data"]
    assert waiting["subscribe"]["__typename"] == "PaymentActionRequired"
    complete = """mutation ($id: ID!) { completeTestPaymentAction(invoiceId: $id, succeed: true) {
      __typename ... on InvoicePaid { invoice { status } } } }"""
    invoice_id = waiting["subscribe"]["invoice"]["id"]
    done = await gql(complete, {"id": invoice_id}, as_user=owner)
    assert done["data"]["completeTestPaymentAction"] == {
        "__typename": "InvoicePaid",
        "invoice": {"status": "PAID"},
    }, done
    state = "{ organization { subscription { status items { plan { code } } } } }"
    subscription = (await gql(state, as_user=owner))["data"]["organization"]["subscription"]
    assert subscription == {"status": "ACTIVE", "items": [{"plan": {"code": "email-1000"}}]}


async def test_subscribing_after_the_retention_deletion_starts_from_empty_data_sub_3(
    gql: GraphQLClient,
) -> None:
    # rule SUB-3, CAN-3: after the deletion the organization has no items; it subscribes anew.
    organization, owner = await _cancelled_organization(datetime(2026, 3, 1, tzinfo=UTC))
    events = await gql("mutation { advanceTestClock(days: 0) { events } }", as_user=owner)
    assert any("data deleted" in e for e in events["data"]["advanceTestClock"]["events"])
    change = {"product": "marketing", "plan": "plus", "contactLimit": 1000, "seats": 1}
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert preview["blockers"] == []
    due = preview["amountDueNow"]["amount"]
    body = await gql(SUBSCRIBE, {"input": change, "confirm": due}, as_user=owner)
    applied = body["data"]["subscribe"]
    assert applied["__typename"] == "PlanChangeApplied", applied
    assert applied["subscription"]["items"] == [{"plan": {"code": "plus"}}]
    await organization.refresh_from_db()
    assert (organization.data_delete_at, organization.data_deleted_at) == (None, None)


async def test_account_change_requests_are_listed_with_their_status_chg_8(
    gql: GraphQLClient,
) -> None:
    """rule CHG-8 (ACC-3): a downgrade by request is recorded as REQUESTED and listed for billing
    roles, newest first; nothing else changes."""
    organization, owner = await organization_with(
        [{"product": "marketing", "plan": "pro", "contact_limit": 1000, "seats": 3}],
        period=PERIOD,
    )
    for message in ("Move us to Plus, please", "And drop two seats"):
        body = await gql(
            "mutation ($m: String!) { requestAccountChange(message: $m) { __typename } }",
            {"m": message},
            as_user=owner,
        )
        assert body["data"]["requestAccountChange"]["__typename"] == "AccountChangeRequested"
        await gql("mutation { advanceTestClock(hours: 1) { now } }", as_user=owner)
    listed = await gql(
        "{ organization { accountChangeRequests { message status } } }", as_user=owner
    )
    assert listed["data"]["organization"]["accountChangeRequests"] == [
        {"message": "And drop two seats", "status": "REQUESTED"},
        {"message": "Move us to Plus, please", "status": "REQUESTED"},
    ]
    member = await member_of(organization)
    denied = await gql("{ organization { accountChangeRequests { status } } }", as_user=member)
    assert denied["data"]["organization"]["accountChangeRequests"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
