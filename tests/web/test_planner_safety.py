"""The planner's page can't give a wrong total without a word: widths read in the page's
language, drawing that ends only when the planner says so, several segments, saving once,
warnings, search, a phone, a keyboard and a screen reader (axe-core)."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tests.web.planner import (
    API_KEY,
    BOW_TIE,
    ROAD_POLYGON,
    SPOT,
    assert_page_shows,
    click_map,
    draw_polygon,
    post_estimate,
    text,
    wait_for_estimate,
)

pytestmark = pytest.mark.browser

AXE = (
    Path(__file__).resolve().parents[2] / "app" / "web" / "node_modules" / "axe-core" / "axe.min.js"
)
LINE = [(300, 500), (450, 480), (650, 520)]
METRES_PER_DEGREE = 111_319.49


def draw_line(page: Any, pixels: list[tuple[int, int]] = LINE) -> None:
    """Pick the line tool, click each point, click the last one again to end the line."""
    page.locator(".leaflet-pm-icon-polyline").click()
    for x, y in pixels:
        click_map(page, x, y)
    click_map(page, *pixels[-1])


def draw_layers(page: Any) -> list[dict[str, Any]]:
    geometries: list[dict[str, Any]] = page.evaluate(
        "takeoffMap.pm.getGeomanDrawLayers().map((layer) => layer.toGeoJSON(7).geometry)"
    )
    return geometries


def feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def to_indonesian(page: Any) -> None:
    page.get_by_role("button", name="Bahasa Indonesia").click()


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document).then((r) => r.violations)")
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


# ----------------------------------------------------------------------------- inputs


def test_a_width_typed_with_a_comma_in_bahasa_indonesia(page: Any, live: LiveServer) -> None:
    to_indonesian(page)
    width = page.get_by_label("Lebar garis (m)")
    width.fill("3,5")
    draw_line(page)
    total = wait_for_estimate(page)
    answer = post_estimate(live, feature(draw_layers(page)[0], width_m=3.5))
    assert_page_shows(page, answer)
    assert answer["totals"]["area_m2"] == pytest.approx(answer["totals"]["length_m"] * 3.5)
    assert text(page, "#mean-width") == "3,50 m"

    width.fill("3.5")  # the same 3.5 m, however it is typed
    page.wait_for_function("() => !document.body.classList.contains('busy')")
    page.wait_for_timeout(400)
    assert page.locator("#total").get_attribute("data-value") == total
    assert width.get_attribute("aria-invalid") == "false"

    width.fill("1.500")  # a thousands separator: 1500 m, not 1.5 m
    error = page.locator("#width-error")
    error.wait_for(state="visible")
    assert text(page, "#width-error") == "Lebar harus antara 0,5 dan 100 m."
    assert width.get_attribute("aria-invalid") == "true"
    assert text(page, "#total") == "–"
    assert page.locator("#bom tbody tr").count() == 0
    assert page.locator("#save").is_disabled()

    width.fill("3,5")
    assert wait_for_estimate(page) == total
    assert page.locator("#width-error").is_hidden()


READINGS = [
    ("id", "3,5", 3.5),
    ("id", "3.5", 3.5),
    ("id", "1.500", 1500),
    ("id", "1.500,25", 1500.25),
    ("id", "12", 12),
    ("id", " 7,25 ", 7.25),
    ("en", "3.5", 3.5),
    ("en", "3,5", 3.5),
    ("en", "1,500", 1500),
    ("en", "1,234,567.5", 1234567.5),
    ("id", "1.50.0", None),
    ("en", "1,5,5", None),
    ("id", "3,5m", None),
    ("en", "abc", None),
    ("en", "", None),
    ("id", "1.2.3,4", None),
]


def test_numbers_are_read_as_the_language_writes_them(page: Any) -> None:
    read = page.evaluate(
        """async (readings) => {
          const { parseNumber } = await import("./web/static/i18n.js");
          return readings.map(([lang, typed]) => {
            const value = parseNumber(lang, typed);
            return Number.isNaN(value) ? null : value;
          });
        }""",
        [[lang, typed] for lang, typed, _ in READINGS],
    )
    assert read == [value for _, _, value in READINGS]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "“abc” is not a number. Type a width in metres, e.g. 3.5."),
        ("0", "The width must be between 0.5 and 100 m."),
        ("-6", "The width must be between 0.5 and 100 m."),
        ("1,5,5", "“1,5,5” is not a number. Type a width in metres, e.g. 3.5."),
    ],
)
def test_a_width_that_cannot_be_right_prices_nothing(page: Any, typed: str, message: str) -> None:
    draw_line(page)
    wait_for_estimate(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.get_by_label("Width of a line (m)").fill(typed)
    page.locator("#width-error").wait_for(state="visible")
    assert text(page, "#width-error") == message
    page.wait_for_timeout(500)
    assert not [url for url in requests if "/estimates" in url]
    assert text(page, "#total") == "–"
    assert text(page, "#status") == "Correct the highlighted field to see the bill of materials."


def test_the_template_default_width_is_said(page: Any, live: LiveServer) -> None:
    draw_line(page)
    wait_for_estimate(page)
    assert text(page, "#width-note") == "template default 5 m used"
    warnings = page.locator("#warnings li")
    assert warnings.all_inner_texts() == [
        "No width given: priced with the template default of 5 m."
    ]
    answer = post_estimate(live, feature(draw_layers(page)[0]))
    assert answer["warnings"] == [
        "feature 0: no width given: priced with template local-flexible's default width 5 m"
    ]
    assert_page_shows(page, answer)


def test_an_outline_at_the_wrong_scale_is_flagged(page: Any, live: LiveServer) -> None:
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 13, {animate: false})", SPOT)
    polygon = [(250, 200), (650, 200), (650, 450), (250, 450)]  # about 7.6 x 4.8 km
    draw_polygon(page, polygon)
    wait_for_estimate(page)
    shown = page.locator("#warnings li").all_inner_texts()
    assert len(shown) == 3, shown
    assert shown[0].startswith("The mean width ")
    assert shown[0].endswith(
        " is outside the 2–30 m plausible for this template: check the width or the outline."
    )
    assert shown[1].startswith("Area ")
    assert shown[1].endswith(
        " is larger than one road (200,000 m²): check the scale of the drawing."
    )
    assert shown[2].startswith("The centerline (")
    to_indonesian(page)
    assert page.locator("#warnings li").first.inner_text().startswith("Lebar rata-rata ")


# ----------------------------------------------------------------------------- drawing


def corner_pixels(page: Any, length_m: float, width_m: float) -> list[tuple[float, float]]:
    """Pixels of the corners of a length x width road east of SPOT, at the map's zoom."""
    lat, lon = SPOT
    dlat = width_m / METRES_PER_DEGREE
    dlon = length_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    corners = [(lat, lon), (lat, lon + dlon), (lat - dlat, lon + dlon), (lat - dlat, lon)]
    points = page.evaluate(
        "corners => corners.map(([lat, lon]) => takeoffMap.latLngToContainerPoint([lat, lon]))",
        [list(corner) for corner in corners],
    )
    return [(point["x"], point["y"]) for point in points]


@pytest.mark.parametrize(("zoom", "finish"), [(17, "Enter"), (18, "Finish"), (18, "dblclick")])
def test_a_four_corner_road_stays_four_corners(
    page: Any, live: LiveServer, zoom: int, finish: str
) -> None:
    page.evaluate(
        "([lat, lon, zoom]) => takeoffMap.setView([lat, lon], zoom, {animate: false})",
        [SPOT[0] + 0.0002, SPOT[1] + 0.0003, zoom],
    )
    corners = corner_pixels(page, 100, 6)
    page.locator(".leaflet-pm-icon-polygon").click()
    for x, y in corners:
        click_map(page, x, y)
    if finish == "Enter":
        page.keyboard.press("Enter")
    elif finish == "Finish":
        page.get_by_role("button", name="Finish").click()
    else:
        box = page.locator("#map").bounding_box()
        page.mouse.dblclick(box["x"] + corners[-1][0], box["y"] + corners[-1][1])
    wait_for_estimate(page)

    (geometry,) = draw_layers(page)
    assert geometry["type"] == "Polygon"
    assert len(geometry["coordinates"][0]) == 5  # four corners and the closing one
    answer = post_estimate(live, feature(geometry))
    assert_page_shows(page, answer)
    # Corners fall on whole pixels (1.2 m at zoom 17): 600 m2 within what a pixel moves.
    assert answer["totals"]["area_m2"] == pytest.approx(600, rel=0.15)
    assert answer["totals"]["length_m"] == pytest.approx(100, rel=0.05)


def test_escape_cancels_a_drawing_and_the_size_shows_while_drawing(page: Any) -> None:
    page.locator(".leaflet-pm-icon-polygon").click()
    click_map(page, 300, 220)
    click_map(page, 600, 230)
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + 600, box["y"] + 270, steps=3)
    live = page.locator("#live")
    assert live.is_visible()
    assert live.inner_text().startswith("Length ")
    assert " · Area " in live.inner_text() and " · Mean width " in live.inner_text()
    page.keyboard.press("Escape")
    assert not page.evaluate("takeoffMap.pm.globalDrawModeEnabled()")
    assert draw_layers(page) == []
    assert live.is_hidden()
    assert text(page, "#total") == "–"


def test_a_line_is_drawn_as_wide_as_the_road(page: Any) -> None:
    page.get_by_label("Width of a line (m)").fill("6")
    draw_line(page)
    wait_for_estimate(page)
    weight = page.evaluate("takeoffMap.pm.getGeomanDrawLayers()[0].options.weight")
    metres_per_pixel = page.evaluate(
        "(() => { const c = takeoffMap.getCenter(); const p = takeoffMap.latLngToContainerPoint(c);"
        " return takeoffMap.distance(c, takeoffMap.containerPointToLatLng([p.x + 100, p.y])) / 100;"
        " })()"
    )
    assert weight == pytest.approx(6 / metres_per_pixel, rel=0.02)


# ----------------------------------------------------------------------------- segments


def test_two_segments_in_one_estimate(page: Any, live: LiveServer) -> None:
    draw_polygon(page, ROAD_POLYGON)
    first_total = wait_for_estimate(page)
    page.get_by_label("Width of a line (m)").fill("4")
    draw_line(page, [(300, 450), (450, 430), (650, 470)])
    page.get_by_label("Cross-section template").select_option("neighbourhood-rigid")
    page.wait_for_function(
        "() => document.querySelectorAll('#segments li').length === 2"
        " && document.querySelector('#segments li:nth-child(2) .segment-total').dataset.value"
        " && !document.body.classList.contains('busy')"
    )
    wait_for_estimate(page, previous=first_total)
    page.wait_for_timeout(400)

    polygon, line = draw_layers(page)
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature(polygon, template="local-flexible"),
            feature(line, template="neighbourhood-rigid", width_m=4),
        ],
    }
    answer = post_estimate(live, collection)
    assert_page_shows(page, answer)
    assert [f["template"]["slug"] for f in answer["features"]] == [
        "local-flexible",
        "neighbourhood-rigid",
    ]
    segments = page.locator("#segments li")
    for n in range(2):
        total = segments.nth(n).locator(".segment-total").get_attribute("data-value")
        assert total == answer["features"][n]["total"]
    # the first segment costs what it cost alone (the bill's project items are no segment's)
    alone = post_estimate(
        live,
        {"type": "FeatureCollection", "features": [feature(polygon, template="local-flexible")]},
    )
    assert answer["features"][0]["total"] == alone["features"][0]["total"]
    assert alone["totals"]["total"] == first_total

    # Selecting the first segment shows its own template and width; removing it leaves one.
    page.get_by_role("button", name="Select Segment 1").click()
    assert page.get_by_label("Cross-section template").input_value() == "local-flexible"
    page.get_by_role("button", name="Remove Segment 1").click()
    page.wait_for_function("() => document.querySelectorAll('#segments li').length === 1")
    wait_for_estimate(page, previous=answer["totals"]["total"])
    single = post_estimate(live, feature(line, template="neighbourhood-rigid", width_m=4))
    assert_page_shows(page, single)


# ----------------------------------------------------------------------------- saving


def test_save_once_and_a_download_named_after_the_estimate(page: Any, live: LiveServer) -> None:
    def saved_count() -> int:
        items = httpx.get(live.url + "/collections/estimates/items", params={"limit": 1}).json()
        return int(items["numberMatched"])

    before = saved_count()
    page.get_by_label("Name", exact=True).fill("Jl. Contoh")
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    page.get_by_role("button", name="Save estimate").dblclick()
    page.wait_for_function("document.querySelector('#status').textContent.includes('Saved')")
    page.wait_for_timeout(500)
    assert saved_count() == before + 1
    assert page.locator("#save").is_disabled()  # nothing changed since

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download Excel (XLSX)").click()
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert download_info.value.suggested_filename == f"jl-contoh-{today}.xlsx"

    # The estimate as saved can be saved again only as a copy.
    first = text(page, "#status")
    copy = page.get_by_role("button", name="Save a copy")
    copy.click()
    page.wait_for_function(
        "first => { const s = document.querySelector('#status').textContent;"
        " return s.startsWith('Saved as') && s !== first; }",
        arg=first,
    )
    assert saved_count() == before + 2
    assert page.locator("#save").is_disabled()

    page.get_by_label("Name", exact=True).fill("Jl. Contoh 2")
    assert page.locator("#save").is_enabled()
    assert copy.is_hidden()


def test_delete_a_saved_estimate_with_the_api_key(page: Any, live: LiveServer) -> None:
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    page.get_by_role("button", name="Save estimate").click()
    page.wait_for_function("document.querySelector('#status').textContent.includes('Saved')")
    saved_id = int(page.locator("#status").inner_text().split()[-1].rstrip("."))
    page.on("dialog", lambda dialog: dialog.accept())

    page.get_by_role("button", name=f"Delete #{saved_id}").click()
    page.locator("#error").wait_for(state="visible")
    assert text(page, "#error").endswith(
        "Deleting a saved estimate needs an API key: enter it under “API key” below the list."
    )
    assert httpx.get(f"{live.url}/estimates/{saved_id}").status_code == 200

    page.locator("summary", has_text="API key").click()
    page.get_by_label("Needed to delete saved estimates").fill(API_KEY)
    page.get_by_label("Needed to delete saved estimates").press("Tab")
    page.get_by_role("button", name=f"Delete #{saved_id}").click()
    page.wait_for_function(
        "id => !document.querySelector(`#saved li[data-id='${id}']`)", arg=saved_id
    )
    assert text(page, "#status") == f"Saved estimate {saved_id} deleted."
    assert httpx.get(f"{live.url}/estimates/{saved_id}").status_code == 404


# ----------------------------------------------------------------------------- orientation


def test_find_a_road_by_name_and_price_it_by_its_class(page: Any, live: LiveServer) -> None:
    page.get_by_role("searchbox", name="Find a road").fill("kian santang")
    page.get_by_role("button", name="Search", exact=True).click()
    result = page.get_by_role("button", name="Jalan Prabu Kian Santang (secondary)")
    result.click()
    wait_for_estimate(page)
    assert page.get_by_label("Cross-section template").input_value() == "collector-flexible"
    assert page.get_by_label("Width of a line (m)").input_value() == "7"
    found = httpx.get(live.url + "/roads/search", params={"q": "kian santang"}).json()
    (road,) = found["features"]
    body = feature(road["geometry"], template="collector-flexible", width_m=7.0)
    body["properties"]["name"] = "Jalan Prabu Kian Santang"
    assert_page_shows(page, post_estimate(live, body, template="collector-flexible"))


def test_an_unreachable_server_is_said_and_leaves_no_bill(page: Any) -> None:
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    page.route("**/estimates?**", lambda route: route.abort())
    page.get_by_label("Cross-section template").select_option("neighbourhood-rigid")
    page.locator("#error").wait_for(state="visible")
    assert "The server can't be reached." in text(page, "#error")
    assert text(page, "#total") == "–"
    to_indonesian(page)
    assert "Server tidak dapat dihubungi." in text(page, "#error")


def test_tiles_that_cannot_load_are_said_once(browser: Any, tmp_path: Path) -> None:
    unreachable = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    with LiveServer(data_dir=str(tmp_path), tile_url=unreachable) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-GB")
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready=true]")
        note = page.locator("#tiles-note")
        note.wait_for(state="visible")
        assert text(page, "#tiles-note") == (
            "Map tiles can't load (offline?). Drawing and estimates still work."
        )
        assert page.locator("#error").is_hidden()
        page.close()


# ----------------------------------------------------------------------------- phone, keyboard


def test_a_phone_shows_the_page_without_sideways_scrolling(browser: Any, live: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="id-ID")
    page.goto(live.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 18, {animate: false})", SPOT)
    page.locator(".leaflet-pm-icon-polygon").click()
    for x, y in [(80, 120), (330, 130), (332, 170), (82, 160)]:
        click_map(page, x, y)
    click_map(page, 80, 120)
    wait_for_estimate(page)
    widths = page.evaluate(
        "({page: document.scrollingElement.scrollWidth, header: document.querySelector('.bar')"
        ".scrollWidth, bom: document.querySelector('#bom').scrollWidth})"
    )
    assert widths == {"page": 390, "header": 390, "bom": widths["bom"]}
    assert widths["bom"] <= 390
    first_row = page.locator("#bom tbody tr").first.bounding_box()
    assert first_row is not None and first_row["width"] <= 390
    page.close()


def test_save_and_export_stay_in_view_on_a_laptop(browser: Any, live: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-GB")
    page.goto(live.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 18, {animate: false})", SPOT)
    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    for name in ("Save estimate", "Download Excel (XLSX)", "Download GeoJSON"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, name
    page.close()


def test_no_serious_accessibility_problems(page: Any) -> None:
    assert serious_violations(page) == []  # first view
    names = page.locator(".leaflet-pm-toolbar .leaflet-buttons-control-button")
    labels = [names.nth(n).get_attribute("aria-label") for n in range(names.count())]
    assert "Draw a road outline (polygon)" in labels
    assert "Draw a road centreline (line)" in labels
    page.locator("#map").focus()
    page.keyboard.press("Tab")  # road outlines are not one tab stop each: next is a control
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Zoom in"

    draw_polygon(page, ROAD_POLYGON)
    wait_for_estimate(page)
    assert serious_violations(page) == []  # with a bill

    page.get_by_label("Width of a line (m)").fill("abc")
    page.locator("#width-error").wait_for(state="visible")
    assert serious_violations(page) == []  # with an error in a field

    page.get_by_label("Width of a line (m)").fill("")
    page.get_by_role("button", name="Remove Segment 1").click()
    draw_polygon(page, BOW_TIE)
    page.locator("#error").wait_for(state="visible")
    assert serious_violations(page) == []  # with an error from the API


def test_every_word_is_in_both_languages(page: Any) -> None:
    missing = page.evaluate(
        """async () => {
          const { WORDS } = await import("./web/static/i18n.js");
          const keys = (words, prefix = "") => Object.entries(words).flatMap(([key, value]) =>
            typeof value === "object" ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`]);
          const en = keys(WORDS.en), id = keys(WORDS.id);
          return {
            notInIndonesian: en.filter((key) => !id.includes(key)),
            notInEnglish: id.filter((key) => !en.includes(key)),
          };
        }"""
    )
    assert missing == {"notInIndonesian": [], "notInEnglish": []}
    page.get_by_role("button", name="Bahasa Indonesia").click()
    assert page.title() == "Takeoff – rencana anggaran biaya jalan"
    assert page.get_by_role("button", name="Gambar batas jalan (poligon)").is_visible()
    assert page.get_by_role("button", name="Perbesar").is_visible()
