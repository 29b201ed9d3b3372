"""Reading an organization: tenant scoping (ACC-5), the demo state, and a constant number of SQL
queries however many items, members and workspaces it has."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from billing.access import Role
from billing.periods import BillingInterval
from billing.subscription_status import SubscriptionStatus
from models import (
    Invoice,
    Membership,
    Organization,
    Plan,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    User,
    Workspace,
)
from resolvers.catalog import catalog_changed
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, error_codes

ORGANIZATION_QUERY = """
query ($id: ID) {
  organization(id: $id) {
    id name viewerRole creditBalance { amount }
    members { role user { email name } }
    workspaces { slug name }
    subscription {
      status billingInterval currentPeriodStart currentPeriodEnd nextBillingDate
      recurringAmount { amount formatted }
      items {
        product { code name policy { upgradeProration } }
        plan { code name features prices { interval amount { amount } } }
        seats contactLimit upgradePreference
        addOns { code }
        recurringAmount { amount }
      }
    }
  }
}
"""


async def test_acme_as_seeded(gql: GraphQLClient) -> None:
    body = await gql(ORGANIZATION_QUERY, as_user="billing@acme.test")
    assert "errors" not in body
    organization = body["data"]["organization"]
    assert organization["name"] == "Acme"
    assert organization["viewerRole"] == "BILLING_ADMIN"
    assert sorted(m["role"] for m in organization["members"]) == [
        "ADMIN",
        "BILLING_ADMIN",
        "MEMBER",
        "OWNER",
    ]
    assert {w["slug"] for w in organization["workspaces"]} == {"support", "sales"}
    subscription = organization["subscription"]
    assert subscription["status"] == "ACTIVE"
    assert subscription["billingInterval"] == "MONTHLY"
    # Demo catalog: current period started 10 days before seeding, monthly.
    assert subscription["currentPeriodStart"] == (SEEDED_AT - timedelta(days=10)).isoformat()
    assert subscription["currentPeriodEnd"] == "2026-04-02T09:30:00+00:00"
    assert subscription["nextBillingDate"] == subscription["currentPeriodEnd"]
    items = {i["product"]["code"]: i for i in subscription["items"]}
    assert {code: i["plan"]["code"] for code, i in items.items()} == {
        "messaging": "growth",
        "email": "email-1000",
        "store": "business",
    }
    assert items["email"]["upgradePreference"] == "AUTO_UPGRADE"
    assert items["messaging"]["upgradePreference"] == "ON_DEMAND"
    assert items["store"]["upgradePreference"] is None
    # $159 + $30 + $45
    assert [items[c]["recurringAmount"]["amount"] for c in ("messaging", "email", "store")] == [
        15900,
        3000,
        4500,
    ]
    assert subscription["recurringAmount"] == {"amount": 23400, "formatted": "$234.00"}


async def test_globex_trial_with_ladder_and_seats(gql: GraphQLClient) -> None:
    # rule CAT-3: plan $49 + 2,500-contact step $30 + one seat beyond the one included $19.
    body = await gql(ORGANIZATION_QUERY, as_user="owner@globex.test")
    subscription = body["data"]["organization"]["subscription"]
    assert subscription["status"] == "TRIALING"
    assert subscription["nextBillingDate"] is None
    (item,) = subscription["items"]
    assert (item["plan"]["code"], item["contactLimit"], item["seats"]) == ("plus", 2500, 2)
    assert item["recurringAmount"]["amount"] == 4900 + 3000 + 1900
    trial = await gql(
        "{ organization { subscription { trialEndsAt } } }", as_user="member@globex.test"
    )
    assert (
        trial["data"]["organization"]["subscription"]["trialEndsAt"]
        == (SEEDED_AT + timedelta(days=14)).isoformat()
    )


async def test_member_sees_plan_and_status_but_no_money(gql: GraphQLClient) -> None:
    # rule ACC-3: the plan's list prices are public; what the organization pays is not.
    body = await gql(ORGANIZATION_QUERY, as_user="member@acme.test")
    organization = body["data"]["organization"]
    assert organization["creditBalance"] is None
    assert organization["subscription"]["status"] == "ACTIVE"
    assert organization["subscription"]["recurringAmount"] is None
    for item in organization["subscription"]["items"]:
        assert item["plan"]["name"]
        assert item["plan"]["prices"]
        assert item["recurringAmount"] is None
    assert set(error_codes(body)) == {"FORBIDDEN"}
    assert len(body["errors"]) == 1 + 1 + 3  # credit, recurring, 3 x item amounts


async def test_another_organizations_id_finds_nothing(gql: GraphQLClient) -> None:
    # rule ACC-5: Globex's id asked by Acme's owner looks exactly like an id that does not exist.
    globex = await Organization.get(slug="globex")
    for organization_id in (str(globex.id), str(uuid4()), "not-a-uuid"):
        body = await gql(ORGANIZATION_QUERY, {"id": organization_id}, as_user="owner@acme.test")
        assert body["data"]["organization"] is None
        assert error_codes(body) == ["NOT_FOUND"]
        assert (
            body["errors"][0]["message"]
            == f"No organization with id {organization_id!r} is visible to you."
        )


async def test_a_user_with_no_membership_gets_a_clear_not_found(gql: GraphQLClient) -> None:
    await User.get_or_create(email="drifter@nowhere.test", defaults={"name": "Drifter"})
    body = await gql(
        "{ viewer { user { email } memberships { role } } organization { name } }",
        as_user="drifter@nowhere.test",
    )
    assert body["data"]["viewer"] == {"user": {"email": "drifter@nowhere.test"}, "memberships": []}
    assert body["data"]["organization"] is None
    assert error_codes(body) == ["NOT_FOUND"]
    assert "not a member of any organization" in body["errors"][0]["message"]


async def _organization_of_size(slug: str, items: int, members: int, workspaces: int) -> None:
    organization = await Organization.create(slug=slug, name=slug.title())
    users = [
        await User.create(email=f"user{i}@{slug}.test", name=f"User {i}") for i in range(members)
    ]
    roles = [Role.OWNER, Role.BILLING_ADMIN] + [Role.MEMBER] * (members - 2)
    for user, role in zip(users, roles, strict=True):
        await Membership.create(organization=organization, user=user, role=role)
    for i in range(workspaces):
        await Workspace.create(organization=organization, slug=f"ws{i}", name=f"Workspace {i}")
    subscription = await Subscription.create(
        organization=organization,
        status=SubscriptionStatus.ACTIVE,
        billing_interval=BillingInterval.MONTHLY,
        currency="USD",
        billing_anchor=SEEDED_AT,
        current_period_start=SEEDED_AT,
        current_period_end=SEEDED_AT + timedelta(days=31),
    )
    for code in ["messaging", "email", "store"][:items]:
        product = await Product.get(code=code)
        plan = await Plan.filter(product=product).order_by("rank").first()
        assert plan is not None
        price = await Price.get(key=f"plan:{plan.id}:MONTHLY", is_current=True)
        await SubscriptionItem.create(
            subscription=subscription, product=product, plan=plan, plan_price=price
        )


async def _queries_for(
    gql: GraphQLClient, owner_email: str, sql_queries: QueryCounter, *, warm: bool = True
) -> int:
    """The request's statements; `warm`: as a running gateway answers it, which keeps the caller
    and has checked the catalog revision within its interval (tests/test_request_cost.py)."""
    from tests.conftest import token_for

    token = await token_for(owner_email)  # outside the count: a real client already holds one

    async def send() -> None:
        response = await gql.http.post(
            "/graphql",
            json={"query": ORGANIZATION_QUERY},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert "errors" not in response.json(), response.json()

    if warm:
        await send()
    before = sql_queries.count
    await send()
    return sql_queries.count - before


async def test_organization_query_costs_a_constant_number_of_sql_queries(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    await _organization_of_size("small-co", items=1, members=2, workspaces=1)
    await _organization_of_size("big-co", items=3, members=25, workspaces=10)
    small = await _queries_for(gql, "user0@small-co.test", sql_queries)
    big = await _queries_for(gql, "user0@big-co.test", sql_queries)
    # the organization with its subscription, items and their add-ons (one statement: the
    # selection names `subscription`) + members + workspaces = 3 (the viewer, the catalog
    # snapshot and the price versions it read are kept by the process)
    assert small == big == 3
    await catalog_changed()  # the catalog was written: the next request reads all of it again
    again = await _queries_for(gql, "user0@small-co.test", sql_queries, warm=False)
    assert again == 3 + 1 + 7 + 1  # + the catalog revision + the whole catalog + the prices


BILLING_PAGE_QUERY = """
query ($invoice: ID!) {
  organization {
    invoice(id: $invoice) { number lines { amount { amount } } }
    billingInfo { companyName }
    paymentMethods { last4 isDefault }
    notifications(first: 5) { kind }
    featureSettings { feature key }
  }
}
"""


async def test_the_billing_page_reads_one_sql_query_per_field(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    from tests.conftest import token_for

    acme = await Organization.get(slug="acme")
    invoice = await Invoice.filter(organization=acme).order_by("-sequence").first()
    assert invoice is not None
    token = await token_for("billing@acme.test")
    before = sql_queries.count
    response = await gql.http.post(
        "/graphql",
        json={"query": BILLING_PAGE_QUERY, "variables": {"invoice": str(invoice.id)}},
        headers={"Authorization": f"Bearer {token}"},
    )
    organization = response.json()["data"]["organization"]
    assert organization["invoice"]["number"] == invoice.number
    assert organization["invoice"]["lines"]
    # 1 (viewer: the user and their memberships, hot_reads.user_and_roles; a first request)
    # + invoice + its lines + billing info + payment methods + notifications + feature
    # settings = 7; no field here reads the organization's own row
    assert sql_queries.count - before == 7


async def test_an_archived_workspace_is_listed_only_when_asked_for_rule_prv_1(
    gql: GraphQLClient,
) -> None:
    acme = await Organization.get(slug="acme")
    sales = await Workspace.get(organization_id=acme.id, slug="sales")
    sales.archived_at = SEEDED_AT
    await sales.save(update_fields=["archived_at"])
    query = """
    query ($all: Boolean!) { organization { workspaces(includeArchived: $all) { slug archivedAt } } }
    """

    async def slugs(include_archived: bool) -> list[tuple[str, str | None]]:
        body = await gql(query, {"all": include_archived}, as_user="member@acme.test")
        rows = body["data"]["organization"]["workspaces"]
        return [(row["slug"], row["archivedAt"]) for row in rows]

    assert ("sales", None) not in await slugs(False)
    assert [slug for slug, _ in await slugs(False)] == ["support"]
    assert ("sales", SEEDED_AT.isoformat()) in await slugs(True)
