"""The shapes of the catalog and demo-organization data files (pydantic models, strict types):
what gateway.catalog_file parses a file into, and gateway.seed writes to the database."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from billing.access import Role
from billing.discounts import CouponDuration
from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)
from billing.subscription_status import SubscriptionStatus

Code = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Cents = Annotated[StrictInt, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=0)]
PositiveCount = Annotated[StrictInt, Field(ge=1)]
Percent = Annotated[StrictInt, Field(ge=1, le=100)]
PriceMap = dict[BillingInterval, Cents]
# CUR-1: the same prices in the catalog's other currencies, e.g. { EUR = { MONTHLY = 7900 } }.
CurrencyCode = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
OtherPrices = dict[CurrencyCode, PriceMap]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanSpec(Spec):
    code: Code
    name: StrictStr
    features: list[StrictStr] = []
    limits: dict[StrictStr, Count] = {}
    seats_included: Count | None = None
    max_seats: PositiveCount | None = None
    prices: PriceMap
    prices_in: OtherPrices = {}


class AddOnSpec(Spec):
    code: Code
    name: StrictStr
    min_plan: Code | None = None
    prices: PriceMap
    prices_in: OtherPrices = {}


class LadderStepSpec(Spec):
    contact_limit: PositiveCount
    prices: PriceMap
    prices_in: OtherPrices = {}


class BundleSpec(Spec):
    code: Code
    name: StrictStr
    includes: list[StrictStr] = []
    plans: Annotated[list[PlanSpec], Field(min_length=1)]


class OnDemandSpec(Spec):
    metric: StrictStr
    block_size: PositiveCount
    block_price: Cents
    block_prices_in: dict[CurrencyCode, Cents] = {}


class PolicySpec(Spec):
    upgrade_proration: UpgradeProration
    downgrade_timing: DowngradeTiming
    cancellation_notice: CancellationNotice
    retention_days: Count
    alert_thresholds: list[Percent] = []
    upgrade_preferences: list[UpgradePreference] = []
    default_preference: UpgradePreference | None = None
    auto_downgrade_available: StrictBool = False
    autoscaling: StrictBool = False
    billing_admin_may_cancel: StrictBool = False
    on_demand: OnDemandSpec | None = None


class ProductSpec(Spec):
    code: Code
    name: StrictStr
    metrics: list[StrictStr] = []
    intervals: Annotated[list[BillingInterval], Field(min_length=1)]
    seat_prices: PriceMap | None = None
    seat_prices_in: OtherPrices = {}
    policy: PolicySpec
    plans: Annotated[list[PlanSpec], Field(min_length=1)]
    add_ons: list[AddOnSpec] = []
    contact_limit_ladder: list[LadderStepSpec] = []
    bundles: list[BundleSpec] = []


class IssuerSpec(Spec):
    name: StrictStr
    address: list[StrictStr] = []
    email: StrictStr = ""
    tax_id: StrictStr = ""  # printed on every invoice (TAX-1)
    country: Annotated[StrictStr, Field(pattern=r"^([A-Z]{2})?$")] = ""
    # Each issued invoice is e-mailed with its PDF to the customer's billing e-mail (the outbox).
    email_documents: StrictBool = False


CountryCode = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
TaxPercent = Annotated[StrictStr, Field(pattern=r"^\d{1,2}(\.\d{1,4})?$")]


class TaxRateSpec(Spec):
    """TAX-1: one rate, for a country or one of its regions."""

    country: CountryCode
    region: Annotated[StrictStr, Field(pattern=r"^([A-Z0-9]{1,3})?$")] = ""
    name: StrictStr = "VAT"
    percent: TaxPercent
    inclusive: StrictBool | None = None  # default: the table's prices_include_tax


class TaxSpec(Spec):
    prices_include_tax: StrictBool = False
    eu_reverse_charge: StrictBool = True  # TAX-2
    rates: list[TaxRateSpec] = []


class CouponSpec(Spec):
    """DSC-1: percent_off (whole percent) or amounts_off (minor units per currency)."""

    code: Code
    name: StrictStr
    duration: CouponDuration
    duration_periods: PositiveCount | None = None
    percent_off: Percent | None = None
    amounts_off: dict[StrictStr, PositiveCount] | None = None
    products: list[Code] = []
    plans: list[Code] = []
    max_redemptions: PositiveCount | None = None
    expires_at: datetime | None = None


PromoCode = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


class PromotionCodeSpec(Spec):
    """DSC-1: what customers type (case-insensitive), naming a coupon."""

    code: PromoCode
    coupon: Code
    first_subscription_only: StrictBool = False
    once_per_organization: StrictBool = True
    max_redemptions: PositiveCount | None = None
    expires_at: datetime | None = None


class CatalogSpec(Spec):
    currency: StrictStr  # the default currency: `prices` are in it
    currencies: list[StrictStr] = []  # CUR-1: every currency priced; default [currency]
    issuer: IssuerSpec
    taxes: TaxSpec = TaxSpec()
    products: Annotated[list[ProductSpec], Field(min_length=1)]
    coupons: list[CouponSpec] = []
    promotion_codes: list[PromotionCodeSpec] = []

    @property
    def all_currencies(self) -> list[str]:
        """CUR-1: the default currency first, then the others the catalog prices in."""
        return [self.currency] + [c for c in self.currencies if c != self.currency]

    def product(self, code: str) -> ProductSpec | None:
        return next((p for p in self.products if p.code == code), None)


class UserSpec(Spec):
    email: Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    name: StrictStr
    role: Role


class WorkspaceSpec(Spec):
    slug: Code
    name: StrictStr


class ItemSpec(Spec):
    product: Code
    plan: Code
    bundle: Code | None = None
    seats: PositiveCount | None = None
    contact_limit: PositiveCount | None = None
    add_ons: list[Code] = []
    upgrade_preference: UpgradePreference | None = None
    seats_in_use: Count | None = None
    stock: dict[StrictStr, Count] = {}


class FeatureSettingSpec(Spec):
    feature: StrictStr
    key: StrictStr
    value: StrictStr | StrictInt | StrictBool


class UsageSpec(Spec):
    """Usage this billing month, recorded as events through the API's own store (USE-1)."""

    product: Code
    metric: StrictStr
    workspace: Code | None = None
    quantity: Count | None = None  # counted and stock metrics
    contacts: Count | None = None  # mac: this many distinct contacts (USE-2)


class SubscriptionSpec(Spec):
    status: SubscriptionStatus
    billing_interval: BillingInterval
    period_started_days_ago: Count = 0
    trial_days: PositiveCount | None = None
    trial_ends_in_days: Count | None = None
    items: Annotated[list[ItemSpec], Field(min_length=1)]


class OrganizationSpec(Spec):
    slug: Code
    name: StrictStr
    users: Annotated[list[UserSpec], Field(min_length=1)]
    workspaces: list[WorkspaceSpec] = []
    subscription: SubscriptionSpec | None = None
    payment_methods: list[StrictStr] = []
    paid_invoices: Count = 0
    feature_settings: list[FeatureSettingSpec] = []
    usage: list[UsageSpec] = []


class DemoSpec(Spec):
    organizations: list[OrganizationSpec]
