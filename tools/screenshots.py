"""Screenshots of the billing page's sections and of the pricing page, at desktop (1280 px) and
phone (390 px) width, with the clock fixed (tools/served_portal.py): `make screenshots`.

The billing page is Acme's, signed in as its billing admin (billing@acme.test); each section the
shell renders (`main > section[id]`, whatever sections exist) gets one image per width, named by
its anchor id, taken as the first user of USERS it is visible to. The README's "Screenshots"
section, between its two markers, is rewritten to show the images made, so it follows the
section list."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tools.served_portal import TOKEN_KEY, chromium, sandbox_token, served_sandbox

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
README = ROOT / "README.md"
WIDTHS = {"desktop": 1280, "phone": 390}
START, END = "<!-- screenshots:start -->", "<!-- screenshots:end -->"


def _page(browser: Browser, url: str, width: int, token: str | None) -> Page:
    context = browser.new_context(
        base_url=url,
        locale="en-US",
        viewport={"width": width, "height": 900},
        device_scale_factor=1,
        reduced_motion="reduce",
    )
    context.set_default_timeout(30_000)
    if token is not None:
        context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
    return context.new_page()


def _shoot(page: Page, target: str, path: Path) -> None:
    locator = page.locator(target)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=path, animations="disabled", caret="hide")
    print(f"wrote {path.relative_to(ROOT)}")


# Each section is shown as the first of these users it is visible to (Cancel is the owner's,
# ACC-4; an account-change request needs a product changed by request, CHG-8).
USERS = ("billing@acme.test", "owner@acme.test", "owner@globex.test")
VISIBLE = "s => s.filter(e => !e.hidden && e.getBoundingClientRect().height > 0).map(e => e.id)"


def _billing_page(browser: Browser, url: str, width: int, email: str) -> Page:
    page = _page(browser, url, width, sandbox_token(url, email))
    page.goto("/billing")
    page.wait_for_selector("body[data-ready='true']")
    return page


def take(browser: Browser, url: str) -> list[tuple[str, str]]:
    """Writes the images; answers each section shown, in page order, with the user it shows."""
    shown: dict[str, str] = {}
    order: list[str] = []
    for kind, width in WIDTHS.items():
        for email in USERS:
            page = _billing_page(browser, url, width, email)
            order = order or page.eval_on_selector_all(
                "main > section[id]", "s => s.map(e => e.id)"
            )
            wanted = [i for i in page.eval_on_selector_all("main > section[id]", VISIBLE)]
            if email == USERS[0]:
                _shoot(page, "header", OUTPUT / f"billing-header-{kind}.png")
            for section in wanted:
                if shown.setdefault(section, email) == email:
                    _shoot(
                        page, f"main > section#{section}", OUTPUT / f"billing-{section}-{kind}.png"
                    )
            page.context.close()
        page = _page(browser, url, width, None)
        page.goto("/pricing")
        page.wait_for_selector("body[data-ready='true']")
        file = OUTPUT / f"pricing-{kind}.png"
        page.screenshot(path=file, full_page=True, animations="disabled", caret="hide")
        print(f"wrote {file.relative_to(ROOT)}")
        page.context.close()
    return [(section, shown[section]) for section in order if section in shown]


def readme_section(sections: list[tuple[str, str]]) -> str:
    """The Markdown between the README's markers: desktop and phone side by side."""
    rows = ["| | as | desktop (1280 px) | phone (390 px) |", "|---|---|---|---|"]
    for name, title, alt, email in [
        ("billing-header", "Billing page: header", "The billing page's header", USERS[0]),
        *(
            (f"billing-{s}", f"Billing page: `#{s}`", f"The billing page's {s} section", email)
            for s, email in sections
        ),
        ("pricing", "Pricing page (`/pricing`)", "The pricing page", "anyone"),
    ]:
        desktop = f"![{alt}, desktop](docs/screenshots/{name}-desktop.png)"
        phone = f'<img src="docs/screenshots/{name}-phone.png" alt="{alt}, phone" width="195">'
        rows.append(f"| {title} | {email} | {desktop} | {phone} |")
    return "\n".join(rows)


def update_readme(sections: list[tuple[str, str]]) -> None:
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        sys.exit(f"README.md has no {START} … {END} markers")
    block = f"{START}\n{readme_section(sections)}\n{END}"
    README.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


def main() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for stale in OUTPUT.glob("*.png"):
        stale.unlink()
    with served_sandbox() as url, sync_playwright() as driver:
        browser = chromium(driver)
        try:
            sections = take(browser, url)
        finally:
            browser.close()
    update_readme(sections)
    listed = ", ".join(f"{section} (as {email})" for section, email in sections)
    print(f"sections: {listed or '(none)'}; README.md's Screenshots updated")


if __name__ == "__main__":
    main()
