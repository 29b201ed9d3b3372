"""Ingestion benchmark: usage events through the real HTTP endpoint against PostgreSQL.

    .venv/bin/python bench/ingest.py [--batches 200] [--concurrency 4] [--warmup 20] [--workers 1]
        [--compare DIR] [--rounds 1] [--profile FILE]

Starts `billing-gateway serve` on a free loopback port with its own PostgreSQL database
(`billing_bench`, recreated), makes an API key with scope usage:write for the demo organization
Acme, sends batches of 100 and of 1,000 events (MAC contacts and e-mails) as the trusted
RecordUsage operation named by its hash, as partners must (ACC-6), and prints events per
second and the p99 batch latency. Then it loads 1,000,000 usage events for one period straight
into the tables and times reading the MAC count through the API. Everything stays on 127.0.0.1.

`--compare DIR` serves another checkout of the code (e.g. `git worktree add --detach DIR main`;
it runs with this `.venv`'s packages) beside this one, each on its own database seeded alike
(`billing_bench_compare` for it), and measures each batch size on one then the other, `--rounds`
times, so that both see the same load; the million-event read is then left out (and with
`--profile`). `--profile FILE`
runs this checkout's gateway under cProfile and writes its statistics to FILE when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
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
DATABASE = os.environ.get("BENCH_DATABASE", "billing_bench")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def recreate_database(name: str = DATABASE) -> str:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name}")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + f"/{name}"


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


class Gateway:
    """One gateway under test: its code (None: this checkout), database, port, key and process."""

    def __init__(self, label: str, source: str | None, database: str) -> None:
        self.label = label
        self.source = str(Path(source).resolve()) if source is not None else None
        self.database = database
        self.offset = 0
        self.key = ""
        self.token = ""
        self.database_url = ""
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.profiled = False

    async def prepare(self, rate_limit: str) -> dict[str, str]:
        self.database_url = await recreate_database(self.database)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "GATEWAY_MODE": "sandbox",
            "GATEWAY_PORT": str(port),
            "GATEWAY_RATE_LIMIT": rate_limit,
        }
        env.pop("STRIPE_API_KEY", None)
        env.pop("PYTHONPATH", None)
        if self.source is not None:
            env["PYTHONPATH"] = self.source
        run(env, "seed-demo")
        self.key = run(env, "api-key", "acme", "--scope", "usage:write")
        self.token = run(env, "token", "member@acme.test")
        return env

    def start(self, env: dict[str, str], workers: int, profile: str | None) -> None:
        command = [str(BIN / "billing-gateway")]
        if profile is not None:
            command = [sys.executable, "-m", "cProfile", "-o", profile, *command]
            self.profiled = True
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [*command, "serve", "--port", port, "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_until_up(self) -> None:
        for _ in range(150):
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the gateway ({self.label}) did not start")

    async def measure(self, size: int, batches: int, concurrency: int) -> str:
        assert self.process is not None
        cpu_before = tree_cpu_seconds(self.process.pid)
        rate, latencies = await send_batches(
            self.url, self.key, size, batches, concurrency, self.offset
        )
        cpu = tree_cpu_seconds(self.process.pid) - cpu_before
        self.offset += batches
        return (
            f"  batches of {size:>5}: {batches * size:>7,} events, {rate:>8,.0f} events/s, "
            f"p50 {statistics.median(latencies) * 1000:7.1f} ms, p99 {p99(latencies) * 1000:7.1f} "
            f"ms per batch; gateway CPU {cpu / (batches * size) * 1e6:.0f} µs per event"
        )

    def stop(self) -> None:
        if self.process is not None:
            # uvicorn raises SIGTERM again once it has stopped, which would end cProfile before
            # it writes; after SIGINT it raises KeyboardInterrupt, and cProfile writes first.
            self.process.send_signal(signal.SIGINT if self.profiled else signal.SIGTERM)
            self.process.wait(timeout=60)


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
    parser.add_argument("--compare", metavar="DIR", help="another checkout, measured alternately")
    parser.add_argument("--rounds", type=int, default=1, help="alternations (with --compare)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile this checkout's gateway")
    args = parser.parse_args()
    gateways = [Gateway("this checkout", None, DATABASE)]
    if args.compare:
        gateways.insert(
            0, Gateway(f"{args.compare} (compared)", args.compare, f"{DATABASE}_compare")
        )
    # Measures throughput: one API key sends everything, far past its production budget.
    for gateway in gateways:
        env = await gateway.prepare("1000000/minute")
        gateway.start(env, args.workers, args.profile if gateway.source is None else None)
    try:
        for gateway in gateways:
            gateway.wait_until_up()
        processes = (
            "one gateway process" if args.workers == 1 else f"{args.workers} gateway processes"
        )
        print(
            f"PostgreSQL, {processes} (uvicorn), {args.concurrency} concurrent clients, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
        # Connections, prepared statements and the catalog snapshot are made on first use: the
        # steady state is what is measured.
        for gateway in gateways:
            await send_batches(
                gateway.url, gateway.key, 100, args.warmup, args.concurrency, 1_000_000
            )
        for round_number in range(args.rounds if args.compare else 1):
            for size in (100, 1000):
                batches = args.batches if size == 100 else max(4, args.batches // 4)
                for gateway in gateways:
                    line = await gateway.measure(size, batches, args.concurrency)
                    where = f" [{gateway.label}, round {round_number + 1}]" if args.compare else ""
                    print(f"{line}{where}", flush=True)
        print(f"  load average at the end {os.getloadavg()[0]:.1f}")
        if args.compare or args.profile:
            return
        gateway = gateways[0]
        await load_million(gateway.database_url)
        meter = "{ organization { usage { product metric used } } }"
        timings = []
        async with httpx.AsyncClient(
            base_url=gateway.url, headers={"Authorization": f"Bearer {gateway.token}"}
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
        for gateway in gateways:
            gateway.stop()


if __name__ == "__main__":
    asyncio.run(main())
