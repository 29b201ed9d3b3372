"""Promotion codes applied, removed, and the discount in force on each invoice (DSC-1, DSC-2).

The rules are billing.discounts'; here the facts are loaded (redemption counts, the
organization's history, what this period's invoices already took off), and the rows written.
Callers hold the organization's lock where they write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing import discounts
from billing.clock import offset
from billing.invoices import InvoiceKind, InvoiceStatus
from billing.subscription_status import SubscriptionStatus
from models import (
    Coupon,
    Invoice,
    Organization,
    PromotionCode,
    Redemption,
    Subscription,
    SubscriptionDiscount,
    SubscriptionItem,
)
from resolvers import hot_reads
from resolvers.coupon_store import coupon_value, promotion_value
from resolvers.locks import lock_organization


@dataclass(frozen=True)
class Offered:
    """A promotion code that passed its checks, not yet written: what a preview discounts with
    and what applying it then records."""

    promotion: PromotionCode
    coupon: Coupon
    value: discounts.PromotionCode


async def find_promotion_code(text: str, *, lock: bool) -> tuple[PromotionCode, Coupon]:
    code = discounts.normalize_code(text)
    query = PromotionCode.filter(code=code)
    if lock:  # the redemption limits are counted under this row's lock (DSC-1)
        query = query.select_for_update()
    row = await query.first()
    if row is None:
        raise discounts.DiscountError(
            f"There is no promotion code {code!r}: check its spelling.",
            discounts.DiscountErrorCode.UNKNOWN_PROMOTION_CODE,
        )
    return row, await Coupon.get(id=row.coupon_id)


async def offer(
    organization: Organization,
    text: str,
    subscribed: Sequence[tuple[str, str]],
    now: datetime,
    *,
    lock: bool,
) -> Offered:
    """DSC-1: the code, checked for this organization and these (product, plan) lines."""
    promotion, coupon = await find_promotion_code(text, lock=lock)
    value = promotion_value(promotion, coupon)
    facts = discounts.Redemption(
        now=now,
        currency=organization.currency,
        code_redemptions=await Redemption.filter(promotion_code_id=promotion.id).count(),
        coupon_redemptions=await Redemption.filter(coupon_id=coupon.id).count(),
        used_by_organization=await Redemption.exists(
            promotion_code_id=promotion.id, organization_id=organization.id
        ),
        had_paid_subscription=await Invoice.exists(
            organization_id=organization.id,
            kind__in=[InvoiceKind.SUBSCRIPTION, InvoiceKind.PLAN_CHANGE],
        ),
        subscribed=list(subscribed),
        has_discount=await _current(organization.id) is not None,
    )
    discounts.check_redemption(value, facts)
    return Offered(promotion, coupon, value)


async def redeem(organization: Organization, offered: Offered, now: datetime) -> None:
    """Records the redemption and puts the discount in force from this period (DSC-1)."""
    await Redemption.create(
        promotion_code_id=offered.promotion.id,
        coupon_id=offered.coupon.id,
        organization_id=organization.id,
        redeemed_at=now,
    )
    await SubscriptionDiscount.filter(organization_id=organization.id).delete()
    await SubscriptionDiscount.create(
        organization_id=organization.id,
        coupon_id=offered.coupon.id,
        promotion_code_id=offered.promotion.id,
        applied_at=now,
        periods_left=offered.value.coupon.periods(),
    )


def starting_now(offered: Offered) -> discounts.InForce:
    """A code given with a change that starts a paid period now (subscribe)."""
    return discounts.InForce(offered.value.coupon, offered.value.coupon.periods(), True)


def applied_mid_period(offered: Offered) -> discounts.InForce:
    """A code given with a change inside a period whose invoice was issued without it."""
    return discounts.InForce(offered.value.coupon, offered.value.coupon.periods(), False)


async def _current(organization_id: UUID) -> SubscriptionDiscount | None:
    row = await hot_reads.subscription_discount(organization_id)
    if row is None or row.periods_left == 0:
        return None
    return row


async def in_force(
    stored: SubscriptionDiscount | None, row: Subscription
) -> discounts.InForce | None:
    """The discount for an invoice issued inside the subscription's current period, from the
    organization's discount row (`hot_reads.subscription_discount`)."""
    if stored is None or stored.periods_left == 0:
        return None
    coupon = coupon_value(await Coupon.get(id=stored.coupon_id))
    used = 0
    if coupon.amounts_off is not None:
        used = await _discounted_since(stored.organization_id, row.current_period_start)
    return discounts.InForce(
        coupon,
        stored.periods_left,
        billed_this_period=stored.applied_at <= row.current_period_start,
        fixed_used_this_period=used,
    )


async def at_renewal(organization_id: UUID, *, write: bool) -> discounts.InForce | None:
    """DSC-1: a new period: one period fewer left; the discount for its invoice, if it lasts.
    `write` (the billing clock) stores the count and ends a discount that has run out; the
    upcoming invoice reads the same without writing."""
    current = await SubscriptionDiscount.filter(organization_id=organization_id).first()
    if current is None:
        return None
    left = discounts.periods_after_renewal(current.periods_left)
    if write:
        if left == 0:
            await SubscriptionDiscount.filter(id=current.id).delete()
        else:
            await SubscriptionDiscount.filter(id=current.id).update(periods_left=left)
    if left == 0:
        return None
    coupon = coupon_value(await Coupon.get(id=current.coupon_id))
    return discounts.InForce(coupon, left, billed_this_period=True)


async def remove(organization_id: UUID) -> SubscriptionDiscount:
    current = await _current(organization_id)
    if current is None:
        raise discounts.DiscountError(
            "There is no discount to remove.", discounts.DiscountErrorCode.NO_DISCOUNT, "input"
        )
    await SubscriptionDiscount.filter(id=current.id).delete()
    return current


async def _discounted_since(organization_id: UUID, start: datetime) -> int:
    """What the invoices issued in this period already took off (a fixed coupon's amount is
    for the period, however many invoices it is spread over)."""
    invoices = (
        await Invoice.filter(
            organization_id=organization_id,
            issued_at__gte=start,
            kind__in=[InvoiceKind.SUBSCRIPTION, InvoiceKind.PLAN_CHANGE],
        )
        .exclude(status=InvoiceStatus.VOID)
        .only("id", "discount_total")
    )
    return sum(invoice.discount_total for invoice in invoices)


@dataclass(frozen=True)
class DiscountView:
    """The discount in force, for Subscription.discount."""

    coupon: discounts.Coupon
    promotion_code: str | None
    applied_at: datetime
    periods_left: int | None


async def current_discount(organization_id: UUID) -> DiscountView | None:
    current = await _current(organization_id)
    if current is None:
        return None
    coupon = coupon_value(await Coupon.get(id=current.coupon_id))
    code = None
    if current.promotion_code_id is not None:
        promotion = await PromotionCode.get_or_none(id=current.promotion_code_id)
        code = promotion.code if promotion else None
    return DiscountView(coupon, code, current.applied_at, current.periods_left)


async def apply_promotion_code(organization_id: UUID, text: str, base_now: datetime) -> None:
    """applyPromotionCode (DSC-1): from the next invoice of this period on (a plan change) or
    the next renewal; the current period counts as its first. A refused code changes nothing."""
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        row = await Subscription.filter(organization_id=organization_id).first()
        if row is None or row.status is SubscriptionStatus.CANCELLED:
            raise discounts.DiscountError(
                "There is no subscription to discount: subscribe with the code instead.",
                discounts.DiscountErrorCode.PROMOTION_CODE_NOT_APPLICABLE,
            )
        items = await SubscriptionItem.filter(subscription_id=row.id).values_list(
            "product__code", "plan__code"
        )
        subscribed = [(str(product), str(plan)) for product, plan in items]
        offered = await offer(organization, text, subscribed, now, lock=True)
        await redeem(organization, offered, now)


async def remove_discount(organization_id: UUID) -> None:
    """removeDiscount: the next invoice is billed without it; the redemption still counts."""
    async with in_transaction():
        await lock_organization(organization_id)
        await remove(organization_id)
