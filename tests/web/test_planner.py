"""The planner's page in a real Chromium against a real `takeoff serve`.

Shapes are drawn with mouse clicks on the map, as a person would; what the page shows is
compared with what `POST /estimates` answers for the same geometry.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from tests.live import LiveServer
from tests.web.planner import (
    API_KEY,
    ARTIFACTS,
    BOW_TIE,
    CATALOG,
    ROAD_POLYGON,
    SPOT,
    assert_page_shows,
    click_map,
    draw_polygon,
    drawn_geometry,
    lon_lat_of,
    map_box,
    post_estimate,
    rupiah,
    text,
    wait_for_estimate,
)

pytestmark = pytest.mark.browser


def test_a_drawn_polygon_shows_the_api_bill_of_materials(page: Any, live: LiveServer) -> None:
    closed = draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    elapsed = time.monotonic() - closed

    geometry = drawn_geometry(page)
    assert geometry["type"] == "Polygon"
    ring = geometry["coordinates"][0]
    for (x, y), (lon, lat) in zip(ROAD_POLYGON, ring, strict=False):
        expected_lon, expected_lat = lon_lat_of(page, x, y)
        assert lon == pytest.approx(expected_lon, abs=1e-6)
        assert lat == pytest.approx(expected_lat, abs=1e-6)

    answer = post_estimate(live, {"type": "Feature", "properties": {}, "geometry": geometry})
    assert_page_shows(page, answer)
    assert 100 < answer["totals"]["length_m"] < 300
    assert text(page, "#total") == rupiah(answer["totals"]["total"], ",")
    assert text(page, "#method") == "mean of the two sides"  # a band: measured as a strip
    mean_width = answer["features"][0]["mean_width_m"]
    assert text(page, "#mean-width") == f"{mean_width:,.2f} m"
    assert page.locator("#save").is_enabled()
    assert elapsed < 1, f"the bill of materials took {elapsed:.2f} s to appear"


def test_a_drawn_line_with_a_width(page: Any, live: LiveServer) -> None:
    page.get_by_label("Width of a line (m)").fill("6")
    page.locator(".leaflet-pm-icon-polyline").click()
    line = [(300, 500), (450, 480), (650, 520)]
    for x, y in line:
        click_map(page, x, y)
    click_map(page, *line[-1])  # clicking the last vertex again finishes the line
    wait_for_estimate(page)

    geometry = drawn_geometry(page)
    assert geometry["type"] == "LineString"
    assert len(geometry["coordinates"]) == 3
    body = {"type": "Feature", "properties": {"width_m": 6}, "geometry": geometry}
    answer = post_estimate(live, body)
    assert_page_shows(page, answer)
    assert answer["totals"]["area_m2"] == pytest.approx(answer["totals"]["length_m"] * 6)
    assert text(page, "#method") == "drawn line"
    assert text(page, "#mean-width") == "6.00 m"


def test_editing_a_vertex_estimates_again(page: Any, live: LiveServer) -> None:
    draw_polygon(page, ROAD_POLYGON)
    before = wait_for_estimate(page)
    box = map_box(page)
    x, y = ROAD_POLYGON[2]
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    page.mouse.move(box["x"] + x + 60, box["y"] + y + 40, steps=8)
    page.mouse.up()
    after = wait_for_estimate(page, previous=before)

    answer = post_estimate(
        live, {"type": "Feature", "properties": {}, "geometry": drawn_geometry(page)}
    )
    assert answer["totals"]["total"] == after != before
    assert_page_shows(page, answer)


def test_bahasa_indonesia_words_and_rupiah(page: Any, live: LiveServer) -> None:
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    answer = post_estimate(
        live, {"type": "Feature", "properties": {}, "geometry": drawn_geometry(page)}
    )
    page.get_by_role("button", name="Bahasa Indonesia").click()

    assert page.locator("html").get_attribute("lang") == "id"
    assert text(page, "#bom-heading") == "Rencana anggaran biaya"
    assert page.get_by_label("Templat potongan melintang").is_visible()
    assert text(page, "#bom thead th:nth-child(2)") == "Volume"
    first_item = page.locator("#bom tbody tr").first.locator("th").inner_text()
    assert first_item.startswith(answer["items"][0]["description"]["id"])
    total = text(page, "#total")
    assert re.fullmatch(r"Rp \d{1,3}(\.\d{3})*", total), total
    assert total == rupiah(answer["totals"]["total"], ".")
    assert text(page, "#vat-pct") == "(11 %)"

    page.get_by_role("button", name="English").click()
    assert text(page, "#bom-heading") == "Bill of materials"
    assert text(page, "#total") == rupiah(answer["totals"]["total"], ",")


def test_euro_amounts_follow_the_language(page: Any, live: LiveServer) -> None:
    page.get_by_label("Rate catalog").select_option("example-eur")
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    answer = post_estimate(
        live,
        {"type": "Feature", "properties": {}, "geometry": drawn_geometry(page)},
        catalog="example-eur",
    )
    assert_page_shows(page, answer)
    total = Decimal(answer["totals"]["total"])
    assert text(page, "#total") == f"€{total:,.2f}"
    page.get_by_role("button", name="Bahasa Indonesia").click()
    indonesian = f"{total:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    assert text(page, "#total") in (f"€{indonesian}", f"€ {indonesian}")


def test_a_self_intersecting_polygon_is_explained_next_to_it(page: Any) -> None:
    draw_polygon(page, BOW_TIE)
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "The estimate could not be made" in error.inner_text()
    crossing = "The outline crosses itself here. Move a corner so the edges don't cross."
    assert crossing in error.inner_text()
    assert "feature 0" not in error.inner_text()
    tooltip = page.locator(".leaflet-tooltip.error-tooltip")
    assert tooltip.inner_text() == crossing
    # The tooltip points at the crossing, in the middle of the bow tie.
    box, tip = map_box(page), tooltip.bounding_box()
    assert tip is not None
    assert abs(tip["x"] - (box["x"] + 425)) < 40
    assert abs(tip["y"] + tip["height"] / 2 - (box["y"] + 480)) < 40
    assert page.locator("#total").inner_text() == "–"
    assert page.locator("#save").is_disabled()


def test_a_missing_rate_is_explained(page: Any, live: LiveServer) -> None:
    catalog = httpx.get(f"{live.url}/catalogs/{CATALOG}").json()
    del catalog["items"]["AC-WC"], catalog["version"]
    catalog |= {"slug": "no-asphalt", "name": {"en": "Without asphalt", "id": "Tanpa aspal"}}
    created = httpx.post(f"{live.url}/catalogs", json=catalog, headers={"X-API-Key": API_KEY})
    assert created.status_code == 201, created.text
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 18, {animate: false})", SPOT)

    page.get_by_label("Rate catalog").select_option("no-asphalt")
    draw_polygon(page, ROAD_POLYGON)
    error = page.locator("#error")
    error.wait_for(state="visible")
    missing = "The rate catalog has no price for: AC-WC. Choose another catalog or add the rates."
    assert missing in error.inner_text()
    assert page.locator(".leaflet-tooltip.error-tooltip").inner_text() == missing

    page.get_by_label("Rate catalog").select_option(CATALOG)
    wait_for_estimate(page)
    assert page.locator("#error").is_hidden()


def test_save_list_and_open_an_estimate(page: Any, live: LiveServer, browser: Any) -> None:
    page.get_by_label("Name", exact=True).fill("Jalan Uji Simpan")
    draw_polygon(page, ROAD_POLYGON)
    total = wait_for_estimate(page)
    page.get_by_role("button", name="Save estimate").click()
    page.wait_for_function("document.querySelector('#status').textContent.includes('Saved')")
    saved_id = int(re.search(r"estimate (\d+)", text(page, "#status")).group(1))  # type: ignore[union-attr]

    items = httpx.get(live.url + "/collections/estimates/items", params={"limit": 100}).json()
    saved = next(feature for feature in items["features"] if feature["id"] == saved_id)
    assert saved["properties"]["name"] == "Jalan Uji Simpan"
    assert Decimal(str(saved["properties"]["total"])) == Decimal(total)
    entry = page.locator(f"#saved li[data-id='{saved_id}']")
    assert "Jalan Uji Simpan" in entry.inner_text()
    assert rupiah(total, ",") in text(page, f"#saved li[data-id='{saved_id}']")

    # A fresh page lists it, shows it on the map and opens it.
    fresh = browser.new_page(viewport={"width": 1400, "height": 900})
    fresh.goto(live.url + "/")
    fresh.wait_for_selector("body[data-ready=true]")
    fresh.get_by_role("button", name=f"Open #{saved_id}").click()
    fresh.wait_for_function(
        "total => document.querySelector('#total').dataset.value === total", arg=total
    )
    assert fresh.get_by_label("Name", exact=True).input_value() == "Jalan Uji Simpan"
    saved_answer = httpx.get(f"{live.url}/estimates/{saved_id}").json()
    assert_page_shows(fresh, saved_answer)
    fresh.close()


def test_excel_download_matches_the_page(page: Any, tmp_path: Path) -> None:
    draw_polygon(page, ROAD_POLYGON)
    total = wait_for_estimate(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download Excel (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    workbook = openpyxl.load_workbook(path)
    assert {"Summary", "Items", "Assumptions"} <= set(workbook.sheetnames)
    rows = workbook["Summary"].iter_rows(values_only=True)
    totals = [row for row in rows if isinstance(row[2], str) and row[2].startswith("Total")]
    assert len(totals) == 1
    assert Decimal(str(totals[0][7])) == Decimal(total)


def test_geojson_download(page: Any) -> None:
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download GeoJSON").click()
    body = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert '"FeatureCollection"' in body


def test_clicking_a_sample_road_prices_it_as_its_class_says(page: Any, live: LiveServer) -> None:
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "© OpenStreetMap contributors" in attribution
    roads = httpx.get(live.url + "/collections/roads/items", params={"limit": 1000}).json()
    # A residential street with two lanes: local-flexible (5 m by default) at 2 x 3.5 m.
    road = next(
        f
        for f in roads["features"]
        if f["properties"]["highway"] == "residential" and f["properties"]["lanes"] == 2
    )
    (lon0, lat0), (lon1, lat1) = road["geometry"]["coordinates"][:2]
    middle = ((lat0 + lat1) / 2, (lon0 + lon1) / 2)
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 19, {animate: false})", middle)
    box = map_box(page)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_estimate(page)

    name = road["properties"]["name"]
    assert page.get_by_label("Name", exact=True).input_value() == name
    assert page.get_by_label("Cross-section template").input_value() == "local-flexible"
    assert page.get_by_label("Width of a line (m)").input_value() == "7"
    body = {
        "type": "Feature",
        "properties": {"template": "local-flexible", "name": name, "width_m": 7.0},
        "geometry": road["geometry"],
    }
    answer = post_estimate(live, body, template="local-flexible")
    assert_page_shows(page, answer)
    assert text(page, "#method") == "drawn line"
    assert text(page, "#mean-width") == "7.00 m"
    # The map zoomed to the whole road.
    bounds = page.evaluate("takeoffMap.getBounds().toBBoxString()").split(",")
    west, south, east, north = (float(value) for value in bounds)
    for lon, lat in road["geometry"]["coordinates"]:
        assert west <= lon <= east and south <= lat <= north

    # A width typed in the form replaces the one the road class gave.
    before = str(page.locator("#total").get_attribute("data-value"))
    page.get_by_label("Width of a line (m)").fill("7.5")
    wait_for_estimate(page, previous=before)
    body["properties"]["width_m"] = 7.5
    assert_page_shows(page, post_estimate(live, body, template="local-flexible"))
    assert text(page, "#mean-width") == "7.50 m"


def test_screenshot(page: Any) -> None:
    """A picture of the page with a drawn road and its bill of materials, for people to look at."""
    page.get_by_label("Name", exact=True).fill("Jalan Contoh")
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "planner.png"))
    page.get_by_role("button", name="Bahasa Indonesia").click()
    page.screenshot(path=str(ARTIFACTS / "planner-id.png"))
    assert (ARTIFACTS / "planner.png").stat().st_size > 10_000


def test_a_saved_line_opens_as_the_line_that_was_drawn(
    page: Any, live: LiveServer, browser: Any
) -> None:
    page.get_by_label("Width of a line (m)").fill("6")
    page.locator(".leaflet-pm-icon-polyline").click()
    line = [(320, 420), (480, 400), (640, 450)]
    for x, y in line:
        click_map(page, x, y)
    click_map(page, *line[-1])
    wait_for_estimate(page)
    page.get_by_role("button", name="Save estimate").click()
    page.wait_for_function("document.querySelector('#status').textContent.includes('Saved')")
    saved_id = int(re.search(r"estimate (\d+)", text(page, "#status")).group(1))  # type: ignore[union-attr]
    length = httpx.get(f"{live.url}/estimates/{saved_id}").json()["totals"]["length_m"]

    fresh = browser.new_page(viewport={"width": 1400, "height": 900})
    fresh.goto(live.url + "/")
    fresh.wait_for_selector("body[data-ready=true]")
    fresh.get_by_role("button", name=f"Open #{saved_id}").click()
    fresh.wait_for_function(
        "document.querySelector('#status').textContent.includes('Showing saved')"
    )
    assert fresh.get_by_label("Width of a line (m)").input_value() == "6"

    # Still a line: a new width re-prices it as length x width, not as a polygon outline.
    previous = fresh.locator("#total").get_attribute("data-value") or ""
    fresh.get_by_label("Width of a line (m)").fill("7")
    wait_for_estimate(fresh, previous)
    assert text(fresh, "#method") == "drawn line"
    assert text(fresh, "#mean-width") == "7.00 m"
    area = float(fresh.locator("#area").get_attribute("data-value") or "nan")
    assert area == pytest.approx(length * 7, rel=1e-6)
    fresh.close()
