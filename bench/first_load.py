"""First load of the billing page (issue 14): Acme's billing admin (billing@acme.test) opens
/billing in Chromium, driven by Playwright, against a served sandbox gateway with the clock fixed
(tools/served_portal.py).

    .venv/bin/python bench/first_load.py [--runs 7]

Each run is a new browser context (an empty cache) with the token already in sessionStorage, as
after signing in. Counted from the navigation until the shell marks the page usable (`body
[data-ready="true"]`, set once every section has rendered): the HTTP requests (DevTools'
Network.requestWillBeSent), the bytes transferred (Network.loadingFinished's encodedDataLength:
headers and bodies as sent on the wire), and the time (performance.now() when the marker appears,
recorded by a MutationObserver in the page). Then the same context reloads the page (a warm
cache: the portal's files are revalidated, 304s). Prints each run and the medians, and the
sections rendered.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools.served_portal import TOKEN_KEY, chromium, sandbox_token, served_sandbox

USER = "billing@acme.test"
# Records when the shell first marks the page usable, from the navigation's start.
READY_OBSERVER = """
new MutationObserver((_, observer) => {
  if (document.body && document.body.dataset.ready === "true") {
    window.__readyAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-ready"] });
"""


@dataclass
class Load:
    requests: int
    bytes: int
    ready_ms: float


def _load(context: BrowserContext, reload: bool) -> Load:
    page = context.pages[0] if reload else context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    counts = {"requests": 0, "bytes": 0}

    def sent(_: dict[str, Any]) -> None:
        counts["requests"] += 1

    def finished(event: dict[str, Any]) -> None:
        counts["bytes"] += int(event["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    if reload:
        page.reload()
    else:
        page.goto("/billing")
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_load_state("networkidle")  # late responses still count as transferred
    ready_ms = float(page.evaluate("window.__readyAt"))
    cdp.detach()
    return Load(counts["requests"], counts["bytes"], ready_ms)


def run_once(browser: Browser, url: str, token: str) -> tuple[Load, Load, list[str]]:
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
    context.add_init_script(READY_OBSERVER)
    try:
        cold = _load(context, reload=False)
        sections: list[str] = context.pages[0].eval_on_selector_all(
            "main > section[id]", "s => s.map(e => e.id)"
        )
        warm = _load(context, reload=True)
    finally:
        context.close()
    return cold, warm, sections


def _median(loads: list[Load]) -> str:
    requests = statistics.median(load.requests for load in loads)
    kib = statistics.median(load.bytes for load in loads) / 1024
    ready = statistics.median(load.ready_ms for load in loads)
    return f"{requests:g} requests, {kib:,.1f} KiB, usable after {ready:,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with served_sandbox() as url, sync_playwright() as driver:
        browser = chromium(driver)
        try:
            token = sandbox_token(url, USER)
            run_once(browser, url, token)  # warms the gateway (imports, caches); not counted
            colds, warms = [], []
            sections: list[str] = []
            for number in range(1, args.runs + 1):
                cold, warm, sections = run_once(browser, url, token)
                colds.append(cold)
                warms.append(warm)
                print(
                    f"run {number}: first load {cold.requests} requests, {cold.bytes:,} bytes, "
                    f"{cold.ready_ms:,.0f} ms; reload {warm.requests} requests, "
                    f"{warm.bytes:,} bytes, {warm.ready_ms:,.0f} ms"
                )
        finally:
            browser.close()
    print(f"sections rendered: {', '.join(sections) or '(none)'}")
    print(f"median of {args.runs}, first load (empty cache): {_median(colds)}")
    print(f"median of {args.runs}, reload (warm cache): {_median(warms)}")


if __name__ == "__main__":
    main()
