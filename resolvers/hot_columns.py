"""The columns each hot read (resolvers/hot_reads.py) selects, by model. Every read names its
columns; tests/test_hot_reads.py holds these lists to the models' fields, so a model gaining a
field a read does not select fails there."""

from __future__ import annotations

from tortoise.models import Model

from models import (
    BillingInfo,
    Invoice,
    Issuer,
    Organization,
    PaymentMethod,
    Subscription,
    SubscriptionDiscount,
    SubscriptionItem,
    SubscriptionItemAddOn,
)

ORGANIZATION_COLUMNS = (
    "id",
    "slug",
    "name",
    "currency",
    "credit_balance",
    "invoice_sequence",
    "credit_note_sequence",
    "data_delete_at",
    "data_deleted_at",
    "clock_offset_seconds",
    "automatic_charges_paused",
    "automatic_charges_pause_reason",
    "failed_payment_method_id",
    "processor_customer_id",
    "external_id",
    "created_at",
)
SUBSCRIPTION_COLUMNS = (
    "id",
    "organization_id",
    "status",
    "billing_interval",
    "currency",
    "billing_anchor",
    "current_period_start",
    "current_period_end",
    "trial_ends_at",
    "cancel_at",
    "cancel_reason",
    "cancelled_at",
    "auto_downgrade_checked_for",
    "renewal_notice_for",
    "trial_ending_notice_for",
    "usage_closed_until",
    "next_due_at",
    "created_at",
    "updated_at",
)
ITEM_COLUMNS = (
    "id",
    "subscription_id",
    "product_id",
    "plan_id",
    "plan_price_id",
    "seats",
    "seat_price_id",
    "contact_limit",
    "contact_limit_price_id",
    "upgrade_preference",
    "auto_downgrade",
    "prepaid_periods",
    "scheduled_change",
    "seats_in_use",
    "stock",
)
ADD_ON_COLUMNS = ("id", "item_id", "add_on_id", "price_id")
INVOICE_COLUMNS = (
    "id",
    "organization_id",
    "number",
    "sequence",
    "kind",
    "status",
    "currency",
    "total",
    "discount_total",
    "credit_applied",
    "amount_due",
    "issued_at",
    "due_at",
    "paid_at",
    "period_start",
    "period_end",
    "pending_change",
    "automatic_retries",
    "billing_details",
    "tax_summary",
    "tax_total",
    "tax_legend",
    "created_at",
)
PAYMENT_METHOD_COLUMNS = (
    "id",
    "organization_id",
    "processor_id",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "is_default",
    "created_at",
)
DISCOUNT_COLUMNS = (
    "id",
    "organization_id",
    "coupon_id",
    "promotion_code_id",
    "applied_at",
    "periods_left",
)
BILLING_INFO_COLUMNS = (
    "id",
    "organization_id",
    "company_name",
    "billing_email",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "country",
    "region",
    "tax_id",
    "contact_name",
)
ISSUER_COLUMNS = ("id", "name", "address", "email", "tax_id", "country", "taxes", "email_documents")
# Which model each list builds, for the test that holds them to the models' fields.
COLUMNS: dict[type[Model], tuple[str, ...]] = {
    Organization: ORGANIZATION_COLUMNS,
    Subscription: SUBSCRIPTION_COLUMNS,
    SubscriptionItem: ITEM_COLUMNS,
    SubscriptionItemAddOn: ADD_ON_COLUMNS,
    Invoice: INVOICE_COLUMNS,
    PaymentMethod: PAYMENT_METHOD_COLUMNS,
    SubscriptionDiscount: DISCOUNT_COLUMNS,
    BillingInfo: BILLING_INFO_COLUMNS,
    Issuer: ISSUER_COLUMNS,
}
