"""`POST /estimates` and saved estimates, on both stores, checked by hand."""

from __future__ import annotations

import csv as csv_module
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from app.routes.estimates import INLINE_BODY_BYTES
from tests.conftest import API_KEY, BASE

GEOD = Geod(ellps="WGS84")
STREET = [[106.6300, -6.1700], [106.6309, -6.1700], [106.6309, -6.1706]]


def _idr(value: float | Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _stated(quantity: float) -> Decimal:
    return Decimal(quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _street_length() -> float:
    lons, lats = zip(*STREET, strict=True)
    return float(GEOD.line_length(lons, lats))


def test_a_neighbourhood_rigid_street_by_hand(client: TestClient) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    answer = client.post(
        "/estimates",
        params={"template": "neighbourhood-rigid", "catalog": "tangerang-sample"},
        json=body,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()

    length = _street_length()  # about 166 m, GeographicLib
    area = length * 3.0  # default width of jalan lingkungan: 3 m
    # net design quantities (the loss factors sit inside the AHSP unit prices), m2 / m3 / m
    quantities = {
        # in the catalog's (Divisi) order, the order of the bill; lump sums once, first and
        # last (Divisi 1 and SMKK)
        "MOBILISASI": (1.0, 7_500_000),
        "PAPAN-NAMA": (1.0, 1_500_000),
        "TRAFFIC-MGMT": (1.0, 5_000_000),
        "SUBGRADE-PREP": (area, 3_200),
        "CONC-FC20": (area * 0.15, 1_300_000),  # 15 cm fc' 20 concrete
        "SAND-BED": (area * 0.05, 250_000),  # 5 cm sand bed
        # no TIE-BAR nor LONG-JOINT line: 3 m is one slab, no longitudinal joint
        "FORMWORK": (length * 2 * 0.15, 175_000),  # both edges, 15 cm high
        "SAWN-JOINT": (area / 3.6, 45_000),  # a 3 m joint every 3.6 m
        "PLASTIC-SHEET": (area, 6_000),
        "SMKK": (1.0, 10_000_000),
    }
    # each line states its volume to 2 decimals (whole Ls) and its amount is that x rate
    stated = {code: _stated(quantity) for code, (quantity, _) in quantities.items()}
    amounts = {code: _idr(stated[code] * rate) for code, (_, rate) in quantities.items()}
    subtotal = sum(amounts.values(), start=Decimal(0))
    tax = _idr(subtotal * Decimal("0.11"))  # PPN effective 11 %, no separate O&P (in AHSP)
    project = Decimal(24_000_000)

    assert result["totals"]["length_m"] == pytest.approx(length, rel=1e-9)
    assert result["totals"]["area_m2"] == pytest.approx(area, rel=1e-9)
    items = {item["code"]: item for item in result["items"]}
    assert list(items) == list(quantities)
    for code in quantities:
        assert Decimal(str(items[code]["quantity"])) == stated[code], code
        assert Decimal(items[code]["amount"]) == amounts[code], code
    assert items["CONC-FC20"]["unit"] == "m3"
    assert Decimal(result["totals"]["subtotal"]) == subtotal
    assert Decimal(result["totals"]["overhead_profit"]) == 0
    assert Decimal(result["totals"]["tax"]) == tax
    assert Decimal(result["totals"]["total"]) == subtotal + tax
    assert Decimal(result["totals"]["rounded_total"]) == (subtotal + tax) // 1000 * 1000
    assert sum(Decimal(d["amount"]) for d in result["divisions"]) == subtotal
    assert result["vat_label"] == {"en": "VAT (PPN) 12 % x 11/12", "id": "PPN 12 % x 11/12"}
    assert result["currency"] == "IDR"
    assert result["template"]["slug"] == "neighbourhood-rigid"
    assert result["catalog"]["slug"] == "tangerang-sample"
    feature = result["features"][0]
    assert feature["length_method"] == "line"
    assert feature["mean_width_m"] == 3.0
    # a feature has no project item: its subtotal is the road's lines alone
    assert Decimal(feature["subtotal"]) == subtotal - project
    assert "MOBILISASI" not in {item["code"] for item in feature["items"]}


def test_same_input_gives_identical_bytes(client: TestClient) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    first = client.post("/estimates", json=body)
    second = client.post("/estimates", json=body)
    assert first.content == second.content


def test_small_and_large_bodies_get_the_same_answer(client: TestClient) -> None:
    """A body up to `INLINE_BODY_BYTES` is estimated on the event loop, a larger one in a
    worker thread: the same road gets the same figures and the same named problem."""
    street = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    # the same street drawn with a vertex every 10 cm along its first leg: > 8 KB of JSON
    west, east = STREET[0][0], STREET[1][0]
    dense = [[west + (east - west) * k / 1000, STREET[0][1]] for k in range(1000)] + STREET[1:]
    large = {**street, "geometry": {"type": "LineString", "coordinates": dense}}
    assert len(json.dumps(street)) < INLINE_BODY_BYTES < len(json.dumps(large))

    small_answer, large_answer = (client.post("/estimates", json=body) for body in (street, large))
    assert small_answer.status_code == large_answer.status_code == 200, large_answer.text
    small_result, large_result = small_answer.json(), large_answer.json()
    assert large_result["features"][0]["length_m"] == pytest.approx(
        small_result["features"][0]["length_m"], rel=1e-9
    )
    assert large_result["items"] == small_result["items"]
    assert large_result["totals"]["total"] == small_result["totals"]["total"]

    for body in (street, large):
        broken = {**body, "properties": {"width_m": -2}}
        answer = client.post("/estimates", json=broken)
        assert answer.status_code == 422, answer.text
        assert answer.json()["feature"] == 0
        assert "width_m" in answer.json()["detail"]


def test_feature_properties_override_the_query(client: TestClient) -> None:
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
    result = client.post(
        "/estimates", params={"template": "neighbourhood-rigid"}, json=collection
    ).json()
    first, second = result["features"]
    assert (first["name"], first["template"]["slug"]) == ("Gang Mawar", "neighbourhood-rigid")
    assert first["area_m2"] == pytest.approx(_street_length() * 2.5, rel=1e-9)
    assert second["template"]["slug"] == "asphalt-overlay"
    assert result["template"] is None
    assert {t["slug"] for t in result["templates"]} == {"neighbourhood-rigid", "asphalt-overlay"}
    assert Decimal(result["totals"]["total"]) > Decimal(first["total"])


def test_geojson_answer_has_flat_properties_for_qgis(client: TestClient) -> None:
    body = {
        "type": "Feature",
        "properties": {"name": "Jalan Contoh", "osm_id": 42},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    answer = client.post(
        "/estimates",
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
    assert properties["length_m"] == round(_street_length(), 2)  # the bill's decimals for m
    assert "ac_wc_t" in properties and "lpa_m3" in properties
    assert not any(isinstance(value, dict | list) for value in properties.values())
    answer = client.post("/estimates", params={"template": "local-flexible"}, json=body).json()
    # a row is a feature: its total, without the estimate's project items
    assert Decimal(str(properties["total"])) == Decimal(answer["features"][0]["total"])


def test_downloads(client: TestClient, tmp_path: Path) -> None:
    body = {
        "type": "Feature",
        "properties": {"name": "=1+2"},
        "geometry": {"type": "LineString", "coordinates": STREET},
    }
    url = "/estimates"
    xlsx = client.post(url, params={"f": "xlsx"}, json=body)
    assert xlsx.headers["content-disposition"] == 'attachment; filename="estimate.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == [
        "Summary",
        "Items",
        "RAB",
        "REKAPITULASI",
        "Volume back-up",
        "Material",
        "Assumptions",
    ]
    header, *materials = book["Material"].iter_rows(values_only=True)
    answered = client.post(url, json=body).json()["materials"]
    assert [row[0] for row in materials] == [line["material"] for line in answered]
    assert [row[header.index("Loads")] for row in materials] == [line["loads"] for line in answered]
    assert [row[header.index("Order quantity")] for row in materials] == [
        line["order_quantity"] for line in answered
    ]
    assert [row[header.index("Haul km")] for row in materials] == [
        line["haul_km"] for line in answered
    ]
    assert all(row[header.index("Working days")] >= 1 for row in materials)
    total_row = [
        row
        for row in book["Summary"].iter_rows(values_only=True)
        if row[2] and str(row[2]).startswith("Total")
    ]
    expected = Decimal(client.post(url, json=body).json()["totals"]["total"])
    assert total_row[0][7] == int(expected)
    header, *items = book["Items"].iter_rows(values_only=True)
    assert [row[header.index("name")] for row in items] == ["'=1+2"]

    csv = client.post(url, params={"f": "csv"}, json=body)
    assert csv.headers["content-type"].startswith("text/csv")
    header = next(iter(csv_module.reader(io.StringIO(csv.text))))
    assert header[-1] == "wkt" and "ac_wc_t" in header and header[-3:-1] == ["status", "error"]

    gpkg = client.post(url, params={"f": "gpkg"}, json=body)
    assert gpkg.headers["content-disposition"] == 'attachment; filename="estimate.gpkg"'
    path = tmp_path / "estimate.gpkg"
    path.write_bytes(gpkg.content)
    frame = pyogrio.read_dataframe(path, layer="estimate")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 1


def test_save_get_and_delete(client: TestClient) -> None:
    body = {"type": "LineString", "coordinates": STREET}
    saved = client.post("/estimates", params={"save": "true"}, json=body)
    assert saved.status_code == 201
    estimate_id = saved.json()["id"]
    assert saved.headers["location"] == f"{BASE}/estimates/{estimate_id}"

    loaded = client.get(saved.headers["location"]).json()
    assert loaded["totals"] == saved.json()["totals"]
    assert loaded["request"]["body"] == body
    assert loaded["request"]["query"]["catalog"] == "tangerang-sample@1"
    assert loaded["request"]["template_versions"] == {"local-flexible": 1}
    again = client.get(saved.headers["location"], params={"f": "geojson"}).json()
    assert again["features"][0]["properties"]["total"] == pytest.approx(
        float(saved.json()["features"][0]["total"])
    )
    item = client.get(f"/collections/estimates/items/{estimate_id}").json()
    assert item["geometry"]["type"] == "MultiPolygon"
    assert item["properties"]["total"] == int(Decimal(saved.json()["totals"]["total"]))

    assert client.delete(saved.headers["location"]).status_code == 401
    deleted = client.delete(saved.headers["location"], headers={"X-API-Key": API_KEY})
    assert deleted.status_code == 204
    assert client.get(saved.headers["location"]).status_code == 404


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
        (
            {},
            {
                "type": "Feature",
                "properties": {"width_m": "wide"},
                "geometry": {"type": "LineString", "coordinates": STREET},
            },
            422,
            "width_m must be a number, got 'wide'",
        ),
        (
            {},
            {
                "type": "Feature",
                "properties": {"rates": {"AC-WC": "abc"}},
                "geometry": {"type": "LineString", "coordinates": STREET},
            },
            422,
            "field rates.AC-WC: Input should be a valid decimal",
        ),
    ],
)
def test_bad_requests_are_named_problems(
    client: TestClient, params: dict[str, str], body: dict, status: int, fragment: str
) -> None:
    answer = client.post("/estimates", params=params, json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert fragment.lower() in json.dumps(answer.json()).lower()


def _box(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def _geod_area(ring: list[list[float]]) -> float:
    lons, lats = zip(*ring, strict=True)
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0])


def test_overlapping_roads_are_warned_about_and_dissolved(client: TestClient) -> None:
    main_road = _box(106.6300, -6.17009, 106.6310, -6.1700)  # about 110 m x 10 m
    side_road = _box(106.6305, -6.1710, 106.63059, -6.1700)  # crosses it: a T junction
    shared = _box(106.6305, -6.17009, 106.63059, -6.1700)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": g}}
            for g in (main_road, side_road)
        ],
    }
    url = "/estimates"
    plain = client.post(url, params={"width_m": 10}, json=collection).json()
    assert len(plain["warnings"]) == 1
    warning = plain["warnings"][0]
    assert warning.startswith("features 0 and 1 overlap by ")
    assert float(warning.split("overlap by ")[1].split(" m2")[0]) == pytest.approx(
        _geod_area(shared[0]), abs=0.01
    )
    areas = _geod_area(main_road[0]) + _geod_area(side_road[0])
    assert plain["totals"]["area_m2"] == pytest.approx(areas, rel=1e-7)

    dissolved = client.post(url, params={"width_m": 10, "dissolve": "true"}, json=collection)
    result = dissolved.json()
    assert result["totals"]["area_m2"] == pytest.approx(areas - _geod_area(shared[0]), rel=1e-6)
    assert result["features"][0]["area_m2"] == pytest.approx(_geod_area(main_road[0]), rel=1e-7)
    assert "paved once" in result["warnings"][0]
    assert Decimal(result["totals"]["total"]) < Decimal(plain["totals"]["total"])


def test_request_level_overrides_apply_to_every_feature(client: TestClient) -> None:
    collection = {
        "type": "FeatureCollection",
        "overrides": {"thickness": {"CONC-FC20": 0.20}, "rates": {"CONC-FC20": "1450000"}},
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": STREET},
            }
        ],
    }
    result = client.post(
        "/estimates", params={"template": "neighbourhood-rigid"}, json=collection
    ).json()
    concrete = next(item for item in result["items"] if item["code"] == "CONC-FC20")
    quantity = _stated(_street_length() * 3.0 * 0.20)  # 20 cm instead of 15 cm, net
    assert Decimal(str(concrete["quantity"])) == quantity
    assert concrete["unit_rate"] == "1450000"
    assert Decimal(concrete["amount"]) == _idr(quantity * 1_450_000)

    bad = client.post(
        "/estimates",
        json={**collection, "overrides": {"thickness": {"CONC-FC20": -1}}},
        params={"template": "neighbourhood-rigid"},
    )
    assert bad.status_code == 422
    assert "thickness.CONC-FC20" in bad.json()["detail"]


def test_projected_input_is_measured_on_the_ellipsoid(client: TestClient) -> None:
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32748", always_xy=True)
    utm = [list(to_utm.transform(lon, lat)) for lon, lat in STREET]
    answer = client.post(
        "/estimates",
        params={"crs": "EPSG:32748"},
        json={"type": "LineString", "coordinates": utm},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["length_m"] == pytest.approx(_street_length(), rel=1e-8)


def test_estimate_process(client: TestClient) -> None:
    listing = client.get("/processes").json()
    [process] = listing["processes"]
    assert process["id"] == "estimate"
    execute = next(
        link["href"]
        for link in process["links"]
        if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/execute"
    )
    assert execute == f"{BASE}/processes/estimate/execution"
    description = client.get("/processes/estimate").json()
    assert description["inputs"]["geometry"]["minOccurs"] == 1

    geometry = {"type": "LineString", "coordinates": STREET}
    inputs = {"geometry": geometry, "template": "neighbourhood-rigid"}
    raw = client.post(execute, json={"inputs": inputs})
    direct = client.post("/estimates", params={"template": "neighbourhood-rigid"}, json=geometry)
    assert raw.status_code == 200
    assert raw.content == direct.content
    document = client.post(execute, json={"inputs": inputs, "response": "document"}).json()
    assert document["outputs"]["estimate"] == direct.json()

    unknown = client.post(execute, json={"inputs": {**inputs, "colour": "red"}})
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"]
    assert client.get("/processes/paint").status_code == 404
