"""One log line and the metrics of every HTTP request (README "Operations"), and its request id:
`X-Request-ID` from the request when it is a sane id, else a new one; returned in the response
and in every log line the request causes (gateway.logs.REQUEST_ID).

The GraphQL endpoint tells what it learns on the way (the operation's name, the kind of caller)
through `note_operation` and `note_caller`."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from graphql import get_operation_ast
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import REQUEST_ID, write_json_line
from gateway.metrics import observe_request, operation_label
from gateway.query_limits import CheckedOperation
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.viewer import Viewer

log = logging.getLogger("billing_gateway.request")
HEADER = "X-Request-ID"
# What a proxy or a client may send as an id: a UUID, a trace id, a short token; nothing that
# could forge a log line or fill the logs.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")
_CARD_LIKE = re.compile(r"\d(?:[ -]?\d){12,18}")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


@dataclass
class _Facts:
    operation: str | None = None
    caller: str = "anonymous"


_FACTS: ContextVar[_Facts | None] = ContextVar("request_facts", default=None)


def note_operation(name: object) -> None:
    """The operation's name, when it is one GraphQL allows (a caller may send anything, even a
    number or an object as `operationName`)."""
    facts = _FACTS.get()
    if facts is not None and isinstance(name, str) and _NAME.fullmatch(name):
        facts.operation = name


def note_caller(kind: str) -> None:
    facts = _FACTS.get()
    if facts is not None:
        facts.caller = kind


def caller_kind(caller: object) -> str:
    """user, api_key, platform_key or anonymous: who, never which."""
    if isinstance(caller, Viewer):
        return "user"
    if isinstance(caller, ApiKeyPrincipal):
        return "platform_key" if caller.is_platform else "api_key"
    return "anonymous"


def operation_name(checked: CheckedOperation | None, sent: str | None) -> str | None:
    """The name of the operation that runs, from the document when it is parsed."""
    if checked is None or checked.document is None:
        return sent
    operation = get_operation_ast(checked.document, sent)
    return operation.name.value if operation is not None and operation.name else sent


def request_id_from(value: str | None) -> str:
    if value is not None and _SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER.lower().encode())
        request_id = request_id_from(sent.decode("latin-1") if sent else None)
        id_token, facts_token = REQUEST_ID.set(request_id), _FACTS.set(facts := _Facts())
        status = 500  # unless a response starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            raise
        finally:
            seconds = time.perf_counter() - started
            _log_line(scope, facts, status, seconds)
            observe_request(operation_label(scope["path"], facts.operation), status, seconds)
            _FACTS.reset(facts_token)
            REQUEST_ID.reset(id_token)


def _log_line(scope: Scope, facts: _Facts, status: int, seconds: float) -> None:
    # The path without its query string: a query string may carry a document or a token.
    method, path, operation = scope["method"], _printable(scope["path"]), facts.operation
    duration_ms = round(seconds * 1000, 1)
    level = logging.ERROR if status >= 500 else logging.INFO
    named = f" {operation}" if operation else ""
    message = f"{method} {path}{named} {facts.caller} -> {status} in {duration_ms:.1f} ms"
    fields = {
        "method": method,
        "path": path,
        "operation": operation,
        "caller": facts.caller,
        "status": status,
        "duration_ms": duration_ms,
    }
    if not write_json_line(log, level, message, fields):
        log.log(level, "%s", message, extra=fields)


def _printable(path: str) -> str:
    """A decoded path may hold line breaks (%0A): escaped, so no request writes its own line.
    A run of digits as long as a card number is a caller's mistake that stays out of the logs."""
    path = _CARD_LIKE.sub("[digits]", path)
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
