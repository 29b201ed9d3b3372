"""What one billing page costs in SQL (issue 16): the page's sections in one request (shell,
plan items, invoices, cards, credit balance, this month's meters; the same document as
bench/request_path.py) read at most 8 statements through the real ASGI app, the same number
however many invoices, items and cards the organization has."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import schema.organization
import schema.subscription
from billing.invoices import InvoiceKind, InvoiceStatus
from models import Invoice, Organization, PaymentMethod
from resolvers.loaders import UNKNOWN, Loaders, Unknown
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, token_for
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
MOST_STATEMENTS = 8  # issue 16's target
PAGE_STATEMENTS = 4  # what the page reads today (7 before the organization's read ahead)

GATEWAY_PACKAGES = {"gateway", "schema", "resolvers", "models", "billing", "graphql", "strawberry"}

PAGE_QUERY = """query BillingPage($first: Int!) {
  organization {
    id name viewerRole
    creditBalance { amount currency }
    subscription {
      id status billingInterval currentPeriodStart currentPeriodEnd
      items { product { code name } plan { code name } seats contactLimit }
    }
    invoices(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id number status total { amount currency } amountDue { amount currency }
                     issuedAt dueAt paidAt } }
    }
    paymentMethods { id brand last4 expMonth expYear isDefault }
    usage { product metric used limit percent periodStart }
  }
}"""

ITEMS = [
    {"product": "messaging", "plan": "growth"},
    {"product": "email", "plan": "email-1000"},
    {"product": "store", "plan": "business"},
]


async def _organization(items: int, invoices: int, cards: int) -> tuple[Organization, str]:
    organization, owner = await organization_with(ITEMS[:items], period=PERIOD)
    for n in range(1, invoices + 1):
        await Invoice.create(
            organization=organization,
            number=f"{organization.slug.upper()}-{n}",
            sequence=n,
            kind=InvoiceKind.SUBSCRIPTION,
            status=InvoiceStatus.PAID,
            currency="USD",
            total=1000 * n,
            amount_due=0,
            issued_at=SEEDED_AT - timedelta(days=60 - n),
            due_at=SEEDED_AT - timedelta(days=60 - n),
            paid_at=SEEDED_AT - timedelta(days=60 - n),
        )
    for n in range(1, cards):  # organization_with made the first
        await PaymentMethod.create(
            organization=organization,
            processor_id=f"pm_extra_{n}",
            brand="mastercard",
            last4=f"{n:04d}",
            exp_month=1,
            exp_year=2035,
            is_default=False,
        )
    return organization, owner


async def _page_statements(
    gql: GraphQLClient, email: str, sql_queries: QueryCounter
) -> tuple[int, dict[str, Any]]:
    """The statements of the second page load (a running gateway keeps the caller and has read
    the catalog's revision within its interval), and the page."""
    token = await token_for(email)

    async def load() -> dict[str, Any]:
        response = await gql.http.post(
            "/graphql",
            json={"query": PAGE_QUERY, "variables": {"first": 20}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    await load()
    before = sql_queries.count
    body = await load()
    return sql_queries.count - before, body["data"]["organization"]


async def test_a_billing_page_reads_at_most_8_statements_however_long_its_lists(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    small, small_owner = await _organization(items=1, invoices=1, cards=1)
    big, big_owner = await _organization(items=3, invoices=45, cards=4)
    few, small_page = await _page_statements(gql, small_owner, sql_queries)
    many, big_page = await _page_statements(gql, big_owner, sql_queries)
    # The pages are what was written: the lists grew, the statements did not.
    assert (len(small_page["subscription"]["items"]), len(big_page["subscription"]["items"])) == (
        1,
        3,
    )
    assert len(small_page["invoices"]["edges"]) == small_page["invoices"]["totalCount"] == 1
    assert len(big_page["invoices"]["edges"]) == 20
    assert big_page["invoices"]["totalCount"] == 45
    assert big_page["invoices"]["pageInfo"]["hasNextPage"] is True
    assert big_page["invoices"]["edges"][0]["node"]["number"] == f"{big.slug.upper()}-45"
    assert (len(small_page["paymentMethods"]), len(big_page["paymentMethods"])) == (1, 4)
    # a meter per metric of each item's product (the store plan meters nothing)
    assert {m["product"] for m in big_page["usage"]} == {"messaging", "email"}
    assert [m["product"] for m in small_page["usage"]] == ["messaging"]
    assert small.id != big.id
    # the organization with its subscription, items and their add-ons (one statement), the
    # invoices with their count, the cards, the usage counters (the caller, the catalog and its
    # prices are kept by the process)
    assert few == many
    assert many <= MOST_STATEMENTS, sql_queries.statements[-many:]
    assert many == PAGE_STATEMENTS, sql_queries.statements[-many:]


async def test_the_next_invoice_page_still_counts_every_invoice(gql: GraphQLClient) -> None:
    organization, owner = await _organization(items=1, invoices=25, cards=1)
    first = await gql(PAGE_QUERY, {"first": 20}, as_user=owner)
    cursor = first["data"]["organization"]["invoices"]["pageInfo"]["endCursor"]
    rest = await gql(
        "query ($after: String) { organization { invoices(first: 20, after: $after) {"
        " totalCount pageInfo { hasNextPage } edges { node { number } } } } }",
        {"after": cursor},
        as_user=owner,
    )
    page = rest["data"]["organization"]["invoices"]
    assert page["totalCount"] == 25
    assert page["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["number"] for e in page["edges"]] == [
        f"{organization.slug.upper()}-{n}" for n in range(5, 0, -1)
    ]


async def test_a_billing_page_leaves_no_reference_cycles(
    gql: GraphQLClient,
) -> None:
    """When the page has been answered, what it read is freed by reference counting: the
    execution holds no reference cycle around the request's context and its loaders
    (schema/plain_fields._weak_helpers), so nothing is left for the cyclic collector to find."""
    import gc

    from strawberry.dataloader import DataLoader

    from models import Subscription, SubscriptionItem

    _, owner = await _organization(items=3, invoices=3, cards=2)
    token = await token_for(owner)
    request = {"query": PAGE_QUERY, "variables": {"first": 20}}
    headers = {"Authorization": f"Bearer {token}"}
    assert "errors" not in (await gql.http.post("/graphql", json=request, headers=headers)).json()
    kinds = (DataLoader, Organization, Subscription, SubscriptionItem, Invoice, PaymentMethod)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        body = (await gql.http.post("/graphql", json=request, headers=headers)).json()
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, kinds)]
        # The test's HTTP client (httpx) leaves cycles of its own: the gateway's are looked for.
        cyclic = sorted(
            {
                f"{type(o).__module__}.{type(o).__qualname__}"
                for o in gc.garbage
                if type(o).__module__.split(".")[0] in GATEWAY_PACKAGES
            }
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert len(body["data"]["organization"]["subscription"]["items"]) == 3
    assert left == []
    assert cyclic == []


async def test_what_the_page_s_statement_read_is_answered_at_once_and_the_same(
    gql: GraphQLClient, sql_queries: QueryCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organization's name and credit, its subscription and the items are answered by
    their resolvers at once from what the organization's one statement gave the loaders (no
    coroutine to await); with nothing known ahead, the loaders answer the same page."""
    _, owner = await _organization(items=3, invoices=2, cards=2)
    awaited: list[str] = []
    for owner_type, name in [
        (schema.organization.Organization, "_of_row_read"),
        (schema.organization.Organization, "_subscription_read"),
    ]:
        monkeypatch.setattr(owner_type, name, _noting(getattr(owner_type, name), awaited, name))
    monkeypatch.setattr(
        schema.subscription,
        "_load_items",
        _noting(schema.subscription._load_items, awaited, "_load_items"),
    )
    _, at_once = await _page_statements(gql, owner, sql_queries)
    assert awaited == []

    def unknown(*_: object) -> Unknown:
        return UNKNOWN

    monkeypatch.setattr(schema.organization, "known", unknown)
    monkeypatch.setattr(schema.subscription, "known", unknown)
    monkeypatch.setattr(Loaders, "known_catalog", lambda _: None)
    _, loaded = await _page_statements(gql, owner, sql_queries)
    assert sorted(set(awaited)) == ["_load_items", "_subscription_read"]
    assert loaded == at_once
    # Without the subscription asked for, the organization's row is the loader's to read.
    shell = await gql.http.post(
        "/graphql",
        json={"query": "{ organization { name creditBalance { amount currency } } }"},
        headers={"Authorization": f"Bearer {await token_for(owner)}"},
    )
    assert "_of_row_read" in awaited
    assert shell.json()["data"]["organization"] == {
        "name": at_once["name"],
        "creditBalance": at_once["creditBalance"],
    }


def _noting(function: Any, calls: list[str], name: str) -> Any:
    def noted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return function(*args, **kwargs)

    return noted
