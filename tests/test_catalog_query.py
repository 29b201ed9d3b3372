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


async def test_acc3_list_prices_are_public_to_members_and_to_anonymous_callers(
    gql: GraphQLClient,
) -> None:
    # rule ACC-3: the catalog's list prices are public: a member and a caller with no token get
    # the owner's answer, prices included.
    owner = await gql(CATALOG, as_user="owner@acme.test")
    member = await gql(CATALOG, as_user="member@acme.test")
    anonymous = await gql(CATALOG)
    assert "errors" not in owner
    assert member == owner
    assert anonymous == owner
    messaging = next(p for p in member["data"]["catalog"]["products"] if p["code"] == "messaging")
    assert _prices(messaging["plans"][2]) == {"MONTHLY": 27900, "ANNUAL": 267800}
    assert messaging["policy"]["onDemand"]["blockPrice"] == {"amount": 1000}


async def test_acc3_a_member_still_gets_no_organization_money(gql: GraphQLClient) -> None:
    # rule ACC-3: public list prices do not open what the organization itself pays.
    body = await gql(
        "{ catalog { currency } organization { name subscription { status recurringAmount "
        "{ amount } } creditBalance { amount } } }",
        as_user="member@acme.test",
    )
    assert body["data"]["catalog"] == {"currency": "USD"}
    assert body["data"]["organization"]["subscription"]["recurringAmount"] is None
    assert body["data"]["organization"]["creditBalance"] is None
    assert set(error_codes(body)) == {"FORBIDDEN"}
