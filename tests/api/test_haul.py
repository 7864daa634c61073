"""An analysed catalog over HTTP: the haul distance per request and per feature, and the
analyses shown with their computed HSP."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pyproj import Geod

from app.estimate.catalogs import load_builtin_catalogs

CATALOG = "tangerang-ahsp-sample"
NO_PLAN = "ahsp-without-delivery-plan"
GEOD = Geod(ellps="WGS84")


def without_delivery_plan(client: TestClient, data_dir: Path) -> str:
    """The AHSP sample without its delivery plan (vehicles) as catalog `NO_PLAN`: nothing is
    routed, so hauled items are priced at the L a request gives or the catalog's default."""
    body = load_builtin_catalogs(data_dir / "catalogs")[CATALOG].model_dump(
        mode="json", exclude={"version"}
    )
    del body["vehicles"]
    client.app.state.repository.catalogs.add(NO_PLAN, body)  # type: ignore[attr-defined]
    return NO_PLAN


def _road(x: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"template": "asphalt-overlay", "width_m": 6, **properties},
        "geometry": {"type": "LineString", "coordinates": [[x, -6.17], [x + 0.001, -6.17]]},
    }


def _ac_wc(lines: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(line["unit_rate"], line.get("haul_km")) for line in lines if line["code"] == "AC-WC"]


def test_query_and_feature_haul_distances_price_separate_lines(
    client: TestClient, data_dir: Path
) -> None:
    sample = load_builtin_catalogs(data_dir / "catalogs")[CATALOG]
    hsp = {km: str(sample.costing("AC-WC", Decimal(km)).hsp) for km in (5, 10, 25)}
    assert hsp == {5: "1407961", 10: "1426147", 25: "1480702"}
    both = {"type": "FeatureCollection", "features": [_road(106.63), _road(106.64, haul_km=5)]}
    catalog = without_delivery_plan(client, data_dir)

    default = client.post("/estimates", params={"catalog": catalog}, json=both).json()
    assert _ac_wc(default["items"]) == [(hsp[5], 5.0), (hsp[10], 10.0)]
    assert _ac_wc(default["features"][0]["items"]) == [(hsp[10], 10.0)]
    assert _ac_wc(default["features"][1]["items"]) == [(hsp[5], 5.0)]
    tack = [line for line in default["items"] if line["code"] == "TACK-COAT"]
    assert len(tack) == 1 and "haul_km" not in tack[0]  # sprayed, not hauled

    far = client.post("/estimates", params={"catalog": catalog, "haul_km": 25}, json=both).json()
    assert _ac_wc(far["items"]) == [(hsp[5], 5.0), (hsp[25], 25.0)]


def test_the_shipped_sample_hauls_from_the_nearest_shipped_plant(
    client: TestClient, data_dir: Path
) -> None:
    # the shipped AMP stands off every shipped road: the straight line from the road's centre
    # to it, times the catalog's detour factor 1.3, is L
    sources = json.loads((data_dir / "sources" / "tangerang_sources.geojson").read_text())
    [amp] = [f for f in sources["features"] if f["properties"]["kind"] == "AMP"]
    lon, lat = amp["geometry"]["coordinates"]
    km = round(GEOD.inv(106.6305, -6.17, lon, lat)[2] / 1000 * 1.3, 3)
    assert km == pytest.approx(24.908, abs=0.001)
    sample = load_builtin_catalogs(data_dir / "catalogs")[CATALOG]
    hsp = str(sample.costing("AC-WC", Decimal(str(km))).hsp)
    answer = client.post("/estimates", params={"catalog": CATALOG}, json=_road(106.63)).json()
    assert [
        (line["unit_rate"], line["haul_km"], line["haul_from"])
        for line in answer["items"]
        if line["code"] == "AC-WC"
    ] == [(hsp, km, "straight-line")]


def test_a_bad_haul_distance_names_the_feature(client: TestClient) -> None:
    answer = client.post("/estimates", params={"catalog": CATALOG}, json=_road(106.63, haul_km=-3))
    assert answer.status_code == 422
    assert "haul_km" in answer.text
    query = client.post("/estimates", params={"catalog": CATALOG, "haul_km": 5000}, json=_road(1))
    assert query.status_code == 422


def test_saved_estimate_keeps_its_haul_distance(client: TestClient) -> None:
    saved = client.post(
        "/estimates", params={"catalog": CATALOG, "haul_km": 25, "save": "true"}, json=_road(106.63)
    )
    assert saved.status_code == 201, saved.text
    stored = client.get(f"/estimates/{saved.json()['id']}").json()
    assert stored["request"]["query"]["haul_km"] == 25
    assert _ac_wc(stored["items"]) == [("1480702", 25.0)]


def test_catalog_shows_each_analysis_worked_out(client: TestClient) -> None:
    body = client.get(f"/catalogs/{CATALOG}").json()
    ac_wc = body["analysis_results"]["AC-WC"]
    assert ac_wc["hsp"] == body["items"]["AC-WC"]["rate"] == "1426147"
    assert ac_wc["haul_km"] == "10"
    truck = next(line for line in ac_wc["lines"] if line["price"] == "E.DUMP")
    assert truck["cycle_min"] == "52.05"
    assert ac_wc["overhead_profit_pct"] == "15"
    assert body["analysis_results"]["PRIME-COAT"]["hsp"] == "22151"
    assert "MOBILISASI" not in body["analysis_results"]
    assert body["items"]["MOBILISASI"]["rate"] == "7500000"


def test_workbook_has_an_analysis_sheet_per_analysed_item(client: TestClient) -> None:
    both = {"type": "FeatureCollection", "features": [_road(106.63), _road(106.64, haul_km=5)]}
    answer = client.post(
        "/estimates", params={"catalog": CATALOG, "haul_km": 25, "f": "xlsx"}, json=both
    )
    assert answer.status_code == 200, answer.text
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    assert {"AHSP AC-WC", "AHSP TACK-COAT"} <= set(book.sheetnames)
    rows = [(*row, *[None] * 7)[:7] for row in book["AHSP AC-WC"].iter_rows(values_only=True)]
    facts = {row[0]: row[1] for row in rows if row[0]}
    assert facts["Mata pembayaran"] == "6.3.(5a)"
    assert facts["Jarak angkut rata-rata L (km)"] == 25
    assert facts["Baris lain pada tagihan"] == "dihitung dengan L fitur sendiri: 1407961"
    truck = next(row for row in rows if row[2] == "E.DUMP")
    assert truck[4] == pytest.approx(104.55 / 498)  # Ts at 25 km / (V x Fa x 60), hours
    assert truck[6] == pytest.approx(450000 * 104.55 / 498)
    rounded = next(row for row in rows if row[1] == "DIBULATKAN")
    assert rounded[6] == 1480702
    assert "AHSP MOBILISASI" not in book.sheetnames


def test_batch_upload_takes_a_haul_distance_for_rows_giving_none(client: TestClient) -> None:
    line = "LINESTRING (106.63 -6.17, 106.631 -6.17)"
    upload = (
        "name,wkt,template,haul_km\n"
        f'near,"{line}",asphalt-overlay,5\n'
        f'far,"{line}",asphalt-overlay,\n'
    )
    answer = client.post(
        "/batch",
        params={"catalog": CATALOG, "haul_km": 25},
        files={"file": ("roads.csv", upload.encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(answer.text))}
    # the same road: the amounts stand in the ratio of the HSPs at 25 and 5 km
    ratio = Decimal(rows["far"]["ac_wc_amount"]) / Decimal(rows["near"]["ac_wc_amount"])
    assert abs(ratio - Decimal(1480702) / Decimal(1407961)) < Decimal("0.000001")
    haul = {name: (row["ac_wc_haul_km"], row["ac_wc_haul_from"]) for name, row in rows.items()}
    assert haul == {"near": ("5", "request"), "far": ("25", "request")}
    assert "tack_coat_haul_km" not in rows["near"]  # sprayed, not hauled

    default = client.post(
        "/batch",
        params={"catalog": CATALOG},
        files={"file": ("roads.csv", upload.encode(), "text/csv")},
    )
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(default.text))}
    haul = {name: (row["ac_wc_haul_km"], row["ac_wc_haul_from"]) for name, row in rows.items()}
    assert haul == {"near": ("5", "request"), "far": ("10", "catalog")}
    assert (rows["near"]["lpa_haul_km"], rows["near"]["lpa_haul_from"]) == ("", "")  # no LPA
