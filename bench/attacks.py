"""Attacks on one served gateway with its default settings (README "Limits"), measured.

    .venv/bin/python bench/attacks.py [--timeout 300] [--only NAME ...]

Starts `billing-gateway serve` on a free loopback port (sandbox, SQLite in a temporary
directory, default limits), gets a billing admin's token with `billing-gateway token`, then sends
each attack once and prints, per attack: the HTTP status, `extensions.code` of the first error,
the time to the answer, the server process's peak resident memory during the attack (VmHWM from
/proc, reset before each attack through /proc/PID/clear_refs when the kernel allows it), and the
worst latency of `GET /health` polled every 20 ms from another thread while the attack runs.
Every request goes to 127.0.0.1; each attack is one request, stopped after --timeout seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
PREVIEW = "previewPlanChange(input: $i) { kind }"  # the input in a variable: a compact body
GATE = 'usageGate(product: "email", metric: "emails", quantity: 1) { allowed }'
INVOICES = "invoices { edges { node { id number status total { amount } } } }"


@dataclass
class Attack:
    name: str
    as_billing_admin: bool
    body: Callable[[], bytes]
    chunked: bool = False


def _query(text: str, variables: dict[str, object] | None = None) -> bytes:
    return json.dumps({"query": text, "variables": variables or {}}).encode()


def _aliases(count: int, field: str) -> str:
    return " ".join(f"a{i}: {field}" for i in range(count))


def _fragments_flat(count: int) -> str:
    spreads = " ".join(f"...F{i}" for i in range(count))
    definitions = " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(count))
    return "{ " + spreads + " } " + definitions


def _fragments_chained(count: int) -> str:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(count))
    return "{ ...F0 } " + chain + f" fragment F{count} on Query {{ __typename }}"


def _padded(size: int) -> bytes:
    padding = size - len(b'{"query": "{ __typename }", "variables": {"pad": ""}}')
    return json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * padding}}).encode()


ATTACKS = [
    Attack(
        "267,700 `__typename` aliases, anonymous",
        False,
        lambda: _query("{ " + _aliases(267_700, "__typename") + " }"),
    ),
    Attack(
        "10,000 aliased invoice lists, billing admin",
        True,
        lambda: _query("{ organization { " + _aliases(10_000, INVOICES) + " } }"),
    ),
    Attack(
        "10,000 aliased `previewPlanChange`, billing admin",
        True,
        lambda: _query(
            "query ($i: PlanChangeInput!) { " + _aliases(10_000, PREVIEW) + " }",
            {"i": {"product": "email", "plan": "email-2500"}},
        ),
    ),
    Attack(
        "29 aliased `previewPlanChange` (cost 2,929: the most allowed), billing admin",
        True,
        lambda: _query(
            "query ($i: PlanChangeInput!) { " + _aliases(29, PREVIEW) + " }",
            {"i": {"product": "email", "plan": "email-2500"}},
        ),
    ),
    Attack(
        "30 aliased `previewPlanChange` (cost 3,030), billing admin",
        True,
        lambda: _query(
            "query ($i: PlanChangeInput!) { " + _aliases(30, PREVIEW) + " }",
            {"i": {"product": "email", "plan": "email-2500"}},
        ),
    ),
    Attack(
        "10,000 aliased `usageGate`, billing admin",
        True,
        lambda: _query("{ " + _aliases(10_000, GATE) + " }"),
    ),
    Attack(
        "1,000 fragments, each spread once, billing admin",
        True,
        lambda: _query(_fragments_flat(1_000)),
    ),
    Attack(
        "1,000 fragments, each spreading the next twice, billing admin",
        True,
        lambda: _query(_fragments_chained(1_000)),
    ),
    Attack("a 5 MB body (Content-Length), anonymous", False, lambda: _padded(5 * 1024 * 1024)),
    Attack(
        "a 5 MB body (chunked), anonymous", False, lambda: _padded(5 * 1024 * 1024), chunked=True
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HealthPoller:
    """GET /health every 20 ms on its own thread and connection; keeps the worst latency."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst = 0.0
        self.polls = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=600) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.worst = max(self.worst, time.perf_counter() - started)
                self.polls += 1
                self.failures += 0 if ok else 1
                self._stop.wait(0.02)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def run_attack(url: str, pid: int, attack: Attack, token: str, timeout: float) -> dict[str, str]:
    body = attack.body()
    headers = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
    if attack.as_billing_admin:
        headers["Authorization"] = f"Bearer {token}"
    reset = _reset_peak(pid)
    with HealthPoller(url) as poller, httpx.Client(base_url=url, timeout=timeout) as client:
        time.sleep(0.1)  # a few polls before, for the baseline
        started = time.perf_counter()
        try:
            content = _chunks(body) if attack.chunked else body
            response = client.post("/graphql", content=content, headers=headers)
            status, (code, limit) = str(response.status_code), _code(response)
        except httpx.TimeoutException:
            status, code, limit = "no answer", f"stopped after {timeout:g} s", ""
        elapsed = time.perf_counter() - started
    peak = _status_kb(pid, "VmHWM") / 1024
    return {
        "attack": attack.name,
        "body": f"{len(body) / 1e6:.2f} MB",
        "status": status,
        "code": code,
        "limit": limit,
        "time": f"{elapsed:.3f} s",
        "peak RSS": f"{peak:.0f} MiB" + ("" if reset else " (process peak)"),
        "/health worst": f"{poller.worst * 1000:.0f} ms ({poller.polls} polls"
        + (f", {poller.failures} failed)" if poller.failures else ")"),
    }


def _code(response: httpx.Response) -> tuple[str, str]:
    """The first error's `extensions.code` and `extensions.limit`."""
    try:
        body = response.json()
    except ValueError:
        return "(not JSON)", ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return "(answered)", ""
    extensions = errors[0].get("extensions", {})
    return str(extensions.get("code", "(no code)")), str(extensions.get("limit", ""))


def start_server(directory: Path, port: int) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{directory / 'attacks.sqlite3'}",
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_JWT_SECRET": secrets.token_urlsafe(48),
    }
    for name in [k for k in env if k.startswith("GATEWAY_MAX") or k.startswith("GATEWAY_QUERY")]:
        del env[name]  # the defaults are what is measured
    server = subprocess.Popen(
        [str(BIN / "billing-gateway"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(directory / "server.log").open("wb"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server, env
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the gateway did not answer /health within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per attack")
    parser.add_argument("--only", nargs="*", help="attacks whose name contains one of these")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="billing-attacks-") as tmp:
        server, env = start_server(Path(tmp), port)
        try:
            token = subprocess.run(
                [str(BIN / "billing-gateway"), "token", "billing@acme.test"],
                cwd=tmp,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            print(
                f"gateway on {url}, pid {server.pid}, {_status_kb(server.pid, 'VmRSS') / 1024:.0f} MiB resident after start",
                flush=True,
            )
            rows = []
            for attack in ATTACKS:
                if args.only and not any(word in attack.name for word in args.only):
                    continue
                rows.append(run_attack(url, server.pid, attack, token, args.timeout))
                print(json.dumps(rows[-1]), flush=True)
                if server.poll() is not None:
                    print("the gateway exited", file=sys.stderr)
                    break
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    print_table(rows)


def print_table(rows: list[dict[str, str]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")


if __name__ == "__main__":
    main()
