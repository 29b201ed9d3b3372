"""The term rules, table-driven on a small catalog (rules CAT-1, CAT-3, CAT-4, CAT-6, CHG-10,
CHG-11): seat defaults and bounds, the contact-limit ladder, add-on eligibility, held prices."""

from __future__ import annotations

from dataclasses import replace

import pytest

from billing.catalog import (
    AddOn,
    CatalogSnapshot,
    ContactLimitStep,
    Plan,
    Price,
    PriceKind,
    Product,
    ProductPolicy,
)
from billing.errors import BillingError
from billing.periods import BillingInterval
from billing.policies import CancellationNotice, DowngradeTiming, UpgradeProration
from billing.quote import Item
from billing.terms import ChangeRequest, ItemTerms, same_terms, wanted_terms

M = BillingInterval.MONTHLY


def _price(id: int, key: str, amount: int, kind: PriceKind = PriceKind.PLAN) -> Price:
    return Price(id, 1, kind, M, f"{key}:MONTHLY", 1, amount, "USD")


CATALOG = CatalogSnapshot(
    products=(Product(1, "marketing", "Marketing", 0, (), ("MONTHLY",)),),
    policies={
        1: ProductPolicy(
            1,
            UpgradeProration.PRORATE_KEEP_CYCLE,
            DowngradeTiming.BY_REQUEST,
            CancellationNotice.END_OF_PERIOD,
            0,
        )
    },
    plans=(
        Plan(10, 1, None, "starter", "Starter", 1, seats_included=1, max_seats=1),
        Plan(11, 1, None, "plus", "Plus", 2, seats_included=1, max_seats=25),
    ),
    bundles=(),
    add_ons=(AddOn(20, 1, "sms", "SMS", 0), AddOn(21, 1, "custom_domain", "Custom domain", 2)),
    steps=(ContactLimitStep(30, 1, 1000), ContactLimitStep(31, 1, 2500)),
    current_price_list=(
        _price(100, "plan:10", 1500),
        _price(101, "plan:11", 4900),
        _price(102, "seat:1", 1900, PriceKind.SEAT),
        _price(103, "contact_limit:30", 0, PriceKind.CONTACT_LIMIT),
        _price(104, "contact_limit:31", 3000, PriceKind.CONTACT_LIMIT),
        _price(105, "add_on:20", 1000, PriceKind.ADD_ON),
        _price(106, "add_on:21", 2000, PriceKind.ADD_ON),
    ),
    currency="USD",
)
# Subscribed to Plus when its price (id 90) and the seat price (id 91) were older versions.
HELD = ItemTerms(
    1, 11, 90, seats=2, seat_price_id=91, contact_limit=1000, contact_limit_price_id=103
)


def _wanted(request: ChangeRequest, current: ItemTerms | None = None) -> ItemTerms:
    terms, _ = wanted_terms(CATALOG, {1: current} if current else {}, M, request)
    return terms[1]


# (rule, case, request, current, expected terms)
# fmt: off
ACCEPTED = [
    ("CAT-3", "seats default to the plan's included ones, the ladder to its first step",
     ChangeRequest("marketing", plan="plus"), None,
     ItemTerms(1, 11, 101, seats=1, seat_price_id=102, contact_limit=1000,
               contact_limit_price_id=103)),
    ("CAT-4", "an add-on offered on every plan", ChangeRequest("marketing", plan="starter",
     add_ons=["sms", "sms"]), None,
     ItemTerms(1, 10, 100, seats=1, seat_price_id=102, contact_limit=1000,
               contact_limit_price_id=103, add_ons=((20, 105),))),
    ("CAT-6", "a seat added keeps the plan and seat prices held", ChangeRequest("marketing", seats=3),
     HELD, replace(HELD, seats=3)),
    ("CAT-6", "nothing changed keeps everything held", ChangeRequest("marketing"), HELD, HELD),
    ("CHG-11", "a new ladder step is priced at its current version",
     ChangeRequest("marketing", contact_limit=2500), HELD,
     replace(HELD, contact_limit=2500, contact_limit_price_id=104)),
    ("CAT-6", "a plan change moves every price to the current versions",
     ChangeRequest("marketing", plan="starter", seats=1), HELD,
     ItemTerms(1, 10, 100, seats=1, seat_price_id=102, contact_limit=1000,
               contact_limit_price_id=103)),
]

REFUSED = [
    ("CAT-1", "an unknown plan", ChangeRequest("marketing", plan="gold"), "plan"),
    ("CAT-1", "an unknown product", ChangeRequest("sales", plan="plus"), "product"),
    ("CHG-10", "fewer than one seat", ChangeRequest("marketing", plan="plus", seats=0), "seats"),
    ("CHG-11", "a contact limit off the ladder",
     ChangeRequest("marketing", plan="plus", contact_limit=3000), "contactLimit"),
    ("CAT-4", "an unknown add-on", ChangeRequest("marketing", plan="plus", add_ons=["fax"]), "addOns"),
    ("CAT-4", "an add-on below its plan rank",
     ChangeRequest("marketing", plan="starter", add_ons=["custom_domain"]), "addOns"),
    ("CAT-5", "a bundle the product is not sold in",
     ChangeRequest("marketing", plan="plus", bundle="marketing_sales"), "bundle"),
]
# fmt: on


@pytest.mark.parametrize(
    ("rule", "case", "request_", "current", "expected"),
    ACCEPTED,
    ids=[f"{r[0]}: {r[1]}" for r in ACCEPTED],
)
def test_wanted_terms(
    rule: str, case: str, request_: ChangeRequest, current: ItemTerms | None, expected: ItemTerms
) -> None:
    assert _wanted(request_, current) == expected


@pytest.mark.parametrize(
    ("rule", "case", "request_", "field"), REFUSED, ids=[f"{r[0]}: {r[1]}" for r in REFUSED]
)
def test_refused_terms_name_their_field(
    rule: str, case: str, request_: ChangeRequest, field: str
) -> None:
    with pytest.raises(BillingError) as refused:
        _wanted(request_)
    assert refused.value.field == field


# One rule for both views of a line (CAT-6, CHG-2): the stored terms by ids and the quoted item by
# codes. (case, stored terms changed to, quoted item changed to, same terms?)
LINE = Item(
    "marketing",
    "Marketing",
    "plus",
    "Plus",
    4900,
    seats=2,
    contact_limit=1000,
    add_ons=("sms", "custom_domain"),
)
STORED = replace(HELD, add_ons=((20, 105), (21, 106)))
# fmt: off
SAME_TERMS = [
    ("a newer price version", replace(STORED, plan_price_id=101, add_ons=((20, 95), (21, 106))),
     replace(LINE, amount=5900), True),
    ("the upgrade preference and prepaid periods", replace(STORED, upgrade_preference="NONE",
     prepaid_periods=3), replace(LINE, prepaid_periods=3), True),
    ("the add-ons in another order", replace(STORED, add_ons=((21, 106), (20, 105))),
     replace(LINE, add_ons=("custom_domain", "sms")), True),
    ("another plan", replace(STORED, plan_id=10), replace(LINE, plan="starter"), False),
    ("the same plan code in a bundle", None, replace(LINE, bundle="marketing_sales"), False),
    ("another seat count", replace(STORED, seats=3), replace(LINE, seats=3), False),
    ("another ladder step", replace(STORED, contact_limit=2500),
     replace(LINE, contact_limit=2500), False),
    ("an add-on fewer", replace(STORED, add_ons=((20, 105),)), replace(LINE, add_ons=("sms",)),
     False),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "stored", "quoted", "same"), SAME_TERMS, ids=[r[0] for r in SAME_TERMS]
)
def test_same_terms_rule_cat_6(
    case: str, stored: ItemTerms | None, quoted: Item, same: bool
) -> None:
    if stored is not None:
        assert same_terms(STORED, stored) is same
    assert same_terms(LINE, quoted) is same
