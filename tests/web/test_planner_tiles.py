"""A road layer over the page's size limit is drawn from vector tiles, and still priced on click.

The limit is lowered below the sample layer's 142 roads, so the sample itself is "large".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tests.web.planner import (
    API_KEY,
    assert_page_shows,
    map_box,
    post_estimate,
    text,
    wait_for_estimate,
)

pytestmark = pytest.mark.browser
TILE_PATH = "/collections/roads/tiles/WebMercatorQuad/"
DRAWN_AT = """([x, y]) => {
  const layers = Object.values(takeoffMap._layers);
  const grid = layers.find((layer) => layer.options.vectorTileLayerStyles);
  const canvas = document.elementsFromPoint(x, y).find((element) => element.tagName === "CANVAS");
  const tile = Object.values(grid?._tiles ?? {}).find((tile) => tile.el === canvas);
  if (!tile || !tile.loaded || tile.coords.z !== 19) return false;
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / box.width;
  const [left, top] = [(x - box.left) * scale, (y - box.top) * scale];
  const pixel = canvas.getContext("2d").getImageData(left, top, 1, 1);
  return pixel.data[3] > 0;
}"""
"""True once a zoom-19 road tile is drawn and shows a road at page pixel (x, y)."""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose page draws any road layer of more than 100 features from tiles."""
    with LiveServer(
        data_dir=str(tmp_path_factory.mktemp("planner-tiles")),
        api_keys=f'["{API_KEY}"]',
        tile_url="none",
        page_tiles_above="100",
    ) as server:
        yield server


def test_a_large_layer_is_drawn_from_tiles_and_a_tiled_road_is_priced(
    browser: Any, live: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(live.url + "/")
    page.wait_for_selector("body[data-ready=true]")

    roads = httpx.get(live.url + "/collections/roads/items", params={"limit": 1000}).json()
    road = next(
        f
        for f in roads["features"]
        if f["properties"]["highway"] == "residential" and f["properties"]["lanes"] == 2
    )
    (lon0, lat0), (lon1, lat1) = road["geometry"]["coordinates"][:2]
    middle = ((lat0 + lat1) / 2, (lon0 + lon1) / 2)
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 19, {animate: false})", middle)
    box = map_box(page)
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(DRAWN_AT, arg=centre)

    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "© OpenStreetMap contributors" in attribution
    tiles = [url for url in asked if TILE_PATH in url]
    assert any(f"{TILE_PATH}19/" in url for url in tiles)
    assert not [url for url in asked if "/collections/roads/items" in url]

    page.mouse.click(*centre)
    wait_for_estimate(page)
    name = road["properties"]["name"]
    assert page.get_by_label("Name").input_value() == name
    assert page.get_by_label("Width of a line (m)").input_value() == "7"
    body = {
        "type": "Feature",
        "properties": {"template": "local-flexible", "name": name, "width_m": 7.0},
        "geometry": road["geometry"],
    }
    assert_page_shows(page, post_estimate(live, body, template="local-flexible"))
    assert text(page, "#method") == "drawn line"
    context.close()
    assert not errors, errors
