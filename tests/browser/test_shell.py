"""The billing page's shell (issue 14): served by the gateway under its CSP, the sandbox sign-in
listing the demo users, a token handed as `#token=`, the language switch, the production
message when no session is left."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import ServedGateway, axe, serious, signed_in, wait_ready


def test_the_sandbox_sign_in_lists_the_demo_users_and_signs_in(
    page: Page, served: ServedGateway
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/billing")
    sign_in = page.get_by_role("region", name="Sign in to the sandbox")
    expect(sign_in).to_be_visible()
    expect(sign_in.get_by_role("button")).to_have_count(8)  # Acme's and Globex's four users
    sign_in.get_by_role("button", name=re.compile("billing@acme.test")).click()
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
    expect(page.locator("header")).to_contain_text("billing@acme.test")
    expect(page.locator("header")).to_contain_text("Billing admin")
    assert page.evaluate("sessionStorage.getItem('billing-gateway.token')")
    # Nothing but the gateway's own origin: no CDN.
    assert requests and all(url.startswith(served.url) for url in requests), requests
    graphql = [url for url in requests if url.endswith("/graphql")]
    assert graphql, "the shell asked the API who is signed in"


def test_a_token_in_the_fragment_is_kept_and_stripped(page: Page, served: ServedGateway) -> None:
    token = served.token("owner@acme.test")
    page.goto(f"/billing#token={token}")
    wait_ready(page)
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("sessionStorage.getItem('billing-gateway.token')") == token
    expect(page.locator("header")).to_contain_text("owner@acme.test")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("region", name="Sign in to the sandbox")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('billing-gateway.token')") is None


def test_the_language_switch_and_the_page_policy(page: Page, served: ServedGateway) -> None:
    response = httpx.get(f"{served.url}/billing", timeout=30)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "stripe" not in policy
    page.goto(f"/billing#token={served.token('member@acme.test')}")
    wait_ready(page)
    page.get_by_label("Language").select_option("it")
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Fatturazione")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("header")).to_contain_text("Membro")


def test_axe_finds_nothing_serious_on_the_sign_in_and_the_shell(
    page: Page, served: ServedGateway
) -> None:
    page.goto("/billing")
    page.wait_for_selector("body[data-ready='signed-out']")
    assert serious(axe(page, "body")) == []
    signed_in(page, "member@acme.test")
    assert serious(axe(page, "header")) == []
    assert serious(axe(page, "nav")) == []
