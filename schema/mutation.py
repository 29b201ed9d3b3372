"""The root Mutation: thin fields that authorise, call a use case, and map its outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

import strawberry

from billing.errors import BillingError
from billing.policies import UpgradePreference
from resolvers import billing_info as billing_info_service
from resolvers import currency as currency_service
from resolvers import discounts as discount_service
from resolvers import invoice_payments, lifecycle, organization_reads, plan_change, preferences
from resolvers import payment_methods as payment_method_service
from resolvers import refunds as refund_service
from resolvers.catalog import CatalogSnapshot
from resolvers.organization import find_organization, member_organization_id
from resolvers.preferences import PreferenceState
from resolvers.sandbox_clock import advance_test_clock
from schema.audit import Audited, actor_of
from schema.billing_info import BillingInfo, BillingInfoInput, BillingInfoResult, BillingInfoUpdated
from schema.context import Info
from schema.credit_note import CreditNote
from schema.discount_results import (
    ApplyPromotionCodeResult,
    DiscountApplied,
    DiscountRemoved,
    RemoveDiscountResult,
)
from schema.invoice import Invoice
from schema.payment_method import (
    PaymentMethod,
    PaymentMethodReplaced,
    PaymentMethodResult,
    SetupIntent,
)
from schema.permissions import (
    CanManageBilling,
    CanRecordUsage,
    CanRefund,
    IsAuthenticated,
    IsCaller,
    SandboxOnly,
    SandboxProcessorOnly,
)
from schema.plan_change import (
    PROMOTION_CODE,
    AccountChangeRequest,
    AccountChangeRequested,
    AccountChangeRequestResult,
    CancelResult,
    InvoicePaid,
    InvoiceRefunded,
    PayInvoiceResult,
    PaymentActionRequired,
    PlanChangeApplied,
    PlanChangeInput,
    PlanChangePreview,
    PlanChangeResult,
    PlanChangeScheduled,
    ReactivateResult,
    RefundResult,
    SubscriptionCancelled,
    SubscriptionReactivated,
    TestClock,
    UserError,
)
from schema.subscription import Subscription
from schema.usage import (
    ProductPreferences,
    RecordUsageResult,
    SetAutoDowngradeResult,
    SetUpgradePreferenceResult,
    UsageEventInput,
)
from schema.usage_recording import record_usage_events
from schema.user_errors import user_error


@strawberry.type(description="CUR-1: the organization is billed in this currency from now on.")
class OrganizationCurrencySet:
    currency: str


OrganizationCurrencyResult = Annotated[
    OrganizationCurrencySet | UserError, strawberry.union("OrganizationCurrencyResult")
]


async def _change(
    info: Info,
    input: PlanChangeInput,
    confirm_amount_due: int,
    *,
    subscribing: bool,
    promotion_code: str | None = None,
) -> PlanChangeResult:
    context = info.context
    viewer = context.require_viewer()
    # The caller's roles name the organization; apply_change reads its row under the lock.
    organization_id = member_organization_id(viewer, None)
    try:
        order = plan_change.Order(
            input.to_request(), confirm_amount_due, viewer.user_id, subscribing, promotion_code
        )
        snapshot = await context.loaders.catalog()
        outcome = await plan_change.apply_change(
            organization_id,
            order,
            context.clock.now(),
            context.processor,
            snapshot,
            on_locked=lambda row: context.loaders.organization.prime(organization_id, row),
        )
    except BillingError as error:
        return user_error(error)
    return await _result(organization_id, outcome)


async def _result(organization_id: UUID, outcome: plan_change.Outcome) -> PlanChangeResult:
    if isinstance(outcome, plan_change.Requested):
        return AccountChangeRequested(request=AccountChangeRequest.of(outcome.request))
    preview = PlanChangePreview.of(outcome.quote)
    if isinstance(outcome, plan_change.ActionRequired):
        return PaymentActionRequired(
            client_secret=outcome.client_secret,
            invoice=Invoice.of(outcome.invoice),
            preview=preview,
        )
    row = outcome.subscription or await organization_reads.changed_subscription(organization_id)
    subscription = Subscription.of(row)
    if isinstance(outcome, plan_change.Scheduled):
        return PlanChangeScheduled(
            preview=preview, effective_at=outcome.quote.effective_at, subscription=subscription
        )
    invoice = Invoice.of(outcome.invoice) if outcome.invoice else None
    return PlanChangeApplied(preview=preview, invoice=invoice, subscription=subscription)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[Audited("subscribe")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="SUB-2: from a trial to a paid plan.",
    )
    async def subscribe(
        self,
        info: Info,
        input: PlanChangeInput,
        confirm_amount_due: int,
        promotion_code: Annotated[str | None, PROMOTION_CODE] = None,
    ) -> PlanChangeResult:
        return await _change(
            info, input, confirm_amount_due, subscribing=True, promotion_code=promotion_code
        )

    @strawberry.mutation(
        extensions=[Audited("changePlan")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="Applies a change as previewed; refused if the amount due differs (CHG-2).",
    )
    async def change_plan(
        self,
        info: Info,
        input: PlanChangeInput,
        confirm_amount_due: int,
        promotion_code: Annotated[str | None, PROMOTION_CODE] = None,
    ) -> PlanChangeResult:
        return await _change(
            info, input, confirm_amount_due, subscribing=False, promotion_code=promotion_code
        )

    @strawberry.mutation(
        extensions=[Audited("applyPromotionCode")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description=(
            "DSC-1: applies a promotion code to the subscription, from its next invoice: a plan "
            "change in this period or the renewal; the current period is the first it counts. "
            "Refused codes (unknown, expired, over their limit, for other plans, used before) "
            "change nothing."
        ),
    )
    async def apply_promotion_code(self, info: Info, code: str) -> ApplyPromotionCodeResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            await discount_service.apply_promotion_code(organization.id, code, context.clock.now())
        except BillingError as error:
            return user_error(error)
        row = await organization_reads.changed_subscription(organization.id)
        return DiscountApplied(subscription=Subscription.of(row))

    @strawberry.mutation(
        extensions=[Audited("removeDiscount")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="DSC-1: the next invoice is billed without the discount in force.",
    )
    async def remove_discount(self, info: Info) -> RemoveDiscountResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            await discount_service.remove_discount(organization.id)
        except BillingError as error:
            return user_error(error)
        row = await organization_reads.changed_subscription(organization.id)
        return DiscountRemoved(subscription=Subscription.of(row))

    @strawberry.mutation(
        extensions=[Audited("cancelSubscription")],
        permission_classes=[IsAuthenticated],
        description="CAN-1, CAN-2; the owner only (ACC-4).",
    )
    async def cancel_subscription(self, info: Info, reason: str) -> CancelResult:
        context = info.context
        viewer = context.require_viewer()
        organization = await find_organization(viewer, context.loaders, None)
        try:
            row = await lifecycle.cancel_subscription(
                organization.id, viewer.role_in(organization.id), reason, context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        assert row.cancel_at is not None
        return SubscriptionCancelled(subscription=Subscription.of(row), cancel_at=row.cancel_at)

    @strawberry.mutation(
        extensions=[Audited("reactivateSubscription")],
        permission_classes=[IsAuthenticated, CanManageBilling],
    )
    async def reactivate_subscription(self, info: Info) -> ReactivateResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            row = await lifecycle.reactivate_subscription(organization.id, context.clock.now())
        except BillingError as error:
            return user_error(error)
        return SubscriptionReactivated(subscription=Subscription.of(row))

    @strawberry.mutation(
        extensions=[Audited("requestAccountChange")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="CHG-8",
    )
    async def request_account_change(self, info: Info, message: str) -> AccountChangeRequestResult:
        context = info.context
        viewer = context.require_viewer()
        organization = await find_organization(viewer, context.loaders, None)
        try:
            row = await lifecycle.request_account_change(
                organization.id, viewer.user_id, message, context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        return AccountChangeRequested(request=AccountChangeRequest.of(row))

    @strawberry.mutation(
        extensions=[Audited("setUpgradePreference")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="PREF-1: what happens at the product's limit; takes effect at once.",
    )
    async def set_upgrade_preference(
        self, info: Info, product: str, preference: UpgradePreference
    ) -> SetUpgradePreferenceResult:
        now = info.context.clock.now()
        return await _preferences(
            info,
            lambda org, snapshot: preferences.set_upgrade_preference(
                org, snapshot, product, preference, now
            ),
        )

    @strawberry.mutation(
        extensions=[Audited("setAutoDowngrade")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="PREF-3: the tier the profile count fits, 24 hours before the period ends.",
    )
    async def set_auto_downgrade(
        self, info: Info, product: str, enabled: bool
    ) -> SetAutoDowngradeResult:
        return await _preferences(
            info,
            lambda org, snapshot: preferences.set_auto_downgrade(org, snapshot, product, enabled),
        )

    @strawberry.mutation(
        permission_classes=[IsCaller, CanRecordUsage],
        description="USE-1: up to 1,000 events, validated whole: one bad event refuses the batch.",
    )
    async def record_usage(self, info: Info, events: list[UsageEventInput]) -> RecordUsageResult:
        return await _record_usage(info, events)

    @strawberry.mutation(
        extensions=[Audited("refundInvoice")],
        permission_classes=[IsCaller, CanRefund],
        description="INV-5: refunds what is left, or `amount` cents; API keys with billing:refund.",
    )
    async def refund_invoice(
        self, info: Info, invoice_id: strawberry.ID, amount: int | None = None, reason: str = ""
    ) -> RefundResult:
        return await _refund(info, invoice_id, amount, reason)

    @strawberry.mutation(
        extensions=[Audited("updateBillingInfo")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="INV-3: applies to the next invoices; issued ones keep the details they carry.",
    )
    async def update_billing_info(self, info: Info, input: BillingInfoInput) -> BillingInfoResult:
        return await _update_billing_info(info, input)

    @strawberry.mutation(
        extensions=[Audited("setOrganizationCurrency")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="CUR-1: the currency the organization is billed in, before its first "
        "subscription; refused (CURRENCY_FIXED) after it, (CURRENCY_UNSUPPORTED) for a currency "
        "the catalog has no prices in.",
    )
    async def set_organization_currency(
        self, info: Info, currency: str
    ) -> OrganizationCurrencyResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            row = await currency_service.set_currency(organization.id, currency)
        except BillingError as error:
            return user_error(error)
        return OrganizationCurrencySet(currency=row.currency)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="The client secret for the processor's card form (PAY-1: no card data here).",
    )
    async def create_setup_intent(self, info: Info) -> SetupIntent:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        intent = await payment_method_service.create_setup_intent(
            organization.id, context.processor
        )
        return SetupIntent(id=intent.id, client_secret=intent.client_secret)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="PAY-2: the new card becomes the default; the old one is detached and deleted.",
    )
    async def replace_payment_method(
        self, info: Info, payment_method_id: str
    ) -> PaymentMethodResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            row = await payment_method_service.replace_payment_method(
                organization.id,
                payment_method_id,
                context.clock.now(),
                context.processor,
                actor_of(context),  # audited with the change itself
            )
        except BillingError as error:
            return user_error(error)
        return PaymentMethodReplaced(payment_method=PaymentMethod.of(row))

    @strawberry.mutation(
        extensions=[Audited("advanceTestClock")],
        permission_classes=[IsAuthenticated, CanManageBilling, SandboxOnly],
        description=(
            "Sandbox only: moves the organization's billing time forward and runs the due work in "
            "between, in order, like a Stripe test clock."
        ),
    )
    async def advance_test_clock(self, info: Info, days: int = 0, hours: int = 0) -> TestClock:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        now, events = await advance_test_clock(
            organization.id, context.clock.now(), context.processor, days, hours
        )
        return TestClock(now=now, events=events)

    @strawberry.mutation(
        extensions=[Audited("payInvoice")],
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="Pay an open invoice now; paying all overdue ones restores the status (DUN-4).",
    )
    async def pay_invoice(self, info: Info, invoice_id: strawberry.ID) -> PayInvoiceResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            outcome = await invoice_payments.pay_invoice(
                organization.id, str(invoice_id), context.clock.now(), context.processor
            )
        except BillingError as error:
            return user_error(error)
        if isinstance(outcome, invoice_payments.InvoiceActionRequired):
            return PaymentActionRequired(
                client_secret=outcome.client_secret,
                invoice=Invoice.of(outcome.invoice),
                preview=None,
            )
        return InvoicePaid(
            invoice=Invoice.of(outcome.invoice), subscription=await _subscription(organization.id)
        )

    @strawberry.mutation(
        extensions=[Audited("completeTestPaymentAction")],
        permission_classes=[IsAuthenticated, CanManageBilling, SandboxProcessorOnly],
        description="Sandbox only: the customer completes (or fails) a payment's 3-D Secure step.",
    )
    async def complete_test_payment_action(
        self, info: Info, invoice_id: strawberry.ID, succeed: bool = True
    ) -> PayInvoiceResult:
        context = info.context
        organization = await find_organization(context.require_viewer(), context.loaders, None)
        try:
            invoice = await invoice_payments.complete_payment_action(
                organization.id, str(invoice_id), succeed, context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        return InvoicePaid(
            invoice=Invoice.of(invoice), subscription=await _subscription(organization.id)
        )


async def _update_billing_info(info: Info, input: BillingInfoInput) -> BillingInfoResult:
    context = info.context
    organization = await find_organization(context.require_viewer(), context.loaders, None)
    try:
        row = await billing_info_service.update_billing_info(organization.id, input.to_change())
    except BillingError as error:
        return user_error(error)
    return BillingInfoUpdated(billing_info=BillingInfo.of(row))


async def _refund(
    info: Info, invoice_id: strawberry.ID, amount: int | None, reason: str
) -> RefundResult:
    context = info.context
    key = context.api_key
    assert key is not None and key.organization_id is not None  # CanRefund
    try:
        asked = refund_service.RefundAsked(str(invoice_id), amount, reason)
        invoice, note = await refund_service.refund_invoice(
            key.organization_id, asked, context.clock.now(), context.processor
        )
    except BillingError as error:
        return user_error(error)
    return InvoiceRefunded(invoice=Invoice.of(invoice), credit_note=CreditNote.of(note))


async def _record_usage(info: Info, events: list[UsageEventInput]) -> RecordUsageResult:
    return await record_usage_events(info.context, [e.to_event() for e in events])


async def _preferences(
    info: Info, change: Callable[[UUID, CatalogSnapshot], Awaitable[PreferenceState]]
) -> ProductPreferences | UserError:
    context = info.context
    organization = await find_organization(context.require_viewer(), context.loaders, None)
    try:
        state = await change(organization.id, await context.loaders.catalog())
    except BillingError as error:
        return user_error(error)
    return ProductPreferences(
        product=state.product, preference=state.preference, auto_downgrade=state.auto_downgrade
    )


async def _subscription(organization_id: UUID) -> Subscription | None:
    row = await organization_reads.subscription_of(organization_id)
    return Subscription.of(row) if row else None
