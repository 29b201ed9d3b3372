"""Who may introspect the schema (GATEWAY_INTROSPECTION).

Signed-in users always may: the schema is published (schema.graphql) and tools and apps built on
the gateway need it. Anonymous callers may in sandbox mode, and in production only when
GATEWAY_INTROSPECTION=true, so a stranger cannot map the API from outside. `__typename` is not
introspection and is always answered.
"""

from __future__ import annotations

import re

from graphql import FieldNode, GraphQLError, Visitor, parse, visit

from billing.errors import ErrorCode

_MARKER = re.compile(r"__(schema|type)\b")
_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
REFUSAL = (
    "Introspection is for signed-in callers only on this gateway: send "
    "'Authorization: Bearer <token>' (GATEWAY_INTROSPECTION=true opens it to everyone)."
)
REFUSAL_CODE = ErrorCode.UNAUTHENTICATED


class _Finder(Visitor):
    found = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.name.value in _INTROSPECTION_FIELDS:
            self.found = True


def asks_for_introspection(document: str | None) -> bool:
    """Whether a document selects `__schema` or `__type` (in any operation or fragment)."""
    if not document or not _MARKER.search(document):
        return False  # most documents: no parse needed
    try:
        tree = parse(document, no_location=True)
    except GraphQLError:
        return False  # the request's own parse reports it
    finder = _Finder()
    visit(tree, finder)
    return finder.found
