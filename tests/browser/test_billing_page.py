"""Walks through the billing page's core sections in Chromium (issue 14), each asserting what the
page shows and what the API then holds: the current plan and status (SUB-1), changing the plan
with its preview (CHG-1, CHG-2), a downgrade at the period end (CHG-6), 3-D Secure on a change
(CHG-5), a member's page (ACC-2, ACC-3), cancelling and reactivating (CAN-1, CAN-2, ACC-4),
upgrade preferences (PREF-1 to PREF-3, DUN-5), an account-change request (CHG-8), the Italian
page, and axe-core on every section (no serious or critical violation)."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import ServedGateway, axe, serious, signed_in

ITEMS = """{ organization { subscription { status cancelAt cancelReason
  items { product { code } plan { code } upgradePreference autoDowngrade
          automaticChargesPaused } } } }"""
INVOICES = """{ organization { invoices(first: 5) { edges { node {
  number kind status amountDue { amount } } } } } }"""


def _subscription(served: ServedGateway, email: str = "owner@acme.test") -> dict[str, Any]:
    subscription: dict[str, Any] = served.graphql(email, ITEMS)["organization"]["subscription"]
    return subscription


def _plans(served: ServedGateway) -> dict[str, str]:
    return {i["product"]["code"]: i["plan"]["code"] for i in _subscription(served)["items"]}


def _invoices(served: ServedGateway) -> list[dict[str, Any]]:
    edges = served.graphql("owner@acme.test", INVOICES)["organization"]["invoices"]["edges"]
    return [edge["node"] for edge in edges]


def _plan_cell(page: Page, product: str) -> Any:
    return page.locator(f"#plan td[data-product='{product}']")


def _use_card(served: ServedGateway, card: str) -> None:
    replaced = served.graphql(
        "billing@acme.test",
        "mutation($id: String!) { replacePaymentMethod(paymentMethodId: $id) { __typename } }",
        {"id": card},
    )
    assert replaced["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced"


def test_a_billing_admin_upgrades_the_store_at_the_previewed_amount_rule_chg_1_chg_2(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "billing@acme.test")
    expect(_plan_cell(page, "store")).to_contain_text("Business")
    page.get_by_role("button", name="Choose Unlimited for Store").click()
    dialog = page.get_by_role("dialog", name="Upgrade: Store Unlimited")
    expect(dialog).to_be_visible()
    # CHG-1: the credit for the unused time and the new plan for the rest of the period.
    lines = dialog.get_by_test_id("preview-lines")
    expect(lines).to_contain_text("Unused time on Store Business after 12 Mar 2026")
    expect(lines).to_contain_text("-$30.48")
    expect(lines).to_contain_text("Remaining time on Store Unlimited after 12 Mar 2026")
    expect(lines).to_contain_text("$71.13")
    expect(dialog.get_by_test_id("preview-facts")).to_contain_text("Due now$40.65")
    expect(dialog.get_by_test_id("recurring")).to_have_text("Then $294.00 per month")
    expect(dialog.get_by_test_id("timing")).to_have_text("Takes effect now.")
    assert serious(axe(page, "dialog")) == []

    confirm = dialog.get_by_role("button", name="Confirm and pay $40.65")
    with page.expect_response(_operation("ChangePlan")) as sent:
        confirm.click()
    # CHG-2: the amount confirmed is the one previewed.
    assert json.loads(sent.value.request.post_data or "{}")["variables"]["confirmAmountDue"] == 4065
    expect(dialog).to_be_hidden()
    notice = page.locator("#notice")
    expect(notice).to_contain_text(
        re.compile(r"Store Unlimited: the change is applied; invoice \S+ is paid\.")
    )
    expect(_plan_cell(page, "store")).to_contain_text("Unlimited")

    assert _plans(served)["store"] == "unlimited"
    latest = _invoices(served)[0]
    assert (latest["kind"], latest["status"], latest["amountDue"]["amount"]) == (
        "PLAN_CHANGE",
        "PAID",
        4065,
    )
    assert latest["number"] in notice.inner_text()


def test_a_messaging_downgrade_waits_for_the_period_end_rule_chg_6(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "billing@acme.test")
    page.get_by_role("button", name="Choose Starter for Messaging").click()
    dialog = page.get_by_role("dialog", name="Downgrade: Messaging Starter")
    expect(dialog.get_by_test_id("timing")).to_contain_text("Takes effect on April 2, 2026")
    expect(dialog.get_by_test_id("features-lost")).to_contain_text("workflows")
    expect(dialog.get_by_test_id("features-lost")).to_contain_text("ai_assist")
    dialog.get_by_role("button", name="Schedule the downgrade").click()
    expect(page.locator("#notice")).to_have_text(
        "Messaging Starter: the downgrade takes effect on April 2, 2026."
    )
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("Downgrade scheduled")
    expect(status).to_contain_text("A downgrade takes effect on April 2, 2026")
    expect(_plan_cell(page, "messaging")).to_contain_text("From April 2, 2026: Starter")
    assert _subscription(served)["status"] == "DOWNGRADING"
    assert _plans(served)["messaging"] == "growth"

    # The test clock passes the period end: the new plan starts.
    moved = served.graphql(
        "billing@acme.test", "mutation { advanceTestClock(days: 21) { events } }"
    )
    assert any("renewed" in event for event in moved["advanceTestClock"]["events"])
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.get_by_test_id("status")).to_contain_text("Active")
    expect(_plan_cell(page, "messaging")).to_contain_text("Starter")
    expect(_plan_cell(page, "messaging")).not_to_contain_text("From April")
    assert _plans(served)["messaging"] == "starter"
    assert _subscription(served)["status"] == "ACTIVE"


def test_3_d_secure_on_an_upgrade_completed_applies_it_rule_chg_5(
    page: Page, served: ServedGateway
) -> None:
    _use_card(served, "pm_card_authenticationRequired")
    signed_in(page, "billing@acme.test")
    page.get_by_role("button", name="Choose Unlimited for Store").click()
    page.get_by_role("button", name="Confirm and pay $40.65").click()
    authenticate = page.get_by_role("dialog", name="Authenticate the payment")
    expect(authenticate).to_contain_text("3-D Secure")
    assert _plans(served)["store"] == "business"  # nothing changes before the payment
    authenticate.get_by_role("button", name="Complete authentication").click()
    expect(page.locator("#notice")).to_have_text(
        "Store Unlimited: the payment is authenticated and the change applied."
    )
    expect(_plan_cell(page, "store")).to_contain_text("Unlimited")
    assert _plans(served)["store"] == "unlimited"
    assert _invoices(served)[0]["status"] == "PAID"


def test_3_d_secure_failed_leaves_the_old_plan_and_pauses_automatic_charges_rule_chg_5_dun_5(
    page: Page, served: ServedGateway
) -> None:
    _use_card(served, "pm_card_authenticationRequired")
    signed_in(page, "billing@acme.test")
    page.get_by_role("button", name="Choose Unlimited for Store").click()
    page.get_by_role("button", name="Confirm and pay $40.65").click()
    authenticate = page.get_by_role("dialog", name="Authenticate the payment")
    authenticate.get_by_role("button", name="Fail authentication").click()
    expect(page.locator("#notice")).to_have_text(
        "Store Unlimited: the authentication failed, so nothing changed: you keep your current plan."
    )
    expect(_plan_cell(page, "store")).to_contain_text("Business")
    assert _plans(served)["store"] == "business"

    # DUN-5: the failed card payment pauses automatic charges, visibly, with what to do.
    assert all(item["automaticChargesPaused"] for item in _subscription(served)["items"])
    paused = page.locator("#preferences form[data-product='email']").get_by_test_id("paused")
    expect(paused).to_contain_text("Automatic charges are paused")
    expect(paused).to_contain_text("the payment of")
    expect(paused).to_contain_text("Replace the card in Payment methods")
    # The failing card is still the default: switching them on again is refused.
    email = page.locator("#preferences form[data-product='email']")
    email.get_by_role("button", name="Save Email").click()
    expect(email.get_by_role("alert")).not_to_have_text("")
    assert all(item["automaticChargesPaused"] for item in _subscription(served)["items"])
    # With a valid card, saving the preference again switches them back on.
    _use_card(served, "pm_card_visa")
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    page.locator("#preferences form[data-product='email']").get_by_role(
        "button", name="Save Email"
    ).click()
    expect(page.locator("#notice")).to_have_text("Email: preferences saved.")
    expect(page.get_by_test_id("paused")).to_have_count(0)
    assert not any(item["automaticChargesPaused"] for item in _subscription(served)["items"])


def test_a_member_sees_plan_status_and_usage_and_no_amount_or_action_rule_acc_2_acc_3(
    page: Page, served: ServedGateway
) -> None:
    answers: list[Any] = []

    def keep(response: Response) -> None:
        if response.url.endswith("/graphql"):
            answers.append(response.json())

    page.on("response", keep)
    signed_in(page, "member@acme.test")
    expect(page.get_by_test_id("status")).to_contain_text("Active")
    expect(_plan_cell(page, "messaging")).to_contain_text("Growth")
    expect(page.locator("#plan")).to_contain_text("640 of 1,000 mac used")
    expect(page.locator("#plan")).to_contain_text("7,200 of 10,000 emails used")
    # ACC-3: no amount anywhere on the page, and none asked for.
    body = page.locator("body").inner_text()
    assert "$" not in body and "€" not in body, body
    assert answers and not any('"amount"' in json.dumps(answer) for answer in answers), answers
    # ACC-2, ACC-4: no action that would be refused.
    buttons = page.get_by_role("button").all_inner_texts()
    assert buttons == ["Sign out", "Download CSV"], buttons  # USE-3: any member may export usage
    for section in ("#change", "#preferences", "#cancel", "#account_change"):
        expect(page.locator(section)).to_have_count(0)
    assert serious(axe(page, "#plan")) == []


def test_the_owner_cancels_with_a_reason_then_reactivates_rule_can_1_can_2_acc_4(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "billing@acme.test")
    expect(page.locator("#plan")).to_be_visible()
    expect(page.locator("#cancel")).to_be_hidden()  # ACC-4: the owner only
    expect(page.locator("#nav-list [data-section='cancel']")).to_be_hidden()
    page.get_by_role("button", name="Sign out").click()

    signed_in(page, "owner@acme.test")
    section = page.locator("#cancel")
    expect(section.get_by_test_id("notice-date")).to_contain_text(
        "If you cancel now, the subscription ends on April 2, 2026."
    )
    section.get_by_role("button", name="Cancel the subscription…").click()
    dialog = page.get_by_role("dialog", name="Cancel the subscription")
    reason = dialog.get_by_label("Why are you cancelling? (required)")
    expect(reason).to_be_focused()
    assert serious(axe(page, "dialog")) == []
    dialog.get_by_role("button", name="Cancel the subscription").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Tell us why you are cancelling: a reason is required."
    )
    assert _subscription(served)["status"] == "ACTIVE"
    reason.fill("We are closing the shop")
    dialog.get_by_role("button", name="Cancel the subscription").click()
    expect(page.locator("#notice")).to_have_text("The subscription ends on April 2, 2026.")
    expect(page.get_by_test_id("status")).to_contain_text("Cancelling")
    expect(section.get_by_test_id("cancel-at")).to_have_text(
        "The subscription ends on April 2, 2026."
    )
    held = _subscription(served)
    assert held["status"] == "CANCELLING"
    assert held["cancelReason"] == "We are closing the shop"
    assert held["cancelAt"].startswith("2026-04-02")

    section.get_by_role("button", name="Reactivate the subscription").click()
    expect(page.locator("#notice")).to_have_text("The subscription is active again.")
    expect(page.get_by_test_id("status")).to_contain_text("Active")
    assert _subscription(served)["status"] == "ACTIVE"
    assert _subscription(served)["cancelAt"] is None


def test_dialogs_trap_focus_close_on_escape_and_return_focus(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "billing@acme.test")
    opener = page.get_by_role("button", name="Choose Unlimited for Store")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Upgrade: Store Unlimited")
    expect(dialog).to_be_visible()
    for _ in range(6):  # Tab around more times than the dialog has controls
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert _plans(served)["store"] == "business"


def test_preferences_show_their_cost_and_save_rule_pref_1_pref_3(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "billing@acme.test")
    email = page.locator("#preferences form[data-product='email']")
    expect(email.get_by_label("Upgrade automatically (default)")).to_be_checked()
    expect(email).to_contain_text("Moves to Email 1,500 at $45.00 per month")
    expect(email).to_contain_text("500 more profiles for $15.00")
    expect(email).to_contain_text("5,000 more emails for $15.00")
    messaging = page.locator("#preferences form[data-product='messaging']")
    expect(messaging).to_contain_text("$10.00 per 100 mac past the limit")
    assert serious(axe(page, "#preferences")) == []

    email.get_by_label("Buy extra volume").check()
    email.get_by_label(re.compile("Move to a smaller tier")).check()
    email.get_by_role("button", name="Save Email").click()
    expect(page.locator("#notice")).to_have_text("Email: preferences saved.")
    item = next(i for i in _subscription(served)["items"] if i["product"]["code"] == "email")
    assert (item["upgradePreference"], item["autoDowngrade"]) == ("FLEXIBLE_OVERAGE", True)
    email = page.locator("#preferences form[data-product='email']")
    expect(email.get_by_label("Buy extra volume")).to_be_checked()

    # PREF-3: never with AUTO_UPGRADE: choosing it switches auto-downgrade off, and asking for
    # auto-downgrade again is refused with the API's message; nothing else changes.
    email.get_by_label("Upgrade automatically (default)").check()
    email.get_by_role("button", name="Save Email").click()
    expect(page.locator("#notice")).to_have_text("Email: preferences saved.")
    item = next(i for i in _subscription(served)["items"] if i["product"]["code"] == "email")
    assert (item["upgradePreference"], item["autoDowngrade"]) == ("AUTO_UPGRADE", False)
    email = page.locator("#preferences form[data-product='email']")
    box = email.get_by_label(re.compile("Move to a smaller tier"))
    expect(box).not_to_be_checked()
    box.check()
    email.get_by_role("button", name="Save Email").click()
    expect(email.get_by_role("alert")).to_contain_text("not Auto-upgrade")
    item = next(i for i in _subscription(served)["items"] if i["product"]["code"] == "email")
    assert (item["upgradePreference"], item["autoDowngrade"]) == ("AUTO_UPGRADE", False)


def test_an_account_change_request_for_a_by_request_product_rule_chg_8(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "owner@globex.test")
    section = page.locator("#account_change")
    expect(section).to_contain_text("Downgrades of Marketing are made by our staff on request")
    section.get_by_role("button", name="Send the request").click()
    expect(section.get_by_role("alert")).to_have_text(
        "Describe the change you need: the message is required."
    )
    section.get_by_label("What should change?").fill("Move us to Starter next month")
    section.get_by_role("button", name="Send the request").click()
    expect(page.locator("#notice")).to_have_text("Your request is sent to our staff.")
    expect(section.get_by_test_id("account-change-requests")).to_contain_text(
        "Move us to Starter next month"
    )
    expect(section.get_by_test_id("account-change-requests")).to_contain_text("Requested")
    held = served.graphql(
        "owner@globex.test", "{ organization { accountChangeRequests { message status } } }"
    )
    assert held["organization"]["accountChangeRequests"] == [
        {"message": "Move us to Starter next month", "status": "REQUESTED"}
    ]


def test_the_italian_page_rule_i18n(page: Page, served: ServedGateway) -> None:
    signed_in(page, "billing@acme.test", lang="it")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fatturazione")
    plan = page.locator("#plan")
    expect(plan.get_by_role("heading", level=2)).to_have_text("Piano attuale")
    expect(page.get_by_test_id("status")).to_contain_text("Attivo")
    expect(page.get_by_test_id("status")).to_contain_text("si rinnova il 2 aprile 2026")
    # it-IT: a decimal comma and the currency after the amount.
    expect(plan).to_contain_text("234,00 USD al mese")
    expect(page.locator("#change")).to_contain_text("Scegli Unlimited")
    expect(page.locator("#preferences")).to_contain_text("Upgrade automatico")
    page.get_by_role("button", name="Scegli Unlimited per Store").click()
    dialog = page.get_by_role("dialog", name="Upgrade: Store Unlimited")
    expect(dialog.get_by_test_id("preview-facts")).to_contain_text("40,65 USD")
    expect(dialog.get_by_role("button", name="Conferma e paga 40,65 USD")).to_be_visible()


def test_axe_finds_no_serious_violation_on_the_core_sections(
    page: Page, served: ServedGateway
) -> None:
    results: dict[str, list[dict[str, Any]]] = {}
    signed_in(page, "owner@acme.test")
    for section in ("plan", "change", "preferences", "cancel"):
        results[section] = axe(page, f"#{section}")
    page.get_by_role("button", name="Sign out").click()
    signed_in(page, "owner@globex.test")
    results["account_change"] = axe(page, "#account_change")
    results["change (bundles, ladder, seats, add-ons)"] = axe(page, "#change")
    print(
        "axe-core violations per section:", {k: [v["id"] for v in vs] for k, vs in results.items()}
    )
    assert {k: serious(vs) for k, vs in results.items()} == {k: [] for k in results}


def _operation(name: str) -> Any:
    def matches(response: Response) -> bool:
        if not response.url.endswith("/graphql") or response.request.method != "POST":
            return False
        body = json.loads(response.request.post_data or "{}")
        return bool(body.get("operationName") == name)

    return matches


def test_the_ladder_slider_seats_add_ons_and_the_annual_saving_rule_cat_3_chg_11(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "owner@globex.test")
    change = page.locator("#change")
    # Twelve months of Plus at $49 less its $490 annual price.
    expect(change).to_contain_text("Save $98.00 a year at list prices.")
    manage = change.get_by_role("form", name="Manage Marketing")
    slider = manage.get_by_label("Contact limit")
    expect(manage.locator("output")).to_have_text("2,500 contacts (+$30.00 per month)")
    slider.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves the slider one step of the ladder
    expect(manage.locator("output")).to_have_text("5,000 contacts (+$80.00 per month)")
    expect(slider).to_have_attribute("aria-valuetext", "5,000 contacts")
    expect(manage.get_by_label("Seats")).to_have_value("2")
    expect(manage.get_by_label("SMS (+$10.00 per month)")).not_to_be_checked()
    manage.get_by_label("SMS (+$10.00 per month)").check()
    with page.expect_response(_operation("PreviewPlanChange")) as previewed:
        manage.get_by_role("button", name="Preview the change").click()
    sent = json.loads(previewed.value.request.post_data or "{}")["variables"]["input"]
    assert sent == {"product": "marketing", "contactLimit": 5000, "seats": 2, "addOns": ["sms"]}
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("recurring")).to_contain_text("per month")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    item = served.graphql(
        "owner@globex.test",
        "{ organization { subscription { items { contactLimit seats addOns { code } } } } }",
    )["organization"]["subscription"]["items"][0]
    assert item == {"contactLimit": 2500, "seats": 2, "addOns": []}  # a preview changes nothing

    change.get_by_role("button", name="Switch to annual billing").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("recurring")).to_contain_text("per year")
    dialog.get_by_role("button", name="Cancel").click()


def test_a_declined_renewal_tells_what_the_status_means_and_what_to_do_rule_sub_1(
    page: Page, served: ServedGateway
) -> None:
    _use_card(served, "pm_card_chargeDeclined")
    moved = served.graphql("owner@acme.test", "mutation { advanceTestClock(days: 21) { events } }")
    assert moved["advanceTestClock"]["events"]
    assert _subscription(served)["status"] == "PENDING_PAYMENT"
    signed_in(page, "billing@acme.test")
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("Payment overdue")
    expect(status).to_contain_text("Pay it within 5 days of its due date (the grace period)")
    expect(status.get_by_role("link", name="Pay now")).to_have_attribute("href", "#invoices")
    assert serious(axe(page, "#plan")) == []
    page.get_by_role("button", name="Sign out").click()
    signed_in(page, "member@acme.test")
    expect(page.get_by_test_id("status")).to_contain_text(
        "Ask your organization's owner or billing admin to pay the overdue invoice."
    )
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)

    served.graphql("owner@acme.test", "mutation { advanceTestClock(days: 6) { events } }")
    assert _subscription(served)["status"] == "FROZEN"
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.get_by_test_id("status")).to_contain_text("Frozen")
    expect(page.get_by_test_id("status")).to_contain_text("Pay now to restore it.")


def test_blockers_show_and_nothing_can_be_confirmed_rule_chg_1(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, "owner@globex.test")  # TRIALING, and no card
    expect(page.get_by_test_id("status")).to_contain_text("Trial")
    expect(page.get_by_test_id("status")).to_contain_text("free until March 26, 2026")
    page.get_by_role("button", name="Choose Pro for Marketing").click()
    dialog = page.get_by_role("dialog")
    blockers = dialog.get_by_test_id("blockers")
    expect(blockers.locator("[data-code='NO_PAYMENT_METHOD']")).to_be_visible()
    expect(dialog.get_by_role("button", name=re.compile("Confirm"))).to_have_count(0)
    assert serious(axe(page, "dialog")) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    plan = served.graphql(
        "owner@globex.test", "{ organization { subscription { items { plan { code } } } } }"
    )
    assert plan["organization"]["subscription"]["items"][0]["plan"]["code"] == "plus"


def test_from_a_trial_choosing_a_plan_subscribes_rule_sub_2(
    page: Page, served: ServedGateway
) -> None:
    served.graphql(
        "owner@globex.test",
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
    )
    signed_in(page, "owner@globex.test")
    expect(page.get_by_test_id("status")).to_contain_text("Trial")
    page.get_by_role("button", name="Choose Pro for Marketing").click()
    dialog = page.get_by_role("dialog")
    confirm = dialog.get_by_role("button", name=re.compile("^Confirm"))
    with page.expect_response(_operation("Subscribe")):
        confirm.click()
    expect(page.get_by_test_id("status")).to_contain_text("Active")
    expect(_plan_cell(page, "marketing")).to_contain_text("Pro")
    held = served.graphql(
        "owner@globex.test",
        "{ organization { subscription { status items { plan { code } } } } }",
    )["organization"]["subscription"]
    assert (held["status"], held["items"][0]["plan"]["code"]) == ("ACTIVE", "pro")


def test_the_preview_and_the_upcoming_invoice_show_the_tax_rule_tax_1(
    page: Page, served: ServedGateway
) -> None:
    saved = served.graphql(
        "billing@acme.test",
        """mutation { updateBillingInfo(input: {companyName: "Acme S.r.l.",
             billingEmail: "ap@acme.test", country: "IT"}) { __typename } }""",
    )
    assert saved["updateBillingInfo"]["__typename"] == "BillingInfoUpdated"
    signed_in(page, "billing@acme.test")
    # The upcoming renewal, taxed at Italy's 22 % (INV-1, TAX-1).
    upcoming = page.get_by_test_id("upcoming-invoice")
    expect(upcoming.get_by_test_id("tax-rate").first).to_contain_text("VAT 22 % (IT) on")
    expect(page.locator("#plan")).to_contain_text("Seller's tax id: EU372000041")
    page.get_by_role("button", name="Choose Unlimited for Store").click()
    dialog = page.get_by_role("dialog", name="Upgrade: Store Unlimited")
    # The credit reverses a charge issued without tax (Acme had no billing country then); the
    # new line is taxed at 22 %: 71.13 x 22 % = 15.6486, 15.65; due 71.13 - 30.48 + 15.65.
    tax = dialog.get_by_test_id("tax-rate")
    expect(tax).to_have_count(1)
    expect(tax).to_contain_text("VAT 22 % (IT) on $71.13")
    expect(tax).to_contain_text("$15.65")
    expect(dialog.get_by_test_id("preview-facts")).to_contain_text("Due now$56.30")
    expect(dialog).to_contain_text("Seller's tax id: EU372000041")
    with page.expect_response(_operation("ChangePlan")) as sent:
        dialog.get_by_role("button", name="Confirm and pay $56.30").click()
    assert json.loads(sent.value.request.post_data or "{}")["variables"]["confirmAmountDue"] == 5630
    expect(dialog).to_be_hidden()
    assert _invoices(served)[0]["amountDue"]["amount"] == 5630
