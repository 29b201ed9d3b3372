"""CUR-1 as pure rules: which currency an organization is billed in, when it may change, an
invoice in one currency, a catalog priced in every currency it declares, "€" in PDFs."""

from __future__ import annotations

import re
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from billing.catalog import (
    CatalogSnapshot,
    Plan,
    Price,
    PriceKind,
    Product,
    ProductPolicy,
    price_key,
)
from billing.currency import (
    CURRENCY_FIXED,
    CURRENCY_MISMATCH,
    CURRENCY_UNSUPPORTED,
    check_one_currency,
    chosen_currency,
    currency_change,
)
from billing.errors import BillingError
from billing.limits import on_demand_terms
from billing.money import Money
from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)
from gateway.catalog_file import CatalogFileError, load_catalog
from gateway.invoice_pdf import render_invoice
from gateway.settings import DEFAULT_CATALOG_FILE
from tools.invoice_pdf_sample import sample

OFFERED = ("USD", "EUR")


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [(None, "USD"), ("EUR", "EUR"), ("eur", "EUR"), (" usd ", "USD")],
)
def test_the_chosen_currency_rule_cur_1(wanted: str | None, expected: str) -> None:
    assert chosen_currency(wanted, OFFERED, "USD") == expected


@pytest.mark.parametrize("wanted", ["JPY", "XYZ", "", "EURO"])
def test_a_currency_the_catalog_does_not_price_in_is_refused_rule_cur_1(wanted: str) -> None:
    with pytest.raises(BillingError) as refused:
        chosen_currency(wanted, OFFERED, "USD")
    assert (refused.value.user_code, refused.value.field) == (CURRENCY_UNSUPPORTED, "currency")
    assert "choose one of USD, EUR." in refused.value.message


@pytest.mark.parametrize(
    ("current", "wanted", "subscribed", "outcome"),
    [
        ("USD", "EUR", False, "EUR"),
        ("EUR", "USD", False, "USD"),
        ("USD", "USD", True, "USD"),  # the same currency again: nothing changes
        ("EUR", "eur", True, "EUR"),
        ("USD", "EUR", True, CURRENCY_FIXED),
        ("EUR", "USD", True, CURRENCY_FIXED),
        ("USD", "JPY", False, CURRENCY_UNSUPPORTED),
        ("USD", "JPY", True, CURRENCY_UNSUPPORTED),
    ],
)
def test_the_currency_is_fixed_at_the_first_subscription_rule_cur_1(
    current: str, wanted: str, subscribed: bool, outcome: str
) -> None:
    try:
        got = currency_change(current, wanted, OFFERED, has_subscribed=subscribed)
    except BillingError as error:
        got = error.user_code
    assert got == outcome


@pytest.mark.parametrize(
    ("invoice", "amounts", "refused"),
    [
        ("EUR", ["EUR", "EUR"], False),
        ("USD", [], False),
        ("EUR", ["EUR", "USD"], True),
        ("USD", ["EUR"], True),
    ],
)
def test_an_invoice_never_mixes_currencies_rule_cur_1(
    invoice: str, amounts: list[str], refused: bool
) -> None:
    if refused:
        with pytest.raises(BillingError) as error:
            check_one_currency(invoice, amounts)
        assert error.value.user_code == CURRENCY_MISMATCH
    else:
        check_one_currency(invoice, amounts)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (3660, "EUR", "€36.60"),
        (-1050, "EUR", "-€10.50"),
        (152600, "EUR", "€1,526.00"),
        (3660, "USD", "$36.60"),
        (3660, "SEK", "36.60 SEK"),
        (500, "JPY", "¥500"),
    ],
)
def test_amounts_are_formatted_for_their_currency_rule_cur_1(
    amount: int, currency: str, shown: str
) -> None:
    assert Money(amount, currency).formatted() == shown


def _snapshot() -> CatalogSnapshot:
    monthly = BillingInterval.MONTHLY
    prices = tuple(
        Price(i, 1, PriceKind.PLAN, monthly, price_key("plan:7", monthly, c, "USD"), 1, a, c)
        for i, (c, a) in enumerate([("USD", 4500), ("EUR", 4400)], start=1)
    )
    return CatalogSnapshot(
        products=(Product(1, "store", "Store", 0),),
        policies={},
        plans=(Plan(7, 1, None, "business", "Business", 1),),
        bundles=(),
        add_ons=(),
        steps=(),
        current_price_list=prices,
        currency="USD",
    )


def test_a_snapshot_answers_in_one_currency_at_a_time_rule_cur_1() -> None:
    snapshot = _snapshot()
    assert snapshot.currencies == ("USD", "EUR")
    assert [p.key for p in snapshot.current_price_list] == ["plan:7:MONTHLY", "plan:7:MONTHLY:EUR"]
    assert [(p.amount, p.currency) for p in snapshot.prices_for("plan:7")] == [(4500, "USD")]
    eur = snapshot.in_currency("EUR")
    assert [(p.amount, p.currency) for p in eur.prices_for("plan:7")] == [(4400, "EUR")]
    assert eur.currency == "EUR" and eur.default_currency == "USD"
    assert eur.current_prices_by_id == snapshot.current_prices_by_id  # held versions by id
    assert snapshot.in_currency("EUR") is eur  # kept
    assert snapshot.in_currency("USD") is snapshot


def test_on_demand_blocks_are_priced_in_the_subscriptions_currency_rule_cur_1() -> None:
    policy = ProductPolicy(
        product_id=1,
        upgrade_proration=UpgradeProration.RESET_CYCLE,
        downgrade_timing=DowngradeTiming.END_OF_PERIOD,
        cancellation_notice=CancellationNotice.END_OF_PERIOD,
        retention_days=90,
        upgrade_preferences=("ON_DEMAND",),
        on_demand_metric="mac",
        on_demand_block_size=100,
        on_demand_block_price=1000,
        on_demand_block_prices={"EUR": 900},
    )
    snapshot = replace(_snapshot(), policies={1: policy})
    for currency, price in (("USD", 1000), ("EUR", 900)):
        view = snapshot.in_currency(currency)
        terms = on_demand_terms(UpgradePreference.ON_DEMAND, view.policies[1], {"mac": 500})
        assert terms is not None
        assert terms.charge(640).amount == 2 * price  # 140 past 500: two blocks of 100


def test_the_demo_catalog_prices_everything_in_usd_and_eur_alike_rule_cur_1() -> None:
    catalog = load_catalog(DEFAULT_CATALOG_FILE)
    assert catalog.all_currencies == ["USD", "EUR"]
    for product in catalog.products:
        for plan in [*product.plans, *(p for b in product.bundles for p in b.plans)]:
            assert plan.prices_in == {"EUR": plan.prices}, (product.code, plan.code)
        for add_on in product.add_ons:
            assert add_on.prices_in == {"EUR": add_on.prices}
        for step in product.contact_limit_ladder:
            assert step.prices_in == {"EUR": step.prices}
        if product.seat_prices is not None:
            assert product.seat_prices_in == {"EUR": product.seat_prices}
        if product.policy.on_demand is not None:
            on_demand = product.policy.on_demand
            assert on_demand.block_prices_in == {"EUR": on_demand.block_price}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("prices_in = { EUR = { MONTHLY = 15900, ANNUAL = 152600 } }\n", ""),
            "catalog.toml: products[0].plans[1].prices_in: missing the price in EUR (the "
            "catalog declares currencies ['USD', 'EUR'])",
        ),
        (
            ("EUR = { MONTHLY = 15900, ANNUAL = 152600 }", "EUR = { MONTHLY = 15900 }"),
            "catalog.toml: products[0].plans[1].prices_in.EUR: missing the ANNUAL price",
        ),
        (
            ("EUR = { MONTHLY = 15900, ANNUAL = 152600 }", "GBP = { MONTHLY = 1, ANNUAL = 2 }"),
            "catalog.toml: products[0].plans[1].prices_in.GBP: unexpected currency 'GBP'",
        ),
        (
            ('currencies = ["USD", "EUR"]', 'currencies = ["USD", "EUR", "XYZ"]'),
            "catalog.toml: currencies[2]: expected one of",
        ),
        (
            ('currencies = ["USD", "EUR"]', 'currencies = ["EUR"]'),
            "catalog.toml: currencies: expected to list the default currency 'USD'",
        ),
        (
            ("block_prices_in = { EUR = 1000 }", "block_prices_in = {}"),
            "catalog.toml: products[0].policy.on_demand.block_prices_in: missing the price in EUR",
        ),
    ],
)
def test_an_inconsistent_catalog_is_refused_with_clear_messages_rule_cur_1(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    text = DEFAULT_CATALOG_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    broken = tmp_path / "catalog.toml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(CatalogFileError) as refused:
        load_catalog(broken)
    assert problem in str(refused.value)


def _pdf_text(pdf: bytes) -> str:
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL)
    return "".join(zlib.decompress(s).decode("cp1252", "replace") for s in streams)


def test_a_eur_invoice_pdf_shows_euro_amounts_rule_cur_1() -> None:
    invoice, lines = sample()
    invoice.currency = "EUR"
    text = _pdf_text(render_invoice(invoice, lines))
    assert "€8.12" in text and "-€2.04" in text
    assert "Amounts in EUR" in text
    assert "$" not in text
