"""Whether a field's selection names a sub-field, read from the document's nodes (not Strawberry's
`selected_fields`, which converts the whole selection below the field on every call)."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from schema.context import Info


def selects(info: Info, name: str) -> bool:
    """Whether the field's selection names `name` directly or in a fragment, whatever the
    fragment's type condition or a directive says (a hint for reading ahead, never a rule)."""
    raw = info._raw_info
    return any(_names(node.selection_set, name, raw.fragments, set()) for node in raw.field_nodes)


def _names(
    selection_set: SelectionSetNode | None,
    name: str,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> bool:
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _names(selection.selection_set, name, fragments, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            spread = selection.name.value
            fragment = fragments.get(spread)
            if spread not in seen and fragment is not None:
                seen.add(spread)
                if _names(fragment.selection_set, name, fragments, seen):
                    return True
    return False
