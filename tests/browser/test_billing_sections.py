"""The billing page's usage, invoices, billing information, payment method and notifications
sections in a real browser against a served gateway: each walk asserts what the page shows and
what the API then holds (USE-3, USE-6, DUN-2, DUN-4, DUN-6, PAY-2, INV-3, INV-5, NOT-1, ACC-3)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Locator, Page, expect

from payments.sandbox import SANDBOX_WEBHOOK_SECRET
from tests.browser.conftest import ServedGateway, axe, serious, signed_in, wait_ready

STATUS = "{ organization { subscription { status } } }"
INVOICES = """{ organization { invoices(first: 5) { edges { node {
  number kind status amountDue { amount } paymentClientSecret } } } } }"""
CARDS = "{ organization { paymentMethods { brand last4 isDefault } } }"
BILLING = "billing@acme.test"
RENEWAL_DAY = 21  # Acme's period ends on 2 April; the served clock is fixed at 12 March


def _replace_card(served: ServedGateway, card: str) -> None:
    answer = served.graphql(
        BILLING,
        "mutation ($id: String!) { replacePaymentMethod(paymentMethodId: $id) { __typename } }",
        {"id": card},
    )
    assert answer["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced"


def _declined_renewal(served: ServedGateway) -> dict[str, object]:
    """The sandbox's declined card on file, then the test clock past the period end: the
    renewal's charge fails (DUN-2). Returns the renewal invoice as the API holds it."""
    _replace_card(served, "pm_card_chargeDeclined")
    served.graphql(BILLING, f"mutation {{ advanceTestClock(days: {RENEWAL_DAY}) {{ now }} }}")
    assert served.graphql(BILLING, STATUS)["organization"]["subscription"]["status"] == (
        "PENDING_PAYMENT"
    )
    renewal: dict[str, object] = _invoices(served)[0]
    assert (renewal["kind"], renewal["status"]) == ("SUBSCRIPTION", "OPEN")
    return renewal


def _invoices(served: ServedGateway) -> list[dict[str, object]]:
    edges = served.graphql(BILLING, INVOICES)["organization"]["invoices"]["edges"]
    return [edge["node"] for edge in edges]


def _invoice_row(page: Page, number: object) -> Locator:
    return page.locator(f"#invoices tr[data-invoice='{number}']")


def test_pay_now_with_the_declined_card_then_a_new_card_pays_at_once_rule_dun_6_pay_2(
    page: Page, served: ServedGateway
) -> None:
    renewal = _declined_renewal(served)
    signed_in(page, BILLING)
    status = page.locator("#plan [data-testid='status']")  # the current-plan section's
    expect(status).to_contain_text("Payment overdue")
    invoices = page.locator("#invoices")
    expect(invoices.locator("#invoices-unpaid")).to_have_text(
        "A payment is overdue: $234.00. Pay now to keep your subscription active."
    )
    assert renewal["amountDue"] == {"amount": 23400}
    row = invoices.locator(f"tr[data-invoice='{renewal['number']}']")
    expect(row.locator(".badge")).to_have_text("Open")
    expect(row).to_contain_text("Waiting for payment")

    # Pay now with the declined card: the bank's refusal is shown, nothing is paid.
    row.get_by_role("button", name=f"Pay now: invoice {renewal['number']}").click()
    dialog = page.get_by_role("dialog", name=f"Pay invoice {renewal['number']}")
    dialog.get_by_role("button", name=re.compile("^Pay ")).click()
    expect(dialog.get_by_role("alert")).to_contain_text("declined")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert _invoices(served)[0]["status"] == "OPEN"
    assert served.graphql(BILLING, STATUS)["organization"]["subscription"]["status"] == (
        "PENDING_PAYMENT"
    )

    # Replace the card in the sandbox's test-card picker, with the keyboard only: the new card
    # pays the overdue renewal at once (DUN-6), and the status is restored (DUN-4).
    page.get_by_role("button", name="Replace the card").focus()
    page.keyboard.press("Enter")
    picker = page.get_by_role("dialog", name="New card")
    expect(picker.get_by_label(re.compile("Visa ending in 4242"))).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(picker.get_by_label(re.compile("Mastercard ending in 4444"))).to_be_checked()
    page.keyboard.press("Tab")
    expect(picker.get_by_role("button", name="Use this card")).to_be_focused()
    page.keyboard.press("Enter")
    expect(picker).to_have_count(0)
    wait_ready(page)
    expect(page.locator("#payment-method")).to_contain_text("Mastercard ending in 4444")
    expect(page.locator("#payment-method-status")).to_contain_text("now your default")
    expect(_invoice_row(page, renewal["number"]).locator(".badge")).to_have_text("Paid")
    expect(invoices.locator("#invoices-unpaid")).to_have_count(0)
    expect(status).to_contain_text("Active")
    assert served.graphql(BILLING, CARDS)["organization"]["paymentMethods"] == [
        {"brand": "mastercard", "last4": "4444", "isDefault": True}
    ]
    assert _invoices(served)[0]["status"] == "PAID"
    assert served.graphql(BILLING, STATUS)["organization"]["subscription"]["status"] == "ACTIVE"
    notices = page.locator("#notifications li[data-kind='PAYMENT_FAILED']")
    expect(notices.first).to_contain_text("Payment failed")


def test_a_declined_renewal_replace_the_card_pay_now_active_rule_dun_4_dun_6(
    page: Page, served: ServedGateway
) -> None:
    renewal = _declined_renewal(served)
    number = renewal["number"]
    signed_in(page, BILLING)
    status = page.locator("#plan [data-testid='status']")  # the current-plan section's
    expect(status).to_contain_text("Payment overdue")
    invoices = page.locator("#invoices")
    expect(invoices.locator("#invoices-unpaid")).to_contain_text("A payment is overdue")

    # Replace the card with the test card that asks for 3-D Secure on every charge: the new
    # card is charged at once (DUN-6) and that payment waits for the customer.
    page.get_by_role("button", name="Replace the card").click()
    picker = page.get_by_role("dialog", name="New card")
    picker.get_by_label(re.compile("ending in 3184")).check()
    picker.get_by_role("button", name="Use this card").click()
    expect(picker).to_have_count(0)
    wait_ready(page)
    expect(page.locator("#payment-method")).to_contain_text("Visa ending in 3184")
    row = _invoice_row(page, number)
    expect(row).to_contain_text("Your bank asks you to confirm this payment")
    expect(invoices).to_contain_text(f"confirm the payment of invoice {number}")
    assert _invoices(served)[0]["paymentClientSecret"]
    notice = page.locator("#notifications li[data-kind='PAYMENT_ACTION_REQUIRED']")
    expect(notice.first).to_contain_text("Confirmation needed")

    # The authentication fails: the invoice stays open, and Pay now is offered again.
    row.get_by_role("button", name=f"Complete authentication: invoice {number}").click()
    dialog = page.get_by_role("dialog", name="Authenticate the payment")
    dialog.get_by_role("button", name="Fail authentication").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#live")).to_have_text(f"Invoice {number} is not paid yet.")
    failed = page.locator(
        "#notifications li[data-kind='PAYMENT_FAILED']",
        has_text="authentication (3-D Secure) failed",
    )  # notices made at one instant have no order among themselves
    expect(failed).to_have_count(1)
    assert _invoices(served)[0]["status"] == "OPEN"
    assert not _invoices(served)[0]["paymentClientSecret"]

    # Pay now: the charge asks for 3-D Secure again, completed this time: paid, ACTIVE (DUN-4).
    _invoice_row(page, number).get_by_role("button", name=f"Pay now: invoice {number}").click()
    confirm = page.get_by_role("dialog", name=f"Pay invoice {number}")
    expect(confirm).to_contain_text("will be charged to your default card")
    confirm.get_by_role("button", name=re.compile("^Pay ")).click()
    dialog = page.get_by_role("dialog", name="Authenticate the payment")
    dialog.get_by_role("button", name="Complete authentication").click()
    expect(dialog).to_have_count(0)
    wait_ready(page)
    expect(_invoice_row(page, number).locator(".badge")).to_have_text("Paid")
    expect(invoices.locator("#invoices-unpaid")).to_have_count(0)
    expect(status).to_contain_text("Active")
    assert _invoices(served)[0]["status"] == "PAID"
    assert served.graphql(BILLING, STATUS)["organization"]["subscription"]["status"] == "ACTIVE"


def _record_contacts(served: ServedGateway, prefix: str, count: int, workspace: str) -> None:
    events = [
        {
            "id": f"{prefix}-{n}",
            "product": "messaging",
            "metric": "mac",
            "contactId": f"{prefix}-{n}",
            "workspace": workspace,
        }
        for n in range(count)
    ]
    recorded = served.graphql(
        BILLING,
        "mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename } }",
        {"e": events},
    )
    assert recorded["recordUsage"]["__typename"] == "UsageRecorded"


def test_usage_by_workspace_an_earlier_month_and_the_csv_rule_use_3(
    page: Page, served: ServedGateway, tmp_path: Path
) -> None:
    # The demo's March: 640 MAC over Support (400) and Sales (240); 410 more in Sales pass
    # Growth's 1,000: on demand, one block of 100 (USE-6).
    _record_contacts(served, "march", 410, "sales")
    held = served.graphql(
        BILLING, "{ organization { usage { product metric onDemandCost { formatted } } } }"
    )
    cost = next(m for m in held["organization"]["usage"] if m["metric"] == "mac")
    signed_in(page, BILLING)
    usage = page.locator("#usage")
    mac = usage.locator("table.usage-meters tr[data-metric='messaging/mac']")
    expect(mac).to_contain_text("Monthly active contacts")
    expect(mac.locator("td").nth(1)).to_have_text("1,050")
    expect(mac.locator("td").nth(2)).to_have_text("1,000")
    expect(mac.locator("td").nth(3)).to_have_text("105% (over the limit)")
    expect(mac.locator("td").nth(4)).to_have_text("1")  # on-demand blocks
    expect(mac.locator("td").nth(5)).to_have_text(cost["onDemandCost"]["formatted"])
    assert cost["onDemandCost"]["formatted"] == "$10.00"

    # The test clock passes the period end; 3 contacts in Support are April's.
    served.graphql(BILLING, f"mutation {{ advanceTestClock(days: {RENEWAL_DAY}) {{ now }} }}")
    _record_contacts(served, "april", 3, "support")
    page.reload()
    wait_ready(page)
    expect(mac.locator("td").nth(1)).to_have_text("3")
    expect(usage.locator("#usage-workspaces tr[data-workspace='support']")).to_contain_text("3")
    expect(usage.locator("#usage-workspaces tr[data-workspace='sales']")).to_have_count(0)

    month = usage.get_by_label("Billing month", exact=True)
    expect(month.locator("option")).to_have_text(
        ["Current billing month (from April 2, 2026)", "Billing month from March 2, 2026"]
    )
    month.select_option("2026-03")
    expect(mac.locator("td").nth(1)).to_have_text("1,050")
    expect(usage.get_by_label("Billing month", exact=True)).to_be_focused()
    support = usage.locator("#usage-workspaces tr[data-workspace='support'] td").first
    sales = usage.locator("#usage-workspaces tr[data-workspace='sales'] td").first
    expect(support).to_have_text("400")
    expect(sales).to_have_text("650")
    # The chart: one bar per billing month, its numbers also as a table.
    chart = usage.locator("#usage-history")
    expect(chart.locator("svg[role='img'] rect")).to_have_count(2)
    expect(chart.locator("svg title")).to_have_text(
        "Monthly active contacts (Messaging) per billing month"
    )
    expect(chart.locator("table tbody tr")).to_have_text(["March 2, 20261,050", "April 2, 20263"])

    with page.expect_download() as waiting:
        usage.get_by_role("button", name="Download CSV").click()
    download = waiting.value
    assert download.suggested_filename == "usage-2026-03.csv"
    saved = tmp_path / "usage.csv"
    download.save_as(saved)
    shown = saved.read_text().splitlines()
    held = httpx.get(
        f"{served.url}/usage.csv?month=2026-03",
        headers={"Authorization": f"Bearer {served.token(BILLING)}"},
        timeout=30,
    ).text.splitlines()
    assert shown == held
    assert shown[0] == "period_start,product,metric,workspace,used"
    rows = {tuple(line.split(",")[1:]) for line in shown[1:]}
    assert {("messaging", "mac", "support", "400"), ("messaging", "mac", "sales", "650")} <= rows
    assert ("messaging", "mac", "all", "1050") in rows


def test_a_member_sees_counts_and_no_amount_rule_acc_3(page: Page, served: ServedGateway) -> None:
    answers: list[Any] = []
    page.on(
        "response",
        lambda response: (
            answers.append(response.json()) if response.url.endswith("/graphql") else None
        ),
    )
    signed_in(page, "member@acme.test")
    usage = page.locator("#usage")
    expect(usage.locator("tr[data-metric='messaging/mac']")).to_contain_text("640")
    expect(usage.locator("#usage-workspaces")).to_contain_text("Support")
    expect(usage).not_to_contain_text("On-demand cost")
    expect(usage).not_to_contain_text("$")
    for section in ("invoices", "credit-notes", "billing-info", "payment-method", "notifications"):
        expect(page.locator(f"#{section}")).to_have_count(0)
    # Nothing a member may not read is asked for: no FORBIDDEN to degrade from.
    assert answers and all(not answer.get("errors") for answer in answers), answers


def test_billing_information_applies_to_the_next_invoice_rule_inv_3(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, BILLING)
    section = page.locator("#billing-info")
    expect(section).to_contain_text("Changes apply to the next invoice")
    section.get_by_label(re.compile("^Company name")).fill("Acme Europe S.r.l.")
    section.get_by_label(re.compile("^Billing e-mail")).fill("invoices@acme.test")
    section.get_by_label("Country").fill("ITA")
    expect(section.get_by_label("Country")).to_have_value("IT")  # two letters at most
    section.get_by_role("button", name="Save billing information").click()
    expect(section.locator("#billing-info-status")).to_contain_text("applies to the next invoice")
    held = served.graphql(
        BILLING,
        """{ organization { billingInfo { companyName billingEmail country }
             invoices(first: 1) { edges { node { billedTo { name } } } } } }""",
    )
    assert held["organization"]["billingInfo"] == {
        "companyName": "Acme Europe S.r.l.",
        "billingEmail": "invoices@acme.test",
        "country": "IT",
    }
    # INV-3: the invoice already issued keeps the details it was issued with.
    issued = held["organization"]["invoices"]["edges"][0]["node"]["billedTo"]
    assert issued is None or issued["name"] != "Acme Europe S.r.l."
    # A refused value is shown at its field, and nothing changes.
    section.get_by_label(re.compile("^Billing e-mail")).fill("not an address")
    section.get_by_role("button", name="Save billing information").click()
    email = section.get_by_label(re.compile("^Billing e-mail"))
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(section.locator("#billing-info-billingEmail-error")).not_to_be_empty()
    after = served.graphql(BILLING, "{ organization { billingInfo { billingEmail } } }")
    assert after["organization"]["billingInfo"]["billingEmail"] == "invoices@acme.test"


@pytest.mark.parametrize("email", ["billing@acme.test", "member@acme.test"])
def test_axe_finds_nothing_serious_in_these_sections(
    page: Page, served: ServedGateway, email: str
) -> None:
    _declined_renewal(served)  # an open invoice, notices and on-demand figures to check too
    signed_in(page, email)
    found = {}
    sections = ("usage", "invoices", "credit-notes", "billing-info", "payment-method")
    for section in (*sections, "notifications"):
        if page.locator(f"#{section}").count():
            violations = axe(page, f"#{section}")
            found[section] = serious(violations)
            print(
                f"axe {email} #{section}: {len(violations)} violations, serious or critical: "
                f"{found[section]}"
            )
    expected = 6 if email == BILLING else 1  # a member sees usage only (ACC-3)
    assert len(found) == expected and all(v == [] for v in found.values()), found
    if email == BILLING:
        # The test-card picker: a modal dialog, Escape closes it and focus returns.
        page.get_by_role("button", name="Replace the card").click()
        dialog = page.get_by_role("dialog", name="New card")
        expect(dialog).to_be_visible()
        violations = axe(page, "dialog")
        print(f"axe {email} test-card dialog: {len(violations)} violations")
        assert serious(violations) == []
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(page.get_by_role("button", name="Replace the card")).to_be_focused()


def test_the_italian_sections(page: Page, served: ServedGateway) -> None:
    signed_in(page, BILLING, lang="it")
    expect(page.locator("#usage h2")).to_have_text("Utilizzo")
    expect(page.locator("#invoices h2")).to_have_text("Fatture")
    expect(page.locator("#invoices .badge").first).to_have_text("Pagata")
    expect(page.locator("#credit-notes h2")).to_have_text("Note di credito")
    expect(page.locator("#credit-notes")).to_contain_text("Ancora nessuna nota di credito.")
    expect(page.locator("#billing-info")).to_contain_text("valgono dalla prossima fattura")
    expect(page.locator("#payment-method")).to_contain_text("Visa che termina con 4242")
    total = page.locator("#invoices tbody tr").first.locator("td.amount").first
    held = served.graphql(
        BILLING,
        "{ organization { invoices(first: 1) { edges { node { total { amount currency } } } } } }",
    )
    assert held["organization"]["invoices"]["edges"][0]["node"]["total"] == {
        "amount": 23400,
        "currency": "USD",
    }
    expect(total).to_have_text("234,00\u00a0USD")
    # Every label of these sections exists in both languages.
    missing = page.evaluate(
        """async (names) => {
            const missing = {};
            for (const name of names) {
                const { messages } = await import(`/portal/billing/sections/${name}.js`);
                const en = Object.keys(messages.en), it = Object.keys(messages.it);
                missing[name] = [...en.filter((k) => !it.includes(k)),
                                 ...it.filter((k) => !en.includes(k))];
            }
            return missing;
        }""",
        ["usage", "invoices", "credit_notes", "billing_info", "payment_methods", "notifications"],
    )
    assert missing == {name: [] for name in missing} and len(missing) == 6, missing


def _dispute(served: ServedGateway, number: object, status: str, kind: str) -> str:
    """Stripe's signed charge.dispute.<kind> for the payment of invoice `number`, as the served
    sandbox verifies it."""
    with sqlite3.connect(served.cwd / "billing.sqlite3") as db:
        (charge,) = db.execute(
            "SELECT p.processor_charge_id FROM payment p JOIN invoice i ON i.id = p.invoice_id "
            "WHERE i.number = ? AND p.status = 'SUCCEEDED'",
            (number,),
        ).fetchone()
    dispute = {
        "id": f"dp_{number}",
        "object": "dispute",
        "amount": 4065,
        "currency": "usd",
        "payment_intent": charge,
        "reason": "fraudulent",
        "status": status,
    }
    body = {"id": f"evt_{kind}_{number}", "type": f"charge.dispute.{kind}"}
    payload = json.dumps({**body, "data": {"object": dispute}})
    answer = httpx.post(
        f"{served.url}/webhooks/stripe",
        content=payload,
        headers={
            "stripe-signature": stripe.WebhookSignature.generate_signature_header(
                payload, SANDBOX_WEBHOOK_SECRET
            )
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    outcome: str = answer.json()["outcome"]
    return outcome


def test_a_disputed_invoice_shows_its_badge_and_notice_rule_inv_5_not_1(
    page: Page, served: ServedGateway
) -> None:
    upgraded = served.graphql(
        BILLING,
        'mutation { changePlan(input: {product: "store", plan: "unlimited"}, '
        "confirmAmountDue: 4065) { __typename } }",
    )
    assert upgraded["changePlan"]["__typename"] == "PlanChangeApplied"
    number = _invoices(served)[0]["number"]
    assert _dispute(served, number, "needs_response", "created") == "dispute recorded"
    signed_in(page, BILLING)
    row = _invoice_row(page, number)
    expect(row.get_by_test_id("disputed")).to_have_text("Disputed")
    expect(row).to_contain_text("The cardholder's bank disputes this payment")
    expect(page.locator("#notifications")).to_contain_text("Payment disputed")
    expect(page.locator("#notifications")).to_contain_text(
        f"The payment of invoice {number} is disputed for $40.65 (fraudulent)."
    )
    assert serious(axe(page, "#invoices")) == []
    assert serious(axe(page, "#notifications")) == []
    signed_in(page, BILLING, lang="it")
    expect(_invoice_row(page, number).get_by_test_id("disputed")).to_have_text("Contestata")
    # Lost: the invoice is refunded and the badge goes (the dispute is closed).
    assert _dispute(served, number, "lost", "closed") == "dispute lost: $40.65 taken"
    page.reload()  # still in Italian
    wait_ready(page)
    row = _invoice_row(page, number)
    expect(row.locator(".badge")).to_have_text("Rimborsata")
    expect(row.get_by_test_id("disputed")).to_have_count(0)
    expect(page.locator("#notifications")).to_contain_text("Contestazione chiusa")
    assert serious(axe(page, "#invoices")) == []
