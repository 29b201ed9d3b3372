"""The catalog data file: the demo figures exactly as specified, and broken files explained
(file, path to the field, what was expected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.periods import BillingInterval
from billing.policies import DowngradeTiming, UpgradePreference, UpgradeProration
from gateway.catalog_file import CatalogFileError, load_catalog, load_demo
from gateway.settings import DEFAULT_CATALOG_FILE, DEFAULT_DEMO_FILE

M, A = BillingInterval.MONTHLY, BillingInterval.ANNUAL


def test_demo_catalog_figures() -> None:
    catalog = load_catalog(DEFAULT_CATALOG_FILE)
    products = {p.code: p for p in catalog.products}
    assert list(products) == [
        "messaging",
        "email",
        "helpdesk",
        "marketing",
        "store",
        "recommendations",
    ]
    # rule CAT-2: annual prices stated explicitly (discounted below 12 x monthly)
    growth = products["messaging"].plans[1]
    assert (growth.code, growth.prices, growth.limits) == (
        "growth",
        {M: 15900, A: 152600},
        {"mac": 1000},
    )
    assert products["messaging"].policy.upgrade_proration is UpgradeProration.RESET_CYCLE
    assert products["store"].policy.downgrade_timing is DowngradeTiming.IMMEDIATE_WITH_CREDIT
    assert products["marketing"].policy.downgrade_timing is DowngradeTiming.BY_REQUEST
    assert products["email"].policy.default_preference is UpgradePreference.AUTO_UPGRADE
    assert products["helpdesk"].policy.default_preference is UpgradePreference.FLEXIBLE_OVERAGE
    ladder = {s.contact_limit: s.prices[M] for s in products["marketing"].contact_limit_ladder}
    assert ladder == {1000: 0, 2500: 3000, 5000: 8000, 10000: 17000}
    bundle = products["marketing"].bundles[0]  # rule CAT-5
    assert {p.code: p.prices[M] for p in bundle.plans} == {
        "plus": 9300,
        "pro": 14900,
        "enterprise": 25900,
    }
    # Annual recommendations = 12 x monthly less 10 %: 12 x $99 x 0.9 = $1,069.20
    assert products["recommendations"].plans[0].prices[BillingInterval.ANNUAL] == 106920
    demo = load_demo(DEFAULT_DEMO_FILE, catalog)
    assert [o.slug for o in demo.organizations] == ["acme", "globex"]


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_CATALOG_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "prices = { MONTHLY = 2000 }",
            'prices = { MONTHLY = "20.00" }',
            "catalog.toml: products[1].plans[0].prices.MONTHLY: input should be a valid integer, got '20.00'",
        ),
        (
            "retention_days = 14",
            "retention_dayz = 14",
            "catalog.toml: products[5].policy.retention_dayz: unknown field (check its spelling)",
        ),
        (
            'default_preference = "AUTO_UPGRADE"',
            'default_preference = "ON_DEMAND"',
            "catalog.toml: products[1].policy.default_preference: expected one of upgrade_preferences",
        ),
        (
            "prices = { MONTHLY = 7900, ANNUAL = 75900 }",
            "prices = { MONTHLY = 7900 }",
            "catalog.toml: products[0].plans[0].prices: missing the ANNUAL price",
        ),
        (
            'code = "growth"',
            'code = "starter"',
            "catalog.toml: products[0].plans[1]: duplicate 'starter'",
        ),
        (
            'min_plan = "plus"',
            'min_plan = "platinum"',
            "catalog.toml: products[3].add_ons[1].min_plan: expected one of",
        ),
        ('currency = "USD"', "currency = [", "catalog.toml: not valid TOML"),
        (  # TAX-1: a rate is an exact decimal, never a float
            'percent = "22"',
            "percent = 22.0",
            "catalog.toml: taxes.rates[0].percent: input should be a valid string",
        ),
        (
            'percent = "19"',
            'percent = "19 %"',
            "catalog.toml: taxes.rates[1].percent:",
        ),
        (
            'country = "FR"',
            'country = "IT"',
            "catalog.toml: taxes.rates[2]: duplicate ('IT', '')",
        ),
    ],
)
def test_a_broken_catalog_names_the_file_and_the_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    with pytest.raises(CatalogFileError) as raised:
        load_catalog(_broken(tmp_path, old, new))
    assert expected in str(raised.value)


def test_a_broken_demo_file_is_checked_against_the_catalog(tmp_path: Path) -> None:
    text = DEFAULT_DEMO_FILE.read_text(encoding="utf-8").replace(
        "contact_limit = 2500", "contact_limit = 3000"
    )
    path = tmp_path / "demo.toml"
    path.write_text(text.replace('role = "ADMIN"', 'role = "OWNER"', 1), encoding="utf-8")
    with pytest.raises(CatalogFileError) as raised:
        load_demo(path, load_catalog(DEFAULT_CATALOG_FILE))
    message = str(raised.value)
    assert (
        "demo.toml: organizations[0].users: expected exactly one OWNER (ACC-1), found 2" in message
    )
    assert (
        "demo.toml: organizations[1].subscription.items[0].contact_limit: expected a step of the ladder"
        in message
    )


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match="cannot read the file"):
        load_catalog(tmp_path / "nope.toml")


def test_demo_usage_is_checked_against_the_subscription(tmp_path: Path) -> None:
    text = (
        DEFAULT_DEMO_FILE.read_text(encoding="utf-8")
        .replace('workspace = "sales", contacts = 240', 'workspace = "billing", contacts = 240')
        .replace('metric = "emails", quantity = 7200', 'metric = "emails", contacts = 7200')
        .replace(
            'product = "email", metric = "profiles"', 'product = "helpdesk", metric = "profiles"'
        )
    )
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogFileError) as raised:
        load_demo(path, load_catalog(DEFAULT_CATALOG_FILE))
    message = str(raised.value)
    assert (
        "organizations[0].usage[1].workspace: expected one of the workspaces ['support', 'sales']"
        in message
    )
    assert "organizations[0].usage[2].product: expected a subscribed product" in message
    assert (
        "organizations[0].usage[3]: mac takes contacts; every other metric takes quantity"
        in message
    )


def test_a_demo_item_asking_for_what_its_product_lacks_says_so(tmp_path: Path) -> None:
    text = DEFAULT_DEMO_FILE.read_text(encoding="utf-8").replace(
        '{ product = "store", plan = "business" }',
        '{ product = "store", plan = "business", bundle = "duo", add_ons = ["sms"],'
        " contact_limit = 1000 }",
    )
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogFileError) as raised:
        load_demo(path, load_catalog(DEFAULT_CATALOG_FILE))
    assert (
        "organizations[0].subscription.items[2].bundle: store is not sold in a bundle: leave"
        " bundle out" in str(raised.value)
    )
    text = text.replace('bundle = "duo", ', "")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogFileError) as raised:
        load_demo(path, load_catalog(DEFAULT_CATALOG_FILE))
    message = str(raised.value)
    assert "items[2].add_ons[0]: store has no add-ons: leave add_ons out" in message
    assert (
        "items[2].contact_limit: store has no contact-limit ladder: leave contact_limit out"
        in message
    )
