"""The programme page in Chromium: segments coloured by treatment, the budget line on a slider."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.live import LiveServer


def _inventory() -> bytes:
    rows = (
        ("A", 106.630, "sedang"),  # patching, 10,080,188 (tests/programme by hand)
        ("B", 106.632, "rusak berat"),  # reconstruction, far dearer
        ("C", 106.634, "baik"),  # crack sealing
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[lon, -6.180], [lon, -6.179]]},
            "properties": {
                "nama_ruas": name,
                "kecamatan": "Karawaci",
                "lebar": 5,
                "perkerasan": "aspal",
                "kondisi": kondisi,
            },
        }
        for name, lon, kondisi in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_the_budget_slider_moves_the_budget_line_on_the_map(browser: Any, live: LiveServer) -> None:
    made = httpx.post(
        live.url + "/programmes",
        params={"budget": "0", "name": "Karawaci 2027"},
        files={"inventory": ("jalan.geojson", _inventory(), "application/geo+json")},
        timeout=60,
    )
    assert made.status_code == 201, made.text
    programme = made.json()
    assert programme["totals"]["funded_segments"] == 0
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live.url}/web/static/programme.html?id={programme['id']}")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("body").get_attribute("data-funded") == "0"
    paths = page.locator("path.leaflet-interactive")
    assert paths.count() == 3
    colours = {paths.nth(i).get_attribute("stroke") for i in range(3)}
    assert len(colours) == 3  # three treatments, three colours
    assert all(paths.nth(i).get_attribute("stroke-dasharray") for i in range(3))
    needed = int(programme["totals"]["needed"])
    page.evaluate(
        """(value) => {
            const slider = document.getElementById("budget");
            slider.value = String(value);
            slider.dispatchEvent(new Event("input"));
        }""",
        needed,
    )
    assert page.locator("body").get_attribute("data-funded") == "3"
    assert not any(paths.nth(i).get_attribute("stroke-dasharray") for i in range(3))
    assert page.locator("#gap").inner_text() == "0"
    context.close()
    assert not errors, errors
