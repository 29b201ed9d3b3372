"""`serve --workers N` listens on a socket of its own making (gateway.processes)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from gateway.processes import tcp_listener

# Starts processes or servers of its own: left out of the fast loop (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow


async def test_connections_accepted_by_the_listener_send_without_delay() -> None:
    # Without TCP_NODELAY each keep-alive response waits about 40 ms for the client's delayed
    # ACK; asyncio sets it only on sockets that say IPPROTO_TCP.
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def on_connection(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener = tcp_listener("127.0.0.1", 0)
    server = await asyncio.start_server(on_connection, sock=listener)
    async with server:
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(accepted, 5) == 1
        writer.close()


def test_a_port_in_use_is_refused() -> None:
    with tcp_listener("127.0.0.1", 0) as first:
        first.listen()
        with pytest.raises(OSError):
            tcp_listener("127.0.0.1", first.getsockname()[1])
