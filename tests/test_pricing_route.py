"""GET /pricing (issue 14 item 5): the public pricing page's HTML, its files, and its document:
anonymous, trusted, reading only the catalog, so cacheable (ACC-3)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.public_catalog import public_documents
from gateway.trusted_documents import document_hash, load_manifest
from tests.conftest import persisted

PORTAL = Path(__file__).resolve().parent.parent / "portal"
PRICING_PAGE = document_hash((PORTAL / "operations" / "PricingPage.graphql").read_text())


async def test_the_pricing_page_and_its_files_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/pricing")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/portal/pricing/pricing.js">' in page.text
    for name in ("pricing.js", "messages.js", "pricing.css"):
        served = await client.get(f"/portal/pricing/{name}")
        assert served.status_code == 200, name
        assert served.text == (PORTAL / "pricing" / name).read_text()


async def test_its_document_is_trusted_public_and_cacheable(client: httpx.AsyncClient) -> None:
    assert PRICING_PAGE in load_manifest()
    assert PRICING_PAGE in public_documents(load_manifest())
    documents = (PORTAL / "shared" / "documents.js").read_text()
    assert f'"PricingPage": "{PRICING_PAGE}"' in documents
    answer = await client.get(
        "/graphql", params={"extensions": json.dumps(persisted(PRICING_PAGE))}
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"].startswith("public")
    products = answer.json()["data"]["catalog"]["products"]
    assert {p["code"] for p in products} >= {"messaging", "marketing"}
    marketing = next(p for p in products if p["code"] == "marketing")
    assert marketing["addOns"] and marketing["contactLimitLadder"] and marketing["bundles"]
