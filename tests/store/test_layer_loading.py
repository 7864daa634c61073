"""Road layers published a chunk at a time: the same features as the file, all or none."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
import shapely
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pyproj import Transformer

from app.errors import InvalidInput
from app.io.layers import open_layer
from app.store.models import LayerFeature
from app.store.repository import Repository
from tests.conftest import store_env
from tests.live import run_takeoff

SAMPLE = "sample_layers/tangerang_roads.geojson"


def _stored(repository: Repository, slug: str) -> list:
    return repository.layer_page(slug, limit=1000).features


def _feature_rows(repository: Repository) -> int:
    with repository.engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(LayerFeature)) or 0


def test_a_layer_loaded_in_chunks_holds_the_file_s_features(
    repository: Repository, data_dir: Path
) -> None:
    chunks: list[int] = []
    layer = open_layer(data_dir / SAMPLE, slug="roads", chunk_features=10)
    info = repository.create_layer(layer, progress=chunks.append)

    assert chunks == [10] * 14 + [2]
    assert info.feature_count == 142
    assert info.attribution == "© OpenStreetMap contributors"
    expected = json.loads((data_dir / SAMPLE).read_text())["features"]
    stored = _stored(repository, "roads")
    assert [f.feature_id for f in stored] == [f["id"] for f in expected]
    for feature, original in zip(stored, expected, strict=True):
        assert list(feature.properties.items()) == list(original["properties"].items())
        coordinates = original["geometry"]["coordinates"]
        assert shapely.get_coordinates(feature.geometry).tolist() == coordinates


def test_a_projected_file_is_reprojected_chunk_by_chunk(
    repository: Repository, data_dir: Path, tmp_path: Path
) -> None:
    frame = pyogrio.read_dataframe(data_dir / SAMPLE).to_crs(32748)  # UTM 48S, Tangerang
    path = tmp_path / "roads_utm.gpkg"
    pyogrio.write_dataframe(frame, path, layer="roads")
    repository.create_layer(open_layer(path, slug="utm", chunk_features=7))

    to_lon_lat = Transformer.from_crs(32748, 4326, always_xy=True)
    stored = _stored(repository, "utm")
    assert len(stored) == 142
    for feature, projected in zip(stored, frame.geometry, strict=True):
        x, y = shapely.get_coordinates(projected).T
        lon, lat = to_lon_lat.transform(x, y)
        got = shapely.get_coordinates(feature.geometry)
        assert got[:, 0] == pytest.approx(lon, abs=1e-9)
        assert got[:, 1] == pytest.approx(lat, abs=1e-9)
    assert stored[0].properties["name"] == "Jalan Dokter Sitanala"


def _roads_with_a_gap(path: Path, missing: int, count: int = 10) -> Path:
    """`count` short roads in EPSG:4326; the one at index `missing` has no geometry."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"road {n}"},
            "geometry": None
            if n == missing
            else {"type": "LineString", "coordinates": [[106.6 + n / 1000, -6.2], [106.6, -6.19]]},
        }
        for n in range(count)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_a_bad_feature_in_the_third_chunk_keeps_the_old_layer(
    repository: Repository, data_dir: Path, tmp_path: Path
) -> None:
    repository.create_layer(open_layer(data_dir / SAMPLE, slug="roads"))
    before = _stored(repository, "roads")
    bad = _roads_with_a_gap(tmp_path / "roads.geojson", missing=5)
    chunks: list[int] = []

    with pytest.raises(InvalidInput, match="the feature has no geometry") as raised:
        repository.create_layer(
            open_layer(bad, slug="roads", chunk_features=2), replace=True, progress=chunks.append
        )

    assert raised.value.where == {"feature": 5, "field": "geometry"}
    assert chunks == [2, 2]  # two chunks were stored before the third failed
    assert _stored(repository, "roads") == before
    assert _feature_rows(repository) == 142


def test_coordinates_beyond_longitude_and_latitude_name_their_feature(
    repository: Repository, tmp_path: Path
) -> None:
    path = _roads_with_a_gap(tmp_path / "roads.geojson", missing=-1)
    document = json.loads(path.read_text())
    document["features"][7]["geometry"]["coordinates"][1] = [106.6, -96.0]
    path.write_text(json.dumps(document))

    with pytest.raises(InvalidInput, match="not a longitude and latitude") as raised:
        repository.create_layer(open_layer(path, slug="roads", chunk_features=3))
    assert raised.value.where == {"feature": 7, "field": "geometry"}
    assert repository.layer_slugs() == []


def test_load_layer_command_streams_and_reports_the_bad_feature(
    client: TestClient, data_dir: Path, tmp_path: Path
) -> None:
    settings = store_env(client)
    loaded = run_takeoff(
        "load-layer", str(data_dir / SAMPLE), "--slug", "city", "--chunk-features", "25", **settings
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "collection 'city': 142 features"

    bad = _roads_with_a_gap(tmp_path / "roads.geojson", missing=4)
    failed = run_takeoff(
        "load-layer", str(bad), "--slug", "city", "--replace", "--chunk-features", "2", **settings
    )
    assert failed.returncode == 2
    assert "takeoff: error: feature 4, field geometry: the feature has no geometry" in failed.stderr
    assert client.get("/collections/city").json()["itemCount"] == 142
