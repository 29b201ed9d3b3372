"""A sandbox gateway served for the screenshots and the first-load benchmark: `billing-gateway
serve` on a free loopback port, SQLite in a temporary directory, the demo data seeded at a fixed
instant (GATEWAY_FIXED_CLOCK), so every run shows the same dates and amounts; and Debian's
Chromium for Playwright (never a browser Playwright downloads)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Playwright

FIXED_CLOCK = "2026-03-12T09:30:00+00:00"
COMMAND = str(Path(sys.executable).parent / "billing-gateway")
CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium-headless-shell",
)
TOKEN_KEY = "billing-gateway.token"  # portal/shared/session.js
_CONFIG = ("DATABASE_URL", "GATEWAY_MODE", "GATEWAY_JWT_SECRET", "GATEWAY_HOST", "GATEWAY_PORT")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(directory: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in _CONFIG}
    for name in ("REDIS_URL", "STRIPE_API_KEY", "PAYMENT_PROCESSOR"):
        clean.pop(name, None)
    return {
        **clean,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_FIXED_CLOCK": FIXED_CLOCK,
        "GATEWAY_JWT_SECRET": "served-portal-secret-" + "s" * 40,
        "DATABASE_URL": f"sqlite://{directory / 'billing.sqlite3'}",
        "GATEWAY_RATE_LIMIT": "1000000/minute",
        "GATEWAY_RATE_LIMIT_ANONYMOUS": "1000000/minute",
    }


@contextmanager
def served_sandbox() -> Iterator[str]:
    """The base URL of a freshly seeded sandbox gateway; stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="served-portal-") as name:
        directory = Path(name)
        env = _environment(directory)
        subprocess.run(
            [COMMAND, "seed-demo"], cwd=directory, env=env, check=True, capture_output=True
        )
        port = _free_port()
        with (directory / "serve.log").open("w") as log:
            process = subprocess.Popen(
                [COMMAND, "serve", "--port", str(port)],
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(url, process)
                yield url
            finally:
                process.terminate()
                process.wait(timeout=20)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("billing-gateway serve exited before answering")
        try:
            httpx.get(f"{url}/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("billing-gateway serve did not answer within 60 s")


def sandbox_token(url: str, email: str) -> str:
    answer = httpx.post(f"{url}/billing/sandbox/token", json={"email": email}, timeout=30)
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


def chromium(driver: Playwright) -> Browser:
    executable = os.environ.get("BROWSER_TESTS_CHROMIUM") or next(
        (c for c in CHROMIUM_CANDIDATES if Path(c).is_file()), None
    )
    if executable is None:
        raise SystemExit("no Chromium: install Debian's with `apt-get install -y chromium`")
    return driver.chromium.launch(executable_path=executable, headless=True)
