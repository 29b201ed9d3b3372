"""The billing page of bench/request_path.py through the gateway's ASGI app in one process, no
HTTP server and no load generator: CPU per page with less noise around it, for comparing two
commits of the GraphQL layer (issue 16).

    .venv/bin/python bench/request_path_inprocess.py --baseline PATH [--runs 6] [--pages 200]

Prepares the database as bench/request_path.py does (BENCH_DATABASE, BENCH_POSTGRES), then runs
this checkout and the baseline's alternately, each run a fresh process (rate limits in Redis when
one answers, JSON log lines, 20 pages of warm-up), and prints each run's CPU per page
(`time.process_time`) and the medians. Every run's answer must be byte for byte the first's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


async def _serve_pages(database_url: str, token: str, pages: int, answer_file: Path) -> float:
    import logging

    from request_path import PAGE_BODY, SECRET, redis_url

    from gateway.app import create_app
    from gateway.db import close_database, open_database
    from gateway.logs import configure_logging
    from gateway.settings import load_settings

    environment = {
        "DATABASE_URL": database_url,
        "GATEWAY_JWT_SECRET": SECRET,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_RATE_LIMIT": "100000000/minute",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_REDIS_KEY_PREFIX": "request-path-inprocess",
        "GATEWAY_DATA_DIR": str(answer_file.parent / "data"),
    }
    if redis := redis_url():
        environment["REDIS_URL"] = redis
    settings = load_settings(environment)
    configure_logging(settings.ops)
    logging.getLogger().handlers[:] = [logging.NullHandler()]
    await open_database(database_url)
    app = create_app(settings, manage_database=False)
    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(PAGE_BODY)).encode()),
    ]

    async def page() -> bytes:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": PAGE_BODY, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)  # type: ignore[arg-type]
        return b"".join(chunks)

    try:
        first = await page()
        # An error answered every time (a refused token, a rate limit) would compare equal too.
        assert b'"errors"' not in first, first[:300]
        for _ in range(20):
            await page()
        started = time.process_time()
        for _ in range(pages):
            answer = await page()
        cpu = time.process_time() - started
        assert answer == first
    finally:
        await close_database()
    answer_file.write_bytes(first)  # noqa: ASYNC240  # after the measure, once
    return cpu / pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--child", nargs=3, metavar=("DATABASE_URL", "TOKEN", "ANSWER_FILE"))
    args = parser.parse_args()
    if args.child:
        database_url, token, answer_file = args.child
        cpu = asyncio.run(_serve_pages(database_url, token, args.pages, Path(answer_file)))
        print(f"{cpu * 1000:.3f}")
        return

    from request_path import prepare

    database_url, token = prepare()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"request-path-inprocess-{os.getpid()}"
    work.mkdir(exist_ok=True)
    checkouts = {"this": ROOT, "baseline": args.baseline.resolve()}
    figures: dict[str, list[float]] = {name: [] for name in checkouts}
    for run in range(args.runs):
        order = list(checkouts) if run % 2 == 0 else list(reversed(checkouts))
        for name in order:
            answer_file = work / f"answer-{name}.json"
            output = subprocess.run(
                [
                    *(sys.executable, __file__, "--pages", str(args.pages), "--baseline", "-"),
                    *("--child", database_url, token, str(answer_file)),
                ],
                cwd=checkouts[name],
                env={**os.environ, "PYTHONPATH": f"{checkouts[name]}:{ROOT / 'bench'}"},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures[name].append(float(output.split()[-1]))
            print(f"run {run + 1} {name:<9} {figures[name][-1]:7.2f} ms of CPU per page")
    same = (work / "answer-this.json").read_bytes() == (work / "answer-baseline.json").read_bytes()
    for name, values in figures.items():
        print(f"{name:<9} median {statistics.median(values):6.2f} ms, min {min(values):6.2f} ms")
    ratio = statistics.median(figures["this"]) / statistics.median(figures["baseline"])
    print(f"this / baseline: {ratio:.2f}x; answers byte for byte equal: {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
