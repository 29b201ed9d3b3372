"""A field answered straight from its rows (issue 16).

A resolver that knows its field's whole selection can answer it without building the objects
graphql-core would then read: it returns `Answered(value)`, the value already completed for the
selection, and `PlainFieldsExecution.complete_value` takes it as it is. `selected_fields` tells
the resolver what was asked, or None when the selection is anything but fields, aliases and
fragments on the type itself (a directive, a fragment on an interface): then it answers the
ordinary way, and graphql-core decides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode
from graphql.language import SelectionSetNode

# response name -> the field nodes asked under it, in the order graphql-core answers them
Selected = dict[str, list[FieldNode]]


@dataclass(frozen=True, slots=True)
class Answered:
    """A field's value, already completed for its selection."""

    value: Any


def selected_fields(
    nodes: Sequence[FieldNode], type_name: str, fragments: Mapping[str, FragmentDefinitionNode]
) -> Selected | None:
    """The fields selected under `nodes` on the object type `type_name`, grouped by response
    name as graphql-core groups them; None for a selection with a directive, an argument, or a
    fragment on another type."""
    grouped: Selected = {}
    for node in nodes:
        if node.selection_set is None or not _collect(
            node.selection_set, type_name, fragments, grouped
        ):
            return None
    return grouped


def _collect(
    selection_set: SelectionSetNode,
    type_name: str,
    fragments: Mapping[str, FragmentDefinitionNode],
    grouped: Selected,
) -> bool:
    for selection in selection_set.selections:
        if selection.directives:
            return False
        if isinstance(selection, FieldNode):
            if selection.arguments:
                return False
            name = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(name, []).append(selection)
            continue
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None:
                return False
            condition = fragment.type_condition
            inner = fragment.selection_set
        else:
            return False
        if condition is not None and condition.name.value != type_name:
            return False
        if not _collect(inner, type_name, fragments, grouped):
            return False
    return True
