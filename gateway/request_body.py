"""Decoding a GraphQL request's JSON: whatever a caller sends gets a 400 that says what is wrong,
never an exception from deep inside the JSON decoder or the GraphQL view."""

from __future__ import annotations

import json
import re
from typing import Any

from cross_web import HTTPException

_SHAPE = 'send {"query": "...", "variables": {...}}'
# A lone surrogate can only arrive as a \\uD800-\\uDFFF escape: only then is the value walked.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}


def decode_request_json(data: str | bytes) -> object:
    """The decoded value; json.JSONDecodeError for text that is not JSON (the view's own 400)."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise HTTPException(
            400, f"The request body nests too deeply to be a GraphQL request: {_SHAPE}."
        ) from None
    except UnicodeDecodeError:
        raise HTTPException(400, "The request body is not UTF-8 text.") from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # Python's limit on digits when turning text into an int
        raise HTTPException(
            400,
            "A number in the request has more than 4,300 digits; "
            "GraphQL's Int holds at most 2147483647.",
        ) from error
    if _has_surrogate_escape(data) and _holds_lone_surrogate(value):
        raise HTTPException(
            400,
            "The request holds a lone UTF-16 surrogate (e.g. \\ud800), which is not text; "
            "send valid Unicode.",
        )
    return value


def require_object(value: object) -> None:
    """A GraphQL request body is one JSON object (a list is a batch, refused later on)."""
    if value is None or not isinstance(value, dict | list):
        kind = "null" if value is None else _JSON_NAMES.get(type(value), "a number")
        raise HTTPException(400, f"The request body is {kind}, not a JSON object: {_SHAPE}.")


def _has_surrogate_escape(data: str | bytes) -> bool:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return _SURROGATE_ESCAPE.search(raw) is not None


def _holds_lone_surrogate(value: Any) -> bool:
    # A loop, not recursion: the JSON decoder accepts nesting deeper than Python's stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class CheckedRequestBody:
    """Mixed into the GraphQL view (before strawberry's class) to decode bodies as above."""

    def decode_json(self, data: str | bytes) -> object:
        value = decode_request_json(data)
        # The body arrives as bytes; query-string parameters (GET variables) as str, and those
        # may be null: strawberry checks their shape itself.
        if isinstance(data, bytes):
            require_object(value)
        return value
