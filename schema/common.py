"""Types shared across domains: Money and the enums of billing/."""

from __future__ import annotations

import strawberry

from billing import money
from billing.access import Role
from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)
from billing.subscription_status import SubscriptionStatus

strawberry.enum(Role, description="A member's role in an organization (ACC-1).")
strawberry.enum(BillingInterval)
strawberry.enum(SubscriptionStatus, description="SUB-1")
strawberry.enum(UpgradePreference, description="What happens when usage reaches a limit (PREF-1).")
strawberry.enum(UpgradeProration, description="How an upgrade is charged (CHG-3, CHG-4).")
strawberry.enum(DowngradeTiming, description="When a downgrade takes effect (CHG-6 to CHG-8).")
strawberry.enum(CancellationNotice, description="When a cancellation takes effect (CAN-1, CAN-2).")


@strawberry.type(description="An amount in the currency's minor unit (cents), never a float.")
class Money:
    amount: int
    currency: str

    # Formatted only when asked for ("$1,526.00", never via floats): a page of invoices builds
    # about a hundred amounts and the billing page asks none of them for their text.
    @strawberry.field
    def formatted(self) -> str:
        return money.Money(self.amount, self.currency).formatted()

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        if money.accepted(amount, currency):
            return cls(amount=amount, currency=currency)
        value = money.Money(amount, currency)  # refuses a float or an unknown currency (MNY-1)
        return cls(amount=value.amount, currency=value.currency)

    @classmethod
    def from_domain(cls, value: money.Money) -> Money:
        return cls(amount=value.amount, currency=value.currency)
