"""The request path against its ceiling (issue 16): the billing page through the gateway and
through a hand-written Starlette + asyncpg + orjson endpoint, side by side.

    .venv/bin/python bench/request_path.py [--rounds 3] [--seconds 8] [--connections 8]
                                           [--baseline PATH_OF_ANOTHER_CHECKOUT]

- Recreates its own PostgreSQL database (`billing_page_bench` on BENCH_POSTGRES), seeds the demo
  data and gives Acme 20 invoices and 2 cards (its subscription has 3 items).
- Counts the gateway's SQL statements for one page, in this process, through the real ASGI app
  (Tortoise's statement log), after one warm-up request, as a running gateway answers it.
- Starts, each as one process: `billing-gateway serve` as deployed (rate limits on, in Redis when
  one answers at REDIS_URL or redis://127.0.0.1:6379/9, else in the process; JSON log lines;
  metrics on; the billing clock in the process), the ceiling (bench/request_path_ceiling.py),
  and with --baseline the gateway of another checkout (e.g. a worktree of main), so two versions
  are compared alternately in one run. Each records its garbage collector's pauses.
- Checks that every server's JSON equals the gateway's, then measures them in turn, round after
  round, with the load generator in its own process (bench/request_path_load.py): requests per
  second, CPU per request from /proc/PID/stat (utime + stime of the server and its children),
  p50, p99 and the longest latency. Prints each round, the totals and the CPU ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = os.environ.get("BENCH_DATABASE", "billing_page_bench")
SECRET = "request-path-bench-secret-" + "x" * 32
USER = "billing@acme.test"
INVOICES = 20

# The billing page's sections in one document: the shell (BillingShell), the plan's items
# (BillingPlan), the invoices (InvoicesSection, 20 of them), the card (PaymentMethodsSection),
# the credit balance and this month's meters (UsageSection). Left out: the upcoming invoice and
# the usage history, which the ceiling would have to re-implement the billing rules to answer.
PAGE_QUERY = """query BillingPage($first: Int!) {
  organization {
    id
    name
    viewerRole
    creditBalance { amount currency }
    subscription {
      id
      status
      billingInterval
      currentPeriodStart
      currentPeriodEnd
      items { product { code name } plan { code name } seats contactLimit }
    }
    invoices(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          number
          status
          total { amount currency }
          amountDue { amount currency }
          issuedAt
          dueAt
          paidAt
        }
      }
    }
    paymentMethods { id brand last4 expMonth expYear isDefault }
    usage { product metric used limit percent periodStart }
  }
}"""
PAGE_BODY = orjson.dumps({"query": PAGE_QUERY, "variables": {"first": INVOICES}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1).ping()
    except Exception:
        return None
    return url


async def recreate_database() -> str:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await connection.close()
    return ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + f"/{DATABASE}"


async def grow_acme(database_url: str) -> None:
    """Acme gets INVOICES invoices (copies of its newest, numbered on) and a second card."""
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        org = await connection.fetchval("SELECT id FROM organization WHERE slug = 'acme'")
        count = await connection.fetchval(
            "SELECT count(*) FROM invoice WHERE organization_id = $1", org
        )
        newest = await connection.fetchrow(
            "SELECT * FROM invoice WHERE organization_id = $1 ORDER BY sequence DESC LIMIT 1", org
        )
        columns = list(newest.keys())
        for n in range(INVOICES - count):
            row = dict(newest)
            row["id"] = uuid.uuid4()
            row["sequence"] = newest["sequence"] + n + 1
            row["number"] = f"{newest['number']}-B{n + 1}"
            values = ", ".join(f"${i + 1}" for i in range(len(columns)))
            await connection.execute(
                f"INSERT INTO invoice ({', '.join(columns)}) VALUES ({values})",
                *(row[c] for c in columns),
            )
        card = await connection.fetchrow(
            "SELECT * FROM payment_method WHERE organization_id = $1 LIMIT 1", org
        )
        row = dict(card)
        row.update(id=uuid.uuid4(), processor_id="pm_bench_2", last4="0005", is_default=False)
        row["created_at"] = card["created_at"].replace(microsecond=0) + (
            card["created_at"] - card["created_at"].replace(microsecond=0)
        ).__class__(seconds=1)
        columns = list(row)
        values = ", ".join(f"${i + 1}" for i in range(len(columns)))
        await connection.execute(
            f"INSERT INTO payment_method ({', '.join(columns)}) VALUES ({values})",
            *(row[c] for c in columns),
        )
    finally:
        await connection.close()


async def gateway_statements(database_url: str, token: str) -> tuple[int, list[str]]:
    """The gateway's statements for one page after one warm-up request, counted from Tortoise's
    statement log through the real ASGI app in this process."""
    from gateway.app import create_app
    from gateway.db import close_database, open_database
    from gateway.settings import load_settings

    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "GATEWAY_JWT_SECRET": SECRET,
            "GATEWAY_MODE": "sandbox",
            "GATEWAY_RATE_LIMIT": "1000000/minute",
        }
    )
    statements: list[str] = []
    pattern = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if pattern.match(record.getMessage()):
                statements.append(record.getMessage())

    await open_database(database_url)
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    handler = Counter()
    logger.addHandler(handler)
    try:
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.post("/graphql", content=PAGE_BODY, headers=headers)
            statements.clear()
            body = (await client.post("/graphql", content=PAGE_BODY, headers=headers)).json()
            assert "errors" not in body, body
    finally:
        logger.removeHandler(handler)
        await close_database()
    return len(statements), list(statements)


def cpu_seconds(pid: int) -> float:
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


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    gc_file: Path
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def gc_stats(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.gc_file.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}


def start(name: str, which: str, root: Path, env: dict[str, str], work: Path, log: Path) -> Server:
    port = free_port()
    gc_file = work / f"gc-{name}.json"
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "request_path_server.py"),
            str(gc_file),
            which,
            str(port),
        ],
        env={**env, "PYTHONPATH": str(root)},
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    return Server(name, port, process, gc_file)


def wait_ready(server: Server, token: str) -> bytes:
    for _ in range(300):
        try:
            response = httpx.post(
                f"http://127.0.0.1:{server.port}/graphql",
                content=PAGE_BODY,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=5,
            )
            if response.status_code == 200:
                return response.content
        except httpx.TransportError:
            pass
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode}")
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer")


def request_bytes(port: int, token: str) -> bytes:
    return (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(PAGE_BODY)}\r\n\r\n"
    ).encode() + PAGE_BODY


def measure(
    server: Server, token: str, seconds: float, connections: int, work: Path
) -> dict[str, Any]:
    request_file = work / f"request-{server.name}"
    request_file.write_bytes(request_bytes(server.port, token))
    before = cpu_seconds(server.process.pid)
    output = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "request_path_load.py"),
            "127.0.0.1",
            str(server.port),
            str(seconds),
            str(connections),
            str(request_file),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu = cpu_seconds(server.process.pid) - before
    result: dict[str, Any] = json.loads(output)
    assert set(result["statuses"]) == {"200"}, (server.name, result["statuses"])
    result["cpu"] = cpu
    return result


def p99(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[98]
        if len(values) >= 2
        else values[0]
    )


def line(name: str, requests: int, seconds: float, cpu: float, latencies: list[float]) -> str:
    return (
        f"{name:<10} {requests / seconds:8.1f} req/s  CPU {cpu / requests * 1e6:8.0f} µs/req  "
        f"p50 {statistics.median(latencies):7.1f} ms  p99 {p99(latencies):7.1f} ms  "
        f"max {max(latencies):7.1f} ms"
    )


def prepare() -> tuple[str, str]:
    database_url = asyncio.run(recreate_database())
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_JWT_SECRET": SECRET,
    }
    env.pop("STRIPE_API_KEY", None)
    with tempfile.TemporaryDirectory() as data:
        env["GATEWAY_DATA_DIR"] = data
        subprocess.run(
            [str(BIN / "billing-gateway"), "seed-demo"], env=env, check=True, capture_output=True
        )
        token = subprocess.run(
            [str(BIN / "billing-gateway"), "token", USER],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    asyncio.run(grow_acme(database_url))
    return database_url, token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per server, not counted")
    parser.add_argument(
        "--gateway", type=Path, default=ROOT, help="the checkout whose gateway is measured"
    )
    parser.add_argument("--baseline", type=Path, help="another checkout whose gateway runs too")
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument(
        "--plan-changes",
        metavar="REF",
        help="then bench/plan_change.py against REF: changePlan's statements and throughput at "
        "32 connections, previewPlanChange's p50/p99 sequentially, both sides",
    )
    args = parser.parse_args()

    database_url, token = prepare()
    count, statements = asyncio.run(gateway_statements(database_url, token))
    redis = redis_url()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_JWT_SECRET": SECRET,
        "GATEWAY_LOG_FORMAT": "json",
        # Rate limits stay on (every request is counted against its budget) with a budget one
        # user cannot spend here: the cost of the limiter is measured, not its refusals.
        "GATEWAY_RATE_LIMIT": "100000000/minute",
        "GATEWAY_REDIS_KEY_PREFIX": "request-path-bench",
    }
    env.pop("STRIPE_API_KEY", None)
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    work = Path(tempfile.mkdtemp(prefix="request-path-"))
    env["GATEWAY_DATA_DIR"] = str(work / "data")
    log = work / "servers.log"
    servers = [start("gateway", "gateway", args.gateway.resolve(), env, work, log)]
    if args.baseline:
        servers.append(start("baseline", "gateway", args.baseline.resolve(), env, work, log))
    if not args.no_ceiling:
        servers.append(start("ceiling", "ceiling", ROOT, env, work, log))
    try:
        answers = {s.name: wait_ready(s, token) for s in servers}
        reference = orjson.loads(answers["gateway"])
        assert "errors" not in reference, reference
        for name, answer in answers.items():
            if orjson.loads(answer) != reference:
                raise SystemExit(
                    f"{name}'s JSON differs from the gateway's:\n{answer.decode()}\n"
                    f"{answers['gateway'].decode()}"
                )
        same_bytes = len({a for a in answers.values()}) == 1
        page = reference["data"]["organization"]
        print(
            f"{os.cpu_count()} cores; PostgreSQL; rate limits in {'Redis' if redis else 'the process'}; "
            f"JSON log lines; one process per server; {args.connections} connections; "
            f"{args.rounds} rounds of {args.seconds:g} s per server, alternated"
        )
        print(
            f"page: {len(page['subscription']['items'])} items, "
            f"{len(page['invoices']['edges'])} invoices, {len(page['paymentMethods'])} cards, "
            f"{len(page['usage'])} meters, {len(answers['gateway']):,} bytes; JSON equal: yes; "
            f"bytes identical: {'yes' if same_bytes else 'no'}"
        )
        print(f"gateway SQL statements per page: {count}")
        for statement in statements:
            print(f"    {statement[:150]}")
        for s in servers:
            measure(s, token, args.warmup, args.connections, work)
        for s in servers:  # the collector's pauses are counted from here on
            s.gc_file.with_suffix(".reset").touch()
        time.sleep(0.5)
        for round_number in range(1, args.rounds + 1):
            for s in servers:
                result = measure(s, token, args.seconds, args.connections, work)
                s.requests += result["requests"]
                s.seconds += result["seconds"]
                s.cpu += result["cpu"]
                s.latencies += result["latencies"]
                print(
                    f"round {round_number} "
                    + line(
                        s.name,
                        result["requests"],
                        result["seconds"],
                        result["cpu"],
                        result["latencies"],
                    )
                )
        print("totals")
        for s in servers:
            print("        " + line(s.name, s.requests, s.seconds, s.cpu, s.latencies))
        per_request = {s.name: s.cpu / s.requests for s in servers}
        if "ceiling" in per_request:
            for s in servers:
                if s.name != "ceiling":
                    print(
                        f"CPU per page, {s.name} / ceiling: "
                        f"{per_request[s.name] / per_request['ceiling']:.2f}x"
                    )
        if "baseline" in per_request:
            print(
                f"CPU per page, gateway / baseline: {per_request['gateway'] / per_request['baseline']:.2f}x"
            )
    finally:
        for s in servers:
            s.process.terminate()
        for s in servers:
            try:
                s.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                s.process.kill()
    for s in servers:
        stats = s.gc_stats()
        if stats:
            print(
                f"gc {s.name:<9} while measured: collections by generation {stats['collections']}, longest pause "
                f"{stats['max_ms']:.1f} ms (generation {stats['max_generation']}), "
                f"{stats['over_20ms']} over 20 ms; in CPU time: longest "
                f"{stats['max_cpu_ms']:.1f} ms, {stats['cpu_over_20ms']} over 20 ms; "
                f"{stats.get('frozen', 0):,} objects frozen"
            )
    if args.plan_changes:
        print(f"plan changes, this checkout against {args.plan_changes} (bench/plan_change.py):")
        sys.stdout.flush()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "plan_change.py"),
                "--before-ref",
                args.plan_changes,
            ],
            check=True,
            # Its own database (plan_change_bench): this one's may still hold the servers'
            # connections for a moment, and BENCH_DATABASE would name it to both.
            env={k: v for k, v in os.environ.items() if k != "BENCH_DATABASE"},
        )


if __name__ == "__main__":
    main()
