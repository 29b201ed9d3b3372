"""Ingestion benchmark: usage events through the real HTTP endpoint against PostgreSQL.

    .venv/bin/python bench/ingest.py [--batches 200] [--concurrency 4] [--warmup 20] [--workers 1]

Starts `billing-gateway serve` on a free loopback port with its own PostgreSQL database
(`billing_bench`, recreated), makes an API key with scope usage:write for the demo organization
Acme, sends batches of 100 and of 1,000 events (MAC contacts and e-mails) as the trusted
RecordUsage operation named by its hash, as partners must (ACC-6), and prints events per
second and the p99 batch latency. Then it loads 1,000,000 usage events for one period straight
into the tables and times reading the MAC count through the API. Everything stays on 127.0.0.1.
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
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "billing_bench"
BIN = Path(sys.executable).parent


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


def events(batch: int, size: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(size):
        if i % 2:
            out.append(
                {
                    "id": f"b{batch}-{i}",
                    "product": "messaging",
                    "metric": "mac",
                    "contactId": f"c{batch % 50}-{i}",
                    "workspace": "support",
                }
            )
        else:
            out.append(
                {"id": f"b{batch}-{i}", "product": "email", "metric": "emails", "quantity": 1}
            )
    return out


# Partners run only trusted documents (ACC-6): the request names RecordUsage by its hash.
RECORD_USAGE = hashlib.sha256(
    (Path(__file__).resolve().parent.parent / "operations" / "RecordUsage.graphql").read_bytes()
).hexdigest()


async def send_batches(
    url: str, key: str, size: int, batches: int, concurrency: int, offset: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for b in range(batches):
        queue.put_nowait(offset + b)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            number = queue.get_nowait()
            body = {
                "variables": {"events": events(number, size)},
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": RECORD_USAGE}},
            }
            started = time.perf_counter()
            response = await client.post("/graphql", json=body)
            latencies.append(time.perf_counter() - started)
            result = response.json()["data"]["recordUsage"]
            assert result["__typename"] == "UsageRecorded", result

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return batches * size / elapsed, latencies


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants, from /proc (Linux). It moves
    less from run to run than events per second, which also depends on what else the two cores
    are doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def p99(values: list[float]) -> float:

    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


async def load_million(database_url: str) -> None:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://"))
    try:
        organization_id, period = await connection.fetchrow(
            "SELECT s.organization_id, s.current_period_start FROM subscription s JOIN organization o ON o.id = s.organization_id WHERE o.slug = 'acme'"
        )
        product_id = await connection.fetchval("SELECT id FROM product WHERE code = 'messaging'")
        now = datetime.now(UTC)
        rows = [
            (
                organization_id,
                f"m-{i}",
                product_id,
                "mac",
                0,
                f"contact-{i % 400_000}",
                "support",
                now,
                period,
                now,
            )
            for i in range(1_000_000)
        ]
        await connection.copy_records_to_table(
            "usage_event",
            records=rows,
            columns=[
                "organization_id",
                "event_id",
                "product_id",
                "metric",
                "quantity",
                "contact_id",
                "workspace",
                "occurred_at",
                "period_start",
                "received_at",
            ],
        )
        contacts = [
            (organization_id, product_id, period, "*", f"contact-{i}") for i in range(400_000)
        ]
        await connection.execute(
            "DELETE FROM active_contact WHERE organization_id = $1", organization_id
        )
        await connection.copy_records_to_table(
            "active_contact",
            records=contacts,
            columns=["organization_id", "product_id", "period_start", "workspace", "contact_id"],
        )
        await connection.execute(
            "UPDATE usage_counter SET value = 400000 WHERE organization_id = $1 AND product_id = $2 AND metric = 'mac' AND workspace = '*'",
            organization_id,
            product_id,
        )
        await connection.execute("ANALYZE")
        started = time.perf_counter()
        counted = await connection.fetchval(
            "SELECT count(*) FROM active_contact WHERE organization_id = $1 AND product_id = $2 AND period_start = $3 AND workspace = '*'",
            organization_id,
            product_id,
            period,
        )
        print(
            f"  for comparison, counting the 400,000 distinct contacts with an index scan: {counted:,} in {(time.perf_counter() - started) * 1000:.1f} ms"
        )
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--batches", type=int, default=200, help="batches of 100 (of 1,000: a quarter)"
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--warmup", type=int, default=20, help="batches of 100 sent first, not counted"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="gateway processes (serve --workers)"
    )
    args = parser.parse_args()
    database_url = await recreate_database()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_PORT": str(port),
        # Measures throughput: one API key sends everything, far past its production budget.
        "GATEWAY_RATE_LIMIT": "1000000/minute",
    }
    env.pop("STRIPE_API_KEY", None)
    run(env, "seed-demo")
    key = run(env, "api-key", "acme", "--scope", "usage:write")
    token = run(env, "token", "member@acme.test")
    server = subprocess.Popen(
        [
            str(BIN / "billing-gateway"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        processes = (
            "one gateway process" if args.workers == 1 else f"{args.workers} gateway processes"
        )
        print(
            f"PostgreSQL, {processes} (uvicorn), {args.concurrency} concurrent clients, {os.cpu_count()} cores"
        )
        # Connections, prepared statements and the catalog snapshot are made on first use: the
        # steady state is what is measured.
        await send_batches(url, key, 100, args.warmup, args.concurrency, 1_000_000)
        offset = 0

        for size in (100, 1000):
            batches = args.batches if size == 100 else max(4, args.batches // 4)
            cpu_before = tree_cpu_seconds(server.pid)
            rate, latencies = await send_batches(url, key, size, batches, args.concurrency, offset)
            cpu = tree_cpu_seconds(server.pid) - cpu_before
            offset += batches
            print(
                f"  batches of {size:>5}: {batches * size:>7,} events, {rate:>8,.0f} events/s, p50 {statistics.median(latencies) * 1000:7.1f} ms, p99 {p99(latencies) * 1000:7.1f} ms per batch; gateway CPU {cpu / (batches * size) * 1e6:.0f} µs per event"
            )
        await load_million(database_url)
        meter = "{ organization { usage { product metric used } } }"
        timings = []
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            for _ in range(20):
                started = time.perf_counter()
                body = (await client.post("/graphql", json={"query": meter})).json()
                timings.append(time.perf_counter() - started)
        mac = next(m for m in body["data"]["organization"]["usage"] if m["metric"] == "mac")
        print(
            f"  MAC read through the API after 1,000,000 more events in the period: used {mac['used']:,}, median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms per request"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    asyncio.run(main())
