"""The billing page's shell (issue 14): served by the gateway under its CSP, the sandbox sign-in
listing the demo users, a token handed as `#token=`, the language switch, the production
message when no session is left."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ServedGateway, axe, serious, serving, signed_in, wait_ready


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


def test_a_refused_token_ends_the_session(page: Page, served: ServedGateway) -> None:
    page.add_init_script("sessionStorage.setItem('billing-gateway.token', 'not-a-token')")
    page.goto("/billing")
    expect(page.get_by_role("region", name="Sign in to the sandbox")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('billing-gateway.token')") is None


def test_production_says_the_session_ended_and_refuses_the_demo_sign_in(
    browser: Browser, tmp_path: Path
) -> None:
    production = {
        "GATEWAY_MODE": "production",
        "GATEWAY_FIXED_CLOCK": "",
        "STRIPE_API_KEY": "sk_test_never_called",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_never_called",
    }
    with serving(tmp_path, **production) as gateway:
        policy = httpx.get(f"{gateway.url}/billing", timeout=30).headers["content-security-policy"]
        assert "script-src 'self' https://js.stripe.com;" in policy
        refused = httpx.post(
            f"{gateway.url}/billing/sandbox/token", json={"email": "owner@acme.test"}, timeout=30
        )
        assert refused.status_code == 403
        context = browser.new_context(base_url=gateway.url)
        page = context.new_page()
        page.goto("/billing")
        ended = page.get_by_role("region", name="Your session has ended")
        expect(ended).to_contain_text("Return to your application")
        expect(page.get_by_role("button", name=re.compile("@"))).to_have_count(0)
        context.close()
