"""What a document's selections collect to, and their readers, kept from one request to the next
(issue 16).

graphql-core collects an object's sub-fields once per request (memoized by the identity of the
field list, which every request builds anew), and `schema/plain_fields.py` plans a selection's
reader once per request the same way. Both depend only on the document's nodes, the object type,
and the values of the variables a directive of the document reads (`@skip`, `@include`, `@defer`
with `if: $x`): the parser cache hands every request with the same text the same document, so
the same nodes. Here they are kept by the identity of those nodes, which each entry holds (an id
cannot be reused while its object is alive), with those variables' values.

Not kept: a field list with a deferred fragment or a fragment's own variables (experimental),
and a directive variable whose value cannot be a key. At LIMIT entries the table is emptied: a
process serving arbitrary documents keeps at most that many selections alive."""

from __future__ import annotations

from typing import Any

from graphql import (
    FragmentDefinitionNode,
    OperationDefinitionNode,
    Undefined,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList, FragmentDetails
from graphql.execution.values import VariableValues

LIMIT = 4096

Key = tuple[Any, ...]


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self._depth = 0

    def enter_directive(self, *_: Any) -> None:
        self._depth += 1

    def leave_directive(self, *_: Any) -> None:
        self._depth -= 1

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if self._depth:
            self.names.add(node.name.value)


def directive_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDetails]
) -> tuple[str, ...] | None:
    """The variables read by a directive of the operation or of its fragments, sorted; None
    when a fragment has variables of its own (what it collects then depends on its spreads)."""
    if any(d.variable_signatures or d.definition.variable_definitions for d in fragments.values()):
        return None
    finder = _DirectiveVariables()
    definitions: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    definitions += [details.definition for details in fragments.values()]
    for definition in definitions:
        visit(definition, finder)
    return tuple(sorted(finder.names))


class SelectionPlans:
    """One process's table; `key` says under which key a selection may be kept, if any."""

    def __init__(self) -> None:
        self.collected: dict[Key, tuple[Any, Any]] = {}
        self.readers: dict[Key, tuple[Any, Any]] = {}
        # The operation's node (kept alive) and the variables its directives read.
        self._operations: dict[int, tuple[OperationDefinitionNode, tuple[str, ...] | None]] = {}

    def key(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        return_type: Any,
        field_details_list: FieldDetailsList,
    ) -> tuple[Key, tuple[Any, ...]] | None:
        """The key and what it must keep alive, or None when the selection is not kept."""
        nodes = []
        for details in field_details_list:
            if details.defer_usage is not None or details.fragment_variable_values is not None:
                return None
            nodes.append(details.node)
        known = self._operations.get(id(operation))
        if known is None:
            if len(self._operations) >= LIMIT:
                self._operations.clear()
            known = (operation, directive_variables(operation, fragments))
            self._operations[id(operation)] = known
        values: tuple[Any, ...] = ()
        if known[1] is None:
            return None
        if known[1]:
            coerced = variable_values.coerced
            values = tuple(coerced.get(name, Undefined) for name in known[1])
            try:
                hash(values)
            except TypeError:
                return None
        return (return_type, *map(id, nodes), values), (operation, *nodes)

    def keep(self, table: dict[Key, tuple[Any, Any]], key: Key, pins: Any, value: Any) -> None:
        if len(table) >= LIMIT:
            table.clear()
        table[key] = (pins, value)


PLANS = SelectionPlans()
