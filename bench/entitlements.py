"""Entitlements benchmark (EVT-2): the call an app makes on every request, against a served gateway.

    .venv/bin/python bench/entitlements.py [--requests 2000] [--concurrency 4] [--warmup 200]
        [--compare DIR]

Starts `billing-gateway serve` on a free loopback port with its own PostgreSQL database
(`entitlements_bench`, recreated; BENCH_POSTGRES names the database used to create it), seeds the
demo, and asks for Acme's entitlements two ways: as the SaaS backend, with an API key of scope
entitlements:read running the trusted Entitlements document named by its hash, and as a member
of Acme with a token sending the query text, and, for comparison, the same member asking only for
the organization's id. Prints p50, p99, requests per second and the gateway's CPU per request.

`--compare DIR` serves another checkout of the code (e.g. `git worktree add --detach DIR main`)
beside this one, on the same database, and measures each case on both in turn: a before/after
under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "entitlements_bench"
BIN = Path(sys.executable).parent
ENTITLEMENTS = hashlib.sha256(
    (Path(__file__).resolve().parent.parent / "operations" / "Entitlements.graphql").read_bytes()
).hexdigest()
MEMBER_QUERY = """{ organization { entitlements { status products { product plan planName
  features { feature enabled } limits { metric limit used remaining resetsAt allowed reason } } } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def recreate_database() -> str:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        await connection.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await connection.close()
    return ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + f"/{DATABASE}"


def run(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "billing-gateway"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


async def measure(
    url: str, headers: dict[str, str], body: dict[str, Any], requests: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            started = time.perf_counter()
            response = await client.post("/graphql", json=body)
            latencies.append(time.perf_counter() - started)
            answer = response.json()
            assert "errors" not in answer, answer

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return requests / elapsed, latencies


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the gateway and its child processes, from /proc (Linux):
    steadier than requests per second when the machine's cores are shared."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def report(name: str, rate: float, latencies: list[float], cpu: float) -> None:
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    per_request = cpu / len(latencies) * 1e6
    print(
        f"  {name}: {rate:,.0f} requests/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"gateway CPU {per_request:,.0f} µs per request"
    )


def wait_until_up(url: str) -> None:
    for _ in range(150):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the gateway did not start")


def start(env: dict[str, str], port: int, source: str | None) -> subprocess.Popen[bytes]:
    """`billing-gateway serve`; with `source`, that checkout's code (first on the path)."""
    if source is not None:
        env = {**env, "PYTHONPATH": str(Path(source).resolve())}
    return subprocess.Popen(
        [str(BIN / "billing-gateway"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=200, help="requests first, not counted")
    parser.add_argument("--compare", metavar="DIR", help="another checkout, served beside this one")
    args = parser.parse_args()
    database_url = await recreate_database()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MODE": "sandbox",
        # One caller sends every request: the default budget (600 units a minute) would refuse
        # most of them; the limiter's own cost is still paid.
        "GATEWAY_RATE_LIMIT": "100000000/minute",
    }
    env.pop("STRIPE_API_KEY", None)
    env.pop("PYTHONPATH", None)
    env.pop("REDIS_URL", None)
    run(env, "seed-demo")
    key = run(env, "api-key", "acme", "--scope", "entitlements:read")
    token = run(env, "token", "member@acme.test")
    servers: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
    if args.compare:
        port = free_port()
        servers[f"{args.compare} (compared)"] = (
            f"http://127.0.0.1:{port}",
            start(env, port, args.compare),
        )
    port = free_port()
    servers["this checkout"] = (f"http://127.0.0.1:{port}", start(env, port, None))
    cases: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
        "partner key, trusted Entitlements by hash": (
            {"Authorization": f"Bearer {key}"},
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": ENTITLEMENTS}}},
        ),
        "member token, organization { entitlements } as text": (
            {"Authorization": f"Bearer {token}"},
            {"query": MEMBER_QUERY},
        ),
        # For comparison under the same load: the same caller, no entitlements.
        "member token, { organization { id } } (baseline)": (
            {"Authorization": f"Bearer {token}"},
            {"query": "{ organization { id } }"},
        ),
    }
    try:
        for url, _ in servers.values():
            wait_until_up(url)
        print(f"Acme's entitlements, {args.requests} requests from {args.concurrency} clients:")
        for name, (headers, body) in cases.items():
            for server, (url, process) in servers.items():
                await measure(url, headers, body, args.warmup, args.concurrency)
                cpu = cpu_seconds(process.pid)
                rate, latencies = await measure(url, headers, body, args.requests, args.concurrency)
                label = f"{name} [{server}]" if len(servers) > 1 else name
                report(label, rate, latencies, cpu_seconds(process.pid) - cpu)
    finally:
        for _, process in servers.values():
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
