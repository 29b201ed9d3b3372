"""IDM-1: idempotency keys. The rules only: what a key may be, how long it holds, how a request
is recognised again, and what a second request with a key already seen gets."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from enum import StrEnum
from typing import Any

KEY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyCode(StrEnum):
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"


class KeyState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Verdict(StrEnum):
    """What a request gets when its caller has used its key within the window."""

    REPLAY = "REPLAY"  # the same request, finished: its stored answer, nothing runs
    IN_PROGRESS = "IN_PROGRESS"  # the same request, still running: 409
    REUSED = "REUSED"  # another request under the same key: refused


def key_problem(key: str) -> str | None:
    """Why `key` cannot be an idempotency key, or None: 1 to 255 printable ASCII characters."""
    if not key:
        return "The Idempotency-Key header is empty: send 1 to 255 printable ASCII characters."
    if len(key) > MAX_KEY_LENGTH:
        return (
            f"The Idempotency-Key header is {len(key)} characters long; "
            f"the most is {MAX_KEY_LENGTH} (a UUID is a good key)."
        )
    if not all(" " <= ch <= "~" for ch in key):
        return (
            "The Idempotency-Key header may hold printable ASCII characters only "
            "(a UUID is a good key)."
        )
    return None


def fingerprint(document: str, operation_name: str | None, variables: dict[str, Any] | None) -> str:
    """The request a key was first used for: its document, operation and variables. Variables
    are compared as values, so their key order and spacing do not matter."""
    canonical = json.dumps(
        {
            "document": hashlib.sha256(document.encode()).hexdigest(),
            "operationName": operation_name,
            "variables": variables or {},
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def verdict(stored_fingerprint: str, stored_state: KeyState, request_fingerprint: str) -> Verdict:
    if stored_fingerprint != request_fingerprint:
        return Verdict.REUSED
    if stored_state == KeyState.DONE:
        return Verdict.REPLAY
    return Verdict.IN_PROGRESS
