"""Outbound webhooks (EVT-1): endpoints and deliveries, for the SaaS backend's platform key
(scope webhooks:write)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from billing.errors import BillingError, ForbiddenError
from billing.webhooks import DeliveryStatus
from models import WebhookDelivery as DeliveryRow
from models import WebhookEndpoint as EndpointRow
from resolvers import webhook_endpoints as endpoints
from resolvers.platform import require_platform_scope
from schema.context import Context, Info
from schema.plan_change import UserError
from schema.user_errors import user_error

SCOPE = "webhooks:write"
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(description="Where events are sent (EVT-1); its secret is never shown again.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    events: list[str]
    created_at: datetime
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="During a rotation: until then each delivery carries two v1 signatures."
    )

    @classmethod
    def of(cls, row: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            description=row.description,
            events=list(row.events),
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            previous_secret_expires_at=row.previous_secret_expires_at,
        )


@strawberry.type(description="One event sent (or to be sent) to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str
    event_type: str
    organization_id: strawberry.ID
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: DeliveryRow) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            event_id=row.event_id,
            event_type=row.event.type,
            organization_id=strawberry.ID(str(row.organization_id)),
            status=DeliveryStatus(row.status),
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


@strawberry.type
class WebhookEndpointRegistered:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="Shown this once: keep it to check signatures.")


@strawberry.type
class WebhookSecretRotated:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="The new secret, shown this once.")


@strawberry.type
class WebhookEndpointDisabled:
    endpoint: WebhookEndpoint


@strawberry.type
class WebhookDeliveryResent:
    delivery: WebhookDelivery


@strawberry.input
class WebhookEndpointInput:
    url: str
    events: list[str] = strawberry.field(description="Event types, e.g. invoice.paid.")
    description: str = ""


RegisterWebhookEndpointResult = Annotated[
    WebhookEndpointRegistered | UserError, strawberry.union("RegisterWebhookEndpointResult")
]
RotateWebhookSecretResult = Annotated[
    WebhookSecretRotated | UserError, strawberry.union("RotateWebhookSecretResult")
]
DisableWebhookEndpointResult = Annotated[
    WebhookEndpointDisabled | UserError, strawberry.union("DisableWebhookEndpointResult")
]
ResendWebhookDeliveryResult = Annotated[
    WebhookDeliveryResent | UserError, strawberry.union("ResendWebhookDeliveryResult")
]


def _platform(context: Context) -> None:
    """A user's token is refused as FORBIDDEN (signed in, but not as a platform key)."""
    if context.api_key is None and context.viewer is not None:
        raise ForbiddenError(f"This needs a platform API key with the scope {SCOPE}.")
    require_platform_scope(context.api_key, SCOPE)


def _refused(error: BillingError) -> UserError:
    return user_error(error)


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="EVT-1: the registered endpoints (platform key, webhooks:write).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint] | None:
        _platform(info.context)
        return [WebhookEndpoint.of(row) for row in await endpoints.list_endpoints()]

    @strawberry.field(description="EVT-1: an endpoint's deliveries, the newest first.")
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        status: DeliveryStatus | None = None,
        first: int = 50,
    ) -> list[WebhookDelivery] | None:
        _platform(info.context)
        endpoint = await endpoints.find_endpoint(str(endpoint_id))
        rows = await endpoints.list_deliveries(endpoint, status, first)
        return [WebhookDelivery.of(row) for row in rows]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="EVT-1: http(s) only, public addresses only by default.")
    async def register_webhook_endpoint(
        self, info: Info, input: WebhookEndpointInput
    ) -> RegisterWebhookEndpointResult:
        context = info.context
        _platform(context)
        registration = endpoints.Registration(input.url, input.events, input.description)
        try:
            row, secret = await endpoints.register_endpoint(
                registration, context.clock.now(), allow_private=context.webhooks_allow_private
            )
        except BillingError as error:
            return _refused(error)
        return WebhookEndpointRegistered(endpoint=WebhookEndpoint.of(row), secret=secret)

    @strawberry.mutation(description="A new secret; the old one also signs for a while.")
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID, previous_valid_hours: int = 24
    ) -> RotateWebhookSecretResult:
        context = info.context
        _platform(context)
        overlap = timedelta(hours=previous_valid_hours)
        try:
            row, secret = await endpoints.rotate_secret(str(id), overlap, context.clock.now())
        except BillingError as error:
            return _refused(error)
        return WebhookSecretRotated(endpoint=WebhookEndpoint.of(row), secret=secret)

    @strawberry.mutation(description="Nothing more is sent to it; its deliveries stay listed.")
    async def disable_webhook_endpoint(
        self, info: Info, id: strawberry.ID
    ) -> DisableWebhookEndpointResult:
        context = info.context
        _platform(context)
        try:
            row = await endpoints.disable_endpoint(str(id), context.clock.now())
        except BillingError as error:
            return _refused(error)
        return WebhookEndpointDisabled(endpoint=WebhookEndpoint.of(row))

    @strawberry.mutation(description="The delivery's event again, with the same event id.")
    async def resend_webhook_delivery(
        self, info: Info, id: strawberry.ID
    ) -> ResendWebhookDeliveryResult:
        context = info.context
        _platform(context)
        try:
            row = await endpoints.resend_delivery(str(id), context.clock.now())
        except BillingError as error:
            return _refused(error)
        return WebhookDeliveryResent(delivery=WebhookDelivery.of(row))
