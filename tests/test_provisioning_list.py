"""Listing organizations with a platform key (PRV-1): status, plans and amounts due, filtered and
paginated by cursor, in the same number of statements however many organizations there are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from billing.invoices import InvoiceKind, InvoiceStatus
from billing.subscription_status import SubscriptionStatus
from models import Invoice, Organization
from tests.conftest import SEEDED_AT, QueryCounter, error_codes
from tests.factories import organization_with
from tests.test_provisioning import platform_key, run

PERIOD = (SEEDED_AT - timedelta(days=20), SEEDED_AT + timedelta(days=10))


async def _overdue_invoice(organization: Organization, amount: int, days_overdue: int) -> None:
    organization.invoice_sequence += 1
    await organization.save(update_fields=["invoice_sequence"])
    await Invoice.create(
        organization=organization,
        number=f"{organization.slug.upper()}-{organization.invoice_sequence}",
        sequence=organization.invoice_sequence,
        kind=InvoiceKind.SUBSCRIPTION,
        status=InvoiceStatus.OPEN,
        currency="USD",
        total=amount,
        amount_due=amount,
        issued_at=SEEDED_AT - timedelta(days=days_overdue + 1),
        due_at=SEEDED_AT - timedelta(days=days_overdue),
    )


async def _list(client: httpx.AsyncClient, key: str, **variables: Any) -> dict[str, Any]:
    body = await run(client, key, "ListOrganizations", variables)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["organizations"]
    return page


async def test_frozen_and_overdue_organizations_are_found_with_their_amounts_rule_prv_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key("organizations:read")
    frozen, _ = await organization_with(
        [{"product": "messaging", "plan": "growth"}],
        period=PERIOD,
        status=SubscriptionStatus.FROZEN,
    )
    await _overdue_invoice(frozen, 4900, days_overdue=8)
    await _overdue_invoice(frozen, 1500, days_overdue=-3)  # open, not yet due
    page = await _list(client, key, filter={"status": "FROZEN"}, first=100)
    assert {n["status"] for n in page["nodes"]} == {"FROZEN"}
    [found] = [n for n in page["nodes"] if n["slug"] == frozen.slug]
    assert found["plans"] == [{"product": "messaging", "plan": "growth", "planName": "Growth"}]
    assert (found["amountDue"]["amount"], found["overdueAmount"]["amount"]) == (6400, 4900)
    assert found["overdueAmount"]["formatted"] == "$49.00"

    overdue = await _list(client, key, filter={"overdue": True}, first=100)
    slugs = {n["slug"] for n in overdue["nodes"]}
    assert frozen.slug in slugs and "acme" not in slugs  # Acme's invoices are paid
    assert all(n["overdueAmount"]["amount"] > 0 for n in overdue["nodes"])
    not_overdue = await _list(client, key, filter={"overdue": False}, first=100)
    assert frozen.slug not in {n["slug"] for n in not_overdue["nodes"]}
    assert {"acme", "globex"} <= {n["slug"] for n in not_overdue["nodes"]}


async def _walk(client: httpx.AsyncClient, key: str, first: int) -> list[Any]:
    walked: list[Any] = []
    after = None
    while True:
        page = await _list(client, key, first=first, after=after)
        walked += page["nodes"] if first == 100 else [n["slug"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return walked
        after = page["pageInfo"]["endCursor"]


async def test_pages_walk_every_organization_once_rule_prv_1(client: httpx.AsyncClient) -> None:
    key = await platform_key("organizations:read")
    everything = await _walk(client, key, 100)
    by_sevens = await _walk(client, key, 7)
    assert by_sevens == [n["slug"] for n in everything] == sorted(set(by_sevens))
    assert await Organization.all().count() == len(by_sevens)
    globex = next(n for n in everything if n["slug"] == "globex")
    assert (globex["status"], globex["plans"][0]["plan"]) == ("TRIALING", "plus")

    bad_cursor = await run(client, key, "ListOrganizations", {"after": "%%%"})
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]
    too_many = await run(client, key, "ListOrganizations", {"first": 101})
    assert error_codes(too_many) == ["BAD_USER_INPUT"]
    assert "first is 1 to 100" in too_many["errors"][0]["message"]


async def test_the_list_costs_the_same_statements_as_it_grows_rule_prv_1(
    client: httpx.AsyncClient, sql_queries: QueryCounter
) -> None:
    key = await platform_key("organizations:read")
    for _ in range(8):  # at least 8 organizations, whatever else the database holds
        organization, _ = await organization_with(
            [
                {"product": "messaging", "plan": "starter"},
                {"product": "email", "plan": "email-500"},
            ],
            period=PERIOD,
        )
        await _overdue_invoice(organization, 1000, days_overdue=2)
    await _list(client, key, first=1)  # the process now keeps the key (a running gateway's state)
    counts = []
    for first in (1, 3, 8):
        sql_queries.statements.clear()
        page = await _list(client, key, first=first)
        assert len(page["nodes"]) == first
        counts.append(sql_queries.count)
    assert counts[0] == counts[1] == counts[2], sql_queries.statements
    assert counts[0] <= 5  # the page, subscriptions, items, open invoices (+ slack of 1)
