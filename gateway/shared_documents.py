"""Persisted queries registered by signed-in apps, shared by every process through Redis
(REDIS_URL): a document registered on one process runs by its hash alone on any other.

Keys are the documents' sha256 under the gateway's key prefix, each kept REGISTERED_TTL_SECONDS
after its last registration (documents of at most persisted.MAX_REGISTERED characters). A
document read back is run only if it still has that hash. When Redis does not answer, a lookup
is a miss (the client sends the text again, as the protocol expects) and a registration stays in
the process, for REDIS_RETRY_SECONDS before Redis is asked again; a warning is logged at most
once a minute."""

from __future__ import annotations

import logging
import math
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.settings import Settings
from gateway.trusted_documents import document_hash

REGISTERED_TTL_SECONDS = 3600
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 5.0  # after Redis failed to answer, how long to keep to the process
_WARN_EVERY_SECONDS = 60.0
log = logging.getLogger(__name__)


def shared_documents(settings: Settings) -> SharedDocuments | None:
    if not settings.redis_url:
        return None
    return SharedDocuments(settings.redis_url, settings.redis_key_prefix)


class SharedDocuments:
    def __init__(self, redis_url: str, key_prefix: str) -> None:
        self._redis: Redis = Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._prefix = f"{key_prefix}:apq:"
        self._warned_at = -math.inf
        self._retry_at = -math.inf

    async def get(self, sha256: str) -> str | None:
        if time.monotonic() < self._retry_at:
            return None
        try:
            value = await self._redis.get(self._prefix + sha256)
        except RedisError as error:
            self._warn(error)
            return None
        if not isinstance(value, bytes):
            return None
        text = value.decode("utf-8", errors="replace")
        return text if document_hash(text) == sha256 else None

    async def put(self, sha256: str, text: str) -> None:
        """Only documents PersistedOperations registered come here: at most MAX_REGISTERED long."""
        if time.monotonic() < self._retry_at:
            return
        try:
            await self._redis.set(self._prefix + sha256, text, ex=REGISTERED_TTL_SECONDS)
        except RedisError as error:
            self._warn(error)

    def _warn(self, error: RedisError) -> None:
        now = time.monotonic()
        self._retry_at = now + REDIS_RETRY_SECONDS
        if now - self._warned_at >= _WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("Persisted queries: Redis did not answer (%s); using this process's", error)
