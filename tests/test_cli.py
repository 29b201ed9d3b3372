"""The `billing-gateway` command on the embedded default (SQLite under ./var, no configuration)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from gateway.settings import DEFAULT_CATALOG_FILE
from tests.conftest import free_port

# Starts processes or servers of its own: left out of the fast loop (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow

COMMAND = str(Path(sys.executable).parent / "billing-gateway")
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "GATEWAY_MODE",
    "GATEWAY_JWT_SECRET",
    "GATEWAY_HOST",
    "GATEWAY_PORT",
    "CATALOG_FILE",
)


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return subprocess.run(
        [COMMAND, *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def count_rows(cwd: Path, table: str) -> int:
    with sqlite3.connect(cwd / "var" / "billing-gateway.sqlite3") as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_seed_demo_is_idempotent(tmp_path: Path) -> None:
    first = run(tmp_path, "seed-demo")
    assert first.returncode == 0, first.stderr
    assert "demo organizations created: 2" in first.stdout
    counts = {
        t: count_rows(tmp_path, t) for t in ("product", "price", "organization", "membership")
    }
    second = run(tmp_path, "seed-demo")
    assert second.returncode == 0, second.stderr
    assert "0 new price versions; demo organizations created: 0" in second.stdout
    assert {t: count_rows(tmp_path, t) for t in counts} == counts


def test_token_prints_only_a_token(tmp_path: Path) -> None:
    assert run(tmp_path, "seed-demo").returncode == 0
    result = run(tmp_path, "token", "owner@acme.test")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "billing-gateway"

    unknown = run(tmp_path, "token", "nobody@acme.test")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "no user with e-mail 'nobody@acme.test'" in unknown.stderr


def test_token_is_refused_in_production(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "token",
        "owner@acme.test",
        GATEWAY_MODE="production",
        GATEWAY_JWT_SECRET="p" * 40,
        STRIPE_API_KEY="sk_test_unused",
    )
    assert result.returncode == 2
    assert "sandbox mode only" in result.stderr


def test_a_bad_variable_stops_the_command_naming_it(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", GATEWAY_PORT="http")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "billing-gateway: GATEWAY_PORT: expected a whole number from 1 to 65535, got 'http'"
    )


def test_a_broken_catalog_file_fails_and_changes_nothing(tmp_path: Path) -> None:
    assert run(tmp_path, "seed-demo").returncode == 0
    prices = count_rows(tmp_path, "price")
    broken = tmp_path / "catalog.toml"
    text = DEFAULT_CATALOG_FILE.read_text(encoding="utf-8").replace(
        "MONTHLY = 15900,", "MONTHLY = 169.00,"
    )
    broken.write_text(text, encoding="utf-8")
    result = run(tmp_path, "seed-demo", CATALOG_FILE=str(broken))
    assert result.returncode == 2
    assert (
        "catalog.toml: products[0].plans[1].prices.MONTHLY: input should be a valid integer"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert count_rows(tmp_path, "price") == prices


@pytest.fixture(params=[1, 2], ids=["one-process", "two-processes"])
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port), "--workers", str(request.param)],
        cwd=tmp_path,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start within 60 s")
        yield url, tmp_path
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
        print(output)


def test_serve_on_a_fresh_directory_answers_the_catalog(served: tuple[str, Path]) -> None:
    url, cwd = served
    token = run(cwd, "token", "billing@acme.test").stdout.strip()
    response = httpx.post(
        f"{url}/graphql",
        json={
            "query": '{ catalog { product(code: "messaging") { plans { code prices { amount { formatted } } } } } }'
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    plans = response.json()["data"]["catalog"]["product"]["plans"]
    assert [p["code"] for p in plans] == ["starter", "growth", "advanced"]
    assert [p["formatted"] for p in [pr["amount"] for pr in plans[1]["prices"]]] == [
        "$159.00",
        "$1,526.00",
    ]


def test_tick_runs_the_due_work_once(tmp_path: Path) -> None:
    assert run(tmp_path, "seed-demo").returncode == 0
    result = run(tmp_path, "tick")
    assert result.returncode == 0, result.stderr
    # Seeded just now: Acme's period and Globex's trial are still running.
    assert result.stdout.strip().splitlines()[-1] == "billing clock: 0 due item(s) done"


def test_api_key_is_printed_once(tmp_path: Path) -> None:
    assert run(tmp_path, "seed-demo").returncode == 0
    result = run(tmp_path, "api-key", "acme", "--scope", "billing:refund")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bgk_") and len(result.stdout.strip()) > 40
    with sqlite3.connect(tmp_path / "var" / "billing-gateway.sqlite3") as db:
        (stored,) = db.execute("SELECT secret_hash FROM api_key").fetchone()
    secret = result.stdout.strip().removeprefix("bgk_").partition("_")[2]
    assert stored == hashlib.sha256(secret.encode()).hexdigest() != secret  # only a hash is kept

    bad = run(tmp_path, "api-key", "acme", "--scope", "billing:everything")
    assert bad.returncode == 2 and "Scopes must be some of" in bad.stderr


def test_serve_refuses_no_workers(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--workers", "0")
    assert result.returncode == 2
    assert "--workers: expected 1 or more, got 0" in result.stderr


def test_a_sandbox_start_with_an_unreachable_database_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"postgres://gateway:hunter2@127.0.0.1:{port}/billing"
    result = run(tmp_path, "serve", "--port", str(free_port()), DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"billing-gateway: cannot reach the database at "
        f"postgres://gateway:***@127.0.0.1:{port}/billing "
        f"([Errno 111] Connect call failed ('127.0.0.1', {port})): "
        "check that it runs and the database exists, or set DATABASE_URL\n"
    )


def test_a_worker_on_an_unmigrated_database_says_what_to_run(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    result = run(tmp_path, "worker")
    assert result.returncode == 2, result.stderr
    assert "run 'billing-gateway migrate' first" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_refuses_a_tick_of_no_time(tmp_path: Path) -> None:
    result = run(tmp_path, "worker", "--every", "0")
    assert result.returncode == 2
    assert "--every: expected a number of seconds above 0, got 0" in result.stderr


def test_a_worker_schedules_the_demo_subscriptions(tmp_path: Path) -> None:
    # MNY-4: new subscriptions are due "now" to be scheduled; the worker's first tick stores each
    # one's next due time (the demo's are in the future).
    assert run(tmp_path, "seed-demo").returncode == 0
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    process = subprocess.Popen(
        [COMMAND, "worker", "--every", "0.2"], cwd=tmp_path, env=clean, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "var" / "billing-gateway.sqlite3") as db:
                stored = [r[0] for r in db.execute("SELECT next_due_at FROM subscription")]
            if stored and all(s is not None and not s.startswith("1970") for s in stored):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the worker did not schedule the subscriptions: {stored}")
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_worker_refuses_an_empty_batch(tmp_path: Path) -> None:
    result = run(tmp_path, "worker", "--batch", "0")
    assert result.returncode == 2
    assert "--batch: expected 1 or more subscriptions, got 0" in result.stderr
    assert result.stdout == ""


def test_a_workers_metrics_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(tmp_path, "worker", "--metrics-port", str(port))
    assert result.returncode == 2
    assert result.stderr == (
        f"billing-gateway: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
    assert result.stdout == ""
