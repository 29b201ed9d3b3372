"""Plan changes (issue 16): changePlan's SQL statements and throughput at 32 connections, and
previewPlanChange's p50/p99 sequentially, for the code before (a ref, main by default) and this
checkout, side by side in one run.

    .venv/bin/python bench/plan_change.py [--organizations 600] [--concurrency 32]
        [--previews 300] [--before-ref main]

Exports `--before-ref` (git archive) to a temporary directory and serves it beside this checkout
(`billing-gateway serve`, sandbox, GATEWAY_FIXED_CLOCK at 2026-03-12 09:30 UTC) on one PostgreSQL
database (`plan_change_bench`, recreated; BENCH_DATABASE renames it, BENCH_POSTGRES names the
database used to create it).
Every organization has Messaging Growth, Email 1,000 and Marketing Plus 10 days into a 31-day
period, and is changed once: Messaging Growth to Advanced, an immediate upgrade with a charge (the
sandbox processor's pm_card_visa). The organizations are split between the two sides, and the
rounds alternate: previews (1 client, each side in turn), then changes (32 clients, each side in
turn, half of each side's organizations per round). The statements of one upgrade and of one
scheduled downgrade (Email 1,000 to 500) are counted in a process of each side's code running the
app in-process (tortoise's debug log), after one preview (the caller and the catalog kept)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXED_CLOCK = "2026-03-12T09:30:00+00:00"
PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
ITEMS: list[dict[str, Any]] = [
    {"product": "messaging", "plan": "growth"},
    {"product": "email", "plan": "email-1000"},
    {"product": "marketing", "plan": "plus", "contact_limit": 1000, "seats": 1},
]
UPGRADE = {"product": "messaging", "plan": "advanced"}
DOWNGRADE = {"product": "email", "plan": "email-500"}
SECRET = "bench-secret-" + "x" * 40
ADMIN_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = os.environ.get("BENCH_DATABASE", "plan_change_bench")
ROOT = Path(__file__).resolve().parent.parent
PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  kind timing amountDueNow { amount } lines { description amount { amount } } blockers { code } } }"""
CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) {
  changePlan(input: $input, confirmAmountDue: $confirm) { __typename
  ... on PlanChangeApplied { invoice { status amountDue { amount } } subscription { status } }
  ... on PlanChangeScheduled { effectiveAt subscription { status } }
  ... on UserError { code message } } }"""
_STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


def _env(database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_JWT_SECRET": SECRET,
        "GATEWAY_FIXED_CLOCK": FIXED_CLOCK,
        "GATEWAY_RATE_LIMIT": "100000000/minute",
        "GATEWAY_RATE_LIMIT_ANONYMOUS": "100000000/minute",
    }
    for name in ("STRIPE_API_KEY", "PYTHONPATH", "REDIS_URL"):
        env.pop(name, None)
    return env


async def _recreate_database() -> str:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await connection.close()
    return ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgres://") + f"/{DATABASE}"


async def _organizations(database_url: str, count: int, first: int) -> list[str]:
    """`count` organizations as above (slugs numbered from `first`); their owners' tokens."""
    import itertools

    from gateway.auth import issue_token
    from gateway.db import close_database, open_database
    from models import User
    from tests import factories

    factories._serial = itertools.count(first)  # slugs unique across the bench's processes
    await open_database(database_url)
    tokens = []
    try:
        for _ in range(count):
            _, owner = await factories.organization_with(ITEMS, period=PERIOD)
            user = await User.get(email=owner)
            tokens.append(issue_token(user.id, SECRET, 24 * 3600))
    finally:
        await close_database()
    return tokens


def _export(ref: str) -> str:
    directory = tempfile.mkdtemp(prefix="plan_change_before_")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
    return directory


async def _post(client: Any, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _previews(
    url: str, tokens: list[str], client: str = "raw"
) -> tuple[list[float], dict[str, int]]:
    """One preview per organization, one at a time; the amounts to confirm. `client` "raw" sends
    them on one keep-alive connection of bench/keepalive_client.py, "httpx" through httpx (whose
    own CPU is then part of each latency)."""
    import httpx
    from keepalive_client import KeepAliveClient

    latencies, amounts = [], {}
    host, port = url.removeprefix("http://").split(":")
    body = {"query": PREVIEW, "variables": {"input": UPGRADE}}
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as http,
        KeepAliveClient(host, int(port)) as raw,
    ):
        for token in tokens:
            started = time.perf_counter()
            if client == "raw":
                auth = {"Authorization": f"Bearer {token}"}
                status, answer = await raw.post("/graphql", json.dumps(body).encode(), auth)
                latencies.append(time.perf_counter() - started)
                assert status == 200, (status, answer)
                reply = json.loads(answer)
                assert "errors" not in reply, reply
                data = reply["data"]
            else:
                data = await _post(http, token, PREVIEW, {"input": UPGRADE})
                latencies.append(time.perf_counter() - started)
            preview = data["previewPlanChange"]
            assert preview["blockers"] == [] and preview["amountDueNow"]["amount"] > 0, preview
            amounts[token] = preview["amountDueNow"]["amount"]
    return latencies, amounts


async def _changes(
    url: str, amounts: dict[str, int], tokens: list[str], concurrency: int
) -> tuple[float, list[float]]:
    import httpx

    latencies: list[float] = []
    remaining = iter(tokens)

    async def worker(client: httpx.AsyncClient) -> None:
        for token in remaining:
            variables = {"input": UPGRADE, "confirm": amounts[token]}
            started = time.perf_counter()
            data = await _post(client, token, CHANGE, variables)
            latencies.append(time.perf_counter() - started)
            result = data["changePlan"]
            assert result["__typename"] == "PlanChangeApplied", result
            assert result["invoice"]["status"] == "PAID", result

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(tokens) / elapsed, latencies


def _p(latencies: list[float], q: int) -> float:
    return statistics.quantiles(latencies, n=100)[q - 1] * 1000


async def _count_in_process(database_url: str, first: int) -> None:
    """Run with the side's code first on the path: prints the statements of one upgrade, one
    scheduled downgrade and one preview, as JSON."""
    import httpx

    from billing.clock import FixedClock
    from gateway.app import create_app
    from gateway.db import close_database, open_database
    from gateway.settings import load_settings

    counted: list[str] = []

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if _STATEMENT.match(record.getMessage()):
                counted.append(record.getMessage())

    tokens = await _organizations(database_url, 2, first)
    await open_database(database_url)
    settings = load_settings(_env(database_url))
    app = create_app(
        settings, FixedClock(datetime.fromisoformat(FIXED_CLOCK)), manage_database=False
    )
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Counter())
    result = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        for name, token, change in (
            ("upgrade", tokens[0], UPGRADE),
            ("downgrade", tokens[1], DOWNGRADE),
        ):
            preview = await _post(c, token, PREVIEW, {"input": change})
            due = preview["previewPlanChange"]["amountDueNow"]["amount"]
            start = len(counted)
            await _post(c, token, PREVIEW, {"input": change})
            result[f"preview ({name})"] = len(counted) - start
            start = len(counted)
            await _post(c, token, CHANGE, {"input": change, "confirm": due})
            result[f"changePlan ({name})"] = len(counted) - start
    await close_database()
    print(json.dumps(result))


def _counts(database_url: str, source: str | None, first: int) -> dict[str, int]:
    env = {**_env(database_url), "PYTHONPATH": source or str(ROOT)}
    # The script's own directory is first on the path; the side's code comes next.
    out = subprocess.run(
        [sys.executable, __file__, "--count-in-process", database_url, "--first", str(first)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=source or str(ROOT),
    ).stdout
    counts: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return counts


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organizations", type=int, default=600, help="per side")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--previews", type=int, default=300, help="per side")
    parser.add_argument("--before-ref", default="main")
    parser.add_argument("--count-in-process", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_in_process:
        await _count_in_process(args.count_in_process, args.first)
        return
    sys.path.insert(0, str(ROOT))
    from entitlements import cpu_seconds, free_port, start, wait_until_up  # beside this file

    before = _export(args.before_ref)
    database_url = await _recreate_database()
    env = _env(database_url)
    subprocess.run(  # noqa: ASYNC221 (set-up, before anything is measured)
        [str(Path(sys.executable).parent / "billing-gateway"), "seed-demo"],
        env=env,
        check=True,
        capture_output=True,
    )
    sides = {f"before ({args.before_ref})": before, "after (this checkout)": None}
    counts = {
        name: _counts(database_url, source, 1_000_000 + 10 * index)
        for index, (name, source) in enumerate(sides.items())
    }
    tokens = await _organizations(database_url, 2 * args.organizations, 1)
    servers: dict[str, tuple[str, subprocess.Popen[bytes], list[str]]] = {}
    for index, (name, source) in enumerate(sides.items()):
        port = free_port()
        servers[name] = (f"http://127.0.0.1:{port}", start(env, port, source), tokens[index::2])
    results: dict[str, dict[str, Any]] = {
        n: {"raw": [], "httpx": [], "changes": [], "cpu": 0.0, "elapsed": 0.0} for n in sides
    }
    try:
        for url, *_ in servers.values():
            wait_until_up(url)
        amounts: dict[str, int] = {}
        for url, _, own in servers.values():  # warm-up: not counted
            await _previews(url, own[:20])
        for client in ("raw", "httpx", "raw", "httpx"):  # the sides and the clients alternate
            for name, (url, _, own) in servers.items():
                latencies, found = await _previews(url, own[20 : 20 + args.previews], client)
                results[name][client] += latencies
                amounts.update(found)
        for url, _, own in servers.values():
            _, rest = await _previews(url, own[20 + args.previews :])
            amounts.update(rest)
            warm = await _previews(url, own[:20])
            amounts.update(warm[1])
        half = args.organizations // 2
        for round_ in range(2):
            for name, (url, process, own) in servers.items():
                batch = own[round_ * half : (round_ + 1) * half]
                cpu = cpu_seconds(process.pid)
                started = time.perf_counter()
                _, latencies = await _changes(url, amounts, batch, args.concurrency)
                results[name]["elapsed"] += time.perf_counter() - started
                results[name]["cpu"] += cpu_seconds(process.pid) - cpu
                results[name]["changes"] += latencies
    finally:
        for _, process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
    print(
        f"changePlan: {args.organizations} upgrades with a charge per side, "
        f"{args.concurrency} connections; previewPlanChange: {args.previews} per side and "
        "client, twice, 1 client at a time"
    )
    for name, r in results.items():
        changes = r["changes"]
        c = counts[name]
        print(f"  {name}:")
        print(
            f"    statements: changePlan upgrade {c['changePlan (upgrade)']}, scheduled downgrade "
            f"{c['changePlan (downgrade)']}; previewPlanChange {c['preview (upgrade)']}"
        )
        print(
            f"    changePlan: {len(changes) / r['elapsed']:,.1f} changes/s, "
            f"p50 {statistics.median(changes) * 1000:.1f} ms, p99 {_p(changes, 99):.1f} ms, "
            f"gateway CPU {r['cpu'] / len(changes) * 1000:.2f} ms per change"
        )
        for client, label in (("raw", "one keep-alive connection"), ("httpx", "httpx")):
            previews = r[client]
            print(
                f"    previewPlanChange ({label}): p50 {statistics.median(previews) * 1000:.2f} "
                f"ms, p99 {_p(previews, 99):.2f} ms"
            )


if __name__ == "__main__":
    asyncio.run(main())
