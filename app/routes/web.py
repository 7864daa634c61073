"""The planner's web page: one HTML document, its scripts and the npm libraries it loads.

Everything is served by the app itself (no CDN), so the page works offline. The libraries are
installed by `npm ci` in `app/web` (see `scripts/lib.sh` and the Dockerfile).
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

WEB = Path(__file__).resolve().parent.parent / "web"
STATIC = WEB / "static"
NODE_MODULES = WEB / "node_modules"
LIBRARIES = {
    "leaflet": NODE_MODULES / "leaflet" / "dist",
    "leaflet-geoman": NODE_MODULES / "@geoman-io" / "leaflet-geoman-free" / "dist",
    "leaflet-vectorgrid": NODE_MODULES / "leaflet.vectorgrid" / "dist",
    "swagger-ui": NODE_MODULES / "swagger-ui-dist",
}
TILE_URL_MARK = "{{tile_url}}"
TILES_ABOVE_MARK = "{{tiles_above}}"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
"""The basemap when `TAKEOFF_TILE_URL` is unset: OpenStreetMap's standard tiles, attributed."""
NO_TILES = "none"


class OptionalStaticFiles(StaticFiles):
    """Files of a folder that may be missing (npm libraries not installed): then 404."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.folder = directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the file, or 404 when the folder itself is not there."""
        if not self.folder.is_dir():
            raise HTTPException(404, f"{self.folder.name} is not installed on this server")
        await super().__call__(scope, receive, send)


def _assets() -> Router:
    """`/web/static/...` and `/web/lib/<library>/...`; missing folders answer 404, not crash."""
    routes = [Mount("/static", app=OptionalStaticFiles(STATIC))]
    routes += [
        Mount(f"/lib/{name}", app=OptionalStaticFiles(folder)) for name, folder in LIBRARIES.items()
    ]
    return Router(routes=routes)


assets = _assets()
"""Mounted at `/web` by `app.main`."""


def planner_page(request: Request) -> HTMLResponse:
    """The page a browser gets at `/`, with the basemap URL filled in (`none`: no basemap)
    and the size from which it draws a road layer from vector tiles."""
    settings = request.app.state.settings.api
    setting = settings.tile_url
    tile_url = OSM_TILES if setting is None else "" if setting.strip() == NO_TILES else setting
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace(TILE_URL_MARK, html.escape(tile_url, quote=True))
    page = page.replace(TILES_ABOVE_MARK, str(settings.page_tiles_above))
    return HTMLResponse(page, headers={"Vary": "Accept"})
