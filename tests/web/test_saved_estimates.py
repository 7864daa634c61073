"""Saved estimates managed from the page: renamed, and saved again as a new version of
themselves (the earlier version kept as it was), with an API key where the API needs one."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tests.web.planner import (
    API_KEY,
    ROAD_POLYGON,
    click_map,
    draw_polygon,
    text,
    wait_for_estimate,
)

pytestmark = pytest.mark.browser

LINE = [(300, 500), (450, 480), (650, 520)]


def save_and_read_id(page: Any) -> int:
    page.get_by_role("button", name="Save estimate").click()
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Saved as')")
    found = re.search(r"estimate (\d+)", text(page, "#status"))
    assert found is not None
    return int(found.group(1))


def give_key(page: Any) -> None:
    page.locator("summary", has_text="API key").click()
    field = page.get_by_label("Needed to delete saved estimates")
    field.fill(API_KEY)
    field.press("Tab")


def test_rename_a_saved_estimate(page: Any, live: LiveServer) -> None:
    page.get_by_label("Name", exact=True).fill("Jalan Lama")
    draw_polygon(page, ROAD_POLYGON)
    total = wait_for_estimate(page)
    saved_id = save_and_read_id(page)
    entry = page.locator(f"#saved li[data-id='{saved_id}']")
    assert "Jalan Lama" in entry.inner_text()

    # without a key the page says where to give one, and nothing changes
    page.get_by_role("button", name=f"Rename #{saved_id}").click()
    field = page.get_by_role("textbox", name=f"New name for #{saved_id}")
    assert field.input_value() == "Jalan Lama"
    field.fill("Jalan Baru")
    field.press("Enter")
    page.locator("#error").wait_for(state="visible")
    assert text(page, "#error").endswith(
        "Renaming a saved estimate needs an API key: enter it under “API key” below the list."
    )
    assert httpx.get(f"{live.url}/estimates/{saved_id}").json()["name"] == "Jalan Lama"

    # Escape leaves the form as it was
    field.press("Escape")
    assert "Jalan Lama" in entry.inner_text()

    give_key(page)
    page.get_by_role("button", name=f"Rename #{saved_id}").click()
    field = page.get_by_role("textbox", name=f"New name for #{saved_id}")
    field.fill("Jalan Baru")
    page.get_by_role("button", name="Save name").click()
    page.wait_for_function(
        "id => document.querySelector('#status').textContent === `Saved estimate ${id} renamed.`",
        arg=saved_id,
    )
    assert page.locator("#error").is_hidden()
    assert "Jalan Baru" in entry.inner_text()
    stored = httpx.get(f"{live.url}/estimates/{saved_id}").json()
    assert stored["name"] == "Jalan Baru"
    assert stored["totals"]["total"] == total  # only the name changed
    # the estimate on the page is the one renamed: its name field follows, still saved
    assert page.get_by_label("Name", exact=True).input_value() == "Jalan Baru"
    assert page.locator("#save").is_disabled()

    page.get_by_role("button", name="Bahasa Indonesia").click()
    assert page.get_by_role("button", name=f"Ganti nama #{saved_id}").is_visible()


def test_save_an_opened_estimate_as_a_new_version(
    page: Any, live: LiveServer, browser: Any
) -> None:
    page.get_by_label("Name", exact=True).fill("Jalan Versi")
    page.get_by_label("Width of a line (m)").fill("6")
    page.locator(".leaflet-pm-icon-polyline").click()
    for x, y in LINE:
        click_map(page, x, y)
    click_map(page, *LINE[-1])
    wait_for_estimate(page)
    first = save_and_read_id(page)
    version = page.get_by_role("button", name="Save as new version")
    assert version.is_visible() and version.is_disabled()  # nothing changed yet
    assert text(page, "#opened-note") == (
        f"Estimate #{first} (version 1) is open: “Save as new version” keeps it and saves the "
        "changes as version 2."
    )
    original = httpx.get(f"{live.url}/estimates/{first}").json()

    before = str(page.locator("#total").get_attribute("data-value"))
    page.get_by_label("Width of a line (m)").fill("8")
    wait_for_estimate(page, previous=before)
    assert version.is_enabled()
    version.click()
    page.locator("#error").wait_for(state="visible")
    assert text(page, "#error").endswith(
        "Saving a new version needs an API key: enter it under “API key” below the list."
    )

    give_key(page)
    version.click()
    page.wait_for_function(
        "() => document.querySelector('#status').textContent.includes('version 2 of')"
    )
    found = re.fullmatch(
        rf"Saved as estimate (\d+), version 2 of #{first}\.", text(page, "#status")
    )
    assert found is not None, text(page, "#status")
    second = int(found.group(1))
    assert version.is_disabled()  # saved: nothing changed since

    newer = httpx.get(f"{live.url}/estimates/{second}").json()
    assert (newer["version"], newer["supersedes"], newer["superseded_by"]) == (2, first, None)
    kept = httpx.get(f"{live.url}/estimates/{first}").json()
    assert kept == {**original, "superseded_by": second}  # the first version stays as it was
    # the same line, 8 m instead of 6 m wide
    length = original["totals"]["length_m"]
    assert original["totals"]["area_m2"] == pytest.approx(length * 6, rel=1e-9)
    assert newer["totals"]["area_m2"] == pytest.approx(length * 8, rel=1e-9)
    assert page.locator("#total").get_attribute("data-value") == newer["totals"]["total"]
    assert "Jalan Versi v2" in page.locator(f"#saved li[data-id='{second}']").inner_text()

    # The first version, opened again, says it has a newer one and is not versioned twice.
    fresh = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-GB")
    fresh.goto(live.url + "/")
    fresh.wait_for_selector("body[data-ready=true]")
    fresh.get_by_role("button", name=f"Open #{first}").click()
    fresh.wait_for_function("document.querySelector('#status').textContent.includes('Showing')")
    assert text(fresh, "#opened-note") == (
        f"Estimate #{first} already has a newer version, #{second}: open that one to save "
        "another version."
    )
    fresh.get_by_label("Width of a line (m)").fill("7")
    wait_for_estimate(fresh, previous=original["totals"]["total"])
    assert fresh.get_by_role("button", name="Save as new version").is_disabled()
    assert fresh.get_by_role("button", name="Save estimate").is_enabled()
    fresh.close()

    # Someone else saves a version of the second while this page has it open: saving another
    # is refused, and the page says which version is newer.
    line = newer["request"]["body"]["geometry"]
    body = {"type": "Feature", "properties": {"width_m": 5}, "geometry": line}
    meanwhile = httpx.post(
        f"{live.url}/estimates",
        params={"save": "true", "supersedes": second, "template": "local-flexible"},
        json=body,
        headers={"X-API-Key": API_KEY},
    )
    assert meanwhile.status_code == 201, meanwhile.text
    third = meanwhile.json()["id"]
    before = str(page.locator("#total").get_attribute("data-value"))
    page.get_by_label("Width of a line (m)").fill("9")
    wait_for_estimate(page, previous=before)
    version.click()
    page.locator("#error").wait_for(state="visible")
    newer_text = (
        f"Estimate #{second} already has a newer version, #{third}: open that one to save "
        "another version."
    )
    assert text(page, "#error").endswith(newer_text)
    assert text(page, "#opened-note") == newer_text
    assert version.is_disabled()
    assert httpx.get(f"{live.url}/estimates/{third}").json()["superseded_by"] is None
