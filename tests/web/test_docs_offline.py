"""`/docs` works offline: the page and every asset it loads come from the app itself."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings, StoreSettings
from tests.conftest import app_settings


def _docs_client(tmp_path: Path, root_path: str = "") -> TestClient:
    store = StoreSettings(database_url=None, data_dir=tmp_path / "store")
    settings: Settings = app_settings(store, root_path=root_path)
    return TestClient(create_app(settings))


def test_docs_load_every_asset_from_the_app(tmp_path: Path) -> None:
    with _docs_client(tmp_path) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "://" not in page.text  # no CDN, no validator badge: no other host at all
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sorted(assets) == [
            "/web/lib/swagger-ui/favicon-32x32.png",
            "/web/lib/swagger-ui/swagger-ui-bundle.js",
            "/web/lib/swagger-ui/swagger-ui.css",
        ]
        types = {path: client.get(path).headers["content-type"] for path in assets}
        assert types["/web/lib/swagger-ui/swagger-ui-bundle.js"].startswith("text/javascript")
        assert types["/web/lib/swagger-ui/swagger-ui.css"].startswith("text/css")
        assert types["/web/lib/swagger-ui/favicon-32x32.png"] == "image/png"
        assert "url: '/openapi.json'" in page.text
        assert client.get("/openapi.json").status_code == 200


def test_docs_behind_a_proxy_prefix_point_under_it(tmp_path: Path) -> None:
    with _docs_client(tmp_path, root_path="/takeoff") as client:
        page = client.get("/docs").text
    assert 'src="/takeoff/web/lib/swagger-ui/swagger-ui-bundle.js"' in page
    assert "url: '/takeoff/openapi.json'" in page
