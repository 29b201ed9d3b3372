"""Seeding is idempotent; a changed price becomes a new version that existing subscribers do not
get (rule CAT-6)."""

from __future__ import annotations

from pathlib import Path

from billing.clock import FixedClock
from gateway.catalog_file import load_catalog, load_demo
from gateway.seed import seed
from gateway.settings import DEFAULT_CATALOG_FILE, DEFAULT_DEMO_FILE
from models import (
    AddOn,
    Bundle,
    ContactLimitStep,
    Membership,
    Organization,
    Plan,
    Price,
    Product,
    ProductPolicy,
    Subscription,
    SubscriptionItem,
    UsageEvent,
    User,
    Workspace,
)
from tests.conftest import GraphQLClient

TABLES = [
    Product,
    ProductPolicy,
    Bundle,
    Plan,
    AddOn,
    ContactLimitStep,
    Price,
    Organization,
    User,
    Membership,
    Workspace,
    Subscription,
    SubscriptionItem,
]


async def _row_counts() -> dict[str, int]:
    return {model.__name__: await model.all().count() for model in TABLES}


async def test_seeding_twice_changes_nothing(database: str, clock: FixedClock) -> None:
    before = await _row_counts()
    catalog = load_catalog(DEFAULT_CATALOG_FILE)
    report = await seed(catalog, load_demo(DEFAULT_DEMO_FILE, catalog), clock)
    assert (report.new_prices, report.organizations_created) == (0, 0)
    assert await _row_counts() == before


async def test_a_new_price_is_a_new_version_and_subscribers_keep_theirs(
    database: str, clock: FixedClock, gql: GraphQLClient, tmp_path: Path
) -> None:
    # rule CAT-6: growth goes from $159 to $169; Acme keeps paying $159.
    text = DEFAULT_CATALOG_FILE.read_text(encoding="utf-8")
    changed = tmp_path / "catalog.toml"
    changed.write_text(text.replace("MONTHLY = 15900,", "MONTHLY = 16900,", 1), encoding="utf-8")
    try:
        report = await seed(load_catalog(changed), None, clock)
        assert report.new_prices == 1
        body = await gql(
            """{ catalog { product(code: "messaging") { plans { code prices { interval version amount { amount } } } } }
                 organization { subscription { items { plan { code } recurringAmount { amount } } } } }""",
            as_user="owner@acme.test",
        )
        plans = {p["code"]: p for p in body["data"]["catalog"]["product"]["plans"]}
        monthly = next(p for p in plans["growth"]["prices"] if p["interval"] == "MONTHLY")
        assert (monthly["version"], monthly["amount"]["amount"]) == (2, 16900)
        items = body["data"]["organization"]["subscription"]["items"]
        assert (
            next(i for i in items if i["plan"]["code"] == "growth")["recurringAmount"]["amount"]
            == 15900
        )
    finally:
        await seed(load_catalog(DEFAULT_CATALOG_FILE), None, clock)  # back to $159 as version 3
    # CUR-1: the EUR price of the same figure is its own row, untouched by the USD change.
    current = Price.filter(key__startswith="plan:", amount=15900, is_current=True)
    assert await current.filter(currency="USD").count() == 1
    assert await current.filter(currency="EUR", version=1).count() == 1


DEMO_ACME = """query ($workspace: String) { organization {
  usage(workspace: $workspace) { product metric used limit periodStart }
  invoices(first: 10) { edges { node { number status periodStart periodEnd } } }
  subscription { currentPeriodStart currentPeriodEnd } } }"""


async def test_acme_is_seeded_as_the_demo_catalog_says(gql: GraphQLClient) -> None:
    # ../shared/spec/demo-catalog.md, rule USE-1, USE-2, USE-3, DUN-1: this period 640 MAC over
    # support and sales, 400 profiles, 7,200 e-mails, recorded as usage events; four PAID
    # subscription invoices, the current period's the last.
    body = await gql(DEMO_ACME, as_user="owner@acme.test")
    organization = body["data"]["organization"]
    start = organization["subscription"]["currentPeriodStart"]
    assert {
        (m["product"], m["metric"]): (m["used"], m["limit"]) for m in organization["usage"]
    } == {
        ("messaging", "mac"): (640, 1000),
        ("email", "profiles"): (400, 1000),
        ("email", "emails"): (7200, 10000),
    }
    assert {m["periodStart"] for m in organization["usage"]} == {start}
    for workspace, contacts in (("support", 400), ("sales", 240)):
        meters = await gql(DEMO_ACME, {"workspace": workspace}, as_user="owner@acme.test")
        mac = [m for m in meters["data"]["organization"]["usage"] if m["metric"] == "mac"]
        assert [m["used"] for m in mac] == [contacts]
    invoices = [edge["node"] for edge in organization["invoices"]["edges"]]
    assert [(i["number"], i["status"]) for i in invoices] == [
        ("ACME-00004", "PAID"),
        ("ACME-00003", "PAID"),
        ("ACME-00002", "PAID"),
        ("ACME-00001", "PAID"),
    ]
    assert (invoices[0]["periodStart"], invoices[0]["periodEnd"]) == (
        start,
        organization["subscription"]["currentPeriodEnd"],
    )
    acme = await Organization.get(slug="acme")
    assert await UsageEvent.filter(organization_id=acme.id, metric="mac").count() == 640
    item = await SubscriptionItem.get(subscription__organization_id=acme.id, product__code="email")
    assert item.stock == {"profiles": 400}  # CHG-1 blockers read it
