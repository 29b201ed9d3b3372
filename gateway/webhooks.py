"""POST /webhooks/stripe: verified, then applied once (resolvers/webhooks.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from billing.clock import Clock
from payments.port import PaymentProcessor, WebhookSignatureError
from resolvers.webhooks import NotYetKnown, handle_event

Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def webhook_endpoint(processor: PaymentProcessor, clock: Clock) -> Endpoint:
    async def receive(request: Request) -> JSONResponse:
        payload = await request.body()
        try:
            event = processor.parse_webhook(payload, request.headers.get("stripe-signature"))
        except WebhookSignatureError as refused:
            return JSONResponse({"error": str(refused)}, status_code=400)
        try:
            outcome = await handle_event(event, clock.now(), processor)
        except NotYetKnown:
            # Our own record of the charge is not written yet: ask for a redelivery.
            return JSONResponse(
                {"error": "Unknown charge for now; deliver again later."}, status_code=503
            )
        return JSONResponse({"received": True, "outcome": outcome})

    return receive
