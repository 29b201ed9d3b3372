"""Optional OpenTelemetry traces (gateway/tracing.py), exported here to an in-memory exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.ops_settings import tracing_requested
from gateway.settings import Settings
from gateway.tracing import disable_tracing, enable_tracing
from tests.conftest import bearer

PM = "4242424242424242"


@pytest_asyncio.fixture
async def traced(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    app = create_app(settings, clock, manage_database=False)
    exporter = InMemorySpanExporter()
    enable_tracing(app, exporter)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http, exporter
    finally:
        disable_tracing()


def test_the_standard_variables_ask_for_traces() -> None:
    assert not tracing_requested({})
    assert tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing_requested({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    assert not tracing_requested(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    )


async def test_a_request_is_a_server_span_holding_its_operation(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    http, exporter = traced
    query = (
        "mutation Card($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) { __typename } }"
    )
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": {"pm": PM}},
        headers=await bearer("owner@acme.test"),
    )
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    by_name = {span.name: span for span in spans}
    server = by_name["POST /graphql"]
    assert server.attributes is not None
    assert 200 in (
        server.attributes.get("http.status_code"),
        server.attributes.get("http.response.status_code"),
    )
    # Strawberry names every operation's span "GraphQL Query: <name>", a mutation's too.
    operation = by_name["GraphQL Query: Card"]
    assert operation.context.trace_id == server.context.trace_id  # one trace per request
    assert any(s.name == "GraphQL Resolving: replacePaymentMethod" for s in spans), [
        s.name for s in spans
    ]
    attributes: list[Any] = [value for s in spans for value in (s.attributes or {}).values()]
    assert not any(PM in str(value) for value in attributes if "mutation Card" not in str(value))
    assert not any("Bearer" in str(value) for value in attributes)
