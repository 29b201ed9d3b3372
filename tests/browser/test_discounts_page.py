"""The billing page's promotion-code field and discount rows in a real browser against a served
gateway (DSC-1, DSC-2): a code is applied, the upcoming invoice shows each line's discount as the
API holds it, a refused code says why and changes nothing."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import ServedGateway, axe, serious, signed_in

BILLING = "billing@acme.test"
UPCOMING = """{ organization { subscription { discount { coupon periodsLeft }
  upcomingInvoice { lines { amount { amount } discount { amount formatted } }
  total { amount formatted } discountTotal { amount } } } } }"""


def _subscription(served: ServedGateway) -> dict[str, Any]:
    result: dict[str, Any] = served.graphql(BILLING, UPCOMING)["organization"]["subscription"]
    return result


def test_a_promotion_code_is_applied_shown_and_refused_the_second_time_rule_dsc_1(
    page: Page, served: ServedGateway
) -> None:
    signed_in(page, BILLING)
    plan = page.locator("#plan")
    form = plan.get_by_test_id("promotion-form")
    form.get_by_label("Promotion code").fill("spring20")
    form.get_by_role("button", name="Apply code").click()
    expect(plan.get_by_test_id("discount")).to_contain_text(
        "Discount: 20 % off (20 % off for 3 months)"
    )
    expect(plan.get_by_test_id("discount")).to_contain_text("It discounts 3 more periods")

    held = _subscription(served)
    assert held["discount"] == {"coupon": "spring20", "periodsLeft": 3}
    upcoming = held["upcomingInvoice"]
    # 20 % of each renewal line, rounded once per line, half away from zero (DSC-2).
    for line in upcoming["lines"]:
        amount = line["amount"]["amount"]
        assert line["discount"]["amount"] == (amount * 20 + 50) // 100
    rows = plan.get_by_test_id("upcoming-invoice").get_by_test_id("discount-line")
    expect(rows).to_have_count(len(upcoming["lines"]))
    expect(rows.first).to_contain_text("-" + upcoming["lines"][0]["discount"]["formatted"])
    expect(plan.get_by_test_id("upcoming-invoice")).to_contain_text(upcoming["total"]["formatted"])
    assert serious(axe(page, "#plan")) == []

    # Removed, then the same code again: refused (once per organization), nothing changes.
    plan.get_by_role("button", name="Remove discount").click()
    form = plan.get_by_test_id("promotion-form")
    form.get_by_label("Promotion code").fill("SPRING20")
    form.get_by_role("button", name="Apply code").click()
    expect(form.get_by_role("alert")).to_have_text(
        "This organization has already used the promotion code SPRING20."
    )
    expect(form.get_by_label("Promotion code")).to_have_attribute("aria-invalid", "true")
    assert _subscription(served)["discount"] is None
    assert serious(axe(page, "#plan")) == []
