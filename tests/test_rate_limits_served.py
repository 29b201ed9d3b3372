"""Two `billing-gateway serve --workers 2` (four processes) sharing one Redis: a caller over its
budget is refused by both, another caller is not, and a forged X-Forwarded-For from an untrusted
peer changes nothing. Run with `-s` to see the counts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import redis

from tests.conftest import free_port

# Starts processes or servers of its own: left out of the fast loop (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow

COMMAND = str(Path(sys.executable).parent / "billing-gateway")
REDIS_URL = "redis://127.0.0.1:6379/0"
VIEWER = {"query": "{ viewer { user { email } } }"}
ANONYMOUS = {"query": "{ __typename }"}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379 (.ci/run starts one)")
    prefix = f"test-served-{uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def start(cwd: Path, env: dict[str, str]) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port), "--workers", "2"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url, process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    pytest.fail(f"the server did not start within 60 s: {process.communicate(timeout=20)[0]}")


def post(url: str, body: dict[str, str], headers: dict[str, str]) -> int:
    # A new connection each time, so the requests spread over both processes of a server.
    return httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=10).status_code


def test_two_served_gateways_share_the_budgets_through_redis(
    tmp_path: Path, redis_prefix: str
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "GATEWAY_MODE": "sandbox",
        "REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_KEY_PREFIX": redis_prefix,
        "GATEWAY_RATE_LIMIT": "10/minute",
        "GATEWAY_RATE_LIMIT_ANONYMOUS": "4/minute",
    }
    seeded = subprocess.run(
        [COMMAND, "seed-demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr

    def token(email: str) -> dict[str, str]:
        printed = subprocess.run(
            [COMMAND, "token", email], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        return {"Authorization": f"Bearer {printed.stdout.strip()}"}

    heavy, other = token("owner@acme.test"), token("billing@acme.test")
    servers = [start(tmp_path, env), start(tmp_path, env)]
    urls = [url for url, _ in servers]
    try:
        heavy_codes = {url: Counter[int]() for url in urls}
        for n in range(30):
            url = urls[n % 2]
            heavy_codes[url][post(url, VIEWER, heavy)] += 1
        other_codes = [post(url, VIEWER, other) for url in urls for _ in range(3)]
        forged_codes = {url: Counter[int]() for url in urls}
        for n in range(12):
            url = urls[n % 2]
            forged = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            forged_codes[url][post(url, ANONYMOUS, forged)] += 1
    finally:
        for _, process in servers:
            process.terminate()
            process.communicate(timeout=20)

    for url in urls:
        print(f"{url}: heavy caller {dict(heavy_codes[url])}; forged {dict(forged_codes[url])}")
    print(f"other caller: {other_codes}")
    assert sum(c[200] for c in heavy_codes.values()) == 10
    assert sum(c[429] for c in heavy_codes.values()) == 20
    assert all(c[429] > 0 for c in heavy_codes.values())
    assert other_codes == [200] * 6
    # Twelve anonymous requests, each forging a new address: one budget of 4 for 127.0.0.1.
    assert sum(c[200] for c in forged_codes.values()) == 4
    assert all(c[429] > 0 for c in forged_codes.values())
