"""Beside the bill, what must be ordered and delivered: quantities, trucks, loads, the nearest
source of each material and its haul distance, with the sources on the map."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from pyproj import Geod

from tests.live import LiveServer
from tests.web.planner import (
    API_KEY,
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


def test_a_source_on_the_roads_is_reached_by_road_and_its_route_drawn(
    page: Any, live: LiveServer
) -> None:
    roads = page.request.get(f"{live.url}/collections/roads/items?limit=1000").json()
    road = max(roads["features"], key=lambda f: len(f["geometry"]["coordinates"]))
    start, end = road["geometry"]["coordinates"][0], road["geometry"]["coordinates"][-1]
    plant = {
        "type": "Feature",
        "properties": {"name": "Batching plant on the road", "kind": "batching plant"},
        "geometry": {"type": "Point", "coordinates": end},
    }
    plant["properties"]["materials"] = "CONC-FC20"  # used by no other test here
    added = page.request.post(
        f"{live.url}/sources",
        data={"type": "FeatureCollection", "features": [plant]},
        headers={"X-API-Key": API_KEY},
    )
    assert added.status == 201, added.text()

    page.get_by_label("Cross-section template").select_option("neighbourhood-rigid")
    page.evaluate("([lon, lat]) => takeoffMap.setView([lat, lon], 18, {animate: false})", start)
    box = page.locator("#map").bounding_box()
    cx, cy = box["width"] / 2, box["height"] / 2
    draw_polygon(page, [(cx - 60, cy - 8), (cx + 60, cy - 8), (cx + 60, cy + 8), (cx - 60, cy + 8)])
    wait_for_estimate(page)
    geometry = drawn_geometry(page)
    answer = post_estimate(
        live,
        {"type": "Feature", "properties": {}, "geometry": geometry},
        template="neighbourhood-rigid",
    )
    concrete = next(line for line in answer["materials"] if line["material"] == "CONC-FC20")
    assert concrete["source"]["name"] == "Batching plant on the road"
    assert concrete["haul_method"] == "network"
    route = concrete["route"]["coordinates"]
    assert route[-1] == pytest.approx(end, abs=1e-7)  # the way ends at the plant
    # drawn as long as the haul measured over the roads, to the metre
    assert GEOD.geometry_length(shapely.LineString(route)) == pytest.approx(
        concrete["haul_km"] * 1000, abs=1
    )

    row = page.locator("#materials tbody tr[data-material='CONC-FC20']")
    assert row.locator("td").nth(3).inner_text() == f"{concrete['haul_km']:,.1f} km\nby road"
    by_road = {line["source"]["id"] for line in answer["materials"] if line["route"]}
    others = {line["source"]["id"] for line in answer["materials"] if not line["route"]}
    assert page.locator("path.haul-route").count() == len(by_road)
    assert page.locator("path.haul-line").count() == len(others)
    # the way on the map spans the route's own extent
    page.evaluate(
        "(route) => takeoffMap.fitBounds(route.map(([x, y]) => [y, x]), {animate: false})",
        route,
    )
    points = page.evaluate(
        "(route) => route.map(([x, y]) => takeoffMap.latLngToContainerPoint([y, x]))", route
    )
    drawing_order = list(
        dict.fromkeys(line["source"]["id"] for line in answer["materials"] if line["route"])
    )
    drawn = page.locator("path.haul-route").nth(drawing_order.index(concrete["source"]["id"]))
    drawn = drawn.bounding_box()
    xs, ys = [p["x"] + box["x"] for p in points], [p["y"] + box["y"] for p in points]
    assert drawn["x"] == pytest.approx(min(xs), abs=3)
    assert drawn["y"] == pytest.approx(min(ys), abs=3)
    assert drawn["x"] + drawn["width"] == pytest.approx(max(xs), abs=3)
    assert drawn["y"] + drawn["height"] == pytest.approx(max(ys), abs=3)
