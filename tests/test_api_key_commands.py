"""`billing-gateway api-key create|list|revoke` (ACC-6): a revoked key is refused at once, by a
running gateway too, with UNAUTHENTICATED "Unknown or revoked API key."."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.test_cli import COMMAND, CONFIG_VARIABLES, run

pytestmark = pytest.mark.slow
CALLER_CACHE_SECONDS = 1


def _prefix(key: str) -> str:
    return "bgk_" + key.removeprefix("bgk_").partition("_")[0]


def _secret(key: str) -> str:
    return key.removeprefix("bgk_").partition("_")[2]


def _rows(listing: str) -> list[list[str]]:
    header, *rows = listing.strip().splitlines()
    assert header.split("\t") == [
        "id",
        "prefix",
        "organization",
        "name",
        "scopes",
        "created",
        "status",
    ]
    return [row.split("\t") for row in rows]


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    assert run(tmp_path, "seed-demo").returncode == 0
    return tmp_path


def test_keys_are_listed_without_their_secrets(seeded: Path) -> None:
    acme = run(seeded, "api-key", "create", "acme", "--scope", "usage:write").stdout.strip()
    globex = run(
        seeded, "api-key", "globex", "--scope", "billing:refund", "--name", "partner"
    ).stdout.strip()
    listing = run(seeded, "api-key", "list")
    assert listing.returncode == 0, listing.stderr
    rows = _rows(listing.stdout)
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        (_prefix(acme), "acme", "operator key", "usage:write", "active"),
        (_prefix(globex), "globex", "partner", "billing:refund", "active"),
    ]
    for key in (acme, globex):
        assert _secret(key) not in listing.stdout  # the secret is never shown
    assert [r[2] for r in _rows(run(seeded, "api-key", "list", "globex").stdout)] == ["globex"]

    unknown = run(seeded, "api-key", "list", "initech")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "billing-gateway: api-key: No organization 'initech'."


def test_revoke_by_prefix_or_id_and_unknown_keys(seeded: Path) -> None:
    first = run(seeded, "api-key", "acme", "--scope", "usage:write").stdout.strip()
    run(seeded, "api-key", "acme", "--scope", "billing:refund")
    prefix = _prefix(first)
    revoked = run(seeded, "api-key", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith(f"revoked {prefix} (operator key, acme)")
    again = run(seeded, "api-key", "revoke", prefix.removeprefix("bgk_"))
    assert again.returncode == 0 and again.stdout.startswith(f"{prefix} was already revoked at")

    rows = _rows(run(seeded, "api-key", "list").stdout)
    assert rows[0][6].startswith("revoked ") and rows[1][6] == "active"
    by_id = run(seeded, "api-key", "revoke", rows[1][0])
    assert by_id.returncode == 0 and by_id.stdout.startswith(f"revoked {rows[1][1]}")

    for reference in ("bgk_000000000000", "nope", "00000000-0000-0000-0000-000000000000"):
        unknown = run(seeded, "api-key", "revoke", reference)
        assert unknown.returncode == 2
        assert f"No API key {reference!r}" in unknown.stderr
        assert "Traceback" not in unknown.stderr


@pytest.fixture
def gateway(seeded: Path) -> Iterator[str]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    clean["GATEWAY_CALLER_CACHE_SECONDS"] = str(CALLER_CACHE_SECONDS)
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port)],
        cwd=seeded,
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_revoked_key_is_refused_by_a_running_gateway(seeded: Path, gateway: str) -> None:
    key = run(seeded, "api-key", "acme", "--scope", "usage:write").stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    before = httpx.post(gateway, json={"query": "{ __typename }"}, headers=headers, timeout=10)
    # Known key: signed in, and refused only because keys run trusted documents alone (ACC-6).
    assert before.status_code == 200
    assert before.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    assert run(seeded, "api-key", "revoke", _prefix(key)).returncode == 0
    # Revoked from another process: the gateway keeps a caller it knows for at most
    # GATEWAY_CALLER_CACHE_SECONDS (README "Security"), then asks the database again.
    deadline = time.monotonic() + CALLER_CACHE_SECONDS + 10  # slack for a loaded machine
    while True:
        after = httpx.post(gateway, json={"query": "{ __typename }"}, headers=headers, timeout=10)
        if after.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after.status_code == 401
    assert after.json() == {
        "errors": [
            {"message": "Unknown or revoked API key.", "extensions": {"code": "UNAUTHENTICATED"}}
        ]
    }
