"""A store per backend with the roads layer, a 2,500-feature grid layer and three saved
estimates, shared by the tests of a module: served in this process (`site`) or, for the
tests of real clients, by a running `takeoff serve` (`live_site`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from app.io.layers import read_layer
from app.main import create_app
from app.resources import data_dir
from app.settings import StoreSettings
from tests.conftest import API_KEY, BACKENDS, app_settings, fresh_store
from tests.live import LiveServer

GRID_SIDE = 50  # 2,500 cells
GRID_ORIGIN = (100.123456789, -10.987654321)
GRID_STEP = 0.01
GRID_COUNT = GRID_SIDE * GRID_SIDE
ROADS = json.loads((data_dir() / "sample_layers" / "tangerang_roads.geojson").read_text())[
    "features"
]
"""The sample road layer (the `roads` collection) as its file has it."""
Properties = dict[str, Any]


def expected(holds: Callable[[Properties], bool]) -> list[int]:
    """The osm_id of every road of the file whose properties satisfy `holds`."""
    return sorted(road["properties"]["osm_id"] for road in ROADS if holds(road["properties"]))


def rels(body: dict) -> list[str]:
    """The `rel` of each link of an OGC document, in order."""
    return [link["rel"] for link in body["links"]]


def href(body: dict, rel: str) -> str:
    """The first link of `rel`."""
    return next(link["href"] for link in body["links"] if link["rel"] == rel)


def query(url: str) -> dict[str, list[str]]:
    """The query parameters of `url`."""
    return parse_qs(urlsplit(url).query)


def grid_cell(n: int) -> list[list[float]]:
    """Cell `n` as a clockwise ring with more decimals than GeoJSON output keeps."""
    x0 = GRID_ORIGIN[0] + (n % GRID_SIDE) * GRID_STEP
    y0 = GRID_ORIGIN[1] + (n // GRID_SIDE) * GRID_STEP
    x1, y1 = x0 + GRID_STEP * 0.9, y0 + GRID_STEP * 0.9
    return [[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]


def write_grid(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"n": n, "label": f"cell {n}"},
            "geometry": {"type": "Polygon", "coordinates": [grid_cell(n)]},
        }
        for n in range(GRID_SIDE * GRID_SIDE)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


ESTIMATE_NAMES = ("Jalan Satu", "Jalan Dua", "Jalan Tiga")


def save_estimates(client: httpx.Client) -> list[int]:
    """Three 110 m x 11 m road polygons, drawn clockwise, saved through `POST /estimates`."""
    ids = []
    for n, name in enumerate(ESTIMATE_NAMES):
        x = 106.63 + n * 0.01
        ring = [[x, -6.170], [x + 0.001, -6.170], [x + 0.001, -6.1701], [x, -6.1701], [x, -6.170]]
        feature = {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        saved = client.post(
            "/estimates", params={"save": "true", "template": "local-flexible"}, json=feature
        )
        assert saved.status_code == 201, saved.text
        ids.append(int(saved.json()["id"]))
    return ids


def record_field_tests(client: httpx.Client, estimate: int) -> None:
    """A core of the AC-WC (50 mm designed, 3 mm tolerance) 45 mm thick on the road, and a
    sand cone of the LPA at a point beside it."""
    tests = [
        {
            "sample": "C1",
            "date": "2026-12-02",
            "kind": "core",
            "layer": "AC-WC",
            "thickness_mm": 45,
            "feature": 0,
        },
        {
            "sample": "S1",
            "date": "2026-12-02",
            "kind": "sand-cone",
            "layer": "LPA",
            "density_t_m3": 2.05,
            "point": [106.6305, -6.17005],
        },
    ]
    sent = client.post(
        f"/estimates/{estimate}/tests", json={"tests": tests}, headers={"X-API-Key": API_KEY}
    )
    assert sent.status_code == 201, sent.text


def stock(client: TestClient, folder: Path) -> None:
    """Publish the grid as `takeoff load-layer grid.geojson --title 'Test grid'` would, save
    the three estimates and record two field tests of the first."""
    grid = write_grid(folder / "grid.geojson")
    client.app.state.repository.create_layer(read_layer(grid, title="Test grid"))
    record_field_tests(client, save_estimates(client)[0])


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app in this process on a store holding `roads`, `grid` and three estimates."""
    folder = tmp_path_factory.mktemp(f"site-{request.param}")
    store = fresh_store(request, folder)
    with TestClient(create_app(app_settings(store))) as client:
        stock(client, folder)
        yield client


def serve(store: StoreSettings, **settings: str) -> LiveServer:
    """`takeoff serve` on `store`."""
    return LiveServer(database_url=store.database_url, data_dir=str(store.data_dir), **settings)


@pytest.fixture(scope="module", params=BACKENDS)
def live_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`takeoff serve` on a store holding `roads`, `grid` and three estimates."""
    folder = tmp_path_factory.mktemp(f"live-site-{request.param}")
    store = fresh_store(request, folder)
    with TestClient(create_app(app_settings(store))) as client:
        stock(client, folder)
    with serve(store) as server:
        yield server
