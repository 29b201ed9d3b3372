"""How wide and deep a parsed document is: its aliases, and its depth through fragments."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    visit,
)


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.alias is not None:
            self.count += 1


def alias_count(document: DocumentNode) -> int:
    """Every alias written in the document, in its operations and fragments alike."""
    counter = _AliasCounter()
    visit(document, counter)
    return counter.count


def depth(document: DocumentNode) -> int:
    """The deepest field nesting of any operation, counting through fragment spreads. Each
    fragment is measured once; may raise RecursionError for fragments nested past Python's
    recursion limit (callers refuse the document)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measured: dict[str, int] = {}

    def of_fragment(name: str) -> int:
        if name not in measured:
            measured[name] = 0  # a cycle adds nothing here; validation refuses it
            definition = fragments.get(name)
            measured[name] = of_selections(definition.selection_set) if definition else 0
        return measured[name]

    def of_selections(selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                deepest = max(deepest, 1 + of_selections(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, of_selections(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, of_fragment(selection.name.value))
        return deepest

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return max((of_selections(o.selection_set) for o in operations), default=0)
