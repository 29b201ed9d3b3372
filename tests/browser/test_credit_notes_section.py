"""The billing page's credit notes section (CRN-1, issue 18) in a real browser against a served
gateway: a refund made through the API with an operator's key shows as a row (number, date, the
invoice it corrects, total in its currency, where the money went) in English and Italian, its
PDF answers with the page's bearer token, axe finds nothing serious, members do not see it
(ACC-3); and a EUR organization's invoices and credit notes are shown in euros (CUR-1)."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import ServedGateway, _environment, axe, serious, signed_in
from tests.conftest import trusted_request
from tests.test_cli import COMMAND

BILLING = "billing@acme.test"
INVOICES = (
    "{ organization { invoices(first: 1) { edges { node { id number total { amount } } } } } }"
)
CREDIT_NOTES = """{ organization { creditNotes(first: 5) { totalCount edges { node {
  number destination total { amount currency } invoice { number } } } } } }"""


def _key(served: ServedGateway, *args: str) -> str:
    """`billing-gateway api-key create ...` against the served database: the secret printed."""
    done = subprocess.run(
        [COMMAND, "api-key", "create", *args],
        cwd=served.cwd,
        env=_environment(served.cwd),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _as_key(served: ServedGateway, key: str, operation: str, variables: dict[str, Any]) -> Any:
    """A trusted operation (ACC-6: API keys send no text) run with an API key."""
    answer = httpx.post(
        f"{served.url}/graphql",
        json=trusted_request(operation, variables),
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def _refund(served: ServedGateway, organization: str, invoice_id: str, amount: int) -> Any:
    key = _key(served, organization, "--scope", "billing:refund")
    refunded = _as_key(
        served,
        key,
        "RefundInvoice",
        {"invoiceId": invoice_id, "amount": amount, "reason": "Goodwill"},
    )
    assert refunded["refundInvoice"]["__typename"] == "InvoiceRefunded", refunded
    return refunded["refundInvoice"]["creditNote"]


def test_a_refund_shows_as_a_credit_note_in_english_and_italian_rule_crn_1(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, BILLING)
    section = page.locator("#credit-notes")
    expect(section.locator("h2")).to_have_text("Credit notes")
    expect(section.get_by_test_id("credit-notes-none")).to_contain_text("No credit notes yet.")

    # An upgrade paid by card (the demo's seeded invoices were paid before the gateway), then a
    # partial refund of it by an operator.
    upgraded = served.graphql(
        BILLING,
        'mutation { changePlan(input: {product: "store", plan: "unlimited"}, '
        "confirmAmountDue: 4065) { __typename } }",
    )
    assert upgraded["changePlan"]["__typename"] == "PlanChangeApplied"
    (edge,) = served.graphql(BILLING, INVOICES)["organization"]["invoices"]["edges"]
    invoice = edge["node"]
    assert invoice["total"] == {"amount": 4065}
    note = _refund(served, "acme", invoice["id"], 1500)
    assert (note["total"], note["destination"]) == ({"amount": 1500}, "REFUNDED_TO_CARD")
    held = served.graphql(BILLING, CREDIT_NOTES)["organization"]["creditNotes"]
    assert held["totalCount"] == 1
    assert held["edges"][0]["node"] == {
        "number": note["number"],
        "destination": "REFUNDED_TO_CARD",
        "total": {"amount": 1500, "currency": "USD"},
        "invoice": {"number": invoice["number"]},
    }

    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    row = section.locator(f"tr[data-credit-note='{note['number']}']")
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    print(f"credit note row (en): {cells}")
    expect(row.locator("th")).to_have_text(note["number"])
    expect(row.locator("td").nth(0)).to_have_text("March 12, 2026")
    expect(row.get_by_test_id("corrects")).to_have_text(invoice["number"])
    expect(row.locator("td.amount")).to_have_text("$15.00")
    expect(row.get_by_test_id("destination")).to_have_text("Refunded to card")
    expect(row.get_by_test_id("reason")).to_have_text("Goodwill")
    expect(section.get_by_test_id("credit-notes-none")).to_have_count(0)

    # The PDF, fetched with the page's bearer token as the invoices' are.
    pdf = page.expect_response(lambda r: "/credit-notes/" in r.url)
    with pdf as answered, page.expect_download() as waiting:
        row.get_by_role("button", name=f"PDF of credit note {note['number']}").click()
    response = answered.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert waiting.value.suggested_filename == f"{note['number']}.pdf"
    saved = waiting.value.path()
    assert saved.read_bytes().startswith(b"%PDF")
    expect(section.get_by_role("alert")).to_have_count(0)

    violations = axe(page, "#credit-notes")
    print(f"axe #credit-notes (en): {len(violations)} violations: {violations}")
    assert serious(violations) == []

    signed_in(page, BILLING, lang="it")
    row = page.locator(f"#credit-notes tr[data-credit-note='{note['number']}']")
    expect(page.locator("#credit-notes h2")).to_have_text("Note di credito")
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    print(f"credit note row (it): {cells}")
    expect(row.locator("td").nth(0)).to_have_text("12 marzo 2026")
    expect(row.locator("td.amount")).to_have_text("15,00\u00a0USD")
    expect(row.get_by_test_id("destination")).to_have_text("Rimborsata sulla carta")
    expect(
        row.get_by_role("button", name=f"PDF della nota di credito {note['number']}")
    ).to_be_visible()
    assert serious(axe(page, "#credit-notes")) == []
    # Every label of the section exists in both languages.
    missing = page.evaluate(
        """async () => {
            const { messages } = await import("/portal/billing/sections/credit_notes.js");
            const en = Object.keys(messages.en), it = Object.keys(messages.it);
            return [...en.filter((k) => !it.includes(k)), ...it.filter((k) => !en.includes(k))];
        }"""
    )
    assert missing == []


def test_members_do_not_see_credit_notes_rule_acc_3(page: Page, served: ServedGateway) -> None:
    answers: list[Any] = []
    page.on(
        "response",
        lambda response: (
            answers.append(response.json()) if response.url.endswith("/graphql") else None
        ),
    )
    signed_in(page, "member@acme.test")
    expect(page.locator("#usage h2")).to_have_text("Usage")
    expect(page.locator("#credit-notes")).to_have_count(0)
    assert answers and all(not answer.get("errors") for answer in answers), answers


def test_a_eur_organization_sees_its_invoice_and_credit_note_in_euros_rule_cur_1_crn_1(
    page: Page, served: ServedGateway
) -> None:
    platform = _key(served, "--platform", "--scope", "organizations:write")
    owner = "owner@euro-shop.test"
    created = _as_key(
        served,
        platform,
        "CreateOrganization",
        {
            "input": {
                "externalId": "saas-euro-shop",
                "name": "Euro Shop",
                "slug": "euro-shop",
                "owner": {"email": owner, "name": "Eva Owner"},
                "billingInfo": {"companyName": "Euro Shop GmbH", "billingEmail": "ap@euro.test"},
                "currency": "EUR",
            }
        },
    )["createOrganization"]
    assert created["__typename"] == "OrganizationProvisioned", created
    assert created["organization"]["currency"] == "EUR"
    card = served.graphql(
        owner,
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
    )
    assert card["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced", card
    subscribed = served.graphql(
        owner,
        'mutation { subscribe(input: {product: "store", plan: "business"}, '
        "confirmAmountDue: 4500) { __typename ... on UserError { code message } } }",
    )
    assert subscribed["subscribe"]["__typename"] == "PlanChangeApplied", subscribed
    (edge,) = served.graphql(owner, INVOICES)["organization"]["invoices"]["edges"]
    invoice = edge["node"]
    assert invoice["total"] == {"amount": 4500}
    note = _refund(served, "euro-shop", invoice["id"], 1000)
    assert note["total"] == {"amount": 1000}

    signed_in(page, owner)
    invoices = page.locator(f"#invoices tr[data-invoice='{invoice['number']}']")
    expect(invoices.locator("td.amount").first).to_have_text("€45.00")
    row = page.locator(f"#credit-notes tr[data-credit-note='{note['number']}']")
    print(
        f"EUR credit note row (en): {[c.strip() for c in row.locator('th, td').all_inner_texts()]}"
    )
    expect(row.locator("td.amount")).to_have_text("€10.00")
    expect(row.get_by_test_id("corrects")).to_have_text(invoice["number"])
    expect(page.locator("#credit-notes")).not_to_contain_text("$")
    signed_in(page, owner, lang="it")
    expect(invoices.locator("td.amount").first).to_have_text("45,00\u00a0€")
    print(
        f"EUR credit note row (it): {[c.strip() for c in row.locator('th, td').all_inner_texts()]}"
    )
    expect(row.locator("td.amount")).to_have_text("10,00\u00a0€")
    expect(row.get_by_test_id("destination")).to_have_text("Rimborsata sulla carta")


def test_more_credit_notes_are_shown_a_page_at_a_time_rule_crn_1(
    page: Page, served: ServedGateway
) -> None:
    # Eleven $1.00 refunds of one invoice: eleven credit notes, ten on the first page.
    platform = _key(served, "--platform", "--scope", "organizations:write")
    owner = "owner@pager-shop.test"
    organization = {
        "externalId": "saas-pager-shop",
        "name": "Pager Shop",
        "slug": "pager-shop",
        "owner": {"email": owner, "name": "Pia Owner"},
        "billingInfo": {"companyName": "Pager Shop Inc.", "billingEmail": "ap@pager.test"},
    }
    created = _as_key(served, platform, "CreateOrganization", {"input": organization})
    assert created["createOrganization"]["__typename"] == "OrganizationProvisioned", created
    card = 'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }'
    assert served.graphql(owner, card)["replacePaymentMethod"]["__typename"] == (
        "PaymentMethodReplaced"
    )
    subscribed = served.graphql(
        owner,
        'mutation { subscribe(input: {product: "store", plan: "business"}, '
        "confirmAmountDue: 4500) { __typename } }",
    )
    assert subscribed["subscribe"]["__typename"] == "PlanChangeApplied", subscribed
    (edge,) = served.graphql(owner, INVOICES)["organization"]["invoices"]["edges"]
    refunds = _key(served, "pager-shop", "--scope", "billing:refund")
    numbers = []
    for _ in range(11):
        asked = {"invoiceId": edge["node"]["id"], "amount": 100, "reason": "Goodwill"}
        refunded = _as_key(served, refunds, "RefundInvoice", asked)["refundInvoice"]
        numbers.append(refunded["creditNote"]["number"])

    signed_in(page, owner)
    rows = page.locator("#credit-notes tbody tr")
    expect(rows).to_have_count(10)
    more = page.get_by_role("button", name="Show more credit notes")
    more.click()
    expect(rows).to_have_count(11)
    expect(more).to_have_count(0)
    shown = [rows.nth(i).get_attribute("data-credit-note") for i in range(11)]
    assert shown == numbers[::-1]  # newest first, none twice
    expect(rows.nth(10).locator("th")).to_be_focused()
