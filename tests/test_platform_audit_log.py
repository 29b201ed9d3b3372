"""ACC-6 and the audit rule (issue 13 item 6): the SaaS's backend reads every organization's audit
log with a platform key of scope audit:read, newest first, optionally one organization's by its
external id; organization keys and users' tokens are refused, and nothing here changes the log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx

from models import AuditEntry, Organization
from resolvers import audit
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, error_codes
from tests.factories import organization_with
from tests.test_provisioning import platform_key, run

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ITEMS = [{"product": "email", "plan": "email-1000"}]
ACTOR = audit.Actor("USER", UUID(int=7), "owner@example.test", "10.0.0.1")


async def _organization(external_id: str | None) -> Organization:
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    if external_id is not None:
        organization.external_id = external_id
        await organization.save(update_fields=["external_id"])
    return organization


async def _entries(organization: Organization, *actions: str) -> None:
    for name in actions:
        action = audit.Action(name, f"{name}: done", audit.Amounts("CREDIT_BALANCE", "USD", 0, 500))
        await audit.record(organization.id, ACTOR, action, SEEDED_AT)


async def _log(client: httpx.AsyncClient, key: str, **variables: Any) -> dict[str, Any]:
    return await run(client, key, "PlatformAuditLog", variables)


def _page(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["platformAuditLog"]
    return page


async def test_a_platform_key_reads_every_organizations_log_newest_first_rule_acc_6(
    client: httpx.AsyncClient,
) -> None:
    first = await _organization("saas-org-a1")
    second = await _organization(None)
    await _entries(first, "grantCredit")
    await _entries(second, "extendTrial")
    await _entries(first, "voidInvoice")
    key = await platform_key("audit:read")

    page = _page(await _log(client, key, first=2))
    edges = page["edges"]
    assert [e["node"]["action"] for e in edges] == ["voidInvoice", "extendTrial"]
    assert edges[0]["organization"] == {
        "id": str(first.id),
        "slug": first.slug,
        "externalId": "saas-org-a1",
    }
    assert edges[1]["organization"] == {
        "id": str(second.id),
        "slug": second.slug,
        "externalId": None,
    }
    assert edges[0]["node"]["amountAfter"] == {
        "amount": 500,
        "currency": "USD",
        "formatted": "$5.00",
    }
    assert page["pageInfo"]["hasNextPage"] is True

    rest = _page(await _log(client, key, first=1, after=page["pageInfo"]["endCursor"]))
    assert [(e["node"]["action"], e["organization"]["slug"]) for e in rest["edges"]] == [
        ("grantCredit", first.slug)
    ]
    bad = await _log(client, key, first=1, after="not-a-cursor")
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert "pageInfo.endCursor" in bad["errors"][0]["message"]


async def test_the_filter_reads_one_organizations_log_rule_acc_6(
    client: httpx.AsyncClient,
) -> None:
    wanted = await _organization("saas-org-f1")
    other = await _organization("saas-org-f2")
    await _entries(wanted, "grantCredit", "voidInvoice", "extendTrial")
    await _entries(other, "recordOfflinePayment")
    key = await platform_key("audit:read")

    page = _page(await _log(client, key, first=2, organizationExternalId="saas-org-f1"))
    assert [e["node"]["action"] for e in page["edges"]] == ["extendTrial", "voidInvoice"]
    assert {e["organization"]["externalId"] for e in page["edges"]} == {"saas-org-f1"}
    rest = _page(
        await _log(
            client,
            key,
            first=2,
            after=page["pageInfo"]["endCursor"],
            organizationExternalId="saas-org-f1",
        )
    )
    assert [e["node"]["action"] for e in rest["edges"]] == ["grantCredit"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_an_unknown_external_id_is_not_found_rule_acc_6(client: httpx.AsyncClient) -> None:
    key = await platform_key("audit:read")
    body = await _log(client, key, organizationExternalId="saas-org-nobody")
    assert error_codes(body) == ["NOT_FOUND"]
    assert "saas-org-nobody" in body["errors"][0]["message"]
    assert body["data"]["platformAuditLog"] is None


async def test_keys_without_the_scope_and_users_are_refused_rule_acc_6(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization = await _organization("saas-org-r1")
    await _entries(organization, "grantCredit")
    before = await AuditEntry.all().count()

    other_scope = await _log(client, await platform_key("organizations:read"))
    assert error_codes(other_scope) == ["FORBIDDEN"]
    assert "lacks the scope audit:read" in other_scope["errors"][0]["message"]

    organization_key = await create_api_key(
        organization.slug, "saas", ["entitlements:read"], SEEDED_AT
    )
    bound = await _log(client, organization_key)
    assert error_codes(bound) == ["FORBIDDEN"]
    assert "platform keys only" in bound["errors"][0]["message"]

    owner = f"owner@{organization.slug}.test"
    user = await gql("{ platformAuditLog { edges { cursor } } }", as_user=owner)
    assert error_codes(user) == ["FORBIDDEN"]
    assert "Signed-in users cannot run this" in user["errors"][0]["message"]
    assert user["data"]["platformAuditLog"] is None
    assert await AuditEntry.all().count() == before  # reading wrote nothing


async def test_a_page_costs_the_same_statements_as_it_grows_rule_acc_6(
    client: httpx.AsyncClient, sql_queries: QueryCounter
) -> None:
    for index in range(4):
        organization = await _organization(f"saas-org-c{index}")
        await _entries(organization, "grantCredit", "voidInvoice")
    key = await platform_key("audit:read")
    _page(await _log(client, key, first=1))  # the process now keeps the key, as a running gateway
    counts = []
    for first in (1, 3, 8):
        sql_queries.statements.clear()
        page = _page(await _log(client, key, first=first))
        assert len(page["edges"]) == first
        counts.append(sql_queries.count)
    assert counts[0] == counts[1] == counts[2], sql_queries.statements
    sql_queries.statements.clear()
    _page(await _log(client, key, first=8, organizationExternalId="saas-org-c0"))
    assert sql_queries.count == counts[0] + 1, sql_queries.statements  # + the organization
