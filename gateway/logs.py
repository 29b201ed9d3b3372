"""The gateway's log lines (README "Operations"), configured by the gateway itself: one handler on
stderr, JSON lines (python-json-logger) or lines a person reads, and in every line the id of the
request that caused it.

What is logged is chosen where it is logged: methods, paths without their query strings, operation
names, ids and counts; never headers, tokens, request bodies or card data."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from gateway.ops_settings import LogFormat, OpsSettings

# The request being answered; None outside a request (the billing clock, start-up).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_TEXT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
_STATEMENT_LOGGERS = ("tortoise", "aiosqlite", "asyncpg")
_JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
_JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record the handler writes ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get() or "-"
        return True


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format is LogFormat.JSON:
        return JsonFormatter(
            list(_JSON_FIELDS),
            # uvicorn repeats its message with terminal colours in `color_message`.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            rename_fields=_JSON_NAMES,
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    return logging.Formatter(_TEXT, datefmt="%Y-%m-%d %H:%M:%S")


def configure_logging(ops: OpsSettings, stream: TextIO | None = None) -> logging.Handler:
    """Replaces the handler an earlier call installed (one process, one configuration)."""
    global _json_lines
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(ops.log_format))
    request_ids = RequestIdFilter()
    handler.addFilter(request_ids)
    handler.set_name("billing-gateway")
    _json_lines = _JsonLines(handler, request_ids) if ops.log_format is LogFormat.JSON else None
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "billing-gateway"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(ops.log_level)
    # The gateway writes its own line per request (gateway/request_log.py); uvicorn's start-up
    # and error lines go through the handler above.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # The database drivers write every statement with its parameters at DEBUG, and Tortoise its
    # start and shutdown at INFO: their warnings and errors only.
    for name in _STATEMENT_LOGGERS:
        logging.getLogger(name).setLevel(max(ops.log_level, logging.WARNING))
    return handler


class _JsonLines:
    """The JSON handler configure_logging installed, and its own filter."""

    def __init__(
        self, handler: logging.StreamHandler[TextIO], request_ids: RequestIdFilter
    ) -> None:
        self.handler = handler
        self.formatter = handler.formatter
        self.filters = [request_ids]


_json_lines: _JsonLines | None = None


def write_json_line(
    logger: logging.Logger, level: int, message: str, fields: dict[str, Any]
) -> bool:
    """Writes the line the gateway's JSON handler writes for `logger.log(level, message,
    extra=fields)`, without the record, the logging calls and the formatter's walk over the
    record that make it (about 25 µs of the billing page's CPU, issue 16). True when written;
    False when anything else could see or change the record (another handler, a filter, a
    level that drops it, the text format, a formatter or stream replaced): then the caller logs
    it the ordinary way."""
    lines = _json_lines
    if lines is None or not _only_handler(logger, lines) or not logger.isEnabledFor(level):
        return False
    handler, formatter = lines.handler, lines.formatter
    lock = handler.lock
    if not isinstance(formatter, JsonFormatter) or not formatter.datefmt or lock is None:
        return False
    if level < handler.level:
        return False
    # What JsonFormatter.add_fields writes, in its order: the required fields, renamed, then
    # the extra ones (the record's own attributes are all reserved: none comes after them).
    values = {
        "asctime": _asctime(formatter.datefmt, formatter.converter),
        "levelname": logging.getLevelName(level),
        "name": logger.name,
        "message": message,
        "request_id": REQUEST_ID.get() or "-",
    }
    data = {_JSON_NAMES.get(name, name): values[name] for name in _JSON_FIELDS}
    data.update(fields)
    line = formatter.serialize_log_record(formatter.process_log_record(data))
    try:
        with lock:
            handler.stream.write(line + handler.terminator)
            handler.flush()
    except Exception:  # a stream that fails: logging reports it (Handler.handleError) as ever
        return False
    return True


# The second, date format and converter of the last time written, and its text.
_asctime_kept: tuple[int, str, object, str] = (-1, "", None, "")


def _asctime(datefmt: str, converter: Callable[[float | None], time.struct_time]) -> str:
    """The formatter's `formatTime` of now, written once a second (the format has no fraction
    of a second: a line's time is the second it was written in, as the formatter writes it)."""
    global _asctime_kept
    now = time.time()
    second = int(now)
    kept = _asctime_kept
    if kept[0] != second or kept[1] is not datefmt or kept[2] is not converter:
        kept = _asctime_kept = (second, datefmt, converter, time.strftime(datefmt, converter(now)))
    return kept[3]


def _only_handler(logger: logging.Logger, lines: _JsonLines) -> bool:
    """Whether the record would reach exactly the gateway's handler, as configured, and pass
    no filter but its own (Logger.callHandlers' walk up the hierarchy)."""
    if logger.filters or logger.disabled:
        return False
    current: logging.Logger | None = logger
    while current is not None:
        if current.handlers:
            return (
                current.handlers == [lines.handler]
                and lines.handler.filters == lines.filters
                and lines.handler.formatter is lines.formatter
                and (current.parent is None or not current.propagate)
            )
        if not current.propagate:
            return False
        current = current.parent
    return False
