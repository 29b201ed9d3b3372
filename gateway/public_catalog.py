"""The pricing page's catalog over GET, cacheable by browsers and CDNs (ACC-3, README "Browsers").

An anonymous GET that names, by its hash alone, a trusted document reading nothing but `catalog`
answers the same to everyone until the catalog changes. So its ETag follows the catalog revision,
it may be kept for CACHE_SECONDS, and a matching If-None-Match answers 304 without running the
query. Every other request goes to the endpoint untouched (and is `no-store`: see
gateway/security_headers.py)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.trusted_documents import document_hash
from resolvers.catalog import catalog_revision
from schema import schema

CACHE_SECONDS = 60
_PUBLIC_ROOT_FIELDS = frozenset({"catalog", "__typename"})


def public_documents(manifest: dict[str, str]) -> frozenset[str]:
    """The hashes of the trusted documents whose every operation is a query of `catalog` only."""
    return frozenset(sha256 for sha256, text in manifest.items() if _reads_only_catalog(text))


def _reads_only_catalog(text: str) -> bool:
    try:
        document = parse(text)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        operation.operation is OperationType.QUERY and _only_public(operation.selection_set)
        for operation in operations
    )


def _only_public(selection_set: SelectionSetNode) -> bool:
    return all(
        isinstance(selection, FieldNode) and selection.name.value in _PUBLIC_ROOT_FIELDS
        for selection in selection_set.selections
    )


class PublicCatalogCache:
    """Wraps the GraphQL endpoint; `documents` are the public trusted documents' hashes."""

    def __init__(self, app: ASGIApp, documents: frozenset[str]) -> None:
        self.app = app
        self.documents = documents
        # A new gateway version may answer the same revision differently: it changes the ETag.
        self.build = document_hash(schema.as_str())[:12]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        # Read before the query runs: if the catalog changes meanwhile, the answer carries the
        # older revision and the next revalidation fetches it again, never the other way round.
        revision = await catalog_revision()
        if revision is None:
            await self.app(scope, receive, send)
            return
        headers = {
            "ETag": f'W/"{revision}-{self.build}"',
            "Cache-Control": f"public, max-age={CACHE_SECONDS}",
            "Vary": "Accept",
        }
        if _matches(Headers(scope=scope).get("if-none-match"), headers["ETag"]):
            await Response(status_code=304, headers=headers)(scope, receive, send)
            return
        await self.app(scope, receive, _CacheableAnswer(send, headers).send)

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        if "authorization" in Headers(scope=scope):
            return False
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "query" in params or len(params.get("extensions", [])) != 1:
            return False
        try:
            extensions = json.loads(params["extensions"][0])
        except (ValueError, RecursionError):  # the endpoint answers what is wrong with it
            return False
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        sha256 = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        return isinstance(sha256, str) and sha256 in self.documents


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison, as If-None-Match uses."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class _CacheableAnswer:
    """Holds the answer back until its body is complete: only a 200 with no errors is marked
    cacheable (an error, e.g. for bad variables, is not kept)."""

    def __init__(self, send: Send, headers: dict[str, str]) -> None:
        self._send = send
        self._headers = headers
        self._start: Message | None = None
        self._body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._body += message.get("body", b"")
        if message.get("more_body", False):
            return
        if self._start["status"] == 200 and _without_errors(bytes(self._body)):
            headers = MutableHeaders(scope=self._start)
            for name, value in self._headers.items():
                if name == "Vary":
                    headers.add_vary_header(value)
                else:
                    headers[name] = value
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": bytes(self._body)})


def _without_errors(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and not answer.get("errors")
