"""Taxes through the API (TAX-1, TAX-2, MNY-2, INV-3): the rate comes from the billing address
the invoice is issued with; the preview shows what the invoice then charges, tax included. Every
expected amount is a literal, checked here against an independent calculation with exact
fractions (remaining seconds of the period, then each line's tax, each rounded half away from
zero), not against the code under test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from billing.clock import FixedClock
from billing.subscription_status import SubscriptionStatus
from gateway.catalog_file import load_catalog
from gateway.seed import seed
from gateway.settings import DEFAULT_CATALOG_FILE
from models import BillingInfo, Invoice, Payment, PaymentMethod
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, error_codes
from tests.factories import organization_with

START, END = datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
DAY_10 = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
DAY_20 = datetime(2026, 3, 22, 9, 30, tzinfo=UTC)
INCLUSIVE_CATALOG = Path(__file__).parent / "data" / "catalog_inclusive_tax.toml"

MONEY = "{ amount }"
TAX = f"tax {{ rates {{ rate {{ label percent inclusive reverseCharge }} taxable {MONEY} tax {MONEY} }} total {MONEY} legend sellerTaxId }}"
LINES = f"lines {{ description amount {MONEY} tax {MONEY} taxRate {{ label }} total {MONEY} }}"
PREVIEW = f"""query ($input: PlanChangeInput!) {{ previewPlanChange(input: $input) {{
  amountDueNow {MONEY} total {MONEY} {LINES} {TAX} blockers {{ code }} }} }}"""
CHANGE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!) {{
  changePlan(input: $input, confirmAmountDue: $confirm) {{ __typename
  ... on PlanChangeApplied {{ invoice {{ id status total {MONEY} amountDue {MONEY} {LINES} {TAX} }} }}
  ... on UserError {{ code message }} }} }}"""
UPDATE = """mutation ($input: BillingInfoInput!) { updateBillingInfo(input: $input) { __typename
  ... on BillingInfoUpdated { billingInfo { country taxId } } ... on UserError { code field message } } }"""
UPCOMING = f"""{{ organization {{ subscription {{ upcomingInvoice {{
  total {MONEY} amountDue {MONEY} {LINES} {TAX} }} }} }} }}"""
ADVANCE = "mutation { advanceTestClock(days: %d) { events } }"


def half_away(value: Fraction) -> int:
    """MNY-2's rounding, done with Decimal's ROUND_HALF_UP (away from zero), not billing's."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def remaining(now: datetime) -> Fraction:
    return Fraction(int((END - now).total_seconds()), int((END - START).total_seconds()))


def exclusive(amount: int, percent: int) -> int:
    return half_away(Fraction(amount) * Fraction(percent, 100))


def inclusive(amount: int, percent: int) -> int:
    share = Fraction(percent, 100)
    return half_away(Fraction(amount) * share / (1 + share))


def upgrade_lines(old: int, new: int, now: datetime) -> tuple[int, int]:
    """CHG-3: the credit for the old plan's unused time and the new plan's remaining time."""
    return -half_away(old * remaining(now)), half_away(new * remaining(now))


@pytest.fixture
def clock_at(clock: FixedClock) -> Iterator[FixedClock]:
    yield clock
    clock.set(SEEDED_AT)


@pytest_asyncio.fixture
async def inclusive_catalog(clock: FixedClock) -> AsyncIterator[None]:
    """The catalog of its own: the demo products with an inclusive 19 % rate for Germany."""
    await seed(load_catalog(INCLUSIVE_CATALOG), None, clock)
    try:
        yield
    finally:
        await seed(load_catalog(DEFAULT_CATALOG_FILE), None, clock)


async def _organization(clock: FixedClock, billing: dict[str, Any] | None) -> str:
    clock.set(DAY_10)
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=(START, END)
    )
    if billing is not None:
        values: dict[str, Any] = {"company_name": "Customer", "billing_email": "ap@c.test"}
        await BillingInfo.create(organization=organization, **values, **billing)
    return owner


async def _preview_and_apply(
    gql: GraphQLClient, owner: str, plan: str
) -> tuple[dict[str, Any], dict[str, Any], int]:
    change = {"product": "email", "plan": plan}
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert preview["blockers"] == []
    due = preview["amountDueNow"]["amount"]
    applied = (await gql(CHANGE, {"input": change, "confirm": due}, as_user=owner))["data"][
        "changePlan"
    ]
    assert applied["__typename"] == "PlanChangeApplied", applied
    invoice = applied["invoice"]
    charged = await Payment.get(invoice_id=invoice["id"])
    assert (charged.status, invoice["status"]) == ("SUCCEEDED", "PAID")
    return preview, invoice, charged.amount


def _taxes(document: dict[str, Any]) -> list[tuple[int, int]]:
    return [(line["amount"]["amount"], line["tax"]["amount"]) for line in document["lines"]]


async def test_italian_consumer_pays_22_percent_preview_equals_charge_rule_tax_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    owner = await _organization(clock_at, {"country": "IT"})
    credit, charge = upgrade_lines(3000, 4500, DAY_10)
    assert (credit, charge) == (-2032, 3048)
    expected = credit + exclusive(credit, 22) + charge + exclusive(charge, 22)
    assert (exclusive(credit, 22), exclusive(charge, 22), expected) == (-447, 671, 1240)

    preview, invoice, charged = await _preview_and_apply(gql, owner, "email-1500")
    assert _taxes(preview) == _taxes(invoice) == [(-2032, -447), (3048, 671)]
    assert preview["amountDueNow"]["amount"] == invoice["amountDue"]["amount"] == 1240
    assert charged == 1240
    for document in (preview, invoice):
        assert document["tax"]["rates"] == [
            {
                "rate": {
                    "label": "VAT 22 % (IT)",
                    "percent": "22",
                    "inclusive": False,
                    "reverseCharge": False,
                },
                "taxable": {"amount": 1016},
                "tax": {"amount": 224},
            }
        ]
        assert document["tax"]["total"]["amount"] == 224
        assert document["tax"]["sellerTaxId"] == "EU372000041"
        assert document["tax"]["legend"] == ""
    stored = await Invoice.get(id=invoice["id"])
    assert (stored.total, stored.tax_total, stored.amount_due) == (1240, 224, 1240)


async def test_renewal_and_upcoming_invoice_carry_the_tax_rule_tax_1_inv_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    owner = await _organization(clock_at, {"country": "IT"})
    clock_at.set(datetime(2026, 4, 1, 9, 30, tzinfo=UTC))  # a day before the period ends
    draft = (await gql(UPCOMING, as_user=owner))["data"]["organization"]["subscription"][
        "upcomingInvoice"
    ]
    assert exclusive(3000, 22) == 660
    assert _taxes(draft) == [(3000, 660)]
    assert (draft["total"]["amount"], draft["amountDue"]["amount"]) == (3660, 3660)
    assert draft["tax"]["rates"][0]["taxable"]["amount"] == 3000
    await gql(ADVANCE % 1, as_user=owner)
    renewal = await Invoice.filter(organization__memberships__user__email=owner).first()
    assert renewal is not None
    payment = await Payment.get(invoice_id=renewal.id)
    assert (renewal.total, renewal.tax_total, payment.amount) == (3660, 660, 3660)


async def test_inclusive_19_percent_from_a_catalog_of_its_own_rule_tax_1(
    gql: GraphQLClient, clock_at: FixedClock, inclusive_catalog: None
) -> None:
    owner = await _organization(clock_at, {"country": "DE"})
    credit, charge = upgrade_lines(3000, 4500, DAY_10)
    taxes = (inclusive(credit, 19), inclusive(charge, 19))
    assert taxes == (-324, 487)  # -324.43..., 486.65...: inside the amounts
    assert credit + charge == 1016  # inclusive: the tax is in the price, the total stays

    preview, invoice, charged = await _preview_and_apply(gql, owner, "email-1500")
    assert _taxes(preview) == _taxes(invoice) == [(-2032, -324), (3048, 487)]
    assert preview["amountDueNow"]["amount"] == invoice["amountDue"]["amount"] == charged == 1016
    for document in (preview, invoice):
        (rate,) = document["tax"]["rates"]
        assert rate["rate"]["inclusive"] is True
        assert (rate["taxable"]["amount"], rate["tax"]["amount"]) == (853, 163)  # 853 + 163
        assert rate["taxable"]["amount"] + rate["tax"]["amount"] == 1016  # the gross, exactly


async def test_reverse_charge_for_a_german_business_rule_tax_2(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    owner = await _organization(clock_at, None)
    saved = await gql(
        UPDATE,
        {
            "input": {
                "companyName": "Muster GmbH",
                "billingEmail": "ap@muster.test",
                "country": "DE",
                "taxId": "de 136 695 976",
            }
        },
        as_user=owner,
    )
    assert saved["data"]["updateBillingInfo"] == {
        "__typename": "BillingInfoUpdated",
        "billingInfo": {"country": "DE", "taxId": "DE136695976"},
    }
    preview, invoice, charged = await _preview_and_apply(gql, owner, "email-1500")
    assert _taxes(preview) == _taxes(invoice) == [(-2032, 0), (3048, 0)]
    assert preview["amountDueNow"]["amount"] == invoice["amountDue"]["amount"] == charged == 1016
    for document in (preview, invoice):
        (rate,) = document["tax"]["rates"]
        assert rate["rate"]["reverseCharge"] is True
        assert (rate["taxable"]["amount"], rate["tax"]["amount"]) == (1016, 0)
        assert document["tax"]["legend"].startswith("Reverse charge")


@pytest.mark.parametrize(
    ("tax_id", "reason"),
    [
        ("DE123", "invalid length"),
        ("DE136695977", "check digit"),
        ("IT00743110157", "start with DE"),
    ],
)
async def test_a_malformed_vat_number_is_refused_and_changes_nothing_rule_tax_2(
    gql: GraphQLClient, clock_at: FixedClock, tax_id: str, reason: str
) -> None:
    owner = await _organization(clock_at, {"country": "DE"})
    body = await gql(
        UPDATE,
        {
            "input": {
                "companyName": "Muster GmbH",
                "billingEmail": "ap@muster.test",
                "country": "DE",
                "taxId": tax_id,
            }
        },
        as_user=owner,
    )
    refused = body["data"]["updateBillingInfo"]
    assert (refused["code"], refused["field"]) == ("BAD_USER_INPUT", "taxId")
    assert reason in refused["message"] and tax_id in refused["message"]
    info = await BillingInfo.get(organization__memberships__user__email=owner)
    assert (info.company_name, info.tax_id) == ("Customer", "")  # unchanged: still a consumer


async def test_us_customer_pays_no_tax_rule_tax_1(gql: GraphQLClient, clock_at: FixedClock) -> None:
    for billing in ({"country": "US", "tax_id": "12-3456789"}, None):
        owner = await _organization(clock_at, billing)
        preview, invoice, charged = await _preview_and_apply(gql, owner, "email-1500")
        assert _taxes(preview) == _taxes(invoice) == [(-2032, 0), (3048, 0)]
        assert preview["amountDueNow"]["amount"] == charged == 1016
        assert preview["tax"]["rates"] == invoice["tax"]["rates"] == []


async def test_a_credit_is_taxed_at_the_rate_of_the_charge_it_reverses_rule_tax_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    owner = await _organization(clock_at, {"country": "IT"})
    _, first, _ = await _preview_and_apply(gql, owner, "email-1500")
    assert _taxes(first) == [(-2032, -447), (3048, 671)]  # charged at 22 % (IT)
    await BillingInfo.filter(organization__memberships__user__email=owner).update(country="FR")
    clock_at.set(DAY_20)
    credit, charge = upgrade_lines(4500, 6000, DAY_20)
    assert (credit, charge) == (-1597, 2129)
    credit_tax, charge_tax = exclusive(credit, 22), exclusive(charge, 20)  # IT's, then FR's
    assert (credit_tax, charge_tax) == (-351, 426)
    expected = credit + credit_tax + charge + charge_tax
    assert expected == 607

    preview, invoice, charged = await _preview_and_apply(gql, owner, "email-2500")
    assert _taxes(preview) == _taxes(invoice) == [(-1597, -351), (2129, 426)]
    assert [line["taxRate"]["label"] for line in invoice["lines"]] == [
        "VAT 22 % (IT)",
        "VAT 20 % (FR)",
    ]
    assert preview["amountDueNow"]["amount"] == invoice["amountDue"]["amount"] == charged == 607
    assert [
        (r["rate"]["label"], r["taxable"]["amount"], r["tax"]["amount"])
        for r in invoice["tax"]["rates"]
    ] == [
        ("VAT 22 % (IT)", -1597, -351),
        ("VAT 20 % (FR)", 2129, 426),
    ]


SUBSCRIBE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!) {{
  subscribe(input: $input, confirmAmountDue: $confirm) {{ __typename
  ... on PlanChangeApplied {{ invoice {{ id amountDue {MONEY} {LINES} }} }} }} }}"""
PAY = """mutation ($id: ID!) { payInvoice(invoiceId: $id) { __typename
  ... on InvoicePaid { invoice { status amountDue { amount } } } ... on UserError { code } } }"""


async def test_subscribing_charges_the_taxed_total_rule_tax_1_sub_2(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    clock_at.set(DAY_10)
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(START, END),
        status=SubscriptionStatus.TRIAL_ENDED,
    )
    await BillingInfo.create(
        organization=organization, company_name="Dupont", billing_email="a@d.test", country="FR"
    )
    assert exclusive(3000, 20) == 600  # a French consumer: a full month at 20 %
    change = {"product": "email"}
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert (_taxes(preview), preview["amountDueNow"]["amount"]) == ([(3000, 600)], 3600)
    applied = (await gql(SUBSCRIBE, {"input": change, "confirm": 3600}, as_user=owner))["data"][
        "subscribe"
    ]
    assert applied["__typename"] == "PlanChangeApplied"
    assert applied["invoice"]["amountDue"]["amount"] == 3600
    payment = await Payment.get(invoice_id=applied["invoice"]["id"])
    assert payment.amount == 3600


async def test_paying_an_open_invoice_charges_its_taxed_total_rule_tax_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    clock_at.set(datetime(2026, 4, 1, 9, 30, tzinfo=UTC))
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(START, END),
        card="pm_card_chargeDeclined",
    )
    await BillingInfo.create(
        organization=organization, company_name="Rossi", billing_email="a@r.test", country="IT"
    )
    await gql(ADVANCE % 1, as_user=owner)  # the renewal is declined: OPEN
    invoice = await Invoice.get(organization_id=organization.id)
    assert (invoice.status, invoice.amount_due) == ("OPEN", 3000 + exclusive(3000, 22))
    await PaymentMethod.filter(organization_id=organization.id).update(processor_id="pm_card_visa")
    paid = (await gql(PAY, {"id": str(invoice.id)}, as_user=owner))["data"]["payInvoice"]
    assert paid["invoice"] == {"status": "PAID", "amountDue": {"amount": 3660}}
    last = await Payment.filter(invoice_id=invoice.id).order_by("-created_at").first()
    assert last is not None and (last.status, last.amount) == ("SUCCEEDED", 3660)


TAXED_INVOICES = f"""{{ organization {{ invoices(first: 10) {{ edges {{ node {{
  number total {MONEY} {LINES} {TAX} }} }} }} }} }}"""


async def _statements(gql: GraphQLClient, owner: str, sql_queries: QueryCounter) -> int:
    await gql(TAXED_INVOICES, as_user=owner)  # warm: the caller and the catalog are kept
    before = sql_queries.count
    body = await gql(TAXED_INVOICES, as_user=owner)
    assert "errors" not in body, body
    return sql_queries.count - before


async def test_taxed_invoices_cost_a_constant_number_of_sql_statements_rule_tax_1(
    gql: GraphQLClient, clock_at: FixedClock, sql_queries: QueryCounter
) -> None:
    one = await _organization(clock_at, {"country": "IT"})
    await _preview_and_apply(gql, one, "email-1500")
    three = await _organization(clock_at, {"country": "IT"})
    for plan in ("email-1500", "email-2500"):
        await _preview_and_apply(gql, three, plan)
    clock_at.set(DAY_20)
    await BillingInfo.filter(organization__memberships__user__email=three).update(country="DE")
    await gql(ADVANCE % 13, as_user=three)  # the renewal, taxed at 19 %
    counts = (await _statements(gql, one, sql_queries), await _statements(gql, three, sql_queries))
    # 1 (the viewer, as issue 16's page work reads it) + the invoices (with
    # their count) + their lines (one batch) = 3; the tax per rate and the seller's tax id come
    # from each invoice's own row (INV-3): none per invoice.
    assert counts == (3, 3)
    assert await Invoice.filter(organization__memberships__user__email=three).count() == 3


async def test_a_regions_own_rate_from_the_billing_region_rule_tax_1(
    gql: GraphQLClient, clock_at: FixedClock, inclusive_catalog: None
) -> None:
    owner = await _organization(clock_at, {"country": "CA"})
    refused = await gql(
        UPDATE,
        {
            "input": {
                "companyName": "Tremblay",
                "billingEmail": "a@t.test",
                "country": "CA",
                "region": "Quebec",
            }
        },
        as_user=owner,
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]  # longer than a code (input limits)
    refused = await gql(
        UPDATE,
        {
            "input": {
                "companyName": "Tremblay",
                "billingEmail": "a@t.test",
                "country": "CA",
                "region": "Q.C",
            }
        },
        as_user=owner,
    )
    assert refused["data"]["updateBillingInfo"]["field"] == "region"
    saved = await gql(
        UPDATE,
        {
            "input": {
                "companyName": "Tremblay",
                "billingEmail": "a@t.test",
                "country": "CA",
                "region": "qc",
            }
        },
        as_user=owner,
    )
    assert saved["data"]["updateBillingInfo"]["__typename"] == "BillingInfoUpdated"
    credit, charge = upgrade_lines(3000, 4500, DAY_10)
    share = Fraction(14975, 100000)  # 14.975 %, exclusive
    taxes = (half_away(credit * share), half_away(charge * share))
    assert taxes == (-304, 456)  # -304.292, 456.438
    preview, invoice, charged = await _preview_and_apply(gql, owner, "email-1500")
    assert _taxes(preview) == _taxes(invoice) == [(-2032, -304), (3048, 456)]
    assert preview["amountDueNow"]["amount"] == charged == 1016 + 152 == 1168
    assert invoice["lines"][0]["taxRate"]["label"] == "GST+QST 14.975 % (CA-QC)"
