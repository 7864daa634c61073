"""A running `takeoff serve` per backend, with the roads layer, a 2,500-feature grid layer
and three saved estimates, shared by the tests of a module (a server takes seconds to start).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, fresh_store
from tests.live import LiveServer, run_takeoff

GRID_SIDE = 50  # 2,500 cells
GRID_ORIGIN = (100.123456789, -10.987654321)
GRID_STEP = 0.01


@dataclass(frozen=True)
class Site:
    """A live server and the settings that reach its store."""

    url: str
    port: int
    backend: str
    settings: dict[str, str]


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


def save_estimates(url: str) -> None:
    """Three 110 m x 11 m road polygons, drawn clockwise, saved through `POST /estimates`."""
    for n, name in enumerate(ESTIMATE_NAMES):
        x = 106.63 + n * 0.01
        ring = [[x, -6.170], [x + 0.001, -6.170], [x + 0.001, -6.1701], [x, -6.1701], [x, -6.170]]
        feature = {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        saved = httpx.post(
            url + "/estimates", params={"save": "true", "template": "local-flexible"}, json=feature
        )
        assert saved.status_code == 201, saved.text


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A server whose store holds `roads`, `grid` (2,500 cells) and three saved estimates."""
    folder = tmp_path_factory.mktemp(f"site-{request.param}")
    settings = fresh_store(request, folder)
    grid = write_grid(folder / "grid.geojson")
    loaded = run_takeoff("load-layer", str(grid), "--title", "Test grid", **settings)
    assert loaded.returncode == 0, loaded.stderr
    with LiveServer(**settings) as server:
        save_estimates(server.url)
        yield Site(server.url, server.port, request.param, settings)
