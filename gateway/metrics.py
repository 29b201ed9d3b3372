"""GET /metrics in Prometheus' text format (prometheus-client), README "Operations".

Requests, latency and rate-limit refusals are counted by each process, the work counters in
resolvers/work_metrics.py too; with PROMETHEUS_MULTIPROC_DIR set (`serve --workers N` sets it)
the answer adds up every process on the host. The backlog (the clock's lag, the outboxes) is read
from the database at each scrape, so every server answers the same.

Who may read it: with GATEWAY_METRICS_TOKEN set, callers sending it as a bearer token; without
it, direct loopback callers only (no X-Forwarded-For: a proxy on the same host does not count)."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from functools import cache

from graphql import OperationDefinitionNode, parse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from billing.clock import Clock
from billing.errors import ErrorCode
from gateway.http_errors import error_response
from gateway.trusted_documents import load_manifest
from resolvers.backlog import Backlog, read_backlog

log = logging.getLogger("billing_gateway.metrics")

REQUESTS = Counter(
    "billing_gateway_http_requests",
    "HTTP requests answered, by operation and status",
    ["operation", "status"],
)
LATENCY = Histogram(
    "billing_gateway_http_request_duration_seconds",
    "Time to answer an HTTP request, by operation",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMITED = Counter(
    "billing_gateway_rate_limited_requests",
    "Requests refused with 429 (a caller's budget, or too many failed sign-ins)",
)
_LOOPBACK = ("127.0.0.1", "::1")
OTHER_OPERATION = "other"  # a GraphQL operation named by its caller, not a trusted document


def observe_request(operation: str, status: int, seconds: float) -> None:
    REQUESTS.labels(operation, str(status)).inc()
    LATENCY.labels(operation).observe(seconds)


@cache
def _trusted_names() -> frozenset[str]:
    names = set()
    for document in load_manifest().values():
        for definition in parse(document).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                names.add(definition.name.value)
    return frozenset(names)


def operation_label(path: str, operation: str | None) -> str:
    """A label from a bounded set: trusted documents' names, the routes, `other`."""
    if path == "/graphql":
        return (
            f"graphql {operation}"
            if operation in _trusted_names()
            else "graphql " + OTHER_OPERATION
        )
    if path.startswith("/invoices/"):
        return "/invoices/{id}.pdf"
    if path.startswith("/graphiql/"):
        return "/graphiql/{asset}"
    if path in ("/health", "/ready", "/metrics", "/usage.csv", "/webhooks/stripe"):
        return path
    return OTHER_OPERATION


def metrics_endpoint(token: str | None, clock: Clock) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        if not _may_read(request, token):
            return error_response(
                403,
                ErrorCode.FORBIDDEN,
                "The metrics are for the operators: send GATEWAY_METRICS_TOKEN as a bearer token "
                "(or, when it is not set, ask from the gateway's own host).",
            )
        body = generate_latest(_process_registry())
        registry = CollectorRegistry(auto_describe=False)
        try:
            registry.register(_BacklogCollector(await read_backlog(clock.now()), clock.now()))
        except Exception as error:  # the process counters still answer without the database
            log.warning("metrics: the backlog could not be read: %r", error)
        return Response(body + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


def _may_read(request: Request, token: str | None) -> bool:
    if token is not None:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    peer = request.client.host if request.client else ""
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    return peer in _LOOPBACK and not forwarded


def _process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


class _BacklogCollector(Collector):
    def __init__(self, backlog: Backlog, now: datetime) -> None:
        self.backlog, self.now = backlog, now

    def collect(self) -> Iterable[Metric]:
        lag = GaugeMetricFamily(
            "billing_gateway_clock_lag_seconds",
            "Age of the oldest due work the billing clock has not yet done (0: none due)",
        )
        lag.add_metric([], _age(self.backlog.oldest_due, self.now))
        depth = GaugeMetricFamily(
            "billing_gateway_outbox_depth", "Deliveries waiting in the outbox", labels=["outbox"]
        )
        oldest = GaugeMetricFamily(
            "billing_gateway_outbox_oldest_age_seconds",
            "Age of the oldest delivery waiting in the outbox (0: none)",
            labels=["outbox"],
        )
        for name, outbox in (("email", self.backlog.emails), ("webhook", self.backlog.webhooks)):
            depth.add_metric([name], outbox.depth)
            oldest.add_metric([name], _age(outbox.oldest, self.now))
        return [lag, depth, oldest]


def _age(since: datetime | None, now: datetime) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0
