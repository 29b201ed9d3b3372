"""`serve` starting and stopping in ways that explain themselves (README "Operations"): a port in
use is one line before anything starts; SIGTERM lets the requests under way finish."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow

COMMAND = str(Path(sys.executable).parent / "billing-gateway")
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "GATEWAY_MODE",
    "GATEWAY_JWT_SECRET",
    "GATEWAY_HOST",
    "GATEWAY_PORT",
)


def _env(cwd: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return {**clean, "GATEWAY_DATA_DIR": str(cwd / "var")}


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [COMMAND, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert (
        result.stderr
        == f"billing-gateway: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "var" / "billing-gateway.sqlite3").exists()  # nothing was prepared


def test_sigterm_lets_a_request_under_way_finish(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start within 60 s")
        body = json.dumps({"query": "{ catalog { products { code } } }"}).encode()
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            client.sendall(head + body[:10])  # the request is under way...
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)  # ...when the gateway is told to stop
            time.sleep(1.0)
            client.sendall(body[10:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 200 OK", answer[:300]
        products = json.loads(rest.partition(b"\r\n\r\n")[2])["data"]["catalog"]["products"]
        assert len(products) == 6
        # uvicorn finishes its shutdown, then re-raises the signal it caught (its exit status).
        assert process.wait(timeout=30) == -signal.SIGTERM
        with pytest.raises(httpx.TransportError):  # and it takes no new request
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
        output = process.communicate(timeout=20)[0]
        print(output)
    assert "Traceback" not in output
    assert "Application shutdown complete." in output
    request_line = next(line for line in output.splitlines() if "POST /graphql" in line)
    assert "-> 200 in " in request_line
