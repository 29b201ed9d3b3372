"""The browser-test harness (issue 14): Playwright driving the distribution's Chromium (never a
browser Playwright downloads) against a real `billing-gateway serve` on a free loopback port:
the embedded default (SQLite in a temp dir), the demo data, the clock fixed by
GATEWAY_FIXED_CLOCK (organizations' test clocks still move their own billing time).

Every test here is marked `browser` and `slow`. Without Chromium they are skipped with the
command that installs it; under CI=true a missing browser fails them instead.

Fixtures: `served` (a fresh served gateway per test, on a copy of a database seeded once per
session), `page` (a new browser page), and the helpers `signed_in(page, email)` and
`axe(page, selector)` (the vendored axe-core, tests/browser/vendor/axe-core).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import free_port
from tests.test_cli import COMMAND, CONFIG_VARIABLES

# The demo seed and every page load read this instant (Acme's period: 2 March to 2 April 2026).
FIXED_CLOCK = "2026-03-12T09:30:00+00:00"
JWT_SECRET = "browser-tests-secret-" + "x" * 40
CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium-headless-shell",
)
INSTALL_HINT = (
    "install Debian's Chromium: `apt-get install -y chromium` (or chromium-headless-shell)"
)
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    """BROWSER_TESTS_CHROMIUM if set (and only it), else the first of Debian's that exists."""
    wanted = os.environ.get("BROWSER_TESTS_CHROMIUM")
    for candidate in (wanted,) if wanted else CHROMIUM_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


# The served gateway runs on SQLite in its temp dir whatever DATABASE_URL says, so the suite's
# PostgreSQL run (`make test-postgres`) would only repeat the SQLite run's walks.
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            if ON_POSTGRES:
                item.add_marker(
                    pytest.mark.skip(reason="browser tests run once, in the SQLite run")
                )


@dataclass
class ServedGateway:
    url: str
    cwd: Path

    def token(self, email: str) -> str:
        answer = httpx.post(f"{self.url}/billing/sandbox/token", json={"email": email}, timeout=30)
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token

    def graphql(self, email: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        """What the API holds, asked as `email` with a full document (apps may send text)."""
        answer = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token(email)}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


def _environment(cwd: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    clean.pop("REDIS_URL", None)
    clean.pop("STRIPE_API_KEY", None)
    return {
        **clean,
        "GATEWAY_MODE": "sandbox",
        "GATEWAY_FIXED_CLOCK": FIXED_CLOCK,
        "GATEWAY_JWT_SECRET": JWT_SECRET,
        "DATABASE_URL": f"sqlite://{cwd / 'billing.sqlite3'}",
        "GATEWAY_RATE_LIMIT": "1000000/minute",
        "GATEWAY_RATE_LIMIT_ANONYMOUS": "1000000/minute",
    }


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog and the demo organizations seeded once at the fixed clock; each test's
    gateway gets a copy."""
    cwd = tmp_path_factory.mktemp("seeded")
    done = subprocess.run(
        [COMMAND, "seed-demo"],
        cwd=cwd,
        env=_environment(cwd),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return cwd / "billing.sqlite3"


@contextmanager
def serving(cwd: Path, **env: str) -> Iterator[ServedGateway]:
    """`billing-gateway serve` on a free loopback port in `cwd`, with `env` over the sandbox's."""
    port = free_port()
    log_path = cwd / "serve.log"
    environment = {k: v for k, v in {**_environment(cwd), **env}.items() if v}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [COMMAND, "serve", "--port", str(port)],
            cwd=cwd,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    pytest.fail(f"serve exited: {log_path.read_text()}")
                try:
                    httpx.get(f"{url}/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                pytest.fail("the gateway did not start within 60 s")
            yield ServedGateway(url, cwd)
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture
def served(tmp_path: Path, seeded_database: Path) -> Iterator[ServedGateway]:
    """A sandbox gateway on a copy of the seeded demo database."""
    shutil.copy(seeded_database, tmp_path / "billing.sqlite3")
    with serving(tmp_path) as gateway:
        yield gateway


# Module-scoped: Playwright's sync API keeps an event loop running while it is started, and the
# pytest-asyncio tests collected after the browser tests (tests/test_*.py) cannot run inside it.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no Chromium for the browser tests: {INSTALL_HINT}")
        pytest.skip(f"no Chromium for the browser tests: {INSTALL_HINT}")
    launched = playwright_driver.chromium.launch(executable_path=executable, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, served: ServedGateway) -> Iterator[Page]:
    context = browser.new_context(
        base_url=served.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


def signed_in(page: Page, email: str, *, lang: str | None = None) -> Page:
    """Opens /billing signed in as `email` (a sandbox token kept in sessionStorage, as the shell
    does) and waits until every section has rendered; `lang` chooses the page's language."""
    if lang is not None:
        page.add_init_script(f"localStorage.setItem('billing-gateway.lang', {lang!r})")
    page.goto("/billing")
    page.wait_for_selector("body[data-ready]")
    page.evaluate(
        """async (email) => {
            const answer = await fetch("/billing/sandbox/token", {
                method: "POST", headers: {"content-type": "application/json"},
                body: JSON.stringify({email}),
            });
            if (!answer.ok) throw new Error(await answer.text());
            sessionStorage.setItem("billing-gateway.token", (await answer.json()).token);
        }""",
        email,
    )
    page.reload()
    wait_ready(page)
    return page


def wait_ready(page: Page) -> None:
    page.wait_for_selector("body[data-ready='true']")


def axe(page: Page, selector: str) -> list[dict[str, Any]]:
    """axe-core's violations inside `selector` (each with id, impact, help and the nodes)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (no inline script) still holds
        # for the page itself.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async (selector) => {
            const result = await axe.run(selector, { resultTypes: ["violations"] });
            return { violations: result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")),
            })) };
        }""",
        selector,
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]
