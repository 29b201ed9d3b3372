"""One billing worker of bench/billing_run.py, in a process of its own: opens the database, waits
for the common start, runs the billing clock's due work once (until nothing due is left) with the
sandbox processor, and prints one JSON line: events, seconds, SQL statements, peak memory.

It imports the gateway from the working directory, so the same file runs any version of the code
(`cwd` a checkout with its .venv): `run_claimed_work` where it exists (workers claiming by due
time), else the older `run_due_work` over every organization."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, os.getcwd())

STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


class StatementCounter(logging.Handler):
    """Counts the statements Tortoise sends, from its debug log, without formatting them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        first = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        if isinstance(first, str) and STATEMENT.match(first):
            self.count += 1


async def run(database_url: str, base_now: datetime, start_at: float) -> dict[str, object]:
    from gateway.db import close_database, open_database
    from payments.port import ChargeRequest, ChargeResult
    from payments.sandbox import SandboxProcessor
    from resolvers import billing_clock

    await open_database(database_url)
    counter = StatementCounter()
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    logger.propagate = False
    database_cpu_before = await _database_cpu_seconds()
    rss_before = _status_kib("VmRSS")
    # The peak from here on: a forked process starts with its parent's peak (ru_maxrss).
    _reset_peak()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    started, cpu_started = time.time(), time.process_time()
    seen = {"events": 0, "renewed": 0}
    failed: list[str] = []

    def report(event: str) -> None:  # counted, not kept: the worker's memory is measured
        seen["events"] += 1
        seen["renewed"] += "renewed to" in event
        if ("failed" in event or "postponed" in event) and len(failed) < 5:
            failed.append(event)

    class Forgetful(SandboxProcessor):
        """The sandbox keeps every charge in memory (for reconciliation and repeated keys); here
        it forgets them, so the peak memory measured is the worker's own."""

        async def charge(self, request: ChargeRequest) -> ChargeResult:
            result = await super().charge(request)
            self._charges.clear()
            self._records.clear()
            return result

    if hasattr(billing_clock, "run_claimed_work"):
        await billing_clock.run_claimed_work(base_now, Forgetful(), report=report)
    else:
        for event in await billing_clock.run_due_work(base_now, Forgetful()):
            report(event)
    finished, cpu = time.time(), time.process_time() - cpu_started
    database_cpu = await _database_cpu_seconds()
    await close_database()
    return {
        **seen,
        "failed": failed,
        "started": started,
        "finished": finished,
        "statements": counter.count,
        "cpu_seconds": cpu,
        # PostgreSQL's own CPU for this database's connections (alone only with one worker).
        "database_cpu_seconds": database_cpu - database_cpu_before,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _status_kib("VmHWM"),
    }


async def _database_cpu_seconds() -> float:
    """The CPU time (user and system) of the PostgreSQL backends serving this database, read
    from /proc (the server runs on this machine)."""
    from tortoise import connections

    rows = await connections.get("default").execute_query_dict(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend'"
    )
    return sum(_cpu_ticks(int(row["pid"])) for row in rows) / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0  # a backend that just ended
    return int(stat[11]) + int(stat[12])  # utime, stime


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--base-now", required=True)
    parser.add_argument("--start-at", type=float, required=True)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.database_url, datetime.fromisoformat(args.base_now), args.start_at)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
