"""recordUsage's work once the caller may record usage, shared by the GraphQL mutation and the
trusted RecordUsage document's hot path (gateway/usage_ingest.py)."""

from __future__ import annotations

from billing.errors import BillingError
from resolvers import usage as usage_service
from resolvers.organization import find_organization
from resolvers.usage import EventInput
from schema.context import Context
from schema.usage import RecordUsageResult, UsageRecorded
from schema.user_errors import user_error


async def record_usage_events(context: Context, events: list[EventInput]) -> RecordUsageResult:
    """recordUsage once its caller may record usage (IsCaller, CanRecordUsage); also answers the
    trusted RecordUsage document straight from its variables (gateway/usage_ingest.py)."""
    if context.api_key is not None:
        organization_id = context.api_key.organization_id
        assert organization_id is not None  # CanRecordUsage: platform keys record no usage
    else:
        organization_id = (
            await find_organization(context.require_viewer(), context.loaders, None)
        ).id
    try:
        recorded = await usage_service.record_usage(
            organization_id,
            events,
            await context.loaders.catalog(),
            context.clock.now(),
            context.processor,
        )
    except BillingError as error:
        return user_error(error)
    return UsageRecorded(accepted=recorded.accepted, duplicates=recorded.duplicates)
