"""GATEWAY_MAX_BODY_BYTES: a request body is read up to the limit and no further, whether it
declares its length or arrives in chunks; past it the answer is 413 and the rest is never read."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE = "QUERY_TOO_COMPLEX"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            return await self._refuse(scope, receive, send, declared)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return await self.app(scope, _replay([message], receive), send)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(scope, receive, send, None)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int | None) -> None:
        sent = f"{size:,} bytes" if size is not None else "more"
        extensions: dict[str, object] = {
            "code": CODE,
            "limit": "GATEWAY_MAX_BODY_BYTES",
            "maximum": self.max_bytes,
        }
        if size is not None:
            extensions["value"] = size
        message = (
            f"The request body is too large: {sent}, above the {self.max_bytes:,} bytes "
            "allowed (GATEWAY_MAX_BODY_BYTES). Send fewer items per request."
        )
        response = JSONResponse(
            {"errors": [{"message": message, "extensions": extensions}]}, status_code=413
        )
        response.headers["Connection"] = "close"  # the unread rest of the body is not wanted
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()  # after the body: the disconnect, when it comes

    return replayed
