"""`serve`: one uvicorn process, or with `--workers N` N processes accepting on one listening
socket. SIGTERM (or Ctrl-C) stops accepting, lets the requests under way finish (uvicorn's
graceful shutdown), then the app's lifespan lets the billing clock finish its batch.

uvicorn binds that socket itself with `proto` 0 (uvicorn issue #3149). Accepted connections
inherit it, and asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP, so every
keep-alive response after the first waited about 40 ms for the client's delayed ACK: two
processes served a third of what one did. The socket bound here says IPPROTO_TCP."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from gateway.settings import Settings

APP_FACTORY = "gateway.app:app_from_environment"


# The gateway writes its own line per request (gateway/request_log.py) and configures logging
# itself (gateway/logs.py); proxy_headers=False: X-Forwarded-For is read from trusted proxies
# only (gateway/client_address.py), uvicorn's default would believe any local peer.
def _config(app: object, host: str, port: int, workers: int | None = None) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]  # an ASGI app, or the factory's import string
        host=host,
        port=port,
        workers=workers,
        factory=isinstance(app, str),
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def tcp_listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening at once: with SO_REUSEADDR a second gateway could otherwise bind the same
        # port before this one's processes start listening.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve_one(listener: socket.socket, settings: Settings) -> None:
    from gateway.app import create_app
    from gateway.worker import clock_in_serve

    host, port = listener.getsockname()[:2]
    app = create_app(
        settings, run_clock=clock_in_serve(settings.database_url, 1), tune_collector=True
    )
    uvicorn.Server(_config(app, host, port)).run(sockets=[listener])


def serve_processes(listener: socket.socket, workers: int) -> None:
    """Each process builds its app from the same environment (see app_from_environment)."""
    shared_metrics_directory()
    host, port = listener.getsockname()[:2]
    Multiprocess(_config(APP_FACTORY, host, port, workers), sockets=[listener]).run()


def shared_metrics_directory() -> Path:
    """prometheus-client's multiprocess mode: every process writes its counters to files in
    PROMETHEUS_MULTIPROC_DIR, and /metrics adds them up. An operator's directory is emptied
    (the counts start again with the processes); without one, a new temporary directory."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="billing-gateway-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory
