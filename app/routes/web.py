"""The planner's web page: one HTML document, its scripts and the npm libraries it loads.

Everything is served by the app itself (no CDN), so the page works offline. The libraries are
installed by `npm ci` in `app/web` (see `scripts/lib.sh` and the Dockerfile).
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.routing import Mount, Router
from starlette.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent.parent / "web"
STATIC = WEB / "static"
NODE_MODULES = WEB / "node_modules"
LIBRARIES = {
    "leaflet": NODE_MODULES / "leaflet" / "dist",
    "leaflet-geoman": NODE_MODULES / "@geoman-io" / "leaflet-geoman-free" / "dist",
    "swagger-ui": NODE_MODULES / "swagger-ui-dist",
}
TILE_URL_MARK = "{{tile_url}}"


def _assets() -> Router:
    """`/web/static/...` and `/web/lib/<library>/...`; missing folders answer 404, not crash."""
    routes = [Mount("/static", app=StaticFiles(directory=STATIC, check_dir=False))]
    routes += [
        Mount(f"/lib/{name}", app=StaticFiles(directory=folder, check_dir=False))
        for name, folder in LIBRARIES.items()
    ]
    return Router(routes=routes)


assets = _assets()
"""Mounted at `/web` by `app.main`."""


def planner_page(request: Request) -> HTMLResponse:
    """The page a browser gets at `/`, with the optional basemap URL filled in."""
    tile_url = request.app.state.settings.api.tile_url or ""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace(TILE_URL_MARK, html.escape(tile_url, quote=True))
    return HTMLResponse(page, headers={"Vary": "Accept"})
