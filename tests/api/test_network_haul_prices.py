"""The delivery plan's haul distance prices the hauled AHSP items, on both stores.

The made-up equator network of `test_routing`: the site is A; AC-WC comes from C, 2.218938 km
by road, or F, 995 m in a straight line but about 5.45 km by road. An analysed catalog with a
delivery plan prices AC-WC at C's road distance (2.219 km, the haul rounded to the metre).

AC-WC's analysis: the dump truck's cycle Ts = T1 12.05 + L / 30 x 60 + L / 40 x 60 + T4 5
= 17.05 + 3.5 L minutes, its coefficient Ts / (V 10 x Fa 0.83 x 60 = 498) hours per tonne at
Rp 450,000 an hour, everything else fixed, and the HSP 1.15 x the direct cost, rounded to the
rupiah. So L moves the HSP by 1.15 x 450,000 x 3.5 / 498 rupiah a km from its value at the
catalog's default L 10 km.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pyproj import Geod

from app.estimate.catalogs import load_builtin_catalogs
from app.service import rerun_saved
from tests.api.test_haul import without_delivery_plan
from tests.api.test_routing import feature, network  # noqa: F401 (the network fixture)
from tests.conftest import API_KEY

CATALOG = "ahsp-delivered"
SITE_A = feature("LineString", [[119.9995, 0.0], [120.0005, 0.0]], template="asphalt-overlay")
PER_KM = Decimal("1.15") * 450000 * Decimal("3.5") / 498


def hand_hsp(km: Decimal, data_dir: Path) -> Decimal:
    """AC-WC's HSP at `km` from its unrounded HSP at the default 10 km and the truck line."""
    sample = load_builtin_catalogs(data_dir / "catalogs")["tangerang-ahsp-sample"]
    at_ten = sample.costing("AC-WC", Decimal(10))
    assert at_ten.hsp == 1426147  # tests/api/test_haul.py
    return (at_ten.unrounded + PER_KM * (km - 10)).quantize(Decimal(1), ROUND_HALF_UP)


@pytest.fixture(scope="module")
def delivered(network: TestClient, data_dir: Path) -> TestClient:  # noqa: F811
    """The AHSP sample with the flat sample's delivery plan (vehicles), as its own catalog."""
    catalogs = load_builtin_catalogs(data_dir / "catalogs")
    body = catalogs["tangerang-ahsp-sample"].model_dump(mode="json", exclude={"version"})
    body["vehicles"] = catalogs["tangerang-sample"].model_dump(mode="json")["vehicles"]
    body["slug"] = CATALOG
    network.app.state.repository.catalogs.add(CATALOG, body)  # type: ignore[attr-defined]
    return network


def ac_wc(answer: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [
        (line["unit_rate"], line.get("haul_km"), line.get("haul_from"))
        for line in answer["items"]
        if line["code"] == "AC-WC"
    ]


def test_the_nearest_source_by_road_prices_the_hot_mix(delivered: TestClient, data_dir: Path):
    answer = delivered.post("/estimates", json=SITE_A, params={"catalog": CATALOG}).json()
    asphalt = next(line for line in answer["materials"] if line["material"] == "AC-WC")
    assert (asphalt["source"]["name"], asphalt["haul_method"]) == ("C", "network")
    assert asphalt["haul_km"] == 2.219
    hsp = hand_hsp(Decimal("2.219"), data_dir)
    assert hsp == 1397847  # 1,426,147 - 3,637.05 a km x 7.781 km nearer, to the rupiah
    assert ac_wc(answer) == [(str(hsp), 2.219, "network")]
    tack = next(line for line in answer["items"] if line["code"] == "TACK-COAT")
    assert "haul_km" not in tack  # sprayed, not hauled: its source's distance prices nothing


def test_the_request_haul_distance_wins_over_the_route(delivered: TestClient):
    answer = delivered.post(
        "/estimates", json=SITE_A, params={"catalog": CATALOG, "haul_km": 25}
    ).json()
    assert ac_wc(answer) == [("1480702", 25.0, "request")]  # tests/api/test_haul.py
    asphalt = next(line for line in answer["materials"] if line["material"] == "AC-WC")
    assert asphalt["haul_km"] == 2.219  # the delivery plan still says how far C is
    own = delivered.post(
        "/estimates",
        json={**SITE_A, "properties": {**SITE_A["properties"], "haul_km": 25}},
        params={"catalog": CATALOG},
    ).json()
    assert ac_wc(own) == [("1480702", 25.0, "request")]


def test_a_site_off_the_network_is_priced_at_the_straight_line_haul(
    delivered: TestClient, data_dir: Path
):
    # on road 4, which no path joins to C or F: C is the nearer in a straight line
    road = feature("LineString", [[120.054, 0.0], [120.056, 0.0]], template="asphalt-overlay")
    answer = delivered.post("/estimates", json=road, params={"catalog": CATALOG}).json()
    _, _, metres = Geod(ellps="WGS84").inv(120.055, 0.0, 120.01, 0.01)
    km = Decimal(str(round(metres / 1000 * 1.3, 3)))
    asphalt = next(line for line in answer["materials"] if line["material"] == "AC-WC")
    assert (asphalt["source"]["name"], asphalt["haul_method"]) == ("C", "straight-line")
    assert asphalt["haul_km"] == float(km)
    assert ac_wc(answer) == [(str(hand_hsp(km, data_dir)), float(km), "straight-line")]


def test_a_catalog_without_a_delivery_plan_keeps_its_default(delivered: TestClient, data_dir: Path):
    catalog = without_delivery_plan(delivered, data_dir)
    answer = delivered.post("/estimates", json=SITE_A, params={"catalog": catalog}).json()
    assert ac_wc(answer) == [("1426147", 10.0, "catalog")]


def test_rows_and_processes_carry_the_haul(delivered: TestClient, data_dir: Path):
    rows = delivered.post("/estimates", json=SITE_A, params={"catalog": CATALOG, "f": "csv"})
    assert rows.status_code == 200, rows.text
    (row,) = csv.DictReader(io.StringIO(rows.text))
    assert (row["ac_wc_haul_km"], row["ac_wc_haul_from"]) == ("2.219", "network")
    assert Decimal(row["ac_wc_amount"]) == (
        Decimal(row["ac_wc_t"]) * hand_hsp(Decimal("2.219"), data_dir)
    ).quantize(Decimal(1), ROUND_HALF_UP)

    def execute(**inputs: Any) -> dict[str, Any]:
        body = {"inputs": {"geometry": SITE_A, "catalog": CATALOG, **inputs}}
        answer = delivered.post("/processes/estimate/execution", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert ac_wc(execute()) == [(str(hand_hsp(Decimal("2.219"), data_dir)), 2.219, "network")]
    assert ac_wc(execute(haul_km=25)) == [("1480702", 25.0, "request")]
    refused = delivered.post(
        "/processes/estimate/execution",
        json={"inputs": {"geometry": SITE_A, "catalog": CATALOG, "haul_km": 1001}},
    )
    assert refused.status_code == 422
    assert "haul_km" in refused.text


def test_the_analysis_sheet_is_worked_out_at_the_routed_haul(delivered: TestClient, data_dir: Path):
    answer = delivered.post("/estimates", json=SITE_A, params={"catalog": CATALOG, "f": "xlsx"})
    assert answer.status_code == 200, answer.text
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = [(*row, None, None)[:7] for row in book["AHSP AC-WC"].iter_rows(values_only=True)]
    haul = next(row for row in rows if row[0] == "Jarak angkut rata-rata L (km)")
    assert haul[1:3] == (2.219, "rute jaringan jalan ke sumber terdekat")
    truck = next(row for row in rows if row[2] == "E.DUMP")
    assert truck[4] == pytest.approx((17.05 + 3.5 * 2.219) / 498)  # Ts / (V x Fa x 60)
    rounded = next(row for row in rows if row[1] == "DIBULATKAN")
    assert rounded[6] == hand_hsp(Decimal("2.219"), data_dir)


def test_a_saved_estimate_keeps_the_haul_it_was_priced_with(delivered: TestClient, data_dir: Path):
    saved = delivered.post(
        "/estimates", json=SITE_A, params={"catalog": CATALOG, "save": "true"}
    ).json()
    # a plant opens at the site itself: new estimates haul nothing, the saved one keeps C
    plant = feature("Point", [120.0, 0.0], name="D", kind="AMP", materials="AC-WC")
    added = delivered.post(
        "/sources",
        json={"type": "FeatureCollection", "features": [plant]},
        headers={"X-API-Key": API_KEY},
    )
    assert added.status_code == 201, added.text
    fresh = delivered.post("/estimates", json=SITE_A, params={"catalog": CATALOG}).json()
    assert ac_wc(fresh) == [(str(hand_hsp(Decimal(0), data_dir)), 0.0, "network")]
    app = delivered.app
    stored = app.state.repository.get_estimate(saved["id"])  # type: ignore[attr-defined]
    assert stored.request["hauls"]["AC-WC"]["name"] == "C"
    again = rerun_saved(app.state.repository, app.state.settings, stored)  # type: ignore[attr-defined]
    assert again.result.to_dict() == stored.result
    assert ac_wc(stored.result) == [("1397847", 2.219, "network")]
