"""`serve --workers N`: N uvicorn processes accepting on one listening socket.

uvicorn binds that socket itself with `proto` 0 (uvicorn issue #3149). Accepted connections
inherit it, and asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP, so every
keep-alive response after the first waited about 40 ms for the client's delayed ACK: two
processes served a third of what one did. The socket bound here says IPPROTO_TCP."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP_FACTORY = "gateway.app:app_from_environment"


def tcp_listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve_processes(listener: socket.socket, workers: int) -> None:
    """Each process builds its app from the same environment (see app_from_environment)."""
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,  # X-Forwarded-For: gateway/client_address.py
    )
    Multiprocess(config, sockets=[listener]).run()
