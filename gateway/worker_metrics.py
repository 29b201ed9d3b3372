"""`billing-gateway worker --metrics-port P`: the worker's own GET /metrics and GET /health
(README "Operations"), so each worker's renewals, charges and the clock's lag can be scraped.

/metrics answers as `serve`'s does (gateway/metrics.py): the same GATEWAY_METRICS_TOKEN rule, this
process's counters (or, with PROMETHEUS_MULTIPROC_DIR, every process's on the host that writes
there), and the backlog read from the database. The server runs in the worker's own event loop;
the worker handles SIGTERM itself, so uvicorn installs no signal handlers of its own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from billing.clock import Clock
from gateway.metrics import metrics_endpoint


async def _health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def worker_metrics_app(metrics_token: str | None, clock: Clock) -> Starlette:
    return Starlette(
        routes=[
            Route("/metrics", metrics_endpoint(metrics_token, clock), methods=["GET"]),
            Route("/health", _health, methods=["GET"]),
        ]
    )


class _WorkerServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the worker's own handlers stop the clock, then this server (serve_metrics)


async def serve_metrics(listener: socket.socket, app: Starlette, stop: asyncio.Event) -> None:
    """Serves `app` on `listener` until `stop` is set."""
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    server = _WorkerServer(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopped.cancel()
    await serving
