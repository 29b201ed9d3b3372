"""GraphiQL served by the gateway itself, so it works offline and under a strict CSP.

The page references only the gateway's own URLs: `/graphiql/<digest>/<file>`, where the vendor
files are the pinned npm builds that `make graphiql` copies to gateway/static/graphiql/ (never
edited by hand) and the digest is the file's own sha256, so they can be cached for a year.
The page has no inline script or style; see the README for the CSP it needs.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.http_errors import error_response

STATIC = Path(__file__).parent / "static"
ASSET_ROUTE = "/graphiql/{digest}/{name}"
_YEAR = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# In the order the page loads them: React, ReactDOM, GraphiQL (UMD builds), then our start-up.
_SCRIPTS = (
    "graphiql/react.production.min.js",
    "graphiql/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql-start.js",
)
_STYLES = ("graphiql/graphiql.min.css", "graphiql-page.css")


@dataclass(frozen=True)
class Asset:
    path: Path
    digest: str  # sha256, hex: the URL's version
    integrity: str  # sha384, for the page's subresource integrity

    @property
    def url(self) -> str:
        return f"/graphiql/{self.digest[:16]}/{self.path.name}"


def _asset(relative: str) -> Asset:
    path = STATIC / relative
    content = path.read_bytes()
    integrity = "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()
    return Asset(path, hashlib.sha256(content).hexdigest(), integrity)


class GraphiQL:
    """The page and its assets, read once at start."""

    def __init__(self) -> None:
        self.assets = {asset.path.name: asset for asset in map(_asset, _STYLES + _SCRIPTS)}
        styles = "".join(
            f'<link rel="stylesheet" href="{a.url}" integrity="{a.integrity}">'
            for a in (self.assets[Path(s).name] for s in _STYLES)
        )
        scripts = "".join(
            f'<script src="{a.url}" integrity="{a.integrity}"></script>'
            for a in (self.assets[Path(s).name] for s in _SCRIPTS)
        )
        self.html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape('billing-gateway · GraphiQL')}</title>{styles}</head>"
            f'<body><div id="graphiql">Loading GraphiQL…</div>{scripts}</body></html>'
        )

    def page(self) -> Response:
        # The page names the current digests, so it is checked again on every visit.
        return HTMLResponse(self.html, headers={"cache-control": "no-cache"})

    async def asset(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["name"])
        if asset is None or asset.digest[:16] != request.path_params["digest"]:
            return error_response(404, "NOT_FOUND", "No such GraphiQL file (reload the page).")
        return Response(
            asset.path.read_bytes(),
            media_type=_MEDIA_TYPES[asset.path.suffix],
            headers={"cache-control": _YEAR},
        )


def disabled() -> Response:
    return error_response(
        404,
        "NOT_FOUND",
        "GraphiQL is off in production: set GATEWAY_GRAPHIQL=true to serve it, or send "
        "queries with POST (Content-Type: application/json).",
    )
