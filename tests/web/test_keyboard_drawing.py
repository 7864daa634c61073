"""A road drawn and estimated without a mouse: a crosshair moved with the arrow keys places
corners with Space, Enter at the last corner finishes, Backspace and Escape undo; a road found
by name is priced from the keyboard too. What is done is said in a live region."""

from __future__ import annotations

from typing import Any

import pytest
from pyproj import Geod

from tests.live import LiveServer
from tests.web.planner import assert_page_shows, post_estimate, text, wait_for_estimate

pytestmark = pytest.mark.browser

GEOD = Geod(ellps="WGS84")
OUTLINE_TOOL = "Draw a road outline (polygon)"


def announced(page: Any) -> str:
    return text(page, "#key-draw-status")


def press(page: Any, key: str, times: int = 1) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def tab_to(page: Any, label: str) -> None:
    """Press Tab from the map until the control named `label` has the focus."""
    page.locator("#map").focus()
    for _ in range(30):
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == label:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reaches {label!r}")


def start_outline(page: Any) -> None:
    tab_to(page, OUTLINE_TOOL)
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'map'")
    assert announced(page) == (
        "Drawing a road outline with the keyboard: arrow keys move the crosshair 1 m "
        "(with Shift 10 m), Space adds a corner, Backspace removes the last one, Enter at "
        "the same place finishes, Escape cancels."
    )


def test_a_four_corner_road_drawn_with_the_keyboard(page: Any, live: LiveServer) -> None:
    start_outline(page)
    page.keyboard.press("Space")
    press(page, "Shift+ArrowRight", 10)  # 100 m east
    page.keyboard.press("Space")
    press(page, "ArrowDown", 6)  # 6 m south
    page.keyboard.press("Space")
    press(page, "Shift+ArrowLeft", 10)
    page.keyboard.press("Space")
    assert announced(page).startswith("Corner 4 placed. Length ")
    # a stray fifth corner, taken back
    press(page, "ArrowDown", 3)
    assert announced(page) == "3 m from corner 4."
    page.keyboard.press("Space")
    page.keyboard.press("Backspace")
    assert announced(page) == "Last corner removed; 4 left."
    press(page, "ArrowUp", 3)  # back on corner 4: Enter finishes there
    page.keyboard.press("Enter")
    wait_for_estimate(page)
    assert announced(page) == "Segment 1 drawn."

    geometries = page.evaluate(
        "takeoffMap.pm.getGeomanDrawLayers().map((layer) => layer.toGeoJSON(7).geometry)"
    )
    assert len(geometries) == 1 and geometries[0]["type"] == "Polygon"
    ring = geometries[0]["coordinates"][0]
    assert len(ring) == 5  # four corners and the closing one
    lons, lats = zip(*ring, strict=True)
    _, _, sides = GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    assert list(sides) == pytest.approx([100, 6, 100, 6], abs=0.02)  # to 2 cm

    answer = post_estimate(live, {"type": "Feature", "properties": {}, "geometry": geometries[0]})
    assert_page_shows(page, answer)
    assert answer["totals"]["area_m2"] == pytest.approx(600, abs=0.5)
    assert answer["totals"]["length_m"] == pytest.approx(100, abs=0.5)


def test_escape_cancels_and_too_few_corners_do_not_finish(page: Any) -> None:
    start_outline(page)
    page.keyboard.press("Space")
    press(page, "Shift+ArrowRight", 5)
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # two corners are no outline
    assert announced(page) == "Not enough corners to finish: an outline needs 3, a line 2."
    assert page.evaluate("takeoffMap.pm.globalDrawModeEnabled()")
    page.keyboard.press("Escape")
    assert announced(page) == "Drawing cancelled."
    assert not page.evaluate("takeoffMap.pm.globalDrawModeEnabled()")
    assert page.evaluate("takeoffMap.pm.getGeomanDrawLayers().length") == 0
    assert page.locator(".key-crosshair").count() == 0
    assert text(page, "#total") == "–"


def test_a_road_found_by_name_is_priced_from_the_keyboard(page: Any, live: LiveServer) -> None:
    page.get_by_role("searchbox", name="Find a road").focus()
    page.keyboard.type("kian santang")
    page.keyboard.press("Enter")
    result = page.get_by_role("button", name="Jalan Prabu Kian Santang (secondary)")
    result.wait_for()
    page.keyboard.press("Tab")  # the search button
    page.keyboard.press("Tab")  # the first road found
    assert page.evaluate("document.activeElement.textContent") == (
        "Jalan Prabu Kian Santang (secondary)"
    )
    page.keyboard.press("Enter")
    wait_for_estimate(page)
    assert page.get_by_label("Cross-section template").input_value() == "collector-flexible"
    found = page.request.get(f"{live.url}/roads/search?q=kian%20santang").json()
    (road,) = found["features"]
    body = {
        "type": "Feature",
        "properties": {
            "template": "collector-flexible",
            "width_m": 7.0,
            "name": "Jalan Prabu Kian Santang",
        },
        "geometry": road["geometry"],
    }
    assert_page_shows(page, post_estimate(live, body, template="collector-flexible"))


def test_a_centreline_drawn_with_the_keyboard(page: Any, live: LiveServer) -> None:
    page.get_by_label("Width of a line (m)").fill("6")
    tab_to(page, "Draw a road centreline (line)")
    page.keyboard.press("Space")  # a tool is a button: Space chooses it as Enter does
    page.wait_for_function("document.activeElement.id === 'map'")
    assert announced(page).startswith("Drawing a road centreline with the keyboard:")
    page.keyboard.press("Space")
    press(page, "Shift+ArrowRight", 4)
    press(page, "ArrowRight", 5)  # 45 m east
    page.keyboard.press("Enter")  # a corner where the crosshair moved to
    page.keyboard.press("Enter")  # and Enter again, on it, finishes
    wait_for_estimate(page)
    assert announced(page) == "Segment 1 drawn."

    (geometry,) = page.evaluate(
        "takeoffMap.pm.getGeomanDrawLayers().map((layer) => layer.toGeoJSON(7).geometry)"
    )
    assert geometry["type"] == "LineString" and len(geometry["coordinates"]) == 2
    (lon0, lat0), (lon1, lat1) = geometry["coordinates"]
    assert GEOD.inv(lon0, lat0, lon1, lat1)[2] == pytest.approx(45, abs=0.02)
    answer = post_estimate(
        live, {"type": "Feature", "properties": {"width_m": 6}, "geometry": geometry}
    )
    assert_page_shows(page, answer)
    assert answer["totals"]["area_m2"] == pytest.approx(270, abs=0.2)  # 45 m x 6 m
