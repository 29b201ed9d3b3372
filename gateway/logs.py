"""The gateway's log lines (README "Operations"), configured by the gateway itself: one handler on
stderr, JSON lines (python-json-logger) or lines a person reads, and in every line the id of the
request that caused it.

What is logged is chosen where it is logged: methods, paths without their query strings, operation
names, ids and counts; never headers, tokens, request bodies or card data."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from gateway.ops_settings import LogFormat, OpsSettings

# The request being answered; None outside a request (the billing clock, start-up).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_TEXT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
_STATEMENT_LOGGERS = ("tortoise", "aiosqlite", "asyncpg")
_JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")


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
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    return logging.Formatter(_TEXT, datefmt="%Y-%m-%d %H:%M:%S")


def configure_logging(ops: OpsSettings, stream: TextIO | None = None) -> logging.Handler:
    """Replaces the handler an earlier call installed (one process, one configuration)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(ops.log_format))
    handler.addFilter(RequestIdFilter())
    handler.set_name("billing-gateway")
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
