"""Renewals in batches (issue 15, DUN-1, IDM-1): a claimed batch's plain renewals are written
set-based, row for row as the step-by-step path writes them; the rest go step by step; a crash
or a failed write never charges twice; one organization's trouble does not hold up the others."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from tortoise import connections

from billing.subscription_status import SubscriptionStatus
from models import (
    ALL_WORKSPACES,
    BillingInfo,
    Invoice,
    InvoiceLine,
    Notification,
    Organization,
    Payment,
    Subscription,
    UsageCounter,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from models.discount import Coupon, SubscriptionDiscount
from payments.port import ChargeRequest, ChargeResult, ProcessorUnavailableError
from payments.sandbox import SandboxProcessor
from resolvers import renewal_batch
from resolvers.billing_clock import run_claimed_work
from resolvers.schedule_store import LEASE
from tests.conftest import SEEDED_AT, QueryCounter
from tests.factories import organization_with

pytestmark = pytest.mark.usefixtures("database")

# Far from the other tests' due times (tests/test_workers.py uses SEEDED_AT - 1 h).
ENDED = (SEEDED_AT - timedelta(days=31, hours=2), SEEDED_AT - timedelta(hours=2))
S = SubscriptionStatus
STORE = [{"product": "store", "plan": "business"}]
MESSAGING = [{"product": "messaging", "plan": "starter", "upgrade_preference": "ON_DEMAND"}]


class Processor(SandboxProcessor):
    """The sandbox, counting the charges it made (a repeated key finds the first: not made) and
    failing for the references it is told to."""

    def __init__(self, down: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.down = down

    @property
    def made(self) -> int:
        return len(self._records)

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.reference in self.down:
            raise ProcessorUnavailableError("The payment processor did not answer.")
        return await super().charge(request)


# The mix: plain renewals and every kind the batch leaves to the step-by-step path.
MIX: list[dict[str, Any]] = [
    {"items": STORE},
    {"items": STORE},
    {"items": MESSAGING},  # on demand, nothing used past the limit: plain
    {"items": MESSAGING, "used": 5_000},  # on-demand blocks to invoice (USE-6)
    {"items": STORE, "card": "pm_card_chargeDeclined"},  # declined (DUN-2)
    {"items": STORE, "card": None},  # no card
    {"items": STORE, "credit_balance": 1_500},  # INT-3
    {"items": STORE, "billing": {"country": "IT"}},  # TAX-1: 22 % VAT on a consumer
    {"items": STORE, "billing": {"country": "DE", "tax_id": "DE136695976"}},  # TAX-2
    {"items": STORE, "coupon": "spring20"},  # DSC-1: a discount in force counts its periods
    {"items": STORE, "status": S.TRIALING, "trial_ends_at": ENDED[1]},  # SUB-2
    {"items": STORE, "period": (SEEDED_AT - timedelta(days=100), SEEDED_AT - timedelta(days=69))},
]


async def _make(spec: dict[str, Any]) -> Organization:
    options = {k: v for k, v in spec.items() if k not in ("items", "used", "coupon", "billing")}
    options.setdefault("period", ENDED)
    organization, _ = await organization_with(spec["items"], **options)
    if "used" in spec:
        await UsageCounter.create(
            organization_id=organization.id,
            product_id=1,
            metric="mac",
            period_start=options["period"][0],
            workspace=ALL_WORKSPACES,
            value=spec["used"],
        )
    if "billing" in spec:
        await BillingInfo.create(
            organization=organization,
            company_name=organization.name,
            billing_email="billing@example.test",
            **spec["billing"],
        )
    if "coupon" in spec:
        coupon = await Coupon.get(code=spec["coupon"])
        await SubscriptionDiscount.create(
            organization_id=organization.id,
            coupon_id=coupon.id,
            applied_at=options["period"][0],
            periods_left=3,
        )
    return organization


async def _endpoint() -> WebhookEndpoint:
    return await WebhookEndpoint.create(
        url="https://receiver.test/hook",
        events=["invoice.issued", "invoice.paid", "invoice.payment_failed"],
        secret="whsec_test",
        created_at=SEEDED_AT - timedelta(days=400),
    )


def _normal(value: Any, organization: Organization, ids: dict[str, str]) -> Any:
    """A value with what differs between two organizations made alike (ids, names, the random
    event ids) replaced by stable names."""
    text = json.dumps(value, default=str, sort_keys=True)
    for key in sorted(ids, key=len, reverse=True):
        text = text.replace(key, ids[key])
    text = text.replace(str(organization.id), "ORG").replace(organization.slug, "SLUG")
    text = text.replace(organization.slug.upper(), "SLUG")
    text = text.replace(organization.name, "NAME")
    text = re.sub(r"evt_[0-9a-f]{24}", "EVT", text)
    return json.loads(text)


async def _state(organization: Organization) -> dict[str, Any]:
    """Everything a renewal writes for the organization, comparable between two organizations."""
    skip = {"created_at", "updated_at", "id"}

    def rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k not in skip} for r in found]

    invoices = await Invoice.filter(organization_id=organization.id).order_by("sequence").values()
    invoice_ids = [i["id"] for i in invoices]
    ids = {str(i): f"INVOICE{n}" for n, i in enumerate(invoice_ids)}
    payments = await Payment.filter(invoice_id__in=invoice_ids).order_by("created_at").values()
    for payment in payments:  # the sandbox's charge id is made from the key
        payment["processor_charge_id"] = bool(payment["processor_charge_id"])
    deliveries = await WebhookDelivery.filter(organization_id=organization.id).order_by("id")
    # Event ids are random: events made in the same instant are put in the order they are
    # delivered in (EVT-1), which is the order a receiver sees.
    delivered: dict[str, int] = {}
    for n, delivery in enumerate(deliveries):
        delivered.setdefault(delivery.event_id, n)
    events = sorted(
        await WebhookEvent.filter(organization_id=organization.id),
        key=lambda e: (e.created_at, delivered.get(e.id, len(deliveries)), e.type),
    )
    order = {e.id: n for n, e in enumerate(events)}
    state = {
        "organization": rows(await Organization.filter(id=organization.id).values())[0],
        "subscription": rows(await Subscription.filter(organization_id=organization.id).values()),
        "invoices": rows(invoices),
        "lines": rows(
            sorted(
                await InvoiceLine.filter(invoice_id__in=invoice_ids).values(),
                key=lambda line: (ids[str(line["invoice_id"])], line["position"]),
            )
        ),
        "payments": rows(payments),
        "events": [(e.type, e.created_at, json.loads(e.body)) for e in events],
        "deliveries": [(order[d.event_id], d.status, str(d.endpoint_id)) for d in deliveries],
        "notices": rows(
            await Notification.filter(organization_id=organization.id)
            .order_by("created_at", "kind")
            .values("kind", "message", "created_at", "invoice_id")
        ),
    }
    return {k: _normal(v, organization, ids) for k, v in state.items()}


async def test_a_batch_writes_what_the_step_by_step_path_writes_rule_dun_1() -> None:
    # DUN-1, INV-1, EVT-1: the same mix renewed both ways gives the same rows, row for row.
    endpoint = await _endpoint()
    try:
        one_by_one = [await _make(spec) for spec in MIX]
        batched = [await _make(spec) for spec in MIX]
        processor = Processor()
        before = await run_claimed_work(
            SEEDED_AT, processor, organization_ids=[o.id for o in one_by_one], set_based=False
        )
        batch_events = await run_claimed_work(
            SEEDED_AT, processor, batch=50, organization_ids=[o.id for o in batched]
        )
        for step, batch in zip(one_by_one, batched, strict=True):
            got, want = await _state(batch), await _state(step)
            for key in want:
                assert got[key] == want[key], (batch.slug, key)
            mine = [e for e in batch_events if e.startswith(f"{batch.name}:")]
            theirs = [e for e in before if e.startswith(f"{step.name}:")]
            assert _normal(mine, batch, {}) == _normal(theirs, step, {})
        # The mix did renew set-based: plain ones, paid, with their events.
        renewed = [e for e in batch_events if "renewed to" in e and "paid" in e]
        assert len(renewed) >= 4, batch_events
        assert await WebhookDelivery.filter(endpoint_id=endpoint.id).count() > 0
    finally:
        endpoint.disabled_at = SEEDED_AT
        await endpoint.save()


async def test_a_batch_of_50_renewals_takes_a_constant_number_of_statements(
    sql_queries: QueryCounter,
) -> None:
    # Issue 15: one multi-row statement per table per batch, not per subscription.
    organizations = [await _make({"items": STORE}) for _ in range(50)]
    ids = [o.id for o in organizations]
    processor = Processor()
    before = sql_queries.count
    events = await run_claimed_work(SEEDED_AT, processor, batch=50, organization_ids=ids)
    statements = sql_queries.statements[before:]
    assert len([e for e in events if "renewed to" in e]) == 50
    assert processor.made == 50
    assert len(statements) <= 30, statements
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) <= 5, inserts  # invoices, lines, payments (no endpoint: no events)
    assert await Invoice.filter(organization_id__in=ids).count() == 50
    assert await Payment.filter(invoice__organization_id__in=ids).count() == 50


class Crash(BaseException):
    """The process dying: nothing in the gateway catches it."""


async def test_a_crash_after_the_charges_charges_nothing_twice_rule_idm_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # IDM-1: the batch charged, then died before its write; the rerun (after the claim's lease)
    # finds each charge by its key.
    ids = [(await _make({"items": STORE})).id for _ in range(4)]
    processor = Processor()

    async def crash(paid: list[Any]) -> None:
        raise Crash

    monkeypatch.setattr(renewal_batch, "_write", crash)
    with pytest.raises(Crash):
        await run_claimed_work(SEEDED_AT, processor, batch=10, organization_ids=ids)
    assert processor.made == 4
    assert await Invoice.filter(organization_id__in=ids).count() == 0
    monkeypatch.undo()

    events = await run_claimed_work(SEEDED_AT + LEASE, processor, batch=10, organization_ids=ids)
    assert len([e for e in events if "renewed to" in e]) == 4
    assert processor.made == 4
    assert await Invoice.filter(organization_id__in=ids).count() == 4
    assert await Payment.filter(invoice__organization_id__in=ids).count() == 4


async def test_a_failed_batch_write_is_redone_one_by_one_without_charging_twice_rule_idm_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [(await _make({"items": STORE})).id for _ in range(3)]
    processor = Processor()

    async def broken(paid: list[Any]) -> None:
        raise RuntimeError("the database refused the batch")

    monkeypatch.setattr(renewal_batch, "_write", broken)
    events = await run_claimed_work(SEEDED_AT, processor, batch=10, organization_ids=ids)
    assert len([e for e in events if "renewed to" in e and "paid" in e]) == 3, events
    assert processor.made == 3
    for organization_id in ids:
        assert await Invoice.filter(organization_id=organization_id).count() == 1
        assert await Payment.filter(invoice__organization_id=organization_id).count() == 1


async def test_one_organizations_failed_charge_does_not_hold_up_the_others_rule_dun_2() -> None:
    # DUN-2: a declined card goes to dunning, a processor that does not answer postpones its
    # organization; the rest of the batch renews.
    plain = [(await _make({"items": STORE})).id for _ in range(3)]
    declined = (await _make({"items": STORE, "card": "pm_card_chargeDeclined"})).id
    unanswered = (await _make({"items": STORE})).id
    processor = Processor(down=frozenset({str(unanswered)}))
    ids = [*plain, declined, unanswered]
    events = await run_claimed_work(SEEDED_AT, processor, batch=10, organization_ids=ids)
    assert any("postponed" in e for e in events), events
    for organization_id in plain:
        row = await Subscription.get(organization_id=organization_id)
        assert row.status is S.ACTIVE and row.current_period_start == ENDED[1]
        assert await Payment.filter(invoice__organization_id=organization_id).count() == 1
    assert (await Subscription.get(organization_id=declined)).status is S.PENDING_PAYMENT
    assert await Notification.exists(organization_id=declined, invoice_id__isnull=False)
    assert await Invoice.filter(organization_id=unanswered).count() == 0
    assert (await Subscription.get(organization_id=unanswered)).current_period_end == ENDED[1]


async def test_the_claim_reads_an_index_on_next_due_at() -> None:
    # Migration 0026: 0025 declared the index; now both dialects have it.
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        sql = "SELECT indexdef FROM pg_indexes WHERE tablename = 'subscription'"
    else:
        sql = "SELECT sql AS indexdef FROM sqlite_master WHERE tbl_name = 'subscription'"
    found = [str(r["indexdef"]) for r in await connection.execute_query_dict(sql)]
    assert any("next_due_at" in d and "INDEX" in d.upper() for d in found), found
