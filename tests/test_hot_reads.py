"""The written-out hot reads (resolvers/hot_reads.py) build the same instances as the ORM's reads,
field by field (values, types, time zones, JSON), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from billing.access import Role
from billing.discounts import CouponDuration
from billing.errors import NotFoundError
from billing.invoices import InvoiceKind, InvoiceStatus
from models import (
    ALL_WORKSPACES,
    BillingInfo,
    Coupon,
    Invoice,
    InvoiceLine,
    Issuer,
    Membership,
    Organization,
    PaymentMethod,
    Subscription,
    SubscriptionDiscount,
    SubscriptionItem,
    SubscriptionItemAddOn,
    UsageCounter,
    User,
    Workspace,
)
from resolvers import hot_columns, hot_reads, hot_statements
from resolvers.invoicing import overdue_invoices
from resolvers.loaders import Loaders
from resolvers.locks import is_postgres
from resolvers.organization import find_organization, find_organization_and_subscription
from resolvers.usage import usage_in_period
from resolvers.viewer import Viewer, load_viewer
from tests.conftest import QueryCounter
from tests.factories import organization_with

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
ITEMS: list[dict[str, Any]] = [
    {"product": "messaging", "plan": "growth"},
    {"product": "email", "plan": "email-1000", "stock": {"contacts": 12}},
    {
        "product": "marketing",
        "plan": "plus",
        "contact_limit": 1000,
        "seats": 1,
        "add_ons": ["sms", "custom_domain"],
    },
]


def assert_same(written: Sequence[Model], read: Sequence[Model]) -> None:
    assert len(written) == len(read) > 0
    for mine, theirs in zip(written, read, strict=True):
        assert type(mine) is type(theirs)
        assert not mine._partial
        assert mine._saved_in_db and mine._custom_generated_pk == theirs._custom_generated_pk
        for name in type(mine)._meta.fields_db_projection:
            a, b = getattr(mine, name), getattr(theirs, name)
            assert type(a) is type(b), (type(mine).__name__, name, a, b)
            assert a == b, (type(mine).__name__, name, a, b)
            if isinstance(a, datetime):
                assert a.tzinfo == b.tzinfo, (name, a.tzinfo, b.tzinfo)


async def _filled_organization() -> Organization:
    """Every nullable column of the rows read holds a value somewhere."""
    organization, _ = await organization_with(ITEMS, period=PERIOD)
    at = PERIOD[0] + timedelta(days=3, microseconds=123456)
    await Organization.filter(id=organization.id).update(
        data_delete_at=at,
        data_deleted_at=at,
        automatic_charges_paused=True,
        automatic_charges_pause_reason="paused",
        failed_payment_method_id="pm_x",
        processor_customer_id="cus_x",
        external_id=f"ext-{organization.id}",
        clock_offset_seconds=3600,
    )
    await Subscription.filter(organization_id=organization.id).update(
        trial_ends_at=at,
        cancel_at=at,
        cancel_reason="because",
        cancelled_at=at,
        auto_downgrade_checked_for=at,
        renewal_notice_for=at,
        trial_ending_notice_for=at,
        usage_closed_until=at,
        next_due_at=at,
    )
    await SubscriptionItem.filter(subscription__organization_id=organization.id).update(
        scheduled_change={"kind": "DOWNGRADE", "terms": {"plan_id": 1}, "interval": None},
        seats_in_use=1,
    )
    for n, status in enumerate([InvoiceStatus.PAID, InvoiceStatus.OPEN, InvoiceStatus.OPEN]):
        await Invoice.create(
            organization=organization,
            number=f"T-{n}",
            sequence=n + 1,
            kind=InvoiceKind.PLAN_CHANGE,
            status=status,
            currency="USD",
            total=1234 + n,
            amount_due=1000,
            issued_at=at,
            due_at=at + timedelta(days=7),
            paid_at=at if status is InvoiceStatus.PAID else None,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            pending_change={"change": [1, 2]} if n == 2 else None,
            billing_details={"name": "Ünïcode", "lines": ["a", "b"]},
            tax_summary=[{"rate": "20", "tax": 5}],
            tax_total=5,
            tax_legend="legend",
        )
    await PaymentMethod.create(
        organization=organization,
        processor_id="pm_second",
        brand="mastercard",
        last4="4444",
        exp_month=1,
        exp_year=2030,
        is_default=False,
    )
    for workspace in (ALL_WORKSPACES, "sales"):
        await UsageCounter.create(
            organization_id=organization.id,
            product_id=1,
            metric="contacts",
            period_start=PERIOD[0],
            workspace=workspace,
            value=2**40,
            notified_thresholds=[80],
        )
    return organization


@pytest.mark.usefixtures("database")  # the models' relations are resolved by Tortoise.init
def test_every_read_selects_every_column_of_its_model() -> None:
    for model, columns in hot_columns.COLUMNS.items():
        assert len(set(columns)) == len(columns), model
        assert set(columns) == set(model._meta.fields_db_projection.values()), model


@pytest.mark.usefixtures("database")
async def test_the_page_loaders_reads_build_what_the_orm_builds() -> None:
    organization = await _filled_organization()
    ids = [organization.id, uuid4()]
    assert_same(await hot_reads.organizations(ids), await Organization.filter(id__in=ids))
    subscriptions = await hot_reads.subscriptions(ids)
    assert_same(subscriptions, await Subscription.filter(organization_id__in=ids))
    subscription_ids = [subscriptions[0].id]
    items = await hot_reads.items(subscription_ids)
    assert_same(
        items,
        await SubscriptionItem.filter(subscription_id__in=subscription_ids).order_by("id"),
    )
    item_ids = [i.id for i in items]
    assert_same(
        await hot_reads.add_ons(item_ids),
        await SubscriptionItemAddOn.filter(item_id__in=item_ids).order_by("id"),
    )


@pytest.mark.usefixtures("database")
async def test_the_subscription_with_its_items_and_add_ons_is_what_the_orm_builds() -> None:
    organization = await _filled_organization()
    read = (
        await SubscriptionItem.filter(subscription__organization_id=organization.id)
        .select_related("subscription")
        .order_by("product_id")
    )
    found = await hot_reads.subscription_and_items(organization.id)
    assert found is not None
    subscription, items = found
    assert_same([subscription], [read[0].subscription])
    assert_same(items, read)
    assert all(item.subscription is subscription for item in items)

    with_add_ons = await hot_reads.subscription_items_and_add_ons(organization.id)
    assert with_add_ons is not None
    assert_same([with_add_ons[0]], [read[0].subscription])
    assert_same(with_add_ons[1], read)
    add_ons = await SubscriptionItemAddOn.filter(item_id__in=[i.id for i in read]).order_by("id")
    assert len(add_ons) == 2
    written_add_ons: list[SubscriptionItemAddOn] = sorted(with_add_ons[2], key=_by_id)
    assert_same(written_add_ons, add_ons)


def _by_id(add_on: SubscriptionItemAddOn) -> str:
    return str(add_on.id)


@pytest.mark.usefixtures("database")
async def test_a_subscription_without_items_and_no_subscription_at_all() -> None:
    organization = await _filled_organization()
    await SubscriptionItem.filter(subscription__organization_id=organization.id).delete()
    row = await Subscription.get(organization_id=organization.id)
    assert await hot_reads.subscription_and_items(organization.id) == (row, [])
    found = await hot_reads.subscription_items_and_add_ons(organization.id)
    assert found is not None and found[1:] == ([], [])
    assert_same([found[0]], [row])
    assert await hot_reads.subscription_and_items(uuid4()) is None
    assert await hot_reads.subscription_items_and_add_ons(uuid4()) is None


@pytest.mark.usefixtures("database")
async def test_a_usage_batch_reads_the_row_the_live_workspaces_and_the_subscription() -> None:
    connection = connections.get("default")
    if not is_postgres(connection):
        pytest.skip("one statement on PostgreSQL; SQLite reads them apart")
    organization = await _filled_organization()
    at = PERIOD[0]
    for slug, archived_at in (("live", None), ("also", None), ("gone", at)):
        await Workspace.create(organization=organization, slug=slug, name=slug, archived_at=at)
        await Workspace.filter(slug=slug).update(archived_at=archived_at)
    found = await hot_reads.usage_batch(connection, organization.id)
    assert found is not None and found.subscription is not None
    assert (found.clock_offset_seconds, found.automatic_charges_paused) == (3600, True)
    assert found.workspaces == {"live", "also"}
    apart = await hot_reads.subscription_and_items(organization.id)
    assert apart is not None
    assert_same([found.subscription], [apart[0]])
    assert_same(found.items, apart[1])
    assert all(item.subscription is found.subscription for item in found.items)

    await SubscriptionItem.filter(subscription__organization_id=organization.id).delete()
    found = await hot_reads.usage_batch(connection, organization.id)
    assert found is not None and found.items == []
    await Subscription.filter(organization_id=organization.id).delete()
    await Workspace.filter(organization_id=organization.id).delete()
    found = await hot_reads.usage_batch(connection, organization.id)
    assert found == hot_reads.UsageBatchRows(3600, True, set(), None, [])
    assert await hot_reads.usage_batch(connection, uuid4()) is None


@pytest.mark.usefixtures("database")
async def test_the_first_invoice_page_the_cards_and_the_counters_are_what_the_orm_reads() -> None:
    organization = await _filled_organization()
    query = Invoice.filter(organization_id=organization.id)
    invoices, total = await hot_reads.first_invoices(organization.id, None, 2)
    assert_same(invoices, await query.order_by("-sequence").limit(2))
    assert total == await query.count() == 3
    invoices, total = await hot_reads.first_invoices(organization.id, InvoiceStatus.OPEN, 5)
    assert_same(invoices, await query.filter(status=InvoiceStatus.OPEN).order_by("-sequence"))
    assert total == 2
    assert await hot_reads.first_invoices(uuid4(), None, 5) == ([], 0)

    assert_same(
        await hot_reads.payment_methods(organization.id),
        await PaymentMethod.filter(organization_id=organization.id).order_by("created_at"),
    )
    for workspace in (None, "sales"):
        used = await hot_reads.used_in_period(organization.id, PERIOD[0], workspace)
        assert used == await usage_in_period(organization.id, PERIOD[0], workspace)
        assert used == {(1, "contacts"): 2**40}
    assert await hot_reads.used_in_period(organization.id, PERIOD[1], None) == {}


class _RolledBack(Exception):
    pass


def assert_same_or_none(written: Model | None, read: Model | None) -> None:
    assert (written is None) == (read is None), (written, read)
    if written is not None and read is not None:
        assert_same([written], [read])


async def assert_change_facts_are_what_the_orm_reads(organization_id: Any, now: datetime) -> None:
    """`change_facts` reads in one statement what the ORM and the separate reads read."""
    facts = await hot_reads.change_facts(organization_id, now)
    issuing = facts.issuing
    assert_same_or_none(issuing.issuer, await Issuer.get_or_none(id=1))
    assert_same_or_none(
        issuing.billing_info, await BillingInfo.get_or_none(organization_id=organization_id)
    )
    assert_same_or_none(
        issuing.discount, await SubscriptionDiscount.get_or_none(organization_id=organization_id)
    )
    charge = (issuing.charge_found, issuing.charge_rate)
    assert charge == await hot_reads.latest_charge_rate(organization_id, now)
    assert_same_or_none(
        facts.card,
        await PaymentMethod.filter(organization_id=organization_id, is_default=True).first(),
    )
    assert facts.overdue == await overdue_invoices(organization_id, now).count()  # DUN-2
    waiting = Invoice.filter(
        organization_id=organization_id, status=InvoiceStatus.OPEN, pending_change__isnull=False
    )
    assert facts.payment_waiting == await waiting.exists()  # CHG-5


@pytest.mark.usefixtures("database")
async def test_the_previews_other_reads_are_what_the_orm_reads() -> None:
    organization = await _filled_organization()
    now = PERIOD[0] + timedelta(days=11)
    card = await hot_reads.default_payment_method(organization.id)
    assert card is not None and card.is_default
    orm_card = await PaymentMethod.filter(organization_id=organization.id, is_default=True).first()
    assert orm_card is not None
    assert_same([card], [orm_card])
    assert await hot_reads.default_payment_method(uuid4()) is None

    # One open invoice past its due date, one waiting for its payment (CHG-5), one paid.
    for at, overdue in ((now, 1), (PERIOD[0], 0)):
        facts = await hot_reads.change_facts(organization.id, at)
        assert (facts.overdue, facts.payment_waiting) == (overdue, True)
        await assert_change_facts_are_what_the_orm_reads(organization.id, at)
    await Invoice.filter(organization_id=organization.id).update(pending_change=None)
    facts = await hot_reads.change_facts(organization.id, now)
    assert (facts.overdue, facts.payment_waiting) == (2, False)
    await assert_change_facts_are_what_the_orm_reads(organization.id, now)
    await PaymentMethod.filter(organization_id=organization.id, is_default=True).delete()
    assert (await hot_reads.change_facts(organization.id, now)).card is None  # no card
    await assert_change_facts_are_what_the_orm_reads(organization.id, now)

    assert await hot_reads.tax_details(organization.id) is None
    await assert_change_facts_are_what_the_orm_reads(organization.id, now)
    await BillingInfo.create(
        organization=organization,
        company_name="Co",
        billing_email="b@co.test",
        country="IT",
        region="",
        tax_id="IT123",
    )
    info = await BillingInfo.get(organization_id=organization.id)
    assert await hot_reads.tax_details(organization.id) == (info.country, info.region, info.tax_id)
    await assert_change_facts_are_what_the_orm_reads(organization.id, now)

    def latest() -> Any:
        return (
            InvoiceLine.filter(
                invoice__organization_id=organization.id,
                amount__gt=0,
                period_start__lte=now,
                period_end__gt=now,
            )
            .exclude(invoice__status=InvoiceStatus.VOID)
            .order_by("-invoice__sequence", "-position")
            .first()
        )

    assert await latest() is None
    assert await hot_reads.latest_charge_rate(organization.id, now) == (False, None)
    invoices = await Invoice.filter(organization_id=organization.id).order_by("sequence")
    rate = {"name": "IVA", "percent": "22", "reverse_charge": False}
    for invoice, tax_rate in zip(invoices, [rate, None, {"name": "old"}], strict=True):
        for position, amount in ((1, 500), (2, -100)):
            await InvoiceLine.create(
                invoice=invoice,
                position=position,
                description="line",
                amount=amount,
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                tax_rate=tax_rate,
            )
    await Invoice.filter(id=invoices[2].id).update(status=InvoiceStatus.VOID)
    line = await latest()
    assert line is not None and line.tax_rate is None
    assert await hot_reads.latest_charge_rate(organization.id, now) == (True, None)
    await assert_change_facts_are_what_the_orm_reads(organization.id, now)
    await Invoice.filter(id=invoices[1].id).update(status=InvoiceStatus.VOID)
    line = await latest()
    assert line is not None and line.tax_rate == rate
    assert await hot_reads.latest_charge_rate(organization.id, now) == (True, line.tax_rate)
    await assert_change_facts_are_what_the_orm_reads(organization.id, now)
    issuing = (await hot_reads.change_facts(organization.id, now)).issuing
    assert issuing.issuer is not None and issuing.billing_info is not None
    with pytest.raises(_RolledBack):  # the session's issuer is kept
        async with in_transaction():
            await Issuer.filter(id=1).delete()
            await assert_change_facts_are_what_the_orm_reads(organization.id, now)
            raise _RolledBack
    assert await Issuer.exists(id=1)
    assert await hot_reads.change_facts(uuid4(), now) == hot_reads.ChangeFacts(
        None, 0, False, hot_reads.Issuing(None, None, None, False, None)
    )


@pytest.mark.usefixtures("database")
async def test_the_discount_in_force_is_what_the_orm_reads() -> None:
    organization = await _filled_organization()
    assert await hot_reads.subscription_discount(organization.id) is None
    coupon = await Coupon.create(
        code=f"HOT-{organization.slug}",
        name="Hot",
        duration=CouponDuration.REPEATING,
        duration_periods=3,
        percent_off_bp=2000,
    )
    for periods_left in (3, None):
        await SubscriptionDiscount.filter(organization_id=organization.id).delete()
        await SubscriptionDiscount.create(
            organization_id=organization.id,
            coupon_id=coupon.id,
            applied_at=PERIOD[0] + timedelta(microseconds=5),
            periods_left=periods_left,
        )
        discount = await hot_reads.subscription_discount(organization.id)
        assert discount is not None
        orm = await SubscriptionDiscount.filter(organization_id=organization.id).first()
        assert orm is not None
        assert_same([discount], [orm])
        await assert_change_facts_are_what_the_orm_reads(organization.id, PERIOD[0])


def _by_product(item: SubscriptionItem) -> int:
    return item.product_id


@pytest.mark.usefixtures("database")
async def test_the_organization_with_its_subscription_is_what_the_orm_builds() -> None:
    organization = await _filled_organization()
    read = await hot_reads.organization_and_subscription(organization.id)
    assert read is not None and read.subscription is not None
    assert_same([read.organization], [await Organization.get(id=organization.id)])
    assert_same([read.subscription], [await Subscription.get(organization_id=organization.id)])
    items = await SubscriptionItem.filter(subscription_id=read.subscription.id).order_by(
        "product_id"
    )
    assert len(items) == 3
    assert_same(read.items, items)
    assert all(item.subscription is read.subscription for item in read.items)
    add_ons = await SubscriptionItemAddOn.filter(item_id__in=[i.id for i in items]).order_by("id")
    assert len(add_ons) == 2  # both on Marketing Plus
    written_add_ons: list[SubscriptionItemAddOn] = sorted(read.add_ons, key=_by_id)
    assert_same(written_add_ons, add_ons)
    apart = await hot_reads.subscription_items_and_add_ons(organization.id)
    assert apart is not None
    assert [i.id for i in apart[1]] == [i.id for i in read.items]

    await SubscriptionItemAddOn.filter(item_id__in=[i.id for i in items]).delete()
    read = await hot_reads.organization_and_subscription(organization.id)
    assert read is not None and read.add_ons == []
    assert_same(read.items, items)  # items without add-ons

    await Subscription.filter(organization_id=organization.id).delete()
    read = await hot_reads.organization_and_subscription(organization.id)
    assert read is not None
    assert (read.subscription, read.items, read.add_ons) == (None, [], [])
    assert_same([read.organization], [await Organization.get(id=organization.id)])
    assert await hot_reads.organization_and_subscription(uuid4()) is None


@pytest.mark.usefixtures("database")
async def test_finding_the_organization_with_its_subscription_refuses_what_finding_it_refuses(
    sql_queries: QueryCounter,
) -> None:
    organization = await _filled_organization()
    owner = await Membership.get(organization_id=organization.id, role=Role.OWNER)
    viewer = await load_viewer(owner.user_id)
    assert viewer is not None
    other, _ = await organization_with(ITEMS, period=PERIOD)  # another tenant's
    for requested in (str(other.id), str(uuid4()), "not-an-id"):
        with pytest.raises(NotFoundError) as apart:
            await find_organization(viewer, Loaders(), requested)
        with pytest.raises(NotFoundError) as together:
            await find_organization_and_subscription(viewer, Loaders(), requested)
        assert str(together.value) == str(apart.value)
        assert together.value.field == apart.value.field == "id"
    stranger = Viewer(user_id=uuid4(), email="s@x.test", name="S", roles={})
    with pytest.raises(NotFoundError) as apart:
        await find_organization(stranger, Loaders(), None)
    with pytest.raises(NotFoundError) as together:
        await find_organization_and_subscription(stranger, Loaders(), None)
    assert str(together.value) == str(apart.value)

    loaders = Loaders()
    read = await find_organization_and_subscription(viewer, loaders, None)
    assert read.organization.id == organization.id and read.subscription is not None
    start = sql_queries.count
    assert await loaders.organization.load(organization.id) is read.organization
    row = await loaders.subscription_by_organization.load(organization.id)
    assert row is read.subscription
    items = await loaders.items_by_subscription.load(row.id)
    assert [i.id for i in items] == sorted(i.id for i in read.items)  # the loader's order
    marketing = max(read.items, key=_by_product)
    add_ons = await loaders.add_ons_by_item.load(marketing.id)
    assert [a.id for a in add_ons] == sorted(a.id for a in read.add_ons)
    assert sql_queries.count == start  # the loaders were given what was read

    # A role kept for an organization that is no longer there.
    gone = Viewer(user_id=viewer.user_id, email="o@x.test", name="O", roles={uuid4(): Role.OWNER})
    with pytest.raises(NotFoundError) as apart:
        await find_organization(gone, Loaders(), None)
    with pytest.raises(NotFoundError) as together:
        await find_organization_and_subscription(gone, Loaders(), None)
    assert str(together.value) == str(apart.value)


@pytest.mark.usefixtures("database")
async def test_the_user_and_their_roles_are_what_the_orm_reads() -> None:
    first, owner = await organization_with(ITEMS, period=PERIOD)
    second, _ = await organization_with(ITEMS, period=PERIOD)
    user = await User.get(email=owner)
    await Membership.create(organization=second, user=user, role=Role.BILLING_ADMIN)
    loner = await User.create(email=f"loner-{uuid4()}@x.test", name="Loner")
    for user_id in (user.id, loner.id):
        found = await hot_reads.user_and_roles(user_id)
        row = await User.get(id=user_id)
        memberships = await Membership.filter(user_id=user_id).order_by("created_at", "id")
        assert found is not None
        assert (found.user_id, found.email, found.name) == (row.id, row.email, row.name)
        assert list(found.roles.items()) == [(m.organization_id, m.role) for m in memberships]
        for (org, role), m in zip(found.roles.items(), memberships, strict=True):
            assert (type(org), type(role)) == (type(m.organization_id), type(m.role))
            assert isinstance(org, UUID) and type(role) is Role
    found = await hot_reads.user_and_roles(user.id)
    assert found is not None
    assert list(found.roles.items()) == [(first.id, Role.OWNER), (second.id, Role.BILLING_ADMIN)]
    loner_found = await hot_reads.user_and_roles(loner.id)
    assert loner_found is not None and loner_found.roles == {}
    assert await hot_reads.user_and_roles(uuid4()) is None


def test_a_builder_is_written_once_per_model_columns_and_tortoises_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    columns = hot_columns.INVOICE_COLUMNS
    build = hot_statements.builder(Invoice, columns)
    assert hot_statements.builder(Invoice, columns) is build
    with pytest.raises(ValueError, match="unpack"):  # a row of another length
        build(tuple(range(len(columns) - 1)))
    # Tortoise.init made the meta's lists again (another database): written again from them
    monkeypatch.setattr(Invoice._meta, "db_native_fields", list(Invoice._meta.db_native_fields))
    assert hot_statements.builder(Invoice, columns) is not build
