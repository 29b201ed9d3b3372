"""rule CAT-6: a subscriber keeps the price versions it holds until it changes plan."""

from __future__ import annotations

from datetime import UTC, datetime

from models import Plan, Price, Product
from resolvers.catalog import catalog_changed
from tests.conftest import GraphQLClient
from tests.factories import organization_with

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
PREVIEW = "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { amountDueNow { amount } lines { amount { amount } } blockers { code } } }"


async def test_adding_a_seat_keeps_the_plan_price_version(gql: GraphQLClient) -> None:
    # rule CAT-6: Plus goes from $49 to $59 after this subscriber signed up; adding a seat
    # charges the seat only, and the plan stays at $49.
    _, owner = await organization_with(
        [{"product": "marketing", "plan": "plus", "contact_limit": 1000, "seats": 1}], period=PERIOD
    )
    product = await Product.get(code="marketing")
    plan = await Plan.get(product=product, bundle=None, code="plus")
    old = await Price.get(key=f"plan:{plan.id}:MONTHLY", is_current=True)
    await Price.filter(id=old.id).update(is_current=False)
    new = await Price.create(
        product=product,
        kind="PLAN",
        plan=plan,
        interval="MONTHLY",
        key=old.key,
        version=old.version + 1,
        amount=5900,
        currency="USD",
    )
    await catalog_changed()  # as the catalog loader does when it writes a new price
    try:
        preview = (
            await gql(PREVIEW, {"input": {"product": "marketing", "seats": 2}}, as_user=owner)
        )["data"]["previewPlanChange"]
        # 21 of 31 days: -$49.00 x 21/31 = -33.19; ($49 + $19) x 21/31 = 46.06
        assert [line["amount"]["amount"] for line in preview["lines"]] == [-3319, 4606]
    finally:
        await Price.filter(id=new.id).delete()
        await Price.filter(id=old.id).update(is_current=True)
        await catalog_changed()
