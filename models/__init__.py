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
from models.organization import Membership, Organization, User, Workspace
from models.subscription import Subscription, SubscriptionItem, SubscriptionItemAddOn

MODEL_MODULES = ["models.organization", "models.catalog", "models.subscription"]

__all__ = [
    "MODEL_MODULES",
    "AddOn",
    "Bundle",
    "ContactLimitStep",
    "Membership",
    "Organization",
    "Plan",
    "Price",
    "PriceKind",
    "Product",
    "ProductPolicy",
    "Subscription",
    "SubscriptionItem",
    "SubscriptionItemAddOn",
    "User",
    "Workspace",
]
