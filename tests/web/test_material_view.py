"""Beside the bill, what must be ordered and delivered: quantities, trucks, loads, the nearest
source of each material and its haul distance, with the sources on the map."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from pyproj import Geod

from tests.live import LiveServer
from tests.web.planner import (
    ROAD_POLYGON,
    draw_polygon,
    drawn_geometry,
    post_estimate,
    text,
    wait_for_estimate,
)

pytestmark = pytest.mark.browser

GEOD = Geod(ellps="WGS84")
DETOUR_FACTOR = 1.3  # data/catalogs/tangerang-sample.json: vehicles.detour_factor


def test_the_materials_of_a_drawn_road_and_their_sources(page: Any, live: LiveServer) -> None:
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    geometry = drawn_geometry(page)
    answer = post_estimate(live, {"type": "Feature", "properties": {}, "geometry": geometry})
    materials = answer["materials"]
    assert {"LPA", "LPB", "AC-WC"} <= {line["material"] for line in materials}

    rows = page.locator("#materials tbody tr")
    assert rows.count() == len(materials)
    for n, line in enumerate(materials):
        row = rows.nth(n)
        assert row.get_attribute("data-material") == line["material"]
        assert line["name"]["en"] in row.locator("th").inner_text()
        cells = row.locator("td")
        assert float(cells.nth(0).get_attribute("data-value")) == line["order_quantity"]
        assert text(page, f"#materials tbody tr:nth-child({n + 1}) td:nth-child(2)") == (
            f"{line['order_quantity']:,.2f} {line['unit']}"
        )
        assert int(cells.nth(1).get_attribute("data-value")) == line["loads"]
        assert cells.nth(1).inner_text() == f"{line['loads']} × {line['vehicle']['name']['en']}"
        assert cells.nth(2).get_attribute("data-value") == str(line["source"]["id"])
        assert cells.nth(2).inner_text() == line["source"]["name"]
        assert float(cells.nth(3).get_attribute("data-value")) == line["haul_km"]
        assert line["haul_method"] == "straight-line"  # the sample sources are off the roads
        assert text(page, f"#materials tbody tr:nth-child({n + 1}) td:nth-child(5)") == (
            f"{line['haul_km']:,.1f} km\nstraight line × detour"
        )

    # Hand-checked: base course A is ordered with 5 % loss, carried by mass in 10 t trucks,
    # from the nearest source at the geodesic distance from the site times the detour factor.
    base = next(line for line in materials if line["material"] == "LPA")
    assert base["order_quantity"] == pytest.approx(base["net_quantity"] * 1.05, abs=0.001)
    assert base["loads"] == -(-base["mass_t"] // 10)
    site = shapely.centroid(shapely.geometry.shape(geometry))
    source = page.request.get(f"{live.url}/collections/sources/items/{base['source']['id']}")
    lon, lat = source.json()["geometry"]["coordinates"]
    _, _, metres = GEOD.inv(site.x, site.y, lon, lat)
    assert base["haul_km"] == pytest.approx(metres / 1000 * DETOUR_FACTOR, abs=0.001)

    # Each nearest source is a point on the map, joined to the site by a dashed line.
    page.evaluate("takeoffMap.setView([-6.19, 106.55], 11, {animate: false})")
    sources = {line["source"]["id"] for line in materials}
    markers = page.locator("path.material-source")
    assert markers.count() == len(sources) == page.locator("path.haul-line").count()
    map_box = page.locator("#map").bounding_box()
    expected = []
    for source_id in sorted(sources):
        feature = page.request.get(f"{live.url}/collections/sources/items/{source_id}").json()
        lon, lat = feature["geometry"]["coordinates"]
        point = page.evaluate(
            "([lat, lon]) => takeoffMap.latLngToContainerPoint([lat, lon])", [lat, lon]
        )
        expected.append((point["x"], point["y"]))
    shown = []
    for n in range(markers.count()):
        box = markers.nth(n).bounding_box()
        x = box["x"] + box["width"] / 2 - map_box["x"]
        y = box["y"] + box["height"] / 2 - map_box["y"]
        shown.append((x, y))
    for (x, y), (ex, ey) in zip(sorted(shown), sorted(expected), strict=True):
        assert (x, y) == (pytest.approx(ex, abs=1.5), pytest.approx(ey, abs=1.5))

    page.get_by_role("button", name="Bahasa Indonesia").click()
    assert text(page, "#materials-heading") == "Kebutuhan material"
    assert text(page, "#materials tbody tr:first-child td:nth-child(5)").endswith(
        " km\ngaris lurus × faktor belok"
    )


def test_no_materials_without_a_bill(page: Any) -> None:
    assert page.locator("#materials tbody tr").count() == 0
    assert page.locator("path.material-source").count() == 0
