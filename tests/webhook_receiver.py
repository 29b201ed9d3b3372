"""A real HTTP receiver for webhook tests, on loopback, in a thread: it records what it gets and
answers 200, or 500 while told to fail (after recording, like a receiver that crashed late),
or hangs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    failing: bool = False
    hang_seconds: float = 0.0

    def events(self, organization_id: object | None = None) -> list[dict[str, Any]]:
        """What arrived, deduplicated by event id as a receiver must, in arrival order."""
        seen: set[str] = set()
        unique = []
        for item in self.received:
            event = item.event
            if event["id"] in seen:
                continue
            if organization_id is None or event["organization_id"] == str(organization_id):
                seen.add(event["id"])
                unique.append(event)
        return unique


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    port = free_port()
    receiver = Receiver(f"http://127.0.0.1:{port}/hooks")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if receiver.hang_seconds:
                time.sleep(receiver.hang_seconds)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.received.append(Received(dict(self.headers.items()), body))
            self.send_response(500 if receiver.failing else 200)
            self.end_headers()
            self.wfile.write(b"boom" if receiver.failing else b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
