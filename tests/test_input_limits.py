"""Every string argument has a documented maximum length: one table (schema/input_limits.py)
covering the whole schema, shown in each description, listed in the README, and enforced."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.errors import BillingError
from schema import schema
from schema.input_limits import MAX_LENGTHS, check_text, text_inputs

README = Path(__file__).parents[1] / "README.md"


def test_every_string_argument_and_input_field_has_a_maximum() -> None:
    assert sorted(text_inputs(schema._schema)) == sorted(MAX_LENGTHS)


def test_each_maximum_is_in_the_description_clients_see() -> None:
    for key, target in text_inputs(schema._schema).items():
        assert target.description is not None
        assert target.description.endswith(f"At most {MAX_LENGTHS[key]:,} characters."), key


def test_the_readme_lists_each_maximum() -> None:
    readme = README.read_text()
    for key, limit in MAX_LENGTHS.items():
        assert f"| `{key}` | {limit:,} |" in readme, key


def test_a_value_at_the_maximum_passes_and_one_over_is_refused_naming_both() -> None:
    check_text("input.city", "c" * 100, 100)
    with pytest.raises(BillingError) as refused:
        check_text("input.city", "c" * 101, 100)
    assert refused.value.message == "`input.city` is too long: at most 100 characters, got 101."
    assert refused.value.field == "input.city"
