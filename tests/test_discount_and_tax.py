"""A coupon and a tax on the same invoice, through the real ASGI app (MNY-2, DSC-2, TAX-1): per
line the (prorated) amount is rounded, then its discount, then the tax on what remains; the
preview shows what the invoice charges. Every expected amount is derived here with exact
fractions, independently of billing/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from billing.clock import FixedClock
from models import BillingInfo, Invoice, InvoiceLine, Payment
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

MONEY = "{ amount }"
LINES = f"lines {{ amount {MONEY} discount {MONEY} tax {MONEY} taxRate {{ label }} total {MONEY} }}"
TAX = f"tax {{ rates {{ rate {{ label }} taxable {MONEY} tax {MONEY} }} total {MONEY} }}"
SUMS = f"total {MONEY} discountTotal {MONEY} {LINES} {TAX}"
PREVIEW = f"""query ($input: PlanChangeInput!, $code: String) {{
  previewPlanChange(input: $input, promotionCode: $code) {{
    amountDueNow {MONEY} {SUMS} blockers {{ code }} }} }}"""
APPLIED = f"""__typename ... on PlanChangeApplied {{ invoice {{ id status amountDue {MONEY} {SUMS} }} }}
  ... on UserError {{ code message }}"""
SUBSCRIBE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!, $code: String) {{
  subscribe(input: $input, confirmAmountDue: $confirm, promotionCode: $code) {{ {APPLIED} }} }}"""
CHANGE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!) {{
  changePlan(input: $input, confirmAmountDue: $confirm) {{ {APPLIED} }} }}"""
ADVANCE = "mutation ($days: Int!) { advanceTestClock(days: $days) { events } }"

VAT = Fraction(22, 100)  # Italy, exclusive (the demo catalog)
SPRING20 = Fraction(20, 100)


def half_away(value: Fraction) -> int:
    """MNY-2's rounding, written here: halves away from zero."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    return sign * (whole + (1 if magnitude - whole >= Fraction(1, 2) else 0))


def expected_line(amount: Fraction) -> tuple[int, int, int]:
    """MNY-2's order: the amount rounded, then 20 % of it rounded, then 22 % of what remains."""
    rounded = half_away(amount)
    discount = half_away(rounded * SPRING20)
    return rounded, discount, half_away((rounded - discount) * VAT)


def figures(document: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [
        (line["amount"]["amount"], line["discount"]["amount"], line["tax"]["amount"])
        for line in document["lines"]
    ]


@pytest.fixture
def clock_at(clock: FixedClock) -> Iterator[FixedClock]:
    yield clock
    clock.set(SEEDED_AT)


async def _apply(gql: GraphQLClient, owner: str, mutation: str, values: dict[str, Any]) -> Any:
    body = await gql(mutation, values, as_user=owner)
    assert "errors" not in body, body
    (result,) = body["data"].values()
    assert result["__typename"] == "PlanChangeApplied", result
    return result["invoice"]


async def test_spring20_and_italian_vat_on_a_mid_period_upgrade_rule_mny_2_dsc_2_tax_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=14), SEEDED_AT),
        status="TRIALING",  # type: ignore[arg-type]
        trial_ends_at=SEEDED_AT + timedelta(days=3),
    )
    await BillingInfo.create(
        organization=organization, company_name="Rossi", billing_email="a@r.test", country="IT"
    )

    # Subscribed with SPRING20: 3000, less 600, plus 22 % of 2400.
    email_1000 = {"product": "email", "plan": "email-1000"}
    first = expected_line(Fraction(3000))
    assert first == (3000, 600, 528)
    subscribed = await _apply(
        gql, owner, SUBSCRIBE, {"input": email_1000, "confirm": 2928, "code": "SPRING20"}
    )
    assert (figures(subscribed), subscribed["amountDue"]["amount"]) == ([first], 2928)

    # 10 days into 12 Mar - 12 Apr: Email 1,500 (4500) for the 21 of 31 days left, and a credit
    # for Email 1,000's unused time, which was billed with the coupon (its discount goes back).
    await gql(ADVANCE, {"days": 10}, as_user=owner)
    start, end = SEEDED_AT, datetime(2026, 4, 12, 9, 30, tzinfo=UTC)
    now = start + timedelta(days=10)
    left = Fraction(int((end - now).total_seconds()), int((end - start).total_seconds()))
    assert left == Fraction(21, 31)
    credit, charge = expected_line(-3000 * left), expected_line(4500 * left)
    assert (credit, charge) == ((-2032, -406, -358), (3048, 610, 536))  # -357.72, 536.36
    due = sum(amount - discount + tax for amount, discount, tax in (credit, charge))
    assert due == 990
    # The tax is rounded per line: 178, not 22 % of the taxable 812 (178.64 -> 179).
    taxable, tax = credit[0] - credit[1] + charge[0] - charge[1], credit[2] + charge[2]
    assert (taxable, tax) == (812, 178)

    email_1500 = {"product": "email", "plan": "email-1500"}
    preview = (await gql(PREVIEW, {"input": email_1500}, as_user=owner))["data"][
        "previewPlanChange"
    ]
    assert preview["blockers"] == []
    invoice = await _apply(gql, owner, CHANGE, {"input": email_1500, "confirm": due})
    assert invoice["status"] == "PAID"
    for document in (preview, invoice):
        assert figures(document) == [credit, charge]
        assert [line["taxRate"]["label"] for line in document["lines"]] == ["VAT 22 % (IT)"] * 2
        assert [line["total"]["amount"] for line in document["lines"]] == [-1984, 2974]
        assert (document["total"]["amount"], document["discountTotal"]["amount"]) == (due, 204)
        assert document["tax"]["total"]["amount"] == tax
        assert [(r["taxable"]["amount"], r["tax"]["amount"]) for r in document["tax"]["rates"]] == [
            (taxable, tax)
        ]
    assert preview["amountDueNow"]["amount"] == invoice["amountDue"]["amount"] == due
    payment = await Payment.get(invoice_id=invoice["id"])
    assert (payment.status, payment.amount) == ("SUCCEEDED", due)

    # As stored: the lines carry their discount and tax, the invoice its totals.
    stored = await Invoice.get(id=invoice["id"])
    assert (stored.total, stored.discount_total, stored.tax_total, stored.amount_due) == (
        due,
        204,
        tax,
        due,
    )
    rows = await InvoiceLine.filter(invoice_id=stored.id).order_by("position")
    assert [(row.amount, row.discount, row.tax) for row in rows] == [credit, charge]
    assert all(row.tax_rate and row.tax_rate["percent"] == "22" for row in rows)
