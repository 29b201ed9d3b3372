"""Persisted operations (api-contract): the Apollo automatic-persisted-query protocol for apps,
and for partners (API keys) only the documents of the trusted manifest (ACC-6).

A request names a document by `extensions.persistedQuery.sha256Hash`. Apps may register one by
sending the text with its hash once; afterwards the hash alone runs it. The registered documents
are kept per process, least recently used first out, and with REDIS_URL also in Redis for every
process (gateway/shared_documents.py): a process that does not know a hash answers
PERSISTED_QUERY_NOT_FOUND and the client sends the text again, as the protocol expects."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError, parse

from gateway.shared_documents import SharedDocuments
from gateway.trusted_documents import document_hash

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
MAX_REGISTERED = 64 * 1024  # characters of one registered document
_SHA256 = re.compile(r"[0-9a-f]{64}")


class OperationRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PersistedOperations:
    def __init__(
        self,
        trusted: dict[str, str],
        registered_size: int = 1000,
        shared: SharedDocuments | None = None,
    ) -> None:
        self._trusted = trusted
        self._registered: OrderedDict[str, str] = OrderedDict()
        self._registered_size = registered_size
        self._shared = shared

    async def resolve(
        self,
        query: str | None,
        extensions: dict[str, Any] | None,
        *,
        partner: bool,
        may_register: bool = False,
    ) -> str | None:
        """`document`, with the registrations of the other processes when they are shared."""
        sha256 = self._registrable_hash(extensions, partner)
        if self._shared is None or sha256 is None:
            return self.document(query, extensions, partner=partner, may_register=may_register)
        known = sha256 in self._registered
        if query is None and not known:
            text = await self._shared.get(sha256)
            if text is not None:
                self._remember(sha256, text)
        document = self.document(query, extensions, partner=partner, may_register=may_register)
        if query is not None and not known and self._registered.get(sha256) == query:
            await self._shared.put(sha256, query)
        return document

    async def register(self, query: str | None, extensions: dict[str, Any] | None) -> None:
        """Keeps a signed-in user's document sent with its hash, which `resolve` accepted (and,
        with REDIS_URL, shares it), as `resolve` with `may_register` does: called once the
        request is let through its rate limits, so a refused request registers nothing."""
        if query is not None:
            await self.resolve(query, extensions, partner=False, may_register=True)

    def _registrable_hash(self, extensions: dict[str, Any] | None, partner: bool) -> str | None:
        """The hash of an app's registered (not trusted) document the request names, if any."""
        persisted = (extensions or {}).get("persistedQuery")
        if partner or persisted is None:
            return None
        try:
            sha256 = _requested_hash(persisted)
        except OperationRefused:
            return None  # `document` refuses it
        return None if sha256 in self._trusted else sha256

    def document(
        self,
        query: str | None,
        extensions: dict[str, Any] | None,
        *,
        partner: bool,
        may_register: bool = False,
    ) -> str | None:
        """The document to run; raises OperationRefused. Only signed-in users' documents are
        kept (`may_register`), and only those that parse and are at most MAX_REGISTERED long:
        anyone else's run, but take no room."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if partner:
                raise OperationRefused(
                    "FORBIDDEN",
                    "API keys run only trusted operations (ACC-6): send "
                    "extensions.persistedQuery.sha256Hash of a document in the trusted manifest.",
                )
            return query
        sha256 = _requested_hash(persisted)
        if query is not None and document_hash(query) != sha256:
            raise OperationRefused(
                "BAD_USER_INPUT",
                "extensions.persistedQuery.sha256Hash is not the sha256 of the query sent.",
            )
        trusted = self._trusted.get(sha256)
        if partner:
            if trusted is None:
                raise OperationRefused(
                    PERSISTED_QUERY_NOT_FOUND,
                    f"No trusted operation has the sha256 {sha256}: API keys run only the "
                    "documents of the trusted manifest (ACC-6).",
                )
            return trusted
        if trusted is not None:
            return trusted
        if query is None:
            known = self._registered.get(sha256)
            if known is None:
                # The message is the protocol's: clients resend the text when they see it.
                raise OperationRefused(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
            self._registered.move_to_end(sha256)
            return known
        if may_register and len(query) <= MAX_REGISTERED and _parses(query):
            self._remember(sha256, query)
        return query

    def _remember(self, sha256: str, query: str) -> None:
        self._registered[sha256] = query
        self._registered.move_to_end(sha256)
        while len(self._registered) > self._registered_size:
            self._registered.popitem(last=False)


def _parses(query: str) -> bool:
    try:
        parse(query)
    except GraphQLError:
        return False
    return True


def _requested_hash(persisted: object) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise OperationRefused(
            "BAD_USER_INPUT",
            'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 hex digits>"}.',
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise OperationRefused(
            "BAD_USER_INPUT",
            "extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits.",
        )
    return sha256
