"""A minimal HTTP/1.1 client on one keep-alive asyncio connection, for latencies where the client's
own CPU should not be counted as the server's: httpx spends about 3 ms of its own per request on
this machine, more than a light GraphQL request costs the gateway (bench/README.md, 2026-12-06).
It sends one POST at a time and reads a response with a Content-Length (the gateway's always have
one); anything else is an error, not a guess.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self


class KeepAliveClient:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    async def __aenter__(self) -> Self:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status and the body of a POST of `body` (JSON) to `path`."""
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        self.writer.write("\r\n".join(lines).encode() + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
        lengths = [value for name, value in fields.items() if name.lower() == "content-length"]
        if not lengths:
            raise RuntimeError(f"an answer without Content-Length: {head[0]}")
        return status, await self.reader.readexactly(int(lengths[0]))
