"""The permission table: every field of the schema, the roles that may read it, and a walk of
the whole table for the four roles and an anonymous caller (rules ACC-2, ACC-3, ACC-5)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type

from billing.access import Role
from schema import schema
from tests.conftest import GraphQLClient

ANY = frozenset(Role)
BILLING = frozenset({Role.OWNER, Role.BILLING_ADMIN})


def _fields(
    type_name: str, roles: frozenset[Role], *names: str
) -> dict[tuple[str, str], frozenset[Role]]:
    return {(type_name, name): roles for name in names}


# rule ACC-3: prices and money for billing roles; plan, status and counts for every member.
# Price and Money are reached only through fields gated for billing roles.
PERMISSIONS: dict[tuple[str, str], frozenset[Role]] = {
    **_fields("Query", ANY, "viewer", "organization", "catalog"),
    **_fields("Viewer", ANY, "user", "memberships"),
    **_fields("User", ANY, "id", "email", "name"),
    **_fields("Membership", ANY, "role", "organization"),
    **_fields(
        "Organization",
        ANY,
        "id",
        "slug",
        "name",
        "viewerRole",
        "members",
        "workspaces",
        "subscription",
    ),
    **_fields("Organization", BILLING, "creditBalance"),
    **_fields("Member", ANY, "user", "role"),
    **_fields("Workspace", ANY, "id", "slug", "name"),
    **_fields(
        "Subscription",
        ANY,
        "id",
        "status",
        "billingInterval",
        "currentPeriodStart",
        "currentPeriodEnd",
        "nextBillingDate",
        "trialEndsAt",
        "cancelAt",
        "items",
    ),
    **_fields("Subscription", BILLING, "recurringAmount"),
    **_fields(
        "SubscriptionItem",
        ANY,
        "product",
        "plan",
        "seats",
        "contactLimit",
        "addOns",
        "upgradePreference",
        "autoDowngrade",
    ),
    **_fields("SubscriptionItem", BILLING, "recurringAmount"),
    **_fields("Catalog", ANY, "currency", "products", "product"),
    **_fields(
        "Product",
        ANY,
        "code",
        "name",
        "metrics",
        "intervals",
        "plans",
        "bundles",
        "addOns",
        "contactLimitLadder",
        "policy",
    ),
    **_fields("Product", BILLING, "seatPrices"),
    **_fields(
        "Plan",
        ANY,
        "code",
        "name",
        "rank",
        "bundle",
        "features",
        "limits",
        "seatsIncluded",
        "maxSeats",
    ),
    **_fields("Plan", BILLING, "prices"),
    **_fields("Limit", ANY, "metric", "value"),
    **_fields("AddOn", ANY, "code", "name", "minPlanRank"),
    **_fields("AddOn", BILLING, "prices"),
    **_fields("ContactLimitStep", ANY, "contactLimit"),
    **_fields("ContactLimitStep", BILLING, "prices"),
    **_fields("Bundle", ANY, "code", "name", "includes", "plans"),
    **_fields(
        "ProductPolicy",
        ANY,
        "upgradeProration",
        "downgradeTiming",
        "cancellationNotice",
        "retentionDays",
        "alertThresholds",
        "upgradePreferences",
        "defaultPreference",
        "autoDowngradeAvailable",
        "autoscaling",
        "billingAdminMayCancel",
        "onDemand",
    ),
    **_fields("OnDemandPricing", ANY, "metric", "blockSize"),
    **_fields("OnDemandPricing", BILLING, "blockPrice"),
    **_fields("Price", BILLING, "interval", "amount", "version"),
    **_fields("Money", BILLING, "amount", "currency", "formatted"),
}

# How a query reaches an object of each type, from the root (as Acme's users).
ROUTES: dict[str, list[str]] = {
    "Query": [],
    "Viewer": ["viewer"],
    "User": ["viewer", "user"],
    "Membership": ["viewer", "memberships"],
    "Organization": ["organization"],
    "Member": ["organization", "members"],
    "Workspace": ["organization", "workspaces"],
    "Subscription": ["organization", "subscription"],
    "SubscriptionItem": ["organization", "subscription", "items"],
    "Catalog": ["catalog"],
    "Product": ["catalog", "products"],
    "Plan": ["catalog", "products", "plans"],
    "Limit": ["catalog", "products", "plans", "limits"],
    "AddOn": ["catalog", "products", "addOns"],
    "ContactLimitStep": ["catalog", "products", "contactLimitLadder"],
    "Bundle": ["catalog", "products", "bundles"],
    "ProductPolicy": ["catalog", "products", "policy"],
    "OnDemandPricing": ["catalog", "products", "policy", "onDemand"],
    "Price": ["catalog", "products", "plans", "prices"],
    "Money": ["organization", "creditBalance"],
}
ARGUMENTS = {("Catalog", "product"): '(code: "messaging")'}
CALLERS: list[Role | None] = [Role.OWNER, Role.BILLING_ADMIN, Role.ADMIN, Role.MEMBER, None]
EMAILS = {
    Role.OWNER: "owner@acme.test",
    Role.BILLING_ADMIN: "billing@acme.test",
    Role.ADMIN: "admin@acme.test",
    Role.MEMBER: "member@acme.test",
}


def _schema_fields() -> set[tuple[str, str]]:
    graphql_schema = schema._schema
    return {
        (name, field)
        for name, graphql_type in graphql_schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType) and not name.startswith("__")
        for field in graphql_type.fields
    }


def _query_for(type_name: str, field: str) -> str:
    graphql_type = schema._schema.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    target = get_named_type(graphql_type.fields[field].type)
    selection = field + ARGUMENTS.get((type_name, field), "")
    if isinstance(target, GraphQLObjectType):
        selection += " { __typename }"
    route = ROUTES[type_name]
    opening = "".join(f"{step} {{ __typename " for step in route)
    return "{ " + opening + selection + " }" * len(route) + " }"


def _refusal(body: dict[str, Any], path: list[str]) -> str | None:
    """The code of an error raised on the field's path (or on one of its ancestors)."""
    for error in body.get("errors", []):
        error_path = [p for p in error.get("path") or [] if isinstance(p, str)]
        if error_path and path[: len(error_path)] == error_path:
            return str(error.get("extensions", {}).get("code"))
    return None


def test_the_table_lists_every_field_of_the_schema() -> None:
    fields = _schema_fields()
    assert sorted(fields - PERMISSIONS.keys()) == [], "fields with no row in the permission table"
    assert sorted(PERMISSIONS.keys() - fields) == [], "rows for fields the schema does not have"
    assert set(ROUTES) == {type_name for type_name, _ in fields}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.value if c else "anonymous")
async def test_walk_the_permission_table(gql: GraphQLClient, caller: Role | None) -> None:
    # rule ACC-2, ACC-3: a refused field is null with FORBIDDEN; the rest of the answer stays.
    mismatches = []
    for (type_name, field), allowed in sorted(PERMISSIONS.items()):
        path = [*ROUTES[type_name], field]
        body = await gql(_query_for(type_name, field), as_user=EMAILS[caller] if caller else None)
        refusal = _refusal(body, path)
        expected: str | None
        if caller is None:
            expected = "UNAUTHENTICATED"
        else:
            expected = None if caller in allowed else "FORBIDDEN"
            if expected is None and body.get("errors"):
                mismatches.append((type_name, field, f"unexpected errors {body['errors']}"))
                continue
            if expected == "FORBIDDEN" and (body.get("data") or {}).get(path[0]) is None:
                mismatches.append((type_name, field, "refusal did not keep the rest of the answer"))
        if refusal != expected:
            mismatches.append((type_name, field, f"expected {expected}, got {refusal}"))
    assert mismatches == []
