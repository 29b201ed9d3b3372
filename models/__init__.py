"""Tortoise models: storage only, no rules (those live in billing/)."""

from models.catalog import (
    AddOn,
    Bundle,
    ContactLimitStep,
    Plan,
    Price,
    PriceKind,
    Product,
    ProductPolicy,
)
from models.invoice import Invoice, InvoiceLine, OrphanCharge, Payment, PaymentMethod, Refund
from models.lifecycle import (
    AccountChangeRequest,
    ApiKey,
    FeatureSetting,
    Notification,
    ProcessedEvent,
)
from models.organization import BillingInfo, Issuer, Membership, Organization, User, Workspace
from models.subscription import Subscription, SubscriptionItem, SubscriptionItemAddOn

MODEL_MODULES = [
    "models.organization",
    "models.catalog",
    "models.subscription",
    "models.invoice",
    "models.lifecycle",
]

__all__ = [
    "MODEL_MODULES",
    "AccountChangeRequest",
    "AddOn",
    "ApiKey",
    "BillingInfo",
    "Bundle",
    "ContactLimitStep",
    "FeatureSetting",
    "Invoice",
    "InvoiceLine",
    "Issuer",
    "Membership",
    "Notification",
    "Organization",
    "OrphanCharge",
    "Payment",
    "PaymentMethod",
    "Plan",
    "Price",
    "PriceKind",
    "ProcessedEvent",
    "Product",
    "ProductPolicy",
    "Refund",
    "Subscription",
    "SubscriptionItem",
    "SubscriptionItemAddOn",
    "User",
    "Workspace",
]
