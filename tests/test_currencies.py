"""CUR-1 through the real ASGI app: a EUR organization subscribes, upgrades mid-period and is
invoiced in EUR to the cent; mixing in a USD amount is refused and changes nothing; its currency
is fixed at its first subscription; the public catalog and /pricing answer in one currency.
Expected amounts are derived here with exact fractions from the demo catalog's EUR figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing.access import Role
from billing.clock import FixedClock
from gateway.trusted_documents import document_hash
from models import (
    Invoice,
    InvoiceLine,
    Membership,
    Organization,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
    User,
)
from tests.conftest import SEEDED_AT, GraphQLClient, bearer, persisted
from tests.test_provisioning import answer, new_organization, platform_key, run

MONEY = "{ amount currency formatted }"
LINES = f"lines {{ description amount {MONEY} }}"
APPLIED = f"""__typename ... on PlanChangeApplied {{
    invoice {{ id number status total {MONEY} amountDue {MONEY} {LINES} }} }}
  ... on UserError {{ code message field }}"""
SUBSCRIBE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!, $code: String) {{
  subscribe(input: $input, confirmAmountDue: $confirm, promotionCode: $code) {{ {APPLIED} }} }}"""
CHANGE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!) {{
  changePlan(input: $input, confirmAmountDue: $confirm) {{ {APPLIED} }} }}"""
PREVIEW = f"""query ($input: PlanChangeInput!) {{
  previewPlanChange(input: $input) {{ amountDueNow {MONEY} total {MONEY} {LINES} }} }}"""
SET_CURRENCY = """mutation ($currency: String!) { setOrganizationCurrency(currency: $currency) {
  __typename ... on OrganizationCurrencySet { currency } ... on UserError { code message field } } }"""
ORGANIZATION = "{ organization { currency } }"
ADVANCE = "mutation ($days: Int!) { advanceTestClock(days: $days) { events } }"
PRICING_PAGE = document_hash(
    (Path(__file__).resolve().parent.parent / "portal/operations/PricingPage.graphql").read_text()
)


def half_away(value: Fraction) -> int:
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    return sign * (whole + (1 if magnitude - whole >= Fraction(1, 2) else 0))


@pytest.fixture
def clock_at(clock: FixedClock) -> Iterator[FixedClock]:
    yield clock
    clock.set(SEEDED_AT)


async def _new_organization(slug: str) -> str:
    """An organization that has never subscribed, with a card; its owner's e-mail."""
    organization = await Organization.create(slug=slug, name=slug.title())
    owner = await User.create(email=f"owner@{slug}.test", name="Owner")
    await Membership.create(organization=organization, user=owner, role=Role.OWNER)
    await PaymentMethod.create(
        organization=organization,
        processor_id="pm_card_visa",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2034,
        is_default=True,
    )
    return owner.email


def _result(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body
    (result,) = body["data"].values()
    return result


async def _state(slug: str) -> tuple[Any, ...]:
    organization = await Organization.get(slug=slug)
    return (
        organization.currency,
        organization.credit_balance,
        await Subscription.filter(organization_id=organization.id).count(),
        await Invoice.filter(organization_id=organization.id).count(),
    )


async def test_a_eur_organization_subscribes_upgrades_and_is_invoiced_in_eur_rule_cur_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    owner = await _new_organization("euro-shop")
    assert _result(await gql(ORGANIZATION, as_user=owner))["currency"] == "USD"
    set_eur = _result(await gql(SET_CURRENCY, {"currency": "EUR"}, as_user=owner))
    assert set_eur == {"__typename": "OrganizationCurrencySet", "currency": "EUR"}
    assert _result(await gql(ORGANIZATION, as_user=owner))["currency"] == "EUR"

    # Store Business, monthly: €45.00 (the same figure as in USD, from the EUR price rows).
    business = {"product": "store", "plan": "business"}
    preview = _result(await gql(PREVIEW, {"input": business}, as_user=owner))
    assert preview["amountDueNow"] == {"amount": 4500, "currency": "EUR", "formatted": "€45.00"}
    subscribed = _result(await gql(SUBSCRIBE, {"input": business, "confirm": 4500}, as_user=owner))
    assert subscribed["__typename"] == "PlanChangeApplied", subscribed
    first = subscribed["invoice"]
    assert (first["status"], first["amountDue"]) == (
        "PAID",
        {"amount": 4500, "currency": "EUR", "formatted": "€45.00"},
    )
    assert {line["amount"]["currency"] for line in first["lines"]} == {"EUR"}

    organization = await Organization.get(slug="euro-shop")
    subscription = await Subscription.get(organization_id=organization.id)
    assert subscription.currency == "EUR"
    item = await SubscriptionItem.get(subscription_id=subscription.id)
    price = await Price.get(id=item.plan_price_id)
    assert (price.key.endswith(":MONTHLY:EUR"), price.currency, price.amount) == (
        True,
        "EUR",
        4500,
    )

    # 10 days into 12 Mar - 12 Apr (31 days): Unlimited (€105) for the 21 days left, less
    # Business's unused 21 days (PRORATE_KEEP_CYCLE).
    assert _result(await gql(ADVANCE, {"days": 10}, as_user=owner))
    start, end = SEEDED_AT, datetime(2026, 4, 12, 9, 30, tzinfo=UTC)
    left = Fraction(
        int((end - start - timedelta(days=10)).total_seconds()), int((end - start).total_seconds())
    )
    assert left == Fraction(21, 31)
    credit, charge = half_away(-4500 * left), half_away(10500 * left)
    assert (credit, charge) == (-3048, 7113)  # -3048.39, 7112.90
    due = credit + charge
    assert due == 4065

    unlimited = {"product": "store", "plan": "unlimited"}
    preview = _result(await gql(PREVIEW, {"input": unlimited}, as_user=owner))
    assert [line["amount"]["amount"] for line in preview["lines"]] == [credit, charge]
    assert preview["amountDueNow"] == {"amount": due, "currency": "EUR", "formatted": "€40.65"}
    changed = _result(await gql(CHANGE, {"input": unlimited, "confirm": due}, as_user=owner))
    assert changed["__typename"] == "PlanChangeApplied", changed
    invoice = changed["invoice"]
    assert invoice["status"] == "PAID"
    assert [
        (line["amount"]["amount"], line["amount"]["formatted"]) for line in invoice["lines"]
    ] == [(-3048, "-€30.48"), (7113, "€71.13")]
    assert invoice["total"] == {"amount": 4065, "currency": "EUR", "formatted": "€40.65"}
    stored = await Invoice.get(id=invoice["id"])
    assert (stored.currency, stored.total, stored.amount_due) == ("EUR", 4065, 4065)
    assert await InvoiceLine.filter(invoice_id=stored.id).count() == 2

    # Its PDF shows euros (the core fonts render "€" in WinAnsi).
    pdf = await gql.http.get(f"/invoices/{stored.id}.pdf", headers=await bearer(owner))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # The renewal on 12 Apr: Unlimited's €105.00, in EUR like every invoice of it.
    assert _result(await gql(ADVANCE, {"days": 22}, as_user=owner))
    renewal = (
        await Invoice.filter(organization_id=organization.id, kind="SUBSCRIPTION")
        .order_by("-sequence")
        .first()
    )
    assert renewal is not None
    assert (renewal.currency, renewal.total, renewal.status.value) == ("EUR", 10500, "PAID")
    currencies = await Invoice.filter(organization_id=organization.id).values_list(
        "currency", flat=True
    )
    assert sorted(str(c) for c in currencies) == ["EUR", "EUR", "EUR"]

    # CUR-1: fixed since the first subscription; the same currency again changes nothing.
    fixed = _result(await gql(SET_CURRENCY, {"currency": "USD"}, as_user=owner))
    assert (fixed["__typename"], fixed["code"], fixed["field"]) == (
        "UserError",
        "CURRENCY_FIXED",
        "currency",
    )
    assert "fixed" in fixed["message"]
    same = _result(await gql(SET_CURRENCY, {"currency": "EUR"}, as_user=owner))
    assert same == {"__typename": "OrganizationCurrencySet", "currency": "EUR"}
    assert (await _state("euro-shop"))[0] == "EUR"


async def test_a_usd_amount_is_not_mixed_into_a_eur_invoice_rule_cur_1(
    gql: GraphQLClient,
) -> None:
    owner = await _new_organization("euro-coupon")
    _result(await gql(SET_CURRENCY, {"currency": "EUR"}, as_user=owner))
    before = await _state("euro-coupon")
    # TENOFF is $10 off, in USD only: refused for a EUR organization, nothing charged or kept.
    refused = _result(
        await gql(
            SUBSCRIBE,
            {"input": {"product": "store", "plan": "business"}, "confirm": 3500, "code": "TENOFF"},
            as_user=owner,
        )
    )
    assert (refused["__typename"], refused["code"]) == (
        "UserError",
        "PROMOTION_CODE_NOT_APPLICABLE",
    )
    assert "no amount in EUR" in refused["message"]
    assert await _state("euro-coupon") == before == ("EUR", 0, 0, 0)


async def test_an_unpriced_currency_is_refused_and_changes_nothing_rule_cur_1(
    gql: GraphQLClient,
) -> None:
    owner = await _new_organization("yen-shop")
    for wanted in ("JPY", "XYZ"):
        refused = _result(await gql(SET_CURRENCY, {"currency": wanted}, as_user=owner))
        assert (refused["code"], refused["field"]) == ("CURRENCY_UNSUPPORTED", "currency")
        assert "USD, EUR" in refused["message"]
    assert (await _state("yen-shop"))[0] == "USD"


CATALOG = """query ($currency: String) { catalog(currency: $currency) { currency currencies
  products { code plans { code prices { interval amount { amount currency formatted } } }
  policy { onDemand { blockPrice { amount currency } } } } } }"""


async def test_the_catalog_answers_in_one_currency_rule_cur_1(
    gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    usd = _result(await gql(CATALOG))
    eur = _result(await gql(CATALOG, {"currency": "EUR"}))
    assert (usd["currency"], usd["currencies"]) == ("USD", ["USD", "EUR"])
    assert (eur["currency"], eur["currencies"]) == ("EUR", ["USD", "EUR"])
    messaging = next(p for p in eur["products"] if p["code"] == "messaging")
    growth = next(p for p in messaging["plans"] if p["code"] == "growth")
    assert [(p["interval"], p["amount"]["formatted"]) for p in growth["prices"]] == [
        ("MONTHLY", "€159.00"),
        ("ANNUAL", "€1,526.00"),
    ]
    assert messaging["policy"]["onDemand"]["blockPrice"] == {"amount": 1000, "currency": "EUR"}
    # The same figures in every currency (the demo catalog), each in its own.
    for a, b in zip(usd["products"], eur["products"], strict=True):
        for plan_a, plan_b in zip(a["plans"], b["plans"], strict=True):
            assert [p["amount"]["amount"] for p in plan_a["prices"]] == [
                p["amount"]["amount"] for p in plan_b["prices"]
            ]
            assert {p["amount"]["currency"] for p in plan_b["prices"]} == {"EUR"}
    unknown = await gql(CATALOG, {"currency": "JPY"})
    assert unknown["data"] is None
    (error,) = unknown["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "CURRENCY_UNSUPPORTED"
    assert "USD, EUR" in error["message"]

    # /pricing?currency=EUR: the page passes the currency to its cacheable document.
    page = await client.get("/pricing", params={"currency": "EUR"})
    assert page.status_code == 200
    script = await client.get("/portal/pricing/pricing.js")
    assert 'get("currency")' in script.text
    answer = await client.get(
        "/graphql",
        params={
            "extensions": json.dumps(persisted(PRICING_PAGE)),
            "variables": json.dumps({"currency": "EUR"}),
        },
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"].startswith("public")
    catalog = answer.json()["data"]["catalog"]
    assert catalog["currency"] == "EUR"
    store = next(p for p in catalog["products"] if p["code"] == "store")
    assert {price["amount"]["currency"] for plan in store["plans"] for price in plan["prices"]} == {
        "EUR"
    }


async def test_provisioned_in_eur_a_trial_is_priced_in_eur_and_then_fixed_rule_cur_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key()
    wanted = new_organization(currency="eur")
    created = answer(
        await run(client, key, "CreateOrganization", {"input": wanted}), "createOrganization"
    )
    assert created["organization"]["currency"] == "EUR"
    external_id = wanted["externalId"]
    back = {"organizationExternalId": external_id, "currency": "USD"}
    to_usd = answer(
        await run(client, key, "SetProvisionedOrganizationCurrency", back),
        "setProvisionedOrganizationCurrency",
    )
    assert (to_usd["changed"], to_usd["organization"]["currency"]) == (True, "USD")
    again = {"organizationExternalId": external_id, "currency": "EUR"}
    answer(
        await run(client, key, "SetProvisionedOrganizationCurrency", again),
        "setProvisionedOrganizationCurrency",
    )

    trial = {"product": "marketing", "plan": "plus"}
    started = answer(
        await run(
            client,
            key,
            "StartTrial",
            {"organizationExternalId": external_id, "input": trial},
        ),
        "startTrial",
    )
    assert started["__typename"] == "OrganizationProvisioned", started
    organization = await Organization.get(external_id=external_id)
    subscription = await Subscription.get(organization_id=organization.id)
    item = await SubscriptionItem.get(subscription_id=subscription.id)
    held = [item.plan_price_id, item.seat_price_id, item.contact_limit_price_id]
    prices = await Price.filter(id__in=[i for i in held if i is not None])
    assert subscription.currency == "EUR"
    assert sorted((p.kind.value, p.amount, p.currency) for p in prices) == [
        ("CONTACT_LIMIT", 0, "EUR"),
        ("PLAN", 4900, "EUR"),
        ("SEAT", 1900, "EUR"),
    ]

    refused = answer(
        await run(client, key, "SetProvisionedOrganizationCurrency", back),
        "setProvisionedOrganizationCurrency",
    )
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "UserError",
        "CURRENCY_FIXED",
        "currency",
    )
    await organization.refresh_from_db()
    assert organization.currency == "EUR"
