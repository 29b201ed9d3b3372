"""Fault tests for the Stripe adapter: a processor that answers 500 or does not answer in time.
The charge is retried with the same idempotency key, then reported as unavailable (PAY-3), and
nothing changes: no plan change, no invoice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings
from models import Invoice, PaymentMethod
from payments.port import ChargeRequest, ProcessorUnavailableError
from payments.stripe import StripeProcessor
from tests.conftest import SEEDED_AT, GraphQLClient, free_port
from tests.factories import organization_with, state_of

# Starts processes or servers of its own: left out of the fast loop (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow


class _Broken(BaseHTTPRequestHandler):
    behaviour = "500"
    seen: list[tuple[str, str | None]] = []

    def do_POST(self) -> None:
        _Broken.seen.append((self.path, self.headers.get("Idempotency-Key")))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if _Broken.behaviour == "slow":
            time.sleep(1.5)
        body = b'{"error": {"type": "api_error", "message": "Internal failure"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def broken_stripe() -> Iterator[str]:
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.mark.parametrize("behaviour", ["500", "slow"])
async def test_a_failing_processor_is_retried_with_the_same_key(
    broken_stripe: str, behaviour: str
) -> None:
    _Broken.behaviour, _Broken.seen = behaviour, []
    processor = StripeProcessor("sk_test_x", None, broken_stripe, timeout_seconds=0.5)
    with pytest.raises(ProcessorUnavailableError) as raised:
        await processor.charge(ChargeRequest("pm_1", 1016, "USD", "change:abc", "Invoice", "cus_1"))
    assert raised.value.user_code == "PROCESSOR_UNAVAILABLE"
    await asyncio.sleep(
        1.6 if behaviour == "slow" else 0
    )  # let the slow server finish its requests
    charges = [key for path, key in _Broken.seen if path == "/v1/payment_intents"]
    assert len(charges) == 3 and set(charges) == {
        "change:abc"
    }  # first try and two retries, one key


@pytest_asyncio.fixture
async def broken_gql(
    database: str, settings: Settings, clock: FixedClock, broken_stripe: str
) -> AsyncIterator[GraphQLClient]:
    processor = StripeProcessor("sk_test_x", None, broken_stripe, timeout_seconds=0.5)
    app = create_app(settings, clock, processor, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as http:
        yield GraphQLClient(http)


async def test_a_change_while_the_processor_fails_changes_nothing(
    broken_gql: GraphQLClient,
) -> None:
    _Broken.behaviour = "500"
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
    )
    await organization.refresh_from_db()
    organization.processor_customer_id = "cus_1"
    await organization.save()
    await PaymentMethod.filter(organization_id=organization.id).update(processor_id="pm_1")
    before = await state_of(organization)
    body = await broken_gql(
        'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { ... on UserError { code message } } }',
        as_user=owner,
    )
    assert body["data"]["changePlan"] == {
        "code": "PROCESSOR_UNAVAILABLE",
        "message": "The payment processor is unavailable: nothing was charged. Try again in a minute.",
    }
    assert await state_of(organization) == before
    assert not await Invoice.filter(organization_id=organization.id).exists()
