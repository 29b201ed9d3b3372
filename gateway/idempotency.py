"""The `Idempotency-Key` header (IDM-1) around the mutations that move money or record usage.

A keyed request claims its key (a committed row) before it runs. A retry of a finished request
gets the stored response body and runs nothing; a retry while the first still runs gets 409
IDEMPOTENCY_IN_PROGRESS; another request under the same key gets 422 IDEMPOTENCY_KEY_REUSED.
A request that applied nothing (request errors, UserError answers, unexpected failures) releases
its key, so it can be corrected and sent again under the same key."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from billing.errors import ErrorCode
from billing.idempotency import IdempotencyCode, Verdict, fingerprint, key_problem
from gateway.http_errors import error_response
from resolvers import idempotency
from schema.context import Context

HEADER = "idempotency-key"

# The root mutation fields that move money or record usage; a document naming any of them takes
# the header, and the whole document is then one operation under the key.
KEYED_FIELDS = frozenset(
    {
        "subscribe",
        "changePlan",
        "payInvoice",
        "completeTestPaymentAction",
        "replacePaymentMethod",  # pays overdue invoices with the new card (DUN-4)
        "refundInvoice",
        "applyPromotionCode",  # DSC-1: redeems a code, which counts toward its limits
        "removeDiscount",
        "recordUsage",
        "advanceTestClock",  # sandbox: runs the renewals and charges in between
    }
)

log = logging.getLogger("billing_gateway.idempotency")


class IdempotencyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        response = error_response(self.status, self.code, self.message)
        if self.code == IdempotencyCode.IDEMPOTENCY_IN_PROGRESS:
            response.headers["Retry-After"] = "1"
        return response


@dataclass
class Replayed(ExecutionResult):
    """The stored answer of the request first sent under the key."""

    body: dict[str, Any] = field(default_factory=dict)


Execute = Callable[[], Awaitable[Any]]


async def run_keyed(
    request: Request,
    request_data: GraphQLRequestData,
    context: Context,
    sub_response: Response,
    execute: Execute,
) -> Any:
    """Runs `execute` under the request's idempotency key, if it has one and needs one."""
    key = request.headers.get(HEADER)
    caller = _caller(context)
    if key is None or caller is None or request.method != "POST":
        return await execute()
    if not _is_keyed(request_data):
        return await execute()
    problem = key_problem(key)
    if problem is not None:
        raise IdempotencyRefused(400, ErrorCode.BAD_USER_INPUT, problem)
    request_fingerprint = fingerprint(
        request_data.query or "", request_data.operation_name, request_data.variables
    )
    claimed = await idempotency.claim(caller, key, request_fingerprint, context.clock.now())
    if isinstance(claimed, idempotency.Seen):
        return _answer_seen(claimed, sub_response)
    try:
        with idempotency.counting_refusals() as refusals:
            result = await execute()
    except BaseException:
        await _release_quietly(claimed)
        raise
    if isinstance(result, ExecutionResult) and _applied(result, refusals.count):
        request.state.idempotency_claim = claimed
    else:
        await idempotency.release(claimed)
    return result


async def stored_response(
    request: Request, result: Any, response: GraphQLHTTPResponse
) -> GraphQLHTTPResponse:
    """The response to send: the stored one for a replay; otherwise `response`, stored first
    when this request claimed a key and applied something."""
    if isinstance(result, Replayed):
        return result.body  # type: ignore[return-value]
    claimed = getattr(request.state, "idempotency_claim", None)
    if isinstance(claimed, idempotency.Claimed):
        try:
            await idempotency.finish(claimed, json.dumps(response, separators=(",", ":")))
        except Exception:
            # The change is made: the key stays claimed (409) until it expires rather than free
            # to run the change a second time.
            log.exception("the answer under an idempotency key could not be stored")
    return response


def _answer_seen(seen: idempotency.Seen, sub_response: Response) -> Replayed:
    if seen.verdict is Verdict.REPLAY and seen.response is not None:
        sub_response.headers["Idempotent-Replayed"] = "true"
        return Replayed(data=None, errors=None, body=json.loads(seen.response))
    if seen.verdict is Verdict.REUSED:
        raise IdempotencyRefused(
            422,
            IdempotencyCode.IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was used in the last 24 hours for a different request: send "
            "a new key with a new request, or the first request unchanged to get its answer.",
        )
    raise IdempotencyRefused(
        409,
        IdempotencyCode.IDEMPOTENCY_IN_PROGRESS,
        "A request with this Idempotency-Key is still running: send it again in a moment to get "
        "its answer.",
    )


def _caller(context: Context) -> str | None:
    if context.api_key is not None:
        return f"api-key:{context.api_key.key_id}"
    if context.viewer is not None:
        return f"user:{context.viewer.user_id}"
    return None  # mutations need a caller: the request is refused without running


def _applied(result: ExecutionResult, refused: int) -> bool:
    """Whether any root field answered something other than a UserError or an error."""
    answers = [value for value in (result.data or {}).values() if isinstance(value, dict)]
    return len(answers) > refused


def _is_keyed(request_data: GraphQLRequestData) -> bool:
    try:
        document = parse(request_data.query or "")
    except GraphQLError:
        return False  # execution answers the syntax error; nothing runs
    operation = get_operation_ast(document, request_data.operation_name)
    if operation is None or operation.operation != OperationType.MUTATION:
        return False
    return not KEYED_FIELDS.isdisjoint(_root_fields(document, operation.selection_set, set()))


def _root_fields(document: DocumentNode, selections: SelectionSetNode, seen: set[str]) -> set[str]:
    names: set[str] = set()
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _root_fields(document, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            for definition in document.definitions:
                if (
                    isinstance(definition, FragmentDefinitionNode)
                    and definition.name.value == selection.name.value
                ):
                    names |= _root_fields(document, definition.selection_set, seen)
    return names


async def _release_quietly(claimed: idempotency.Claimed) -> None:
    try:
        await idempotency.release(claimed)
    except Exception:
        log.exception("an idempotency key could not be released")
