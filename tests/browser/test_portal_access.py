"""The ways into the billing page and the public pricing page, in a real browser (issue 14 items
4 and 5): the pricing page without signing in; in production, a portal session's one-time link
that works once and then says it was used; the SaaS's own identity-provider token as #token=."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import TIMEOUT_MS, ServedGateway, axe, serious, wait_ready
from tests.conftest import free_port, trusted_request
from tests.identity_provider import AUDIENCE, ISSUER, SigningKey, jwks_server
from tests.test_cli import run
from tests.test_provision_example import served_gateway

RETURN_URL = "https://app.saas.test/settings/billing"
PRODUCTION_SECRET = "production-browser-secret-" + "p" * 40


def usd(minor: int) -> str:
    return f"${minor // 100:,}.{minor % 100:02d}"


def latest(prices: list[dict[str, Any]], interval: str) -> int:
    wanted = [p for p in prices if p["interval"] == interval]
    return int(max(wanted, key=lambda p: p["version"])["amount"]["amount"])


def public_catalog(url: str) -> dict[str, Any]:
    answer = httpx.post(f"{url}/graphql", json=trusted_request("PricingCatalog", {}), timeout=30)
    catalog: dict[str, Any] = answer.json()["data"]["catalog"]
    return catalog


def test_the_pricing_page_without_signing_in(page: Page, served: ServedGateway) -> None:
    requests: list[tuple[str, str | None]] = []
    page.on("request", lambda r: requests.append((r.url, r.headers.get("authorization"))))
    page.goto("/pricing")
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pricing")
    catalog = public_catalog(served.url)
    for product in catalog["products"]:
        section = page.locator(f"#product-{product['code']}")
        expect(section.get_by_role("heading", level=2)).to_have_text(product["name"])
        for plan in product["plans"]:
            card = section.get_by_role("article", name=plan["name"], exact=True)
            monthly = latest(plan["prices"], "MONTHLY")
            expect(card.locator(".price")).to_have_text(f"{usd(monthly)} per month")
    # Messaging's Starter: the annual price and its saving against twelve months.
    messaging = next(p for p in catalog["products"] if p["code"] == "messaging")
    starter = next(p for p in messaging["plans"] if p["code"] == "starter")
    monthly, annual = latest(starter["prices"], "MONTHLY"), latest(starter["prices"], "ANNUAL")
    saved = monthly * 12 - annual
    card = page.locator("#product-messaging").get_by_role("article", name="Starter", exact=True)
    expect(card).to_contain_text(
        f"or {usd(annual)} a year, saving {round(saved * 100 / (monthly * 12))}%"
    )
    expect(card).to_contain_text("500 monthly active contacts")
    expect(card).to_contain_text("5 seats included")
    expect(card).to_contain_text("Shared inbox")
    page.get_by_label("Annual").check()
    expect(card.locator(".price")).to_have_text(f"{usd(annual)} per year")
    expect(card).to_contain_text(f"Save {usd(saved)} a year")
    # Marketing: add-ons with the plan they need, the contact-limit ladder, extra seats.
    marketing = page.locator("#product-marketing")
    add_ons = marketing.get_by_role("table", name=re.compile("Add-ons"))
    expect(add_ons.get_by_role("row", name=re.compile("Custom domain"))).to_contain_text("Plus")
    ladder = marketing.get_by_role("table", name=re.compile("Contact limit"))
    expect(ladder.get_by_role("row", name=re.compile("^1,000"))).to_contain_text("Included")
    expect(marketing).to_contain_text("Extra seat:")
    assert serious(axe(page, "main")) == []
    # Nothing but the gateway, no token, and the catalog by hash with GET (cacheable).
    assert all(url.startswith(served.url) and auth is None for url, auth in requests), requests
    graphql = [url for url, _ in requests if "/graphql" in url]
    assert graphql and all("extensions=" in url and "query=" not in url for url in graphql)
    cached = httpx.get(graphql[0], timeout=30)
    assert cached.headers["cache-control"].startswith("public")


def test_the_pricing_page_in_italian(page: Page) -> None:
    page.goto("/pricing")
    wait_ready(page)
    page.get_by_label("Language").select_option("it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Prezzi")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    card = page.locator("#product-messaging").get_by_role("article", name="Starter", exact=True)
    expect(card.locator(".price")).to_contain_text("79,00")
    expect(card.locator(".price")).to_contain_text("al mese")
    expect(page.get_by_role("group", name="Periodo di fatturazione")).to_be_visible()
    assert serious(axe(page, "main")) == []
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Prezzi")  # the choice is kept


@dataclass
class Production:
    url: str
    cwd: Path
    platform_key: str
    identity_provider: SigningKey

    def run(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.url}/graphql",
            json=trusted_request(operation, variables),
            headers={"Authorization": f"Bearer {self.platform_key}"},
            timeout=30,
        )
        body: dict[str, Any] = answer.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


def _production_env(cwd: Path, jwks_url: str) -> dict[str, str]:
    """What `serve` needs in production: its own JWT secret, Stripe (never the sandbox; nothing
    here reaches Stripe: its API base is a closed loopback port), the portal's return URLs."""
    return {
        "GATEWAY_MODE": "production",
        "GATEWAY_JWT_SECRET": PRODUCTION_SECRET,
        "DATABASE_URL": f"sqlite://{cwd / 'production.sqlite3'}",
        "STRIPE_API_KEY": "sk_test_browser_walks",
        "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}",
        "GATEWAY_PORTAL_RETURN_URLS": "https://app.saas.test/settings/",
        "GATEWAY_JWT_JWKS_URL": jwks_url,
        "GATEWAY_JWT_ISSUER": ISSUER,
        "GATEWAY_JWT_AUDIENCE": AUDIENCE,
        "GATEWAY_RATE_LIMIT": "1000000/minute",
        "GATEWAY_RATE_LIMIT_ANONYMOUS": "1000000/minute",
    }


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Production]:
    """A production gateway as a SaaS runs it: migrated, a platform key from the CLI, an
    organization provisioned through the API with an owner and a billing admin on a trial."""
    key = SigningKey.rsa("saas-browser-1")
    with jwks_server(key) as idp:
        env = _production_env(tmp_path, idp.url)
        migrated = run(tmp_path, "migrate", **env)
        assert migrated.returncode == 0, migrated.stderr
        scopes = ("organizations:write", "portal:write")
        made = run(
            tmp_path,
            "api-key",
            "create",
            "--platform",
            *(arg for scope in scopes for arg in ("--scope", scope)),
            **env,
        )
        assert made.returncode == 0, made.stderr
        with served_gateway(tmp_path, **env) as url:
            gateway = Production(url, tmp_path, made.stdout.strip(), key)
            owner = {"email": "peter@initech.test", "name": "Peter", "externalId": "u-peter"}
            gateway.run(
                "CreateOrganization",
                {
                    "input": {
                        "externalId": "org-initech",
                        "name": "Initech",
                        "slug": "initech",
                        "owner": owner,
                        "billingInfo": {
                            "companyName": "Initech LLC",
                            "billingEmail": "ap@initech.test",
                        },
                    }
                },
            )
            gateway.run(
                "AddMember",
                {
                    "organizationExternalId": "org-initech",
                    "person": {"email": "joanna@initech.test", "name": "Joanna"},
                    "role": "BILLING_ADMIN",
                },
            )
            gateway.run(
                "StartTrial",
                {
                    "organizationExternalId": "org-initech",
                    "input": {"product": "marketing", "plan": "plus"},
                },
            )
            yield gateway


@pytest.fixture
def production_context(browser: Browser, production: Production) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=production.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context
    context.close()
    assert not errors, f"the page threw: {errors}"


def test_a_production_portal_session_link_works_once(
    production: Production, production_context: BrowserContext
) -> None:
    made = production.run(
        "CreatePortalSession",
        {
            "organizationExternalId": "org-initech",
            "userEmail": "joanna@initech.test",
            "returnUrl": RETURN_URL,
        },
    )["createPortalSession"]
    assert made["__typename"] == "PortalSessionCreated", made
    link = made["url"]
    assert link.startswith(f"{production.url}/billing/session/")

    page = production_context.new_page()
    page.goto(link)
    page.wait_for_url(f"{production.url}/billing")
    wait_ready(page)
    expect(page.locator("header")).to_contain_text("joanna@initech.test")
    expect(page.locator("header")).to_contain_text("Initech")
    expect(page.locator("header")).to_contain_text("Billing admin")
    expect(page.get_by_role("link", name="Return to the application")).to_have_attribute(
        "href", RETURN_URL
    )
    token = page.evaluate("sessionStorage.getItem('billing-gateway.token')")
    answer = httpx.post(
        f"{production.url}/graphql",
        json={"query": "{ viewer { memberships { role organization { slug } } } }"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert answer["data"]["viewer"]["memberships"] == [
        {"role": "BILLING_ADMIN", "organization": {"slug": "initech"}}
    ]
    # The one-time link is not in the history: back leaves the billing page for where it came.
    assert "/billing/session/" not in page.evaluate("location.href")

    again = production_context.new_page()
    response = again.goto(link)
    assert response is not None and response.status == 410
    expect(again.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    expect(again.get_by_role("link", name="Return to the application")).to_have_attribute(
        "href", RETURN_URL
    )
    assert again.evaluate("sessionStorage.getItem('billing-gateway.token')") is None
    assert serious(axe(again, "main")) == []


def test_a_used_link_says_so_in_italian(browser: Browser, production: Production) -> None:
    made = production.run(
        "CreatePortalSession",
        {
            "organizationExternalId": "org-initech",
            "userEmail": "peter@initech.test",
            "returnUrl": RETURN_URL,
        },
    )["createPortalSession"]
    assert httpx.get(made["url"], timeout=30).status_code == 200  # used once, elsewhere
    context = browser.new_context(locale="it-IT")
    try:
        page = context.new_page()
        page.goto(made["url"])
        expect(page.get_by_role("heading", level=1)).to_have_text("Questo link è già stato usato")
        expect(page.locator("html")).to_have_attribute("lang", "it")
    finally:
        context.close()


def test_the_page_accepts_the_saas_identity_provider_token(
    production: Production, production_context: BrowserContext
) -> None:
    token = production.identity_provider.token({"sub": "u-peter", "email": "peter@initech.test"})
    page = production_context.new_page()
    page.goto(f"/billing#token={token}")
    wait_ready(page)
    assert page.evaluate("location.hash") == ""
    expect(page.locator("header")).to_contain_text("peter@initech.test")
    expect(page.locator("header")).to_contain_text("Owner")
