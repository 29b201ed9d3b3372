"""The Stripe adapter: the only module that imports `stripe`. Stripe's errors become ours."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

import stripe
from stripe.params import PaymentIntentCreateParams

from billing.disputes import DisputeStatus
from payments.port import (
    DECLINE_REASONS,
    CardDetails,
    ChargeRecord,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DisputeReport,
    PaymentMethodError,
    ProcessorEvent,
    ProcessorUnavailableError,
    Refund,
    RefundReport,
    SetupIntent,
    WebhookSignatureError,
)

log = logging.getLogger("billing_gateway.stripe")
# Stripe's own default; it bounds a replay of an old delivery, and a clock skew the other way.
WEBHOOK_TOLERANCE_SECONDS = stripe.Webhook.DEFAULT_TOLERANCE


class StripeProcessor:
    def __init__(
        self,
        api_key: str,
        webhook_secret: str | None = None,
        api_base: str | None = None,
        timeout_seconds: float = 20.0,
    ) -> None:
        options: dict[str, Any] = {
            "http_client": stripe.HTTPXClient(timeout=timeout_seconds),
            "max_network_retries": 2,
        }

        if api_base:
            options["base_addresses"] = {"api": api_base}
        # Network failures are retried by the client with the same idempotency key.
        self._client = stripe.StripeClient(api_key, **options)
        self.webhook_secret = webhook_secret

    async def create_customer(self, reference: str, name: str) -> str:
        try:
            customer = await self._client.v1.customers.create_async(
                params={"name": name, "metadata": {"organization": reference}},
                options={"idempotency_key": f"customer:{reference}"},
            )
        except stripe.StripeError as error:
            _unavailable(error)
        return str(customer.id)

    async def create_setup_intent(self, customer_id: str) -> SetupIntent:
        try:
            intent = await self._client.v1.setup_intents.create_async(
                params={"customer": customer_id, "usage": "off_session"}
            )
        except stripe.StripeError as error:
            _unavailable(error)
        return SetupIntent(str(intent.id), str(intent.client_secret))

    async def attach_payment_method(self, customer_id: str, payment_method_id: str) -> CardDetails:
        try:
            method = await self._client.v1.payment_methods.attach_async(
                payment_method_id, params={"customer": customer_id}
            )
        except stripe.CardError as error:
            code = _code(error)
            raise PaymentMethodError(
                f"{DECLINE_REASONS.get(code, error.user_message or 'The card was refused')}.",
                field="paymentMethodId",
                reason=code.upper(),
            ) from None
        except stripe.InvalidRequestError as error:
            raise PaymentMethodError(
                f"The processor does not know payment method {payment_method_id!r}.",
                field="paymentMethodId",
                reason="INVALID_PAYMENT_METHOD",
            ) from error
        except stripe.StripeError as error:
            _unavailable(error)
        card = method.card
        if card is None:
            raise PaymentMethodError(
                "Only cards are accepted.", field="paymentMethodId", reason="NOT_A_CARD"
            )
        return CardDetails(
            str(method.id),
            str(card.brand),
            str(card.last4),
            int(card.exp_month),
            int(card.exp_year),
        )

    async def detach_payment_method(self, payment_method_id: str) -> None:
        try:
            await self._client.v1.payment_methods.detach_async(payment_method_id)
        except stripe.StripeError as error:
            _unavailable(error)

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        params: PaymentIntentCreateParams = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method": request.payment_method_id,
            "off_session": True,
            "confirm": True,
            "metadata": {
                "idempotency_key": request.idempotency_key,
                "description": request.description,
                "reference": request.reference,
            },
        }
        if request.customer_id:
            params["customer"] = request.customer_id
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.CardError as error:
            code = _code(error)
            body = cast(dict[str, Any], error.json_body or {})
            intent_id = str((body.get("error") or {}).get("payment_intent", {}).get("id") or "")
            if code == "authentication_required":
                # Off-session 3DS: the customer confirms the same intent with its client secret.
                waiting = (body.get("error") or {}).get("payment_intent") or {}
                return ChargeResult(
                    ChargeStatus.REQUIRES_ACTION,
                    intent_id,
                    code,
                    error.user_message,
                    client_secret=waiting.get("client_secret"),
                )

            return ChargeResult(ChargeStatus.FAILED, intent_id, code, error.user_message)
        except stripe.StripeError as error:
            _unavailable(error)
        if intent.status == "succeeded":
            return ChargeResult(ChargeStatus.SUCCEEDED, str(intent.id))
        if intent.status in ("requires_action", "requires_confirmation"):
            return ChargeResult(
                ChargeStatus.REQUIRES_ACTION,
                str(intent.id),
                client_secret=str(intent.client_secret),
            )
        error_data = intent.to_dict().get("last_payment_error") or {}
        code = str(error_data.get("decline_code") or error_data.get("code") or "card_declined")
        return ChargeResult(ChargeStatus.FAILED, str(intent.id), code, error_data.get("message"))

    async def refund(self, charge_id: str, amount: int, idempotency_key: str) -> Refund:
        try:
            refund = await self._client.v1.refunds.create_async(
                params={"payment_intent": charge_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            _unavailable(error)
        return Refund(str(refund.id), int(refund.amount))

    async def recent_charges(self, since: datetime) -> list[ChargeRecord]:
        records: list[ChargeRecord] = []
        try:
            # Newest first: stop at the first one older than `since`.
            page = await self._client.v1.payment_intents.list_async(params={"limit": 100})
            async for intent in page.auto_paging_iter():
                if datetime.fromtimestamp(int(intent.created), UTC) < since:
                    break

                metadata: dict[str, str] = intent.to_dict().get("metadata") or {}
                records.append(
                    ChargeRecord(
                        charge_id=str(intent.id),
                        idempotency_key=str(metadata.get("idempotency_key", "")),
                        reference=str(metadata.get("reference", "")),
                        amount=int(intent.amount),
                        currency=str(intent.currency).upper(),
                        succeeded=intent.status == "succeeded",
                        created=datetime.fromtimestamp(int(intent.created), UTC),
                    )
                )
        except stripe.StripeError as error:
            _unavailable(error)
        return records

    def parse_webhook(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        verify_webhook_signature(payload, signature, self.webhook_secret)
        return event_from_stripe_json(payload)


def _code(error: stripe.StripeError) -> str:
    details = error.error
    decline = getattr(details, "decline_code", None) if details else None
    return str(decline or error.code or "card_declined")


def _unavailable(error: stripe.StripeError) -> NoReturn:
    log.warning("processor error: %s", error)
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        message = "The payment processor refused the gateway's credentials: nothing was charged."
    elif isinstance(error, stripe.InvalidRequestError):
        refusal = error.user_message or "invalid request"
        message = f"The payment processor refused the request ({refusal}): nothing was charged."
    else:
        message = (
            "The payment processor is unavailable: nothing was charged. Try again in a minute."
        )
    raise ProcessorUnavailableError(message, reason="PROCESSOR_UNAVAILABLE") from None


def verify_webhook_signature(payload: bytes, header: str | None, secret: str | None) -> None:
    """Stripe's own check (any one of several `v1` signatures verifies, as during a secret
    rotation; an old timestamp is refused), and ours where it is lax: a body that is not UTF-8,
    and a timestamp further in the future than the tolerance. Signatures are dated by Stripe on
    the wall clock, so they are checked against it, not against the billing clock."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookSignatureError(
            "The body is not UTF-8 text, so it is not an event from Stripe."
        ) from None
    if not secret:
        raise WebhookSignatureError("This endpoint has no webhook signing secret configured.")
    try:
        stripe.WebhookSignature.verify_header(text, header, secret, WEBHOOK_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureError(f"The Stripe-Signature header is refused: {error}.") from None
    signed_at = _signature_timestamp(header or "")
    if signed_at > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookSignatureError(
            f"The Stripe-Signature timestamp {signed_at} is more than "
            f"{WEBHOOK_TOLERANCE_SECONDS} seconds in the future; check the sender's clock."
        )


def _signature_timestamp(header: str) -> int:
    # Read as Stripe's helper reads it; the header has verified, so its `t=` part is there.
    for part in header.split(","):
        bits = part.split("=", 2)
        if bits[0] == "t":
            return int(bits[1])
    raise WebhookSignatureError("The Stripe-Signature header has no timestamp.")


_TYPES = {
    "payment_intent.succeeded": "payment_succeeded",
    "payment_intent.payment_failed": "payment_failed",
    "payment_intent.requires_action": "payment_requires_action",
    "charge.refunded": "charge_refunded",
    "charge.dispute.created": "dispute_created",
    "charge.dispute.updated": "dispute_updated",
    "charge.dispute.closed": "dispute_closed",
}
# Stripe's dispute statuses in ours; `warning_*` are inquiries, which take no money.
DISPUTE_STATUSES = {
    "warning_needs_response": DisputeStatus.NEEDS_RESPONSE,
    "needs_response": DisputeStatus.NEEDS_RESPONSE,
    "warning_under_review": DisputeStatus.UNDER_REVIEW,
    "under_review": DisputeStatus.UNDER_REVIEW,
    "won": DisputeStatus.WON,
    "lost": DisputeStatus.LOST,
    "warning_closed": DisputeStatus.CLOSED,
    "prevented": DisputeStatus.CLOSED,
}


class _NotAnEvent(Exception):
    pass


def event_from_stripe_json(payload: bytes) -> ProcessorEvent:
    """Events in Stripe's JSON shape, which the sandbox speaks too."""
    try:
        event = json.loads(payload)
        kind = _TYPES.get(event["type"], event["type"])
        subject = event["data"]["object"]
        if kind == "charge_refunded":
            parsed = _charge_refunded(str(event["id"]), subject)
        elif kind.startswith("dispute_"):
            parsed = _dispute_event(str(event["id"]), kind, subject)
        else:
            error = subject.get("last_payment_error") or {}
            parsed = ProcessorEvent(
                id=str(event["id"]),
                type=kind,
                charge_id=subject.get("id"),
                failure_code=error.get("decline_code") or error.get("code"),
            )
    except (ValueError, KeyError, TypeError, AttributeError, _NotAnEvent):
        raise WebhookSignatureError(
            "The body is not a Stripe event (JSON with an id, a type and data.object)."
        ) from None
    _check_sizes(parsed)
    return parsed


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _NotAnEvent
    return value


def _charge_refunded(event_id: str, charge: dict[str, Any]) -> ProcessorEvent:
    # The gateway keeps the payment intent's id; a charge made without one is known by its own.
    listed = charge.get("refunds") or {}
    rows = (listed.get("data") or []) if isinstance(listed, dict) else []
    refunds = tuple(
        RefundReport(str(row["id"]), _amount(row["amount"]))
        for row in rows
        if row.get("status") not in ("failed", "canceled")  # as amount_refunded counts them
    )
    return ProcessorEvent(
        id=event_id,
        type="charge_refunded",
        charge_id=charge.get("payment_intent") or charge.get("id"),
        amount_refunded=_amount(charge.get("amount_refunded", 0)),
        refunds=refunds,
    )


def _dispute_event(event_id: str, kind: str, dispute: dict[str, Any]) -> ProcessorEvent:
    status = DISPUTE_STATUSES.get(str(dispute.get("status")))
    if status is None:  # a status Stripe adds later: closed or not, as the event says
        status = DisputeStatus.CLOSED if kind == "dispute_closed" else DisputeStatus.NEEDS_RESPONSE
    created = dispute.get("created")
    report = DisputeReport(
        id=str(dispute["id"]),
        amount=_amount(dispute["amount"]),
        currency=str(dispute.get("currency") or "").upper(),
        reason=str(dispute.get("reason") or ""),
        status=status,
        created=datetime.fromtimestamp(_amount(created), UTC) if created is not None else None,
    )
    charge = dispute.get("payment_intent") or dispute.get("charge")
    return ProcessorEvent(id=event_id, type=kind, charge_id=charge, dispute=report)


# What the gateway stores of an event; Stripe's own ids are about 30 characters.
_EVENT_LIMITS = {"id": 200, "type": 100, "charge_id": 200, "failure_code": 64}
_DISPUTE_LIMITS = {"id": 200, "currency": 3, "reason": 100}


def _check_sizes(event: ProcessorEvent) -> None:
    texts: list[tuple[str, object, int]] = [
        (name, getattr(event, name), limit) for name, limit in _EVENT_LIMITS.items()
    ]
    texts += [("refund id", refund.id, 200) for refund in event.refunds]
    if event.dispute is not None:
        texts += [
            (f"dispute {name}", getattr(event.dispute, name), limit)
            for name, limit in _DISPUTE_LIMITS.items()
        ]
    for name, value, limit in texts:
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            raise WebhookSignatureError(
                f"The event's {name} is not a Stripe {name}: "
                f"expected text of at most {limit} characters."
            )
