"""For the webhook tests (EVT-1): a real HTTP receiver on loopback, in a thread, that records
what it gets and answers 200, or 500 while told to fail (after recording, like a receiver that
crashed late), or hangs; the README's signature check; platform keys and the trusted documents."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from resolvers.api_keys import create_api_key
from resolvers.webhook_delivery import DeliveryOptions
from tests.conftest import SEEDED_AT, GraphQLClient, free_port, trusted_request
from tests.factories import organization_with


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


ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
FAST = DeliveryOptions(timeout_seconds=2.0, allow_private=True)  # loopback receivers
ALL_EVENTS = [
    "subscription.created",
    "subscription.changed",
    "subscription.status_changed",
    "subscription.trial_ending",
    "subscription.trial_ended",
    "plan_change.scheduled",
    "plan_change.applied",
    "invoice.issued",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.refunded",
    "invoice.dispute_created",
    "invoice.dispute_closed",
    "usage.threshold_reached",
    "usage.limit_reached",
    "payment_method.updated",
]


# The README's signature check, as a receiver writes it.
def verify(
    body: bytes, header: str, secret: str, tolerance: int = 300, now: float | None = None
) -> bool:
    """True if one v1 signature in the Billing-Gateway-Signature header is the body's."""
    parts = [part.split("=", 1) for part in header.split(",")]
    timestamps = [value for key, value in parts if key == "t"]
    signatures = [value for key, value in parts if key == "v1"]
    if len(timestamps) != 1 or not signatures:
        return False
    if abs((time.time() if now is None else now) - int(timestamps[0])) > tolerance:
        return False  # too old, or from the future: a replay
    signed = timestamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


async def platform_key(scopes: list[str]) -> str:
    """A platform key (bound to no organization), as `billing-gateway api-key create --platform`
    makes them."""
    return await create_api_key(None, "SaaS backend", scopes, SEEDED_AT)


async def run(
    http: httpx.AsyncClient, key: str | None, operation: str, variables: dict[str, Any]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await http.post(
        "/graphql", json=trusted_request(operation, variables), headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


async def register(
    http: httpx.AsyncClient, key: str, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    variables = {"input": {"url": url, "events": events or ALL_EVENTS}}
    body = await run(http, key, "RegisterWebhookEndpoint", variables)
    result: dict[str, Any] = body["data"]["registerWebhookEndpoint"]
    return result


async def deliveries(http: httpx.AsyncClient, key: str, endpoint_id: str) -> list[dict[str, Any]]:
    body = await run(http, key, "WebhookDeliveries", {"endpointId": endpoint_id, "first": 200})
    listed: list[dict[str, Any]] = body["data"]["webhookDeliveries"]
    return listed


async def declined_renewal(gql: GraphQLClient) -> Any:
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await gql("mutation { advanceTestClock(days: 1) { events } }", as_user=owner)
    return organization


def checked(receiver: Receiver, secret: str, at: float) -> None:
    for item in receiver.received:
        header = item.headers["Billing-Gateway-Signature"]
        assert verify(item.body, header, secret, now=at), header
        assert item.headers["Billing-Gateway-Event-Id"] == item.event["id"]
