"""A real `takeoff serve` (no basemap tiles: tests never fetch from the internet) and a real
Chromium page on it, at street scale over an empty spot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer
from tests.web.planner import API_KEY, CHROMIUM, CHROMIUM_ARGS, SPOT


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An embedded-store server: it publishes the sample `roads` layer on first start."""
    folder = tmp_path_factory.mktemp("planner")
    with LiveServer(data_dir=str(folder), api_keys=f'["{API_KEY}"]', tile_url="none") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (scripts/test installs it)"
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """The page, loaded, at street scale over an empty spot; page errors fail the test."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, accept_downloads=True, locale="en-GB"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("([lat, lon]) => takeoffMap.setView([lat, lon], 18, {animate: false})", SPOT)
    yield page
    context.close()
    assert not errors, errors
