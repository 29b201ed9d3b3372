"""The billing run on PostgreSQL: N subscriptions due at once, renewed by 1 or more worker
processes with the sandbox processor; renewals per second, SQL statements per renewal, peak
memory, and a tick with nothing due. See bench/README.md.

Each case gets a fresh database (`--database`, dropped and made again): the code's migrations,
its demo catalog, then N copies of the demo organization acme (organization, default card,
subscription, items) written with COPY. `--before PATH` runs the same cases against another
checkout with its own .venv (main's clock, for comparison)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

HERE = Path(__file__).resolve().parent
WORKER = HERE / "billing_run_worker.py"
TEMPLATE = "acme"
# The instant the run happens at (the sandbox processor does not care): periods end before it.
BASE_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    code: Path
    label: str
    n: int
    workers: int
    idle: bool = False


def _gateway(code: Path, url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "GATEWAY_MODE": "sandbox"}
    subprocess.run(
        [str(code / ".venv/bin/billing-gateway"), *args],
        cwd=code,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def _fresh_database(admin_url: str, name: str) -> str:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def _copies(url: str, n: int, idle: bool) -> float:
    """N copies of the template organization, due at BASE_NOW (or, `idle`, renewing in three
    days with the renewal notice sent: nothing due). The demo organizations are set aside."""
    connection = await asyncpg.connect(url)
    started = time.perf_counter()
    try:
        # The demo organizations are left out of the run: nothing of theirs falls due.
        await connection.execute("UPDATE subscription SET status = 'CANCELLED'")
        columns = {
            table: [
                r["column_name"]
                for r in await connection.fetch(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = $1 ORDER BY ordinal_position",
                    table,
                )
            ]
            for table in ("organization", "payment_method", "subscription", "subscription_item")
        }
        if "next_due_at" in columns["subscription"]:
            await connection.execute("UPDATE subscription SET next_due_at = NULL")
        organization = dict(
            await connection.fetchrow("SELECT * FROM organization WHERE slug = $1", TEMPLATE)
        )
        card = dict(
            await connection.fetchrow(
                "SELECT * FROM payment_method WHERE organization_id = $1 AND is_default",
                organization["id"],
            )
        )
        subscription = dict(
            await connection.fetchrow(
                "SELECT * FROM subscription WHERE organization_id = $1", organization["id"]
            )
        )
        items = [
            dict(r)
            for r in await connection.fetch(
                "SELECT * FROM subscription_item WHERE subscription_id = $1", subscription["id"]
            )
        ]
        end = BASE_NOW + timedelta(days=3) if idle else BASE_NOW - timedelta(hours=1)
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in columns}
        for i in range(n):
            org_id, sub_id = uuid.uuid4(), uuid.uuid4()
            changes: dict[str, dict[str, Any]] = {
                "organization": {
                    "id": org_id,
                    "slug": f"bench-{i}",
                    "name": f"Bench {i}",
                    "external_id": None,
                    "processor_customer_id": None,
                    "invoice_sequence": 0,
                },
                "payment_method": {"id": uuid.uuid4(), "organization_id": org_id},
                "subscription": {
                    "id": sub_id,
                    "organization_id": org_id,
                    "status": "ACTIVE",
                    "billing_anchor": end,
                    "current_period_start": end - timedelta(days=30),
                    "current_period_end": end,
                    "renewal_notice_for": end,
                    "next_due_at": end,
                },
            }
            for table, template in (
                ("organization", organization),
                ("payment_method", card),
                ("subscription", subscription),
            ):
                merged = {**template, **changes[table]}
                rows[table].append(tuple(merged[c] for c in columns[table]))
            for item in items:
                merged = {**item, "id": uuid.uuid4(), "subscription_id": sub_id}
                rows["subscription_item"].append(
                    tuple(merged[c] for c in columns["subscription_item"])
                )
        for table, records in rows.items():
            await connection.copy_records_to_table(table, records=records, columns=columns[table])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - started


async def _check(url: str, n: int) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        return {
            "invoices": await connection.fetchval(
                "SELECT count(*) FROM invoice i JOIN organization o ON o.id = i.organization_id "
                "WHERE o.slug LIKE 'bench-%'"
            ),
            "payments": await connection.fetchval(
                "SELECT count(*) FROM payment p JOIN invoice i ON i.id = p.invoice_id "
                "JOIN organization o ON o.id = i.organization_id WHERE o.slug LIKE 'bench-%'"
            ),
            "renewed_twice": await connection.fetchval(
                "SELECT count(*) FROM (SELECT i.organization_id FROM invoice i JOIN organization o ON o.id = i.organization_id WHERE o.slug LIKE 'bench-%' "
                "GROUP BY i.organization_id HAVING count(*) > 1) twice"
            ),
        }
    finally:
        await connection.close()


def _run_workers(case: Case, url: str) -> list[dict[str, Any]]:
    start_at = time.time() + 6  # every worker connected and imported before the start
    python = str(case.code / ".venv/bin/python")
    processes = [
        subprocess.Popen(
            [
                python,
                str(WORKER),
                "--database-url",
                url,
                "--base-now",
                BASE_NOW.isoformat(),
                "--start-at",
                str(start_at),
            ],
            cwd=case.code,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(case.workers)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a worker failed ({process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def run_case(case: Case, admin_url: str, database: str) -> dict[str, Any]:
    url = asyncio.run(_fresh_database(admin_url, database))
    _gateway(case.code, url, "migrate")
    _gateway(case.code, url, "seed-demo")
    seeding = asyncio.run(_copies(url, case.n, case.idle))
    load_before = os.getloadavg()[0]
    results = _run_workers(case, url)
    load_after = os.getloadavg()[0]
    seconds = max(r["finished"] for r in results) - min(r["started"] for r in results)
    renewed = sum(r["renewed"] for r in results)
    statements = sum(r["statements"] for r in results)
    checked = asyncio.run(_check(url, case.n))
    return {
        "code": case.label,
        "n": case.n,
        "workers": case.workers,
        "idle": case.idle,
        "seed_seconds": round(seeding, 1),
        "seconds": round(seconds, 2),
        "renewed": renewed,
        "renewals_per_second": round(renewed / seconds) if renewed else 0,
        "statements": statements,
        "statements_per_renewal": round(statements / renewed, 1) if renewed else None,
        # The workers' own CPU (not PostgreSQL's): steadier than the rate on shared cores.
        "worker_cpu_ms_per_renewal": (
            round(sum(r.get("cpu_seconds", 0) for r in results) * 1000 / renewed, 2)
            if renewed
            else None
        ),
        # PostgreSQL's CPU for the run's connections (one worker: its own; /proc on this host).
        "database_cpu_ms_per_renewal": (
            round(sum(r.get("database_cpu_seconds", 0) for r in results) * 1000 / renewed, 2)
            if renewed
            else None
        ),
        "peak_rss_mib": max(round(r["peak_rss_kib"] / 1024) for r in results),
        "rss_at_start_mib": max(round(r["rss_before_kib"] / 1024) for r in results),
        "failed": [f for r in results for f in r["failed"]],
        # The machine is shared: the 1-minute load average as the workers start and finish.
        "load_average": [round(load_before, 1), round(load_after, 1)],
        **checked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--idle-n", type=int, default=100_000, help="0 leaves the idle tick out")
    parser.add_argument("--before", type=Path, help="another checkout to compare (its .venv)")
    parser.add_argument("--before-n", type=int, nargs="*", default=[10_000])
    parser.add_argument("--before-idle-n", type=int, default=10_000)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--database", default="billing_run_bench")
    args = parser.parse_args()

    here = HERE.parent
    cases = []
    # The idle ticks first: they are short.
    before = args.before.resolve() if args.before is not None else None
    if before is not None and args.before_idle_n:
        cases.append(Case(before, "before", args.before_idle_n, 1, idle=True))
    if args.idle_n:
        cases.append(Case(here, "after", args.idle_n, 1, idle=True))
    if before is not None:
        cases += [Case(before, "before", n, 1) for n in args.before_n]
    cases += [Case(here, "after", n, w) for n in args.n for w in args.workers]
    for case in cases:
        result = run_case(case, args.admin_url, args.database)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
