"""`POST /estimates` and saved estimates against a running server, checked by hand."""

from __future__ import annotations

import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import openpyxl
import pyogrio
import pytest
from pyproj import Geod

from tests.conftest import API_KEY
from tests.live import LiveServer

GEOD = Geod(ellps="WGS84")
STREET = [[106.6300, -6.1700], [106.6309, -6.1700], [106.6309, -6.1706]]


def _idr(value: float) -> Decimal:
    return Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _street_length() -> float:
    lons, lats = zip(*STREET, strict=True)
    return float(GEOD.line_length(lons, lats))


def test_a_neighbourhood_rigid_street_by_hand(server: LiveServer) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    answer = httpx.post(
        server.url + "/estimates",
        params={"template": "neighbourhood-rigid", "catalog": "tangerang-sample"},
        json=body,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()

    length = _street_length()  # about 166 m, GeographicLib
    area = length * 3.0  # default width of jalan lingkungan: 3 m
    sand = area * 0.05 * 1.05  # 5 cm sand bed, 5 % waste, m3
    concrete = area * 0.15 * 1.02  # 15 cm fc' 20 concrete, 2 % waste, m3
    sand_amount = _idr(sand * 250_000)
    concrete_amount = _idr(concrete * 1_300_000)
    subtotal = sand_amount + concrete_amount
    tax = _idr(float(subtotal) * 0.11)  # PPN effective 11 %, no separate O&P (inside AHSP)

    assert result["totals"]["length_m"] == pytest.approx(length, rel=1e-9)
    assert result["totals"]["area_m2"] == pytest.approx(area, rel=1e-9)
    items = {item["code"]: item for item in result["items"]}
    assert list(items) == ["SAND-BED", "CONC-FC20"]
    assert items["SAND-BED"]["quantity"] == pytest.approx(sand, rel=1e-9)
    assert items["CONC-FC20"]["quantity"] == pytest.approx(concrete, rel=1e-9)
    assert items["CONC-FC20"]["unit"] == "m3"
    assert Decimal(items["CONC-FC20"]["amount"]) == concrete_amount
    assert Decimal(result["totals"]["subtotal"]) == subtotal
    assert Decimal(result["totals"]["overhead_profit"]) == 0
    assert Decimal(result["totals"]["tax"]) == tax
    assert Decimal(result["totals"]["total"]) == subtotal + tax
    assert result["currency"] == "IDR"
    assert result["template"]["slug"] == "neighbourhood-rigid"
    assert result["catalog"]["slug"] == "tangerang-sample"
    feature = result["features"][0]
    assert feature["length_method"] == "line"
    assert feature["mean_width_m"] == 3.0
    assert Decimal(feature["total"]) == subtotal + tax


def test_same_input_gives_identical_bytes(server: LiveServer) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    first = httpx.post(server.url + "/estimates", json=body)
    second = httpx.post(server.url + "/estimates", json=body)
    assert first.content == second.content


def test_feature_properties_override_the_query(server: LiveServer) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Gang Mawar", "width_m": 2.5},
                "geometry": {"type": "LineString", "coordinates": STREET},
            },
            {
                "type": "Feature",
                "properties": {"name": "Jalan Kenanga", "template": "asphalt-overlay"},
                "geometry": {"type": "LineString", "coordinates": STREET},
            },
        ],
    }
    result = httpx.post(
        server.url + "/estimates", params={"template": "neighbourhood-rigid"}, json=collection
    ).json()
    first, second = result["features"]
    assert (first["name"], first["template"]["slug"]) == ("Gang Mawar", "neighbourhood-rigid")
    assert first["area_m2"] == pytest.approx(_street_length() * 2.5, rel=1e-9)
    assert second["template"]["slug"] == "asphalt-overlay"
    assert result["template"] is None
    assert {t["slug"] for t in result["templates"]} == {"neighbourhood-rigid", "asphalt-overlay"}
    assert Decimal(result["totals"]["total"]) > Decimal(first["total"])


def test_geojson_answer_has_flat_properties_for_qgis(server: LiveServer) -> None:
    body = {
        "type": "Feature",
        "properties": {"name": "Jalan Contoh", "osm_id": 42},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    answer = httpx.post(
        server.url + "/estimates",
        params={"template": "local-flexible"},
        json=body,
        headers={"Accept": "application/geo+json"},
    )
    assert answer.headers["content-type"] == "application/geo+json"
    collection = answer.json()
    properties = collection["features"][0]["properties"]
    assert properties["osm_id"] == 42
    assert properties["name"] == "Jalan Contoh"
    assert properties["template"] == "local-flexible"
    assert properties["length_m"] == pytest.approx(_street_length(), rel=1e-9)
    assert "ac_wc_t" in properties and "lpa_m3" in properties
    assert not any(isinstance(value, dict | list) for value in properties.values())
    json_total = httpx.post(
        server.url + "/estimates", params={"template": "local-flexible"}, json=body
    ).json()["totals"]["total"]
    assert Decimal(str(properties["total"])) == Decimal(json_total)


def test_downloads(server: LiveServer, tmp_path: Path) -> None:
    body = {
        "type": "Feature",
        "properties": {"name": "=1+2"},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    url = server.url + "/estimates"
    xlsx = httpx.post(url, params={"f": "xlsx"}, json=body)
    assert xlsx.headers["content-disposition"] == 'attachment; filename="estimate.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Summary", "Items", "Assumptions"]
    total_row = [
        row
        for row in book["Summary"].iter_rows(values_only=True)
        if row[2] and str(row[2]).startswith("Total")
    ]
    expected = Decimal(httpx.post(url, json=body).json()["totals"]["total"])
    assert total_row[0][7] == int(expected)
    names = {row[1] for row in book["Items"].iter_rows(min_row=2, values_only=True)}
    assert names == {"'=1+2"}

    csv = httpx.post(url, params={"f": "csv"}, json=body)
    assert csv.headers["content-type"].startswith("text/csv")
    header = csv.text.splitlines()[0].split(",")
    assert header[-1] == "wkt" and "ac_wc_t" in header and "status" not in header

    gpkg = httpx.post(url, params={"f": "gpkg"}, json=body)
    assert gpkg.headers["content-disposition"] == 'attachment; filename="estimate.gpkg"'
    path = tmp_path / "estimate.gpkg"
    path.write_bytes(gpkg.content)
    frame = pyogrio.read_dataframe(path, layer="estimate")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 1


def test_save_get_and_delete(server: LiveServer) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    saved = httpx.post(server.url + "/estimates", params={"save": "true"}, json=body)
    assert saved.status_code == 201
    estimate_id = saved.json()["id"]
    assert saved.headers["location"] == f"{server.url}/estimates/{estimate_id}"

    loaded = httpx.get(saved.headers["location"]).json()
    assert loaded["totals"] == saved.json()["totals"]
    again = httpx.get(saved.headers["location"], params={"f": "geojson"}).json()
    assert again["features"][0]["properties"]["total"] == pytest.approx(
        float(saved.json()["totals"]["total"])
    )
    item = httpx.get(f"{server.url}/collections/estimates/items/{estimate_id}").json()
    assert item["geometry"]["type"] == "MultiPolygon"
    assert item["properties"]["total"] == int(Decimal(saved.json()["totals"]["total"]))

    assert httpx.delete(saved.headers["location"]).status_code == 401
    deleted = httpx.delete(saved.headers["location"], headers={"X-API-Key": API_KEY})
    assert deleted.status_code == 204
    assert httpx.get(saved.headers["location"]).status_code == 404


@pytest.mark.parametrize(
    ("params", "body", "status", "fragment"),
    [
        ({}, {"type": "Point", "coordinates": [106.6, -6.1]}, 422, "Point"),
        (
            {},
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            422,
            "Self-intersection",
        ),
        ({"template": "motorway"}, {"type": "LineString", "coordinates": STREET}, 422, "motorway"),
        ({"catalog": "nowhere@2"}, {"type": "LineString", "coordinates": STREET}, 422, "nowhere"),
        ({"width_m": "-1"}, {"type": "LineString", "coordinates": STREET}, 422, "width_m"),
        ({"f": "pdf"}, {"type": "LineString", "coordinates": STREET}, 422, "pdf"),
    ],
)
def test_bad_requests_are_named_problems(
    server: LiveServer, params: dict[str, str], body: dict, status: int, fragment: str
) -> None:
    answer = httpx.post(server.url + "/estimates", params=params, json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert fragment.lower() in json.dumps(answer.json()).lower()
