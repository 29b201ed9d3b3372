"""Tortoise models: storage only, no rules (those live in billing/)."""

from models.audit import AuditEntry, OfflinePayment
from models.catalog import (
    AddOn,
    Bundle,
    CatalogRevision,
    ContactLimitStep,
    Plan,
    Price,
    PriceKind,
    Product,
    ProductPolicy,
)
from models.credit_note import CreditNote, CreditNoteLine
from models.discount import Coupon, PromotionCode, Redemption, SubscriptionDiscount
from models.idempotency import IdempotencyKey
from models.invoice import (
    Dispute,
    Invoice,
    InvoiceLine,
    OrphanCharge,
    Payment,
    PaymentMethod,
    Refund,
)
from models.lifecycle import (
    AccountChangeRequest,
    ApiKey,
    DocumentEmail,
    FeatureSetting,
    Notification,
    ProcessedEvent,
)
from models.organization import BillingInfo, Issuer, Membership, Organization, User, Workspace
from models.portal import PortalSession
from models.subscription import Subscription, SubscriptionItem, SubscriptionItemAddOn
from models.usage import ALL_WORKSPACES, ActiveContact, OveragePurchase, UsageCounter, UsageEvent
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

MODEL_MODULES = [
    "models.organization",
    "models.catalog",
    "models.subscription",
    "models.invoice",
    "models.lifecycle",
    "models.usage",
    "models.idempotency",
    "models.audit",
    "models.webhooks",
    "models.portal",
    "models.discount",
    "models.credit_note",
]

__all__ = [
    "ALL_WORKSPACES",
    "MODEL_MODULES",
    "AccountChangeRequest",
    "ActiveContact",
    "AddOn",
    "ApiKey",
    "AuditEntry",
    "BillingInfo",
    "Bundle",
    "CatalogRevision",
    "ContactLimitStep",
    "Coupon",
    "CreditNote",
    "CreditNoteLine",
    "Dispute",
    "DocumentEmail",
    "FeatureSetting",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "Issuer",
    "Membership",
    "Notification",
    "OfflinePayment",
    "Organization",
    "OrphanCharge",
    "OveragePurchase",
    "Payment",
    "PaymentMethod",
    "Plan",
    "PortalSession",
    "Price",
    "PriceKind",
    "ProcessedEvent",
    "Product",
    "ProductPolicy",
    "PromotionCode",
    "Redemption",
    "Refund",
    "Subscription",
    "SubscriptionDiscount",
    "SubscriptionItem",
    "SubscriptionItemAddOn",
    "UsageCounter",
    "UsageEvent",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
]
