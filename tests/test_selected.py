"""schema/selected.py: whether a field's selection names a sub-field, directly, in an inline
fragment or in a named one (the organization reads its subscription ahead when it does,
issue 16)."""

from __future__ import annotations

import pytest
import strawberry

from schema.context import Info
from schema.selected import selects

seen: list[bool] = []


@strawberry.type
class Leaf:
    subscription: int = 1
    other: int = 2


@strawberry.type
class Holder:
    leaf: Leaf = strawberry.field(default_factory=Leaf)
    subscription: int = 3


@strawberry.type
class Query:
    @strawberry.field
    def holder(self, info: Info) -> Holder:
        seen.append(selects(info, "subscription"))
        return Holder()


toy = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("{ holder { subscription } }", True),
        ("{ holder { leaf { other } } }", False),
        ("{ holder { leaf { subscription } } }", False),  # a sub-field's selection: not this one's
        ("{ holder { ... on Holder { subscription } } }", True),
        ("{ holder { ... { leaf { other } } } }", False),
        ("{ holder { ...F } } fragment F on Holder { subscription }", True),
        (
            "{ holder { ...F } } fragment F on Holder { ...G } fragment G on Holder { subscription }",
            True,
        ),
        ("{ holder { ...F } } fragment F on Holder { leaf { subscription } }", False),
        ("query ($x: Boolean!) { holder { subscription @include(if: $x) } }", True),  # a hint
        ("{ holder { s: subscription } }", True),
        ("{ holder { subscription: leaf { other } } }", False),  # an alias is not the name
    ],
)
def test_selects_names_the_fields_own_selection(document: str, named: bool) -> None:
    seen.clear()
    result = toy.execute_sync(document, variable_values={"x": False})
    assert result.errors is None
    assert seen == [named]
