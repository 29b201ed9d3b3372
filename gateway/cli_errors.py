"""Failures of a command that the person at the terminal can act on: one line, no traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gateway.settings import Settings
from resolvers.availability import database_unavailable


class CommandError(Exception):
    """A failure the person at the terminal can act on; printed without a traceback."""


def run_reporting_unreachable_database(
    run: Callable[[Settings, Any], None], settings: Settings, args: Any
) -> None:
    try:
        run(settings, args)
    except Exception as error:
        if isinstance(error, CommandError) or not database_unavailable(error):
            raise
        raise CommandError(
            f"cannot reach the database at {redacted(settings.database_url)} "
            f"({_reason(error)}): check that it runs and the database exists, or set DATABASE_URL"
        ) from None


def redacted(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 200 else f"{text[:200]}…"
