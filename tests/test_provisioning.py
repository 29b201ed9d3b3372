"""The provisioning API (PRV-1) through the ASGI app, with platform keys (ACC-6): each call is
idempotent by the SaaS's external id, there is always exactly one owner (ACC-1), and bad input
gets an error a person can act on and changes nothing."""

from __future__ import annotations

from itertools import count
from typing import Any

import httpx
import pytest

from billing.access import Role
from models import (
    BillingInfo,
    Membership,
    Organization,
    Subscription,
    SubscriptionItem,
    User,
    WebhookEndpoint,
    WebhookEvent,
    Workspace,
)
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, error_codes, trusted_request

_serial = count(1)


async def platform_key(*scopes: str) -> str:
    return await create_api_key(
        None, "saas backend", list(scopes or ("organizations:write",)), SEEDED_AT
    )


async def run(
    client: httpx.AsyncClient, key: str, operation: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json=trusted_request(operation, variables),
        headers={"Authorization": f"Bearer {key}"},
    )
    body: dict[str, Any] = response.json()
    return body


def new_organization(**overrides: Any) -> dict[str, Any]:
    n = next(_serial)
    values: dict[str, Any] = {
        "externalId": f"saas-org-{n}",
        "name": f"Initech {n}",
        "slug": f"initech-{n}",
        "owner": {"email": f"peter{n}@initech.test", "name": "Peter", "externalId": f"u-p{n}"},
        "billingInfo": {"companyName": f"Initech {n} LLC", "billingEmail": "ap@initech.test"},
    }
    return {**values, **overrides}


def answer(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def provisioned(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    body = await run(client, key, "CreateOrganization", {"input": new_organization()})
    organization: dict[str, Any] = answer(body, "createOrganization")["organization"]
    return organization


async def test_an_organization_is_created_once_by_its_external_id_rule_prv_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key()
    wanted = new_organization()
    first = answer(
        await run(client, key, "CreateOrganization", {"input": wanted}), "createOrganization"
    )
    again = answer(
        await run(client, key, "CreateOrganization", {"input": wanted}), "createOrganization"
    )
    assert first["changed"] is True and again["changed"] is False
    assert first["organization"] == again["organization"]
    created = first["organization"]
    assert (created["externalId"], created["slug"], created["status"]) == (
        wanted["externalId"],
        wanted["slug"],
        None,
    )
    assert created["members"] == [
        {
            "email": wanted["owner"]["email"],
            "name": "Peter",
            "externalId": wanted["owner"]["externalId"],
            "role": "OWNER",
        }
    ]
    assert await Organization.filter(external_id=wanted["externalId"]).count() == 1
    info = await BillingInfo.get(organization__external_id=wanted["externalId"])
    assert info.company_name == wanted["billingInfo"]["companyName"]


async def test_a_slug_or_external_id_of_another_organization_is_refused_rule_prv_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key()
    taken = await run(client, key, "CreateOrganization", {"input": new_organization(slug="acme")})
    error = answer(taken, "createOrganization")
    assert (error["__typename"], error["code"], error["field"]) == (
        "UserError",
        "BAD_USER_INPUT",
        "slug",
    )
    assert "used by another organization" in error["message"]
    existing = await provisioned(client, key)
    reused = new_organization(externalId=existing["externalId"])
    error = answer(
        await run(client, key, "CreateOrganization", {"input": reused}), "createOrganization"
    )
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "externalId")
    assert existing["slug"] in error["message"]
    assert not await Organization.exists(slug=reused["slug"])


async def test_bad_organization_input_changes_nothing_rule_prv_1(client: httpx.AsyncClient) -> None:
    key = await platform_key()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"slug": "Not A Slug"}, "slug"),
        ({"currency": "JPY"}, "currency"),  # CUR-1: only a currency the catalog prices
        ({"billingInfo": {"companyName": "X", "billingEmail": "nope"}}, "billingEmail"),
        ({"owner": {"email": "not-an-address", "name": "P"}}, "email"),
    ]
    for overrides, field in cases:
        wanted = new_organization(**overrides)
        error = answer(
            await run(client, key, "CreateOrganization", {"input": wanted}), "createOrganization"
        )
        # CUR-1: a currency the catalog has no prices in has its own code.
        code = "CURRENCY_UNSUPPORTED" if field == "currency" else "BAD_USER_INPUT"
        assert (error["__typename"], error["code"], error["field"]) == ("UserError", code, field)
        assert not await Organization.exists(external_id=wanted["externalId"])
    assert not await User.exists(email="not-an-address")


async def test_members_roles_and_one_owner_rule_acc_1(client: httpx.AsyncClient) -> None:
    key = await platform_key()
    organization = await provisioned(client, key)
    org_id = organization["externalId"]
    owner = organization["members"][0]["email"]
    billing = {
        "email": f"billing-{org_id}@initech.test",
        "name": "Bill",
        "externalId": f"u-b-{org_id}",
    }
    added = answer(
        await run(
            client,
            key,
            "AddMember",
            {"organizationExternalId": org_id, "person": billing, "role": "BILLING_ADMIN"},
        ),
        "addMember",
    )
    resent = answer(
        await run(
            client,
            key,
            "AddMember",
            {"organizationExternalId": org_id, "person": billing, "role": "BILLING_ADMIN"},
        ),
        "addMember",
    )
    assert (added["changed"], resent["changed"]) == (True, False)
    assert {(m["email"], m["role"]) for m in resent["organization"]["members"]} == {
        (owner, "OWNER"),
        (billing["email"], "BILLING_ADMIN"),
    }

    second_owner = {"email": f"bob-{org_id}@initech.test", "name": "Bob"}
    error = answer(
        await run(
            client,
            key,
            "AddMember",
            {"organizationExternalId": org_id, "person": second_owner, "role": "OWNER"},
        ),
        "addMember",
    )
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "role")
    assert "transferOwnership" in error["message"]
    assert not await User.exists(email=second_owner["email"])

    promote = {"organizationExternalId": org_id, "email": billing["email"], "role": "OWNER"}
    error = answer(await run(client, key, "ChangeMemberRole", promote), "changeMemberRole")
    assert error["code"] == "BAD_USER_INPUT" and "transferOwnership" in error["message"]
    demote_owner = {"organizationExternalId": org_id, "email": owner, "role": "MEMBER"}
    error = answer(await run(client, key, "ChangeMemberRole", demote_owner), "changeMemberRole")
    assert error["code"] == "BAD_USER_INPUT" and "transferOwnership" in error["message"]
    changed = {"organizationExternalId": org_id, "email": billing["email"], "role": "ADMIN"}
    assert answer(await run(client, key, "ChangeMemberRole", changed), "changeMemberRole")[
        "changed"
    ]
    row = await Organization.get(external_id=org_id)
    assert await Membership.filter(organization=row, role=Role.OWNER).count() == 1


async def test_ownership_is_transferred_and_the_owner_is_never_removed_rule_acc_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key()
    organization = await provisioned(client, key)
    org_id = organization["externalId"]
    owner = organization["members"][0]["email"]
    heir = {"email": f"heir-{org_id}@initech.test", "name": "Heir"}
    await run(
        client,
        key,
        "AddMember",
        {"organizationExternalId": org_id, "person": heir, "role": "MEMBER"},
    )

    removal = {"organizationExternalId": org_id, "email": owner}
    error = answer(await run(client, key, "RemoveMember", removal), "removeMember")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "email")
    assert "transferOwnership" in error["message"]

    transfer = {
        "organizationExternalId": org_id,
        "email": heir["email"],
        "previousOwnerRole": "BILLING_ADMIN",
    }
    done = answer(await run(client, key, "TransferOwnership", transfer), "transferOwnership")
    again = answer(await run(client, key, "TransferOwnership", transfer), "transferOwnership")
    assert (done["changed"], again["changed"]) == (True, False)
    assert {(m["email"], m["role"]) for m in again["organization"]["members"]} == {
        (owner, "BILLING_ADMIN"),
        (heir["email"], "OWNER"),
    }
    removed = answer(await run(client, key, "RemoveMember", removal), "removeMember")
    resent = answer(await run(client, key, "RemoveMember", removal), "removeMember")
    assert (removed["changed"], resent["changed"]) == (True, False)
    assert [m["email"] for m in resent["organization"]["members"]] == [heir["email"]]


async def test_workspaces_are_created_once_and_archived_rule_prv_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key()
    org_id = (await provisioned(client, key))["externalId"]
    workspace = {"organizationExternalId": org_id, "slug": "support", "name": "Support"}
    first = answer(await run(client, key, "CreateWorkspace", workspace), "createWorkspace")
    again = answer(await run(client, key, "CreateWorkspace", workspace), "createWorkspace")
    assert (first["changed"], again["changed"]) == (True, False)
    archive = {"organizationExternalId": org_id, "slug": "support"}
    archived = answer(await run(client, key, "ArchiveWorkspace", archive), "archiveWorkspace")
    assert archived["changed"] is True
    assert archived["organization"]["workspaces"] == [
        {"slug": "support", "name": "Support", "archivedAt": SEEDED_AT.isoformat()}
    ]
    assert (
        answer(await run(client, key, "ArchiveWorkspace", archive), "archiveWorkspace")["changed"]
        is False
    )
    missing = {"organizationExternalId": org_id, "slug": "nowhere"}
    body = await run(client, key, "ArchiveWorkspace", missing)
    assert error_codes(body) == ["NOT_FOUND"]
    assert await Workspace.filter(organization__external_id=org_id).count() == 1


async def test_a_trial_starts_without_a_card_and_once_rule_sub_2(client: httpx.AsyncClient) -> None:
    key = await platform_key()
    endpoint = await WebhookEndpoint.create(
        url="https://hooks.example.com/in",
        events=["subscription.created"],
        secret="whsec_test",
        created_at=SEEDED_AT,
    )
    try:
        await _a_trial_starts_without_a_card_and_once(client, key)
    finally:
        await endpoint.delete()  # no other test's clock may try to send to it


async def _a_trial_starts_without_a_card_and_once(client: httpx.AsyncClient, key: str) -> None:
    org_id = (await provisioned(client, key))["externalId"]
    trial = {
        "organizationExternalId": org_id,
        "input": {"product": "marketing", "plan": "plus", "trialDays": 30},
    }
    started = answer(await run(client, key, "StartTrial", trial), "startTrial")
    again = answer(await run(client, key, "StartTrial", trial), "startTrial")
    assert (started["changed"], again["changed"]) == (True, False)
    organization = again["organization"]
    assert organization["status"] == "TRIALING"
    assert organization["trialEndsAt"] == "2026-04-11T09:30:00+00:00"  # 30 days after SEEDED_AT
    assert organization["plans"] == [{"product": "marketing", "plan": "plus", "planName": "Plus"}]
    [item] = await SubscriptionItem.filter(subscription__organization__external_id=org_id)
    assert (item.contact_limit, item.seats) == (1000, 1)  # the ladder's first step, included seats
    # EVT-1: the SaaS's backend hears of the new subscription once, not again for the resend.
    events = await WebhookEvent.filter(organization__external_id=org_id)
    assert [event.type for event in events] == ["subscription.created"]

    other = (await provisioned(client, key))["externalId"]
    unknown_plan = {
        "organizationExternalId": other,
        "input": {"product": "marketing", "plan": "gold"},
    }
    error = answer(await run(client, key, "StartTrial", unknown_plan), "startTrial")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "plan")
    assert "plus" in error["message"]
    too_long = {
        "organizationExternalId": other,
        "input": {"product": "marketing", "plan": "plus", "trialDays": 400},
    }
    error = answer(await run(client, key, "StartTrial", too_long), "startTrial")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "trialDays")
    assert not await Subscription.exists(organization__external_id=other)
    on_acme = {
        "organizationExternalId": "nobody-has-this",
        "input": {"product": "marketing", "plan": "plus"},
    }
    assert error_codes(await run(client, key, "StartTrial", on_acme)) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "operation",
    ["CreateOrganization", "ListOrganizations"],
)
async def test_an_organization_key_may_not_provision_rule_acc_6(
    client: httpx.AsyncClient, operation: str
) -> None:
    acme_key = await create_api_key("acme", "partner", ["usage:write", "billing:refund"], SEEDED_AT)
    variables = {"input": new_organization()} if operation == "CreateOrganization" else {}
    body = await run(client, acme_key, operation, variables)
    assert error_codes(body) == ["FORBIDDEN"]
    assert "platform" in body["errors"][0]["message"]
    if operation == "CreateOrganization":
        assert not await Organization.exists(external_id=variables["input"]["externalId"])


async def test_a_platform_key_needs_the_scope_it_uses_rule_acc_6(client: httpx.AsyncClient) -> None:
    reader = await platform_key("organizations:read")
    wanted = new_organization()
    body = await run(client, reader, "CreateOrganization", {"input": wanted})
    assert error_codes(body) == ["FORBIDDEN"]
    assert "organizations:write" in body["errors"][0]["message"]
    writer = await platform_key("organizations:write")
    body = await run(client, writer, "ListOrganizations", {})
    assert error_codes(body) == ["FORBIDDEN"]
    assert "organizations:read" in body["errors"][0]["message"]
    assert not await Organization.exists(external_id=wanted["externalId"])


async def test_a_signed_in_user_may_not_provision_rule_acc_6(client: httpx.AsyncClient) -> None:
    from tests.conftest import token_for

    token = await token_for("owner@acme.test")
    body = await run(client, token, "CreateOrganization", {"input": new_organization()})
    assert error_codes(body) == ["FORBIDDEN"]
    assert "platform API key" in body["errors"][0]["message"]
    # A small page, so the request fits the anonymous cost budget and reaches the sign-in check.
    small_page = trusted_request("ListOrganizations", {"first": 5})
    anonymous = await client.post("/graphql", json=small_page)
    assert error_codes(anonymous.json()) == ["UNAUTHENTICATED"]


async def test_an_archived_workspace_takes_no_more_usage_rule_prv_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key()
    organization = await provisioned(client, key)
    org_id = organization["externalId"]
    trial = {"organizationExternalId": org_id, "input": {"product": "email", "plan": "email-500"}}
    assert answer(await run(client, key, "StartTrial", trial), "startTrial")["changed"]
    workspace = {"organizationExternalId": org_id, "slug": "sales", "name": "Sales"}
    await run(client, key, "CreateWorkspace", workspace)
    usage_key = await create_api_key(organization["slug"], "app", ["usage:write"], SEEDED_AT)

    async def record(event_id: str) -> dict[str, Any]:
        event = {"id": event_id, "product": "email", "metric": "emails", "quantity": 3}
        body = await run(
            client, usage_key, "RecordUsage", {"events": [{**event, "workspace": "sales"}]}
        )
        return answer(body, "recordUsage")

    assert (await record("before"))["__typename"] == "UsageRecorded"
    archive = {"organizationExternalId": org_id, "slug": "sales"}
    assert answer(await run(client, key, "ArchiveWorkspace", archive), "archiveWorkspace")[
        "changed"
    ]
    refused = await record("after")
    assert (refused["__typename"], refused["code"]) == ("UserError", "BAD_USER_INPUT")
    assert "no workspace 'sales'" in refused["message"]
