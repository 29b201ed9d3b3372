"""Ingestion benchmark: usage events through the real HTTP endpoint against PostgreSQL.

    .venv/bin/python bench/ingest.py [--batches 200] [--concurrency 4] [--warmup 20] [--workers 1]
        [--client keepalive|httpx|both] [--compare DIR] [--rounds 1] [--profile FILE]

Starts `billing-gateway serve` on a free loopback port with its own PostgreSQL database
(`billing_bench`, recreated), makes an API key with scope usage:write for the demo organization
Acme, sends batches of 100 and of 1,000 events (MAC contacts and e-mails) as the trusted
RecordUsage operation named by its hash, as partners must (ACC-6), and prints events per
second, the p50 and p99 batch latency and where the CPU went per event: the gateway process
(/proc/PID/stat), the PostgreSQL backends connected to its database (found in
pg_stat_activity), this load generator, the rest of the machine's busy time and idle time
(/proc/stat), and how long the gateway and the backends waited for a core (schedstat). Every
answer must say all the batch's events were accepted, and after each measurement the
usage_event rows must number exactly the events sent. Then it loads 1,000,000 usage events for
one period straight into the tables and times reading the MAC count through the API. Everything
stays on 127.0.0.1.

`--client` picks the load generator: `keepalive` (the default) sends on raw HTTP/1.1 keep-alive
connections (bench/keepalive_client.py), one per concurrent client; `httpx` through one
httpx.AsyncClient, whose own CPU per event is about two thirds of the gateway's at batches of
100 (bench/README.md) and shares the two cores with it; `both` measures each in turn. The bodies are encoded before the
clock starts, the same for both clients.

`--compare DIR` serves another checkout of the code (e.g. `git worktree add --detach DIR main`;
it runs with this `.venv`'s packages) beside this one, each on its own database seeded alike
(`billing_bench_compare` for it, or `BENCH_COMPARE_DATABASE`), and measures each batch size and
client on one then the other, `--rounds` times, so that both see the same load; the
million-event read is then left out (and with `--profile`). `--profile FILE`
runs this checkout's gateway under cProfile and writes its statistics to FILE when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from keepalive_client import KeepAliveClient

ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = os.environ.get("BENCH_DATABASE", "billing_bench")
COMPARE_DATABASE = os.environ.get("BENCH_COMPARE_DATABASE", f"{DATABASE}_compare")
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


def bodies(size: int, batches: int, offset: int) -> list[bytes]:
    """The requests' bodies, encoded before the clock starts: the load generator's CPU is then
    only its HTTP client's (and reading the answers)."""
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": RECORD_USAGE}}
    return [
        json.dumps(
            {"variables": {"events": events(number, size)}, "extensions": persisted},
            separators=(",", ":"),
        ).encode()
        for number in range(offset, offset + batches)
    ]


def check_answer(status: int, answer: bytes, size: int) -> None:
    """Every event of the batch recorded as new: the ids are never resent."""
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {answer[:500]!r}")
    result = json.loads(answer)["data"]["recordUsage"]
    expected = {"__typename": "UsageRecorded", "accepted": size, "duplicates": 0}
    if result != expected:
        raise RuntimeError(f"expected {expected}, got {result}")


async def send_batches(
    url: str, key: str, size: int, requests: list[bytes], concurrency: int, client: str
) -> tuple[float, list[float]]:
    """Sends `requests` (batches of `size`) from `concurrency` connections; the seconds it took
    and each batch's latency. "keepalive": bench/keepalive_client.py, one raw HTTP/1.1
    connection each; "httpx": one httpx.AsyncClient."""
    latencies: list[float] = []
    pending = iter(requests)
    headers = {"Authorization": f"Bearer {key}"}

    async def with_keepalive() -> None:
        host, port = url.removeprefix("http://").split(":")
        async with KeepAliveClient(host, int(port)) as connection:
            for body in pending:
                started = time.perf_counter()
                status, answer = await connection.post("/graphql", body, headers)
                latencies.append(time.perf_counter() - started)
                check_answer(status, answer, size)

    async def with_httpx(http: httpx.AsyncClient) -> None:
        for body in pending:
            started = time.perf_counter()
            response = await http.post("/graphql", content=body)
            latencies.append(time.perf_counter() - started)
            check_answer(response.status_code, response.content, size)

    limits = httpx.Limits(max_connections=concurrency)
    json_headers = {**headers, "Content-Type": "application/json"}
    async with httpx.AsyncClient(
        base_url=url, headers=json_headers, timeout=120, limits=limits
    ) as http:
        started = time.perf_counter()
        if client == "keepalive":
            await asyncio.gather(*(with_keepalive() for _ in range(concurrency)))
        else:
            await asyncio.gather(*(with_httpx(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User and system time of one process (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants, from /proc (Linux). It moves
    less from run to run than events per second, which also depends on what else the two cores
    are doing."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += process_cpu_seconds(current)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_queue_wait_seconds(pid: int) -> float:
    """How long the process's threads were runnable but waited for a core (/proc schedstat)."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total / 1e9


def machine_seconds() -> tuple[float, float]:
    """All cores' busy and idle time (iowait counted as idle), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / TICKS, (idle + iowait) / TICKS


@dataclass
class Snapshot:
    """CPU counters at one moment: the machine's, the gateway's, this process's and those of the
    PostgreSQL backends connected to the gateway's database (by pid: CPU, run-queue wait)."""

    busy: float
    idle: float
    gateway: float
    gateway_wait: float
    client: float
    backends: dict[int, tuple[float, float]]


@dataclass
class Split:
    """Seconds of CPU during one measurement: the gateway, its PostgreSQL backends, the load
    generator (this process), the rest of the machine's busy time (other work, PostgreSQL's own
    background processes, interrupts) and idle time; and how long the gateway and the backends
    waited for a core."""

    gateway: float
    postgres: float
    client: float
    rest: float
    idle: float
    gateway_wait: float
    postgres_wait: float

    @staticmethod
    def between(before: Snapshot, after: Snapshot) -> Split:
        postgres = postgres_wait = 0.0
        for pid, (cpu, wait) in after.backends.items():
            # A backend that started during the measurement counts from its start.
            cpu_then, wait_then = before.backends.get(pid, (0.0, 0.0))
            postgres += cpu - cpu_then
            postgres_wait += wait - wait_then
        gateway = after.gateway - before.gateway
        client = after.client - before.client
        return Split(
            gateway=gateway,
            postgres=postgres,
            client=client,
            rest=after.busy - before.busy - gateway - postgres - client,
            idle=after.idle - before.idle,
            gateway_wait=after.gateway_wait - before.gateway_wait,
            postgres_wait=postgres_wait,
        )

    def per_event(self, events: int) -> str:
        def us(seconds: float) -> str:
            return f"{seconds / events * 1e6:.1f}"

        return (
            f"CPU µs per event: gateway {us(self.gateway)}, PostgreSQL {us(self.postgres)}, "
            f"load generator {us(self.client)}, rest {us(self.rest)}, idle {us(self.idle)}; "
            f"waiting for a core: gateway {us(self.gateway_wait)}, "
            f"PostgreSQL {us(self.postgres_wait)}"
        )


@dataclass
class Measured:
    gateway: str
    client: str
    size: int
    round_number: int
    rate: float
    events: int
    split: Split


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
        self.sent = 0
        self.key = ""
        self.token = ""
        self.database_url = ""
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.profiled = False
        self.connection: asyncpg.Connection | None = None

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

    async def wait_until_up(self) -> None:
        for _ in range(150):
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit(f"the gateway ({self.label}) did not start")
        # Counts the rows and finds the backends; its own backend is left out of the split.
        self.connection = await asyncpg.connect(
            self.database_url.replace("postgres://", "postgresql://")
        )
        self.sent = await self.events_stored()

    async def events_stored(self) -> int:
        assert self.connection is not None
        return int(await self.connection.fetchval("SELECT count(*) FROM usage_event"))

    async def snapshot(self) -> Snapshot:
        assert self.connection is not None and self.process is not None
        pids = await self.connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        backends: dict[int, tuple[float, float]] = {}
        for (pid,) in pids:
            try:
                backends[pid] = (process_cpu_seconds(pid), run_queue_wait_seconds(pid))
            except (FileNotFoundError, ProcessLookupError):
                continue
        busy, idle = machine_seconds()
        return Snapshot(
            busy=busy,
            idle=idle,
            gateway=tree_cpu_seconds(self.process.pid),
            gateway_wait=run_queue_wait_seconds(self.process.pid),
            client=process_cpu_seconds(os.getpid()),
            backends=backends,
        )

    async def send(self, size: int, requests: list[bytes], concurrency: int, client: str) -> None:
        """Sends without measuring (the warm-up), checking the rows all the same."""
        await send_batches(self.url, self.key, size, requests, concurrency, client)
        await self.check_rows(size * len(requests))

    async def check_rows(self, events: int) -> None:
        self.sent += events
        stored = await self.events_stored()
        if stored != self.sent:
            raise RuntimeError(f"{self.label}: {stored:,} usage events stored, {self.sent:,} sent")

    async def measure(
        self, size: int, requests: list[bytes], concurrency: int, client: str, round_number: int
    ) -> Measured:
        before = await self.snapshot()
        elapsed, latencies = await send_batches(
            self.url, self.key, size, requests, concurrency, client
        )
        after = await self.snapshot()
        count = size * len(requests)
        await self.check_rows(count)
        split = Split.between(before, after)
        print(
            f"  batches of {size:>5}, {client:>9}: {count:>7,} events, "
            f"{count / elapsed:>8,.0f} events/s, p50 {statistics.median(latencies) * 1000:6.1f} ms, "
            f"p99 {p99(latencies) * 1000:6.1f} ms per batch [{self.label}, round {round_number}]\n"
            f"      {split.per_event(count)}",
            flush=True,
        )
        return Measured(self.label, client, size, round_number, count / elapsed, count, split)

    async def stop(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self.process is not None:
            # uvicorn raises SIGTERM again once it has stopped, which would end cProfile before
            # it writes; after SIGINT it raises KeyboardInterrupt, and cProfile writes first.
            self.process.send_signal(signal.SIGINT if self.profiled else signal.SIGTERM)
            self.process.wait(timeout=60)


def summary(results: list[Measured]) -> None:
    """One row per batch size, client and gateway: each round's events per second, then the
    median of the rounds' CPU per event, split."""
    print(
        "\n| batch | client | gateway | events/s (rounds) | CPU µs per event: gateway / PostgreSQL "
        "/ load generator / rest / idle | waiting for a core: gateway / PostgreSQL |"
    )
    print("|---|---|---|---|---|---|")
    keys = dict.fromkeys((m.size, m.client, m.gateway) for m in results)
    for size, client, gateway in keys:
        rows = [m for m in results if (m.size, m.client, m.gateway) == (size, client, gateway)]

        def median(field: str, rows: list[Measured] = rows) -> str:
            return (
                f"{statistics.median(getattr(m.split, field) / m.events * 1e6 for m in rows):.1f}"
            )

        rates = " / ".join(f"{m.rate:,.0f}" for m in rows)
        cpu = " / ".join(median(f) for f in ("gateway", "postgres", "client", "rest", "idle"))
        waits = f"{median('gateway_wait')} / {median('postgres_wait')}"
        print(f"| {size:,} | {client} | {gateway} | {rates} | {cpu} | {waits} |")


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
    parser.add_argument(
        "--client",
        choices=("keepalive", "httpx", "both"),
        default="keepalive",
        help="load generator: raw keep-alive HTTP/1.1 connections, httpx, or both in turn",
    )
    parser.add_argument("--compare", metavar="DIR", help="another checkout, measured alternately")
    parser.add_argument("--rounds", type=int, default=1, help="alternations (with --compare)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile this checkout's gateway")
    args = parser.parse_args()
    clients = ["httpx", "keepalive"] if args.client == "both" else [args.client]
    gateways = [Gateway("this checkout", None, DATABASE)]
    if args.compare:
        gateways.insert(0, Gateway(f"{args.compare} (compared)", args.compare, COMPARE_DATABASE))
    # Measures throughput: one API key sends everything, far past its production budget.
    for gateway in gateways:
        env = await gateway.prepare("1000000/minute")
        gateway.start(env, args.workers, args.profile if gateway.source is None else None)
    try:
        for gateway in gateways:
            await gateway.wait_until_up()
        processes = (
            "one gateway process" if args.workers == 1 else f"{args.workers} gateway processes"
        )
        print(
            f"PostgreSQL, {processes} (uvicorn), {args.concurrency} concurrent connections, "
            f"load generator {args.client}, {os.cpu_count()} cores, "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        # Connections, prepared statements and the catalog snapshot are made on first use: the
        # steady state is what is measured.
        warmup = bodies(100, args.warmup, 1_000_000)
        for gateway in gateways:
            await gateway.send(100, warmup, args.concurrency, clients[-1])
        results: list[Measured] = []
        offset = 0
        for round_number in range(1, (args.rounds if args.compare else 1) + 1):
            for size in (100, 1000):
                batches = args.batches if size == 100 else max(4, args.batches // 4)
                for client in clients:
                    # The same events for each side: each has its own database.
                    requests = bodies(size, batches, offset)
                    offset += batches
                    for gateway in gateways:
                        results.append(
                            await gateway.measure(
                                size, requests, args.concurrency, client, round_number
                            )
                        )
        for gateway in gateways:
            print(f"  {gateway.label}: {gateway.sent:,} usage events sent and stored")
        print(f"  load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        summary(results)
        if args.compare or args.profile:
            return
        gateway = gateways[0]
        await load_million(gateway.database_url)
        meter = "{ organization { usage { product metric used } } }"
        timings = []
        async with httpx.AsyncClient(
            base_url=gateway.url, headers={"Authorization": f"Bearer {gateway.token}"}
        ) as http:
            for _ in range(20):
                started = time.perf_counter()
                body = (await http.post("/graphql", json={"query": meter})).json()
                timings.append(time.perf_counter() - started)
        mac = next(m for m in body["data"]["organization"]["usage"] if m["metric"] == "mac")
        print(
            f"  MAC read through the API after 1,000,000 more events in the period: used {mac['used']:,}, median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms per request"
        )
    finally:
        for gateway in gateways:
            await gateway.stop()


if __name__ == "__main__":
    asyncio.run(main())
