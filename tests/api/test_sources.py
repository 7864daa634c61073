"""Material sources on both stores: shipped sample, POST /sources, `takeoff load-sources`,
the OGC collection, and the nearest source and haul distance of an estimate's materials."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod

from tests.conftest import API_KEY, store_env
from tests.live import run_takeoff

KEY = {"X-API-Key": API_KEY}
SITE = (110.00045, -7.0)
"""Centre of the test road, some 400 km from the illustrative Tangerang sources."""


def point(name, kind, materials, lon, lat):
    return {
        "type": "Feature",
        "properties": {"name": name, "kind": kind, "materials": materials},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def source_names(client: TestClient) -> list[str]:
    body = client.get("/collections/sources/items", params={"limit": 1000}).json()
    return [feature["properties"]["name"] for feature in body["features"]]


def test_a_new_store_has_the_illustrative_tangerang_sources(client: TestClient) -> None:
    described = client.get("/collections/sources").json()
    assert described["itemCount"] == 4
    listed = [c["id"] for c in client.get("/collections").json()["collections"]]
    assert listed[:2] == ["estimates", "sources"]
    names = source_names(client)
    assert all(name.endswith("(illustrative)") for name in names)
    batching = client.get("/collections/sources/items/2").json()
    assert batching["properties"]["kind"] == "batching plant"
    assert batching["properties"]["materials"] == ["CONC-FC30", "CONC-FC20", "LEAN-CONC"]


def test_post_sources_needs_a_key_and_refuses_a_bad_feature_whole(client: TestClient) -> None:
    good = point("AMP near", "AMP", ["AC-WC"], SITE[0], -7.009)
    assert client.post("/sources", json=collection(good)).status_code == 401
    before = len(source_names(client))
    bad = point("Pabrik", "factory", "LPA", 110.0, -7.0)
    answer = client.post("/sources", json=collection(good, bad), headers=KEY)
    assert answer.status_code == 422
    assert "feature 1" in answer.json()["detail"]
    assert "factory" in answer.json()["detail"]
    line = point("Line", "quarry", "LPA", 110.0, -7.0)
    line["geometry"] = {"type": "LineString", "coordinates": [[110, -7], [110.1, -7]]}
    refused = client.post("/sources", json=collection(line), headers=KEY)
    assert refused.status_code == 422
    assert "feature 0" in refused.json()["detail"] and "point" in refused.json()["detail"]
    assert len(source_names(client)) == before


def test_estimate_materials_name_the_nearest_source_and_haul(client: TestClient) -> None:
    sources = collection(
        point("AMP near", "AMP", "AC-WC", SITE[0], -7.009),
        point("AMP far", "amp", ["AC-WC", "tack-coat"], SITE[0], -7.03),
    )
    created = client.post("/sources", json=sources, headers=KEY)
    assert created.status_code == 201
    assert created.json()["count"] == 2
    road = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": [[110.0, -7.0], [110.0009, -7.0]]},
    }
    answer = client.post(
        "/estimates", json=road, params={"template": "asphalt-overlay", "width_m": 5}
    ).json()
    materials = {line["material"]: line for line in answer["materials"]}
    geod = Geod(ellps="WGS84")
    near_km = geod.inv(SITE[0], -7.009, *SITE)[2] / 1000
    far_km = geod.inv(SITE[0], -7.03, *SITE)[2] / 1000
    assert near_km == pytest.approx(0.995, abs=0.001)  # 0.009 deg of latitude at 7 deg S
    assert materials["AC-WC"]["source"]["name"] == "AMP near"
    assert materials["AC-WC"]["haul_km"] == pytest.approx(near_km * 1.3, abs=1e-3)
    assert materials["AC-WC"]["haul_method"] == "straight-line"
    # only the far plant (and the Tangerang one, 400 km off) sprays tack coat
    assert materials["TACK-COAT"]["source"] == {
        "id": materials["TACK-COAT"]["source"]["id"],
        "name": "AMP far",
        "kind": "AMP",
    }
    assert materials["TACK-COAT"]["haul_km"] == pytest.approx(far_km * 1.3, abs=1e-3)
    assert "detour factor 1.3" in materials["AC-WC"]["haul_warning"]


def test_load_sources_reads_a_geopackage_with_comma_separated_materials(
    client: TestClient, tmp_path: Path
) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["Quarry A", "Base camp B"], "kind": ["quarry", "base camp"]},
        geometry=[shapely.Point(110.1, -7.1), shapely.Point(110.2, -7.2)],
        crs=4326,
    )
    frame["materials"] = ["LPA, LPB", "SAND-BED"]
    path = tmp_path / "sources.gpkg"
    frame.to_file(path)
    done = run_takeoff("load-sources", str(path), **store_env(client))
    assert done.returncode == 0, done.stderr
    assert "2 sources added" in done.stdout
    body = client.get("/collections/sources/items", params={"limit": 1000}).json()
    quarry = next(f for f in body["features"] if f["properties"]["name"] == "Quarry A")
    assert quarry["properties"]["materials"] == ["LPA", "LPB"]
    assert quarry["geometry"]["coordinates"] == pytest.approx([110.1, -7.1])


def test_a_request_overrides_vehicle_capacity_and_daily_output(client: TestClient) -> None:
    # 1,000 m x 5 m of overlay: 5,000 m2 x 0.04 m x 2.32 t/m3 = 464 t, x 1.03 = 477.92 t
    road = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": [[0.0, 0.0], [0.0, 0.0090437]]},
    }
    overrides = {
        "vehicles": {"dump-truck-10t": {"capacity_t": 20}},
        "daily_output": {"AC-WC": 100},
        "material_loss": {"AC-WC": 0.03},
    }
    params = {"template": "asphalt-overlay", "width_m": 5}
    answer = client.post("/estimates", json={**road, "overrides": overrides}, params=params)
    assert answer.status_code == 200, answer.text
    asphalt = {line["material"]: line for line in answer.json()["materials"]}["AC-WC"]
    assert asphalt["order_quantity"] == pytest.approx(477.92, abs=0.01)
    assert asphalt["vehicle"]["capacity"] == 20
    assert asphalt["loads"] == 24  # 477.92 / 20 = 23.9
    assert (asphalt["daily_output"], asphalt["working_days"], asphalt["loads_per_day"]) == (
        100,
        5,  # 477.92 / 100 = 4.78
        5,  # 24 loads over 5 days
    )
    unknown = {"vehicles": {"lorry": {"capacity_t": 5}}}
    refused = client.post("/estimates", json={**road, "overrides": unknown}, params=params)
    assert refused.status_code == 422
    assert "overrides.vehicles.lorry" in refused.text and "dump-truck-10t" in refused.text


@pytest.mark.parametrize(
    ("properties", "geometry", "where"),
    [
        (["AMP"], {"type": "Point", "coordinates": [110, -7]}, "feature 0, field properties"),
        ({"name": "A", "kind": "AMP", "materials": 5}, None, "feature 0, field materials"),
        ({"name": "A", "kind": "AMP", "materials": "[LPA"}, None, "feature 0, field materials"),
        ({"name": " ", "kind": "AMP", "materials": "LPA"}, None, "feature 0, field name"),
        (
            {"name": "A", "kind": "AMP", "materials": "LPA"},
            {"type": "Point", "coordinates": [1e308, 2]},
            "feature 0, field geometry",
        ),
    ],
)
def test_a_bad_source_is_a_422_naming_its_field(client, properties, geometry, where) -> None:
    body = collection(point("A", "AMP", "LPA", 110.0, -7.0))
    body["features"][0]["properties"] = properties
    if geometry is not None:
        body["features"][0]["geometry"] = geometry
    answer = client.post("/sources", json=body, headers=KEY)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(where)
