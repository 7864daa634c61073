"""A road layer whose features carry nothing but their id: read, published, served, on both
stores. GDAL writes the files; a GeoPackage may keep the id as its FID column."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from app.io.layers import read_layer
from app.store.repository import Repository

LINES = [
    shapely.LineString([(106.63, -6.17), (106.631, -6.17)]),
    shapely.LineString([(106.63, -6.171), (106.631, -6.171)]),
]


def only_ids(ids: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ids}, geometry=LINES, crs=4326)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    geojson = tmp_path / "only_id.geojson"
    features = [
        {"type": "Feature", "properties": {"id": i}, "geometry": shapely.geometry.mapping(line)}
        for i, line in zip((7, 8), LINES, strict=True)
    ]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    as_fid = tmp_path / "id_as_fid.gpkg"  # what ogr2ogr makes of the GeoJSON above
    pyogrio.write_dataframe(only_ids([7, 8]), as_fid, layer_options={"FID": "id"})
    as_text = tmp_path / "id_as_text.gpkg"
    pyogrio.write_dataframe(only_ids(["way/7", "way/8"]), as_text)
    return {"geojson": geojson, "fid": as_fid, "text": as_text}


@pytest.mark.parametrize(
    ("kind", "ids"),
    [("geojson", ["7", "8"]), ("fid", ["7", "8"]), ("text", ["way/7", "way/8"])],
)
def test_a_layer_whose_only_property_is_its_id(
    files: dict[str, Path], repository: Repository, kind: str, ids: list[str]
) -> None:
    assert pyogrio.read_info(files["fid"])["fid_column"] == "id"
    assert pyogrio.read_info(files["fid"])["fields"].tolist() == []
    layer = read_layer(files[kind], slug=f"only-{kind}")
    assert layer.properties == [{}, {}]
    assert layer.feature_ids == ids
    repository.create_layer(layer)
    page = repository.layer_page(f"only-{kind}", limit=10)
    assert page.number_matched == 2
    assert [feature.properties for feature in page.features] == [{}, {}]
    assert [
        feature.geometry.equals_exact(line, 1e-9)
        for feature, line in zip(page.features, LINES, strict=True)
    ] == [True, True]
