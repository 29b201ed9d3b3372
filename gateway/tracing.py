"""Optional OpenTelemetry traces (README "Operations"): with OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set, each request is a server span (Starlette's
instrumentation) holding the GraphQL operation's spans (Strawberry's extension), exported over
OTLP/HTTP; the exporter and the resource read the other standard OTEL_* variables themselves.
Needs the `tracing` extra: pip install 'billing-gateway[tracing]'.

Resolver arguments are never put on spans: they may hold card or personal data."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from gateway.settings_error import SettingsError
from schema import schema

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_provider: TracerProvider | None = None


def enable_tracing(app: Starlette, exporter: SpanExporter | None = None) -> TracerProvider:
    """Traces the app's requests; `exporter` replaces OTLP (the tests' in-memory one)."""
    global _provider
    try:
        from opentelemetry.instrumentation.starlette import StarletteInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise SettingsError(
            "OTEL_EXPORTER_OTLP_ENDPOINT: traces need the tracing extra: "
            "pip install 'billing-gateway[tracing]'"
        ) from None
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "billing-gateway"}
    provider = TracerProvider(resource=Resource.create(named))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    StarletteInstrumentor.instrument_app(app, tracer_provider=provider)
    if _provider is None:
        schema.extensions = (*schema.extensions, _operation_spans)
    _provider = provider
    return provider


def disable_tracing() -> None:
    """The GraphQL operations' spans stop (the tests' clean-up; a process traces until it ends)."""
    global _provider
    schema.extensions = tuple(e for e in schema.extensions if e is not _operation_spans)
    if _provider is not None:
        _provider.shutdown()
    _provider = None


def _operation_spans() -> Any:
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return OpenTelemetryExtension(arg_filter=_no_arguments, tracer_provider=_provider)


def _no_arguments(arguments: dict[str, Any], info: Any) -> dict[str, Any]:
    return {}
