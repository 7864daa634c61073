"""Driving the planner's page like a person: clicks on the map, and the answers to compare."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer

API_KEY = "planner-test-key-0123456789"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TEMPLATE, CATALOG = "local-flexible", "tangerang-sample"
# An empty spot south of the sample roads, at street scale (zoom 18: ~0.6 m per pixel).
SPOT = (-6.1725, 106.6215)
# Pixels in the map, clear of the drawing toolbar and of the action buttons it opens.
ROAD_POLYGON = [(300, 220), (600, 230), (605, 270), (305, 262)]  # ~180 m x 25 m
BOW_TIE = [(300, 400), (550, 560), (550, 400), (300, 560)]
MONEY_FIELDS = ("subtotal", "overhead_profit", "tax", "total")
MONEY_CELLS = {"subtotal": "#subtotal", "overhead_profit": "#overhead-profit"}
MONEY_CELLS |= {"tax": "#tax", "total": "#total"}


def map_box(page: Any) -> dict[str, float]:
    box = page.locator("#map").bounding_box()
    assert box is not None
    return box


def click_map(page: Any, x: float, y: float) -> None:
    box = map_box(page)
    page.mouse.click(box["x"] + x, box["y"] + y)


def draw_polygon(page: Any, pixels: list[tuple[int, int]]) -> float:
    """Pick the polygon tool, click each vertex, then click the first one to close it.

    Returns the time of the closing click (`time.monotonic()`).
    """
    page.locator(".leaflet-pm-icon-polygon").click()
    for x, y in pixels:
        click_map(page, x, y)
    closed = time.monotonic()
    click_map(page, *pixels[0])
    return closed


def drawn_geometry(page: Any) -> dict[str, Any]:
    """The drawn shape as the page sends it (7 decimals), read back from the map."""
    layers = page.evaluate(
        "takeoffMap.pm.getGeomanDrawLayers().map((layer) => layer.toGeoJSON(7).geometry)"
    )
    assert len(layers) == 1, layers
    return layers[0]


def lon_lat_of(page: Any, x: float, y: float) -> tuple[float, float]:
    """The lon/lat under a map pixel, as the map computes it."""
    point = page.evaluate("([x, y]) => takeoffMap.containerPointToLatLng([x, y])", [x, y])
    return point["lng"], point["lat"]


def wait_for_estimate(page: Any, previous: str = "") -> str:
    """Wait until the total on the page is there (and differs from `previous`)."""
    page.wait_for_function(
        "previous => { const v = document.querySelector('#total').dataset.value;"
        " return v && v !== previous && !document.body.classList.contains('busy'); }",
        arg=previous,
    )
    return str(page.locator("#total").get_attribute("data-value"))


def post_estimate(live: LiveServer, body: dict[str, Any], **params: str) -> dict[str, Any]:
    response = httpx.post(
        live.url + "/estimates",
        params={"template": TEMPLATE, "catalog": CATALOG, **params},
        json=body,
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def text(page: Any, selector: str) -> str:
    """Visible text with the no-break spaces of number formats made plain spaces."""
    return re.sub(r"[\u00a0\u202f]", " ", page.locator(selector).inner_text()).strip()


def rupiah(amount: str, separator: str) -> str:
    return "Rp " + f"{int(amount):,}".replace(",", separator)


def assert_page_shows(page: Any, answer: dict[str, Any]) -> None:
    """Every total, measure and BoM line on the page is the API's, to the last digit."""
    for field, selector in MONEY_CELLS.items():
        assert page.locator(selector).get_attribute("data-value") == answer["totals"][field]
    assert float(page.locator("#length").get_attribute("data-value")) == pytest.approx(
        answer["totals"]["length_m"], rel=1e-12
    )
    assert float(page.locator("#area").get_attribute("data-value")) == pytest.approx(
        answer["totals"]["area_m2"], rel=1e-12
    )
    rows = page.locator("#bom tbody tr")
    assert rows.count() == len(answer["items"])
    for n, item in enumerate(answer["items"]):
        row = rows.nth(n)
        assert item["code"] in row.locator("th").inner_text()
        cells = row.locator("td")
        assert float(cells.nth(0).get_attribute("data-value")) == pytest.approx(item["quantity"])
        assert cells.nth(1).inner_text() == item["unit"]
        assert cells.nth(2).get_attribute("data-value") == item["unit_rate"]
        assert cells.nth(3).get_attribute("data-value") == item["amount"]
