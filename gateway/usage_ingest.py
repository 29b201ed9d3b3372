"""Ingestion's hot path (USE-1, ACC-6): the trusted RecordUsage document, sent by an API key of
scope usage:write, is answered from its variables without graphql-core's generic execution.

The request has already been authenticated, resolved to the trusted document, measured against
the limits, charged to the rate limit and put under its idempotency key (gateway/app.py); the
answer is the one the general path gives, with the same fields, and goes through the same
result processing. Whatever is not plainly valid (schema/usage_variables.py), any other caller
and any other document take the general path, which words every refusal as before; so does an
authorisation failure (FORBIDDEN, NOT_FOUND), which records nothing."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    located_error,
    parse,
)
from strawberry.types import ExecutionResult

from billing.errors import ForbiddenError, NotFoundError
from schema.context import Context
from schema.permissions import key_records_usage
from schema.plan_change import UserError
from schema.usage import UsageRecorded
from schema.usage_recording import record_usage_events
from schema.usage_variables import ParseDateTime, events_of

OPERATION = "RecordUsage"
FIELD = "recordUsage"


class UsageIngest:
    """Knows the trusted RecordUsage document of the manifest (sha256 -> document)."""

    def __init__(self, manifest: dict[str, str], schema: GraphQLSchema) -> None:
        self.document: str | None = None
        self.field: FieldNode | None = None
        for text in manifest.values():
            field = _record_usage_field(parse(text))
            if field is not None:
                self.document, self.field = text, field
        date_time = schema.get_type("DateTime")
        self.parse_datetime: ParseDateTime = date_time.parse_value  # type: ignore[union-attr]

    async def answer(
        self,
        method: str,
        document: str | None,
        operation_name: str | None,
        variables: object,
        context: Context,
    ) -> ExecutionResult | None:
        """The result, or None: the general path answers."""
        if (
            document is None
            or document != self.document  # the same object, normally: the manifest's
            or method != "POST"
            or operation_name not in (None, OPERATION)
            or context.api_key is None
            or not key_records_usage(context.api_key)
        ):
            return None
        events = events_of(variables, self.parse_datetime)
        if events is None:
            return None
        try:
            result = await record_usage_events(context, events)
        except (ForbiddenError, NotFoundError):
            return None  # nothing recorded: the general path words the error
        except Exception as error:
            # As graphql-core reports an unexpected error of the field (schema/errors.py codes it).
            return ExecutionResult(
                data=None,
                errors=[located_error(error, [self.field] if self.field else None, [FIELD])],
            )
        return ExecutionResult(data={FIELD: _selected(result)}, errors=None)


def _selected(result: UsageRecorded | UserError) -> dict[str, Any]:
    """The fields RecordUsage selects, in its order."""
    if isinstance(result, UsageRecorded):
        return {
            "__typename": "UsageRecorded",
            "accepted": result.accepted,
            "duplicates": result.duplicates,
        }
    return {
        "__typename": "UserError",
        "code": result.code,
        "message": result.message,
        "field": result.field,
    }


def _record_usage_field(document: DocumentNode) -> FieldNode | None:
    """recordUsage's node when `document` is the RecordUsage operation and selects just it."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(document.definitions) != 1 or len(operations) != 1:
        return None
    operation = operations[0]
    if operation.name is None or operation.name.value != OPERATION:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    return field if field.name.value == FIELD and field.alias is None else None
