"""Bearer tokens already verified by this process, so a caller's next requests skip the JWT
decoding and signature check (gateway/auth.py). Kept for the token's exact text (with the secret
and lifetime limit it was checked against) until its `exp`, as PyJWT judges it: a token that
verified once stays valid until then, since its other time claims (`iat`, `nbf`) only become
more true. Bounded: the least recently used token goes first."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")
SIZE = 4096


class VerifiedTokens(Generic[T]):
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[str, str, int], tuple[T, int]] = OrderedDict()

    def get(self, token: str, secret: str, max_lifetime_seconds: int) -> T | None:
        key = (token, secret, max_lifetime_seconds)
        kept = self._kept.get(key)
        if kept is None:
            return None
        # PyJWT refuses a token once `exp <= now`.
        if kept[1] <= time.time():
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return kept[0]

    def put(
        self, token: str, secret: str, max_lifetime_seconds: int, subject: T, expires: int
    ) -> None:
        self._kept[(token, secret, max_lifetime_seconds)] = (subject, expires)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
