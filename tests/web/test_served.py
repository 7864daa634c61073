"""The planner's page is served by the app itself: `/` negotiates HTML or JSON, and every
script, style sheet and library the page loads answers from the same server (no CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TILE_URL = 'https://tiles.example.org/{z}/{x}/{y}.png?key=a&b="c"'


class Assets(HTMLParser):
    """Every `src` and stylesheet `href` of a page, and the `<body>` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.body: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "stylesheet" and values.get("href"):
            self.urls.append(str(values["href"]))
        if tag == "body":
            self.body = values


def parse(page: str) -> Assets:
    assets = Assets()
    assets.feed(page)
    return assets


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(data_dir=str(tmp_path_factory.mktemp("web-served"))) as server:
        yield server


def test_a_browser_gets_the_planner_page(live: LiveServer) -> None:
    response = httpx.get(live.url + "/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    assert "<title>Takeoff" in response.text
    # OpenStreetMap's standard tiles unless TAKEOFF_TILE_URL says otherwise.
    assert parse(response.text).body["data-tile-url"] == (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    )
    # Road layers of more than 3,000 features are drawn from vector tiles.
    assert parse(response.text).body["data-tiles-above"] == "3000"


@pytest.mark.parametrize(
    ("headers", "query"),
    [({}, ""), ({"Accept": "application/json"}, ""), ({"Accept": "*/*"}, ""), ({}, "?f=json")],
)
def test_api_clients_still_get_the_landing_document(
    live: LiveServer, headers: dict[str, str], query: str
) -> None:
    response = httpx.get(live.url + "/" + query, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert {link["rel"] for link in response.json()["links"]} >= {
        "self",
        "service-desc",
        "conformance",
        "data",
    }


def test_f_html_asks_for_the_page(live: LiveServer) -> None:
    response = httpx.get(live.url + "/?f=html", headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("text/html")


def test_everything_the_page_loads_is_served_locally(live: LiveServer) -> None:
    page = httpx.get(live.url + "/", headers={"Accept": BROWSER_ACCEPT}).text
    urls = parse(page).urls
    assert len(urls) == 7, urls
    expected = {".js": "javascript", ".css": "text/css"}
    for url in urls:
        assert "://" not in url and not url.startswith("/"), f"{url} is not relative to the page"
        response = httpx.get(f"{live.url}/{url}")
        assert response.status_code == 200, url
        assert expected[Path(url).suffix] in response.headers["content-type"], url
    for module in ("i18n.js", "app.js"):
        assert httpx.get(f"{live.url}/web/static/{module}").status_code == 200
    leaflet_image = httpx.get(live.url + "/web/lib/leaflet/images/marker-icon.png")
    assert leaflet_image.headers["content-type"] == "image/png"


def test_unknown_files_are_404_not_errors(live: LiveServer) -> None:
    assert httpx.get(live.url + "/web/static/nothing.js").status_code == 404
    assert httpx.get(live.url + "/web/lib/leaflet/../../package.json").status_code == 404
    assert httpx.get(live.url + "/web/lib/unknown/x.js").status_code == 404


def test_the_basemap_url_setting_reaches_the_page_escaped(tmp_path: Path) -> None:
    with LiveServer(data_dir=str(tmp_path), tile_url=TILE_URL) as server:
        page = httpx.get(server.url + "/", headers={"Accept": BROWSER_ACCEPT}).text
    assert parse(page).body["data-tile-url"] == TILE_URL
    assert '"c"' not in page


def test_no_basemap_when_the_setting_says_none(tmp_path: Path) -> None:
    with LiveServer(data_dir=str(tmp_path), tile_url="none") as server:
        page = httpx.get(server.url + "/", headers={"Accept": BROWSER_ACCEPT}).text
    assert parse(page).body["data-tile-url"] == ""
