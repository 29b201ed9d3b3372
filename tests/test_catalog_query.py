"""The catalog query: products, plans, prices per interval, limits, features, add-ons, ladders,
bundles and policies (rules CAT-1 to CAT-7)."""

from __future__ import annotations

from tests.conftest import GraphQLClient, error_codes

CATALOG = """
{ catalog {
    currency
    products {
      code intervals metrics
      seatPrices { interval amount { amount } }
      plans { code rank features seatsIncluded maxSeats limits { metric value } prices { interval amount { amount formatted } } }
      bundles { code includes plans { code features prices { interval amount { amount } } } }
      addOns { code minPlanRank prices { interval amount { amount } } }
      contactLimitLadder { contactLimit prices { interval amount { amount } } }
      policy {
        upgradeProration downgradeTiming cancellationNotice retentionDays alertThresholds
        upgradePreferences defaultPreference autoDowngradeAvailable autoscaling
        onDemand { metric blockSize blockPrice { amount } }
      }
    }
} }
"""


def _prices(entry: dict) -> dict[str, int]:  # type: ignore[type-arg]
    return {p["interval"]: p["amount"]["amount"] for p in entry["prices"]}


async def test_catalog_for_a_billing_manager(gql: GraphQLClient) -> None:
    body = await gql(CATALOG, as_user="billing@acme.test")
    assert "errors" not in body
    catalog = body["data"]["catalog"]
    assert catalog["currency"] == "USD"
    products = {p["code"]: p for p in catalog["products"]}

    messaging = products["messaging"]
    assert [(p["code"], p["rank"]) for p in messaging["plans"]] == [
        ("starter", 1),
        ("growth", 2),
        ("advanced", 3),
    ]
    assert _prices(messaging["plans"][2]) == {"MONTHLY": 27900, "ANNUAL": 267800}
    assert messaging["plans"][1]["limits"] == [{"metric": "mac", "value": 1000}]
    assert messaging["plans"][1]["seatsIncluded"] == 10
    assert messaging["policy"]["onDemand"] == {
        "metric": "mac",
        "blockSize": 100,
        "blockPrice": {"amount": 1000},
    }
    assert messaging["policy"]["alertThresholds"] == [90, 100]

    marketing = products["marketing"]
    assert _prices({"prices": marketing["seatPrices"]}) == {"MONTHLY": 1900, "ANNUAL": 19000}
    assert [s["contactLimit"] for s in marketing["contactLimitLadder"]] == [1000, 2500, 5000, 10000]
    assert {a["code"]: a["minPlanRank"] for a in marketing["addOns"]} == {
        "sms": 0,
        "custom_domain": 2,
    }
    assert marketing["plans"][3]["maxSeats"] is None  # enterprise: unlimited seats
    (bundle,) = marketing["bundles"]
    assert bundle["includes"] == ["marketing", "sales"]
    assert {p["code"]: _prices(p)["MONTHLY"] for p in bundle["plans"]} == {
        "plus": 9300,
        "pro": 14900,
        "enterprise": 25900,
    }
    assert all("sales_pipeline" in p["features"] for p in bundle["plans"])
    assert marketing["policy"]["downgradeTiming"] == "BY_REQUEST"
    assert marketing["policy"]["upgradePreferences"] == []

    assert products["recommendations"]["intervals"] == [
        "MONTHLY",
        "QUARTERLY",
        "SEMIANNUAL",
        "ANNUAL",
    ]
    assert products["recommendations"]["policy"]["cancellationNotice"] == "MONTH_PLUS_REMAINDER"
    assert products["recommendations"]["policy"]["retentionDays"] == 14
    assert products["email"]["policy"]["autoDowngradeAvailable"] is True
    assert products["helpdesk"]["policy"]["upgradePreferences"] == [
        "AUTO_UPGRADE",
        "FLEXIBLE_OVERAGE",
    ]


async def test_catalog_for_a_member_has_no_prices_and_everything_else(gql: GraphQLClient) -> None:
    # rule ACC-3
    owner = await gql(CATALOG, as_user="owner@acme.test")
    member = await gql(CATALOG, as_user="member@acme.test")
    assert set(error_codes(member)) == {"FORBIDDEN"}
    for product in member["data"]["catalog"]["products"]:
        assert product["seatPrices"] is None
        assert all(p["prices"] is None for p in product["plans"])
        assert all(a["prices"] is None for a in product["addOns"])
        assert all(s["prices"] is None for s in product["contactLimitLadder"])
    owner_plans = [
        (p["code"], p["features"])
        for prod in owner["data"]["catalog"]["products"]
        for p in prod["plans"]
    ]
    member_plans = [
        (p["code"], p["features"])
        for prod in member["data"]["catalog"]["products"]
        for p in prod["plans"]
    ]
    assert member_plans == owner_plans
