"""TAX-2: a business's EU VAT number is checked offline (format and check digits, python-stdnum)
when its billing information is saved; no online lookup."""

from __future__ import annotations

import re

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from billing.errors import BillingError
from billing.tax import EU_COUNTRIES

_VAT_PREFIX = {"GR": "EL"}  # Greece's VAT numbers start with EL


def normalized_vat_number(country: str, number: str) -> str:
    """The VAT number in its compact form with its country prefix; a tax id of a country outside
    the Union is returned as given (it is no VAT number). A malformed one is refused."""
    country, number = country.upper(), number.strip()
    if not number or country not in EU_COUNTRIES:
        return number
    prefix = _VAT_PREFIX.get(country, country)
    compact = re.sub(r"[\s.\-/]", "", number).upper()
    if not compact[:2].isalpha():
        compact = prefix + compact
    if compact[:2] != prefix:
        raise BillingError(
            f"The VAT number {number!r} is not one of {country}: VAT numbers of {country} start "
            f"with {prefix}. Enter the customer's own number, or change the country.",
            field="taxId",
        )
    try:
        return str(eu_vat.validate(compact))
    except ValidationError as error:
        reason = str(error).rstrip(".").lower()
        raise BillingError(
            f"The VAT number {number!r} is not a well-formed VAT number of {country} ({reason}): "
            f"check it against the customer's registration ({prefix} followed by its digits).",
            field="taxId",
        ) from error
