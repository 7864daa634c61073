"""Haul over a small made-up road network on the equator, on both stores.

    F ------------ (119.98, 0.009)        C (120.01, 0.01)
                        |                 |
                        |                 | road 2 (starts 0.56 m east of B: joined)
    (119.98, 0) ------- A (120, 0) ------ B (120.01, 0)        E1 ---- E2 (120.06, 0)
           road 3 (A -> west -> north -> F)      road 1             road 4, on its own

The site is A. AC-WC comes from C or F: F is nearer in a straight line (0.009 deg of
latitude, 995 m) but 2,226 + 995 + 2,226 m by road, C is 1,113.195 m (0.01 deg of longitude
on the equator: 6,378,137 m x 0.01 x pi / 180) + 1,105.743 m (0.01 deg of latitude at the
equator: the meridian radius a (1 - e^2) = 6,335,439 m x 0.01 x pi / 180) = 2,218.938 m by
road. Tack coat comes only from E2, on a road no path reaches: a straight line of 0.06 deg
of longitude, 6,679.169 m, times the detour factor 1.3.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import API_KEY, store_env
from tests.live import run_takeoff

ROADS = [
    [[120.0, 0.0], [120.01, 0.0]],
    [[120.010005, 0.0], [120.01, 0.01]],
    [[120.0, 0.0], [119.98, 0.0], [119.98, 0.009], [120.0, 0.009]],
    [[120.05, 0.0], [120.06, 0.0]],
]


def feature(geometry_type, coordinates, **properties):
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": geometry_type, "coordinates": coordinates},
    }


@pytest.fixture(scope="module")
def network(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    path = tmp_path_factory.mktemp("network") / "network.geojson"
    roads = [
        feature("LineString", line, id=i, name=f"road {i + 1}") for i, line in enumerate(ROADS)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": roads}))
    loaded = run_takeoff("load-layer", str(path), "--slug", "equator", **store_env(client))
    assert loaded.returncode == 0, loaded.stderr
    sources = [
        feature("Point", [120.01, 0.01], name="C", kind="AMP", materials="AC-WC"),
        feature("Point", [120.0, 0.009], name="F", kind="AMP", materials="AC-WC"),
        feature("Point", [120.06, 0.0], name="E2", kind="AMP", materials="TACK-COAT"),
    ]
    added = client.post(
        "/sources",
        json={"type": "FeatureCollection", "features": sources},
        headers={"X-API-Key": API_KEY},
    )
    assert added.status_code == 201, added.text
    return client


def test_haul_follows_the_shortest_road_or_falls_back_with_a_warning(network: TestClient):
    road = feature("LineString", [[119.9995, 0.0], [120.0005, 0.0]])  # centred on A
    answer = network.post(
        "/estimates", json=road, params={"template": "asphalt-overlay", "width_m": 5}
    )
    assert answer.status_code == 200, answer.text
    materials = {line["material"]: line for line in answer.json()["materials"]}
    asphalt = materials["AC-WC"]
    assert asphalt["source"]["name"] == "C"
    assert asphalt["haul_method"] == "network"
    assert asphalt["haul_km"] == pytest.approx(2.218938, abs=0.001)  # to 1 m on both stores
    assert "haul_warning" not in asphalt
    # the way drawn: from A along road 1 to B, across the 0.56 m join, up road 2 to C
    assert asphalt["route"]["type"] == "LineString"
    assert asphalt["route"]["coordinates"] == [
        [120.0, 0.0],
        [120.01, 0.0],
        [120.010005, 0.0],
        [120.01, 0.01],
    ]
    tack = materials["TACK-COAT"]
    assert tack["route"] is None  # no way by road to draw
    assert tack["source"]["name"] == "E2"
    assert tack["haul_method"] == "straight-line"
    assert tack["haul_km"] == pytest.approx(6.679169 * 1.3, abs=0.001)
    assert tack["haul_warning"] == (
        "no path over the road layers joins the site and a source: straight line x the "
        "catalog's detour factor 1.3"
    )


def test_postgis_solves_the_route_with_pgrouting_on_stored_edges(network: TestClient):
    road = feature("LineString", [[119.9995, 0.0], [120.0005, 0.0]])
    params = {"template": "asphalt-overlay", "width_m": 5}
    assert network.post("/estimates", json=road, params=params).status_code == 200
    repository = network.app.state.repository  # type: ignore[attr-defined]
    if repository.engine.dialect.name != "postgresql":
        assert not repository.has_pgrouting()
        return
    assert repository.has_pgrouting()
    with repository.engine.connect() as connection:
        edges = connection.exec_driver_sql(
            "select count(*), count(distinct version) from road_edges"
        ).one()
    # the sample Tangerang roads and the four roads above, stored once for this version
    lines = sum(layer.feature_count for layer in repository.list_layers())
    assert tuple(edges) == (lines, 1)
