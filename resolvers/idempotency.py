"""IDM-1's storage: a key is claimed by a committed row before its request runs, so a concurrent
request with the same key sees it at once (on SQLite and PostgreSQL alike); the answer is stored
on that row when the request is done, or the row is deleted when nothing was applied."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from billing.idempotency import KEY_WINDOW, KeyState, Verdict, verdict
from models import IdempotencyKey


@dataclass(frozen=True)
class Claimed:
    """The key is this request's: run it, then `finish` or `release`."""

    row_id: int


@dataclass(frozen=True)
class Seen:
    """The caller used the key within the window: `verdict` says what this request gets."""

    verdict: Verdict
    response: str | None


async def claim(caller: str, key: str, fingerprint: str, now: datetime) -> Claimed | Seen:
    # A key older than the window is free again; the caller's other expired keys go with it.
    await IdempotencyKey.filter(caller=caller, created_at__lte=now - KEY_WINDOW).delete()
    for _ in range(2):
        try:
            row = await IdempotencyKey.create(
                caller=caller,
                key=key,
                fingerprint=fingerprint,
                state=KeyState.IN_PROGRESS.value,
                created_at=now,
            )
        except IntegrityError:
            existing = await IdempotencyKey.get_or_none(caller=caller, key=key)
            if existing is None:
                continue  # released between our insert and our read: try to claim it again
            decided = verdict(existing.fingerprint, KeyState(existing.state), fingerprint)
            return Seen(decided, existing.response if decided is Verdict.REPLAY else None)
        return Claimed(row.id)
    return Seen(Verdict.IN_PROGRESS, None)


async def purge_expired(now: datetime) -> int:
    """Deletes every key older than the window (the billing clock's housekeeping)."""
    return await IdempotencyKey.filter(created_at__lte=now - KEY_WINDOW).delete()


async def finish(claimed: Claimed, response: str) -> None:
    await IdempotencyKey.filter(id=claimed.row_id).update(
        state=KeyState.DONE.value, response=response
    )


async def release(claimed: Claimed) -> None:
    await IdempotencyKey.filter(id=claimed.row_id).delete()


@dataclass
class Refusals:
    """How many root mutation fields answered a UserError (nothing applied) in this request."""

    count: int = 0


_refusals: ContextVar[Refusals | None] = ContextVar("idempotency_refusals", default=None)


@contextmanager
def counting_refusals() -> Iterator[Refusals]:
    refusals = Refusals()
    token = _refusals.set(refusals)
    try:
        yield refusals
    finally:
        _refusals.reset(token)


def note_refused() -> None:
    """Called where a mutation turns a refused change into a UserError answer."""
    refusals = _refusals.get()
    if refusals is not None:
        refusals.count += 1
