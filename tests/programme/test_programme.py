"""Inventory to programme: treatments per rule, the bill of a treatment, the budget line,
complaints, Indonesian columns and decimal commas, bad rows named and kept."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod

from app.errors import InvalidInput
from app.programme.complaints import count_near
from app.programme.engine import budget_line
from app.programme.inventory import column_map

GEOD = Geod(ellps="WGS84")
HEADER = ["nama_ruas", "kecamatan", "panjang", "lebar", "perkerasan", "kondisi", "iri", "pci"]

# (perkerasan, kondisi, iri, pci, fungsi, penanganan) -> (treatment, template), by hand from
# the shipped rule set: aspal baik crack sealing, sedang patching, rusak ringan mill + overlay
# on arteri/kolektor else overlay, rusak berat reconstruction; beton baik joint sealing,
# sedang / rusak ringan slab replacement, rusak berat reconstruction; paving baik nothing,
# sedang / rusak ringan relaying, rusak berat reconstruction; tanah always upgraded.
# IRI bands < 4 | 4-8 | 8-12 | >= 12; PCI > 70 | 56-70 | 41-55 | <= 40.
RA, RC, RP = "reconstruction-asphalt", "reconstruction-concrete", "reconstruction-paving"
NR, NP = "neighbourhood-rigid", "neighbourhood-paving"
FIFTY = [
    ("aspal", "baik", "", "", "lokal", "", "crack-sealing", "crack-sealing"),
    ("aspal", "", "3,9", "", "arteri", "", "crack-sealing", "crack-sealing"),
    ("aspal", "", "", "71", "lingkungan", "", "crack-sealing", "crack-sealing"),
    ("aspal", "good", "", "", "kolektor", "", "crack-sealing", "crack-sealing"),
    ("aspal", "sedang", "", "", "lokal", "", "patching", "patching"),
    ("aspal", "", "4", "", "kolektor", "", "patching", "patching"),
    ("aspal", "", "", "70", "arteri", "", "patching", "patching"),
    ("aspal", "Sedang", "", "", "lingkungan", "", "patching", "patching"),
    ("aspal", "rusak ringan", "", "", "arteri", "", "mill-overlay", "mill-overlay"),
    ("aspal", "rusak_ringan", "", "", "kolektor", "", "mill-overlay", "mill-overlay"),
    ("aspal", "", "8", "", "lokal", "", "overlay", "overlay-levelling"),
    ("aspal", "", "", "55", "lingkungan", "", "overlay", "overlay-levelling"),
    ("aspal", "RR", "", "", "", "", "overlay", "overlay-levelling"),
    ("aspal", "rusak berat", "", "", "arteri", "", RA, "arterial-flexible"),
    ("aspal", "", "12", "", "kolektor", "", RA, "collector-flexible"),
    ("aspal", "", "", "40", "lokal", "", RA, "local-flexible"),
    ("aspal", "Rusak-Berat", "", "", "lingkungan", "", RA, "local-flexible"),
    ("hotmix", "baik", "", "", "lokal", "", "crack-sealing", "crack-sealing"),
    ("Asphalt", "", "20", "", "lokal", "", RA, "local-flexible"),
    ("aspal", "baik", "15", "", "lokal", "", "crack-sealing", "crack-sealing"),
    ("beton", "baik", "", "", "lokal", "", "joint-sealing", "joint-sealing"),
    ("rigid", "", "2", "", "kolektor", "", "joint-sealing", "joint-sealing"),
    ("beton", "sedang", "", "", "lokal", "", "slab-replacement", "slab-replacement"),
    ("beton", "", "", "60", "arteri", "", "slab-replacement", "slab-replacement"),
    ("beton", "rusak ringan", "", "", "lingkungan", "", "slab-replacement", "slab-replacement"),
    ("beton", "", "9", "", "kolektor", "", "slab-replacement", "slab-replacement"),
    ("beton", "rusak berat", "", "", "lokal", "", RC, NR),
    ("beton", "rusak berat", "", "", "arteri", "", RC, "collector-rigid"),
    ("rabat beton", "", "", "10", "lingkungan", "", RC, NR),
    ("beton", "bad", "", "", "kolektor", "", RC, "collector-rigid"),
    ("Concrete", "baik", "", "", "arteri", "", "joint-sealing", "joint-sealing"),
    ("beton", "sedang", "", "", "kolektor", "", "slab-replacement", "slab-replacement"),
    ("paving", "baik", "", "", "lingkungan", "", "none", None),
    ("paving block", "", "", "90", "lokal", "", "none", None),
    ("paving", "sedang", "", "", "lingkungan", "", "paving-relay", "paving-relay"),
    ("conblock", "", "5", "", "lokal", "", "paving-relay", "paving-relay"),
    ("paving", "rusak ringan", "", "", "lingkungan", "", "paving-relay", "paving-relay"),
    ("paving", "", "", "41", "lokal", "", "paving-relay", "paving-relay"),
    ("paving", "rusak berat", "", "", "lingkungan", "", RP, NP),
    ("paving", "", "13", "", "lokal", "", RP, NP),
    ("paving", "poor", "", "", "kolektor", "", "paving-relay", "paving-relay"),
    ("PAVING", "baik", "", "", "arteri", "", "none", None),
    ("tanah", "baik", "", "", "lingkungan", "", "upgrade-earth", NR),
    ("tanah", "sedang", "", "", "lokal", "", "upgrade-earth", "local-flexible"),
    ("tanah", "rusak ringan", "", "", "kolektor", "", "upgrade-earth", "collector-flexible"),
    ("tanah", "rusak berat", "", "", "arteri", "", "upgrade-earth", "arterial-flexible"),
    ("kerikil", "", "10", "", "lingkungan", "", "upgrade-earth", NR),
    ("tanah", "", "", "30", "lokal", "", "upgrade-earth", "local-flexible"),
    ("tanah", "baik", "", "", "", "", "upgrade-earth", "local-flexible"),
    ("aspal", "sedang", "", "", "lokal", "overlay", "overlay", "overlay-levelling"),
]


def _write(path: Path, header: list[str], rows: list[list[Any]], separator: str = ";") -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, delimiter=separator)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _fifty(tmp_path: Path) -> Path:
    rows = [
        [f"Jalan {n}", "Tangerang" if n % 2 else "Cibodas", "100", "5", *row[:6]]
        for n, row in enumerate(FIFTY, start=1)
    ]
    header = [*HEADER, "fungsi", "penanganan"]
    return _write(tmp_path / "fifty.csv", header, rows)


def test_fifty_segments_get_the_treatment_their_rule_gives(
    tmp_path: Path, run_programme: Any
) -> None:
    assert len(FIFTY) == 50
    made = run_programme(_fifty(tmp_path))
    assert made.messages == {}
    assert made.segments["treatment"].tolist() == [row[6] for row in FIFTY]
    assert made.segments["template"].tolist() == [row[7] for row in FIFTY]
    condition_from = made.segments["condition_from"].tolist()
    assert condition_from[:3] == [0, 1, 2]  # kondisi, IRI, PCI
    assert condition_from[19] == 0  # kondisi wins over an IRI on the same row


def test_a_patch_costs_what_the_bill_of_its_area_costs_by_hand(
    tmp_path: Path, run_programme: Any
) -> None:
    made = run_programme(_fifty(tmp_path))
    # row 5, aspal sedang lokal, 100 m x 5 m: 10 % patched = 50 m2.
    # cut 50 x 0.05 = 2.5 m3 x 320,000 = 800,000; tack 50 x 0.25 L x 0.6 residue = 7.5 L x
    # 21,500 = 161,250; AC-WC 50 x 0.05 x 2.32 = 5.8 t x 1,400,000 = 8,120,000;
    # subtotal 9,081,250 + PPN 11 % 998,937.5 -> 998,938 = 10,080,188
    assert made.segments["treated_m2"][4] == pytest.approx(50.0)
    assert int(made.segments["cost"][4]) == 10_080_188
    table = made.result_columns(4, 5).to_pylist()[0]
    assert float(table["asphalt_cut_m3"]) == 2.5
    assert float(table["tack_coat_l"]) == 7.5
    assert float(table["ac_wc_t"]) == 5.8
    assert int(table["cost"]) == 10_080_188
    assert table["status"] == "funded"
    assert table["reason"].startswith("sedang -> Patching (routine maintenance); road class lokal")


def test_budget_line_by_hand() -> None:
    cost = np.array([100, 250, 0, 300, 50, 250], dtype=np.int64)
    score = np.array([50.0, 80.0, 90.0, 70.0, 10.0, 80.0])
    line = budget_line(cost, score, budget=600)
    # order: row 2 has no works; rows 1 and 5 tie at 80 (input order), then 3, 0, 4
    assert line.rank.tolist() == [4, 1, 0, 3, 5, 2]
    # 250 + 250 = 500 fits; + 300 = 800 does not: the line is drawn there, so the cheap
    # rows 0 and 4 below it are not funded either
    assert line.funded.tolist() == [False, True, False, False, False, True]
    assert (line.needed, line.funded_total, line.gap, line.left) == (950, 500, 450, 100)
    assert budget_line(cost, score, None).funded.tolist() == [True, True, False, True, True, True]


def test_a_programme_funds_in_priority_order_up_to_the_budget(
    tmp_path: Path, run_programme: Any
) -> None:
    rows = [
        ["A", "Cibodas", "100", "5", "aspal", "sedang", "", ""],
        ["B", "Cibodas", "100", "5", "aspal", "sedang", "", ""],
        ["C", "Tangerang", "100", "5", "paving", "baik", "", ""],
    ]
    path = _write(tmp_path / "three.csv", HEADER, rows)
    made = run_programme(path, budget=Decimal("15000000"))
    summary = made.summary()
    assert made.line.funded.tolist() == [True, False, False]
    assert summary["totals"]["needed"] == "20160376"
    assert summary["totals"]["funded"] == "10080188"
    assert summary["totals"]["funding_gap"] == "10080188"
    assert summary["totals"]["budget_left"] == "4919812"
    assert summary["totals"]["no_works"] == 1
    assert summary["by_kecamatan"][0] == {
        "kecamatan": "Cibodas",
        "segments": 2,
        "length_m": 200.0,
        "cost": "20160376",
        "funded": "10080188",
        "not_funded": "10080188",
    }
    bills = made.funded_bills()
    assert list(bills) == ["Cibodas"]
    assert bills["Cibodas"].totals.total == Decimal("10080188")


def _line(lon: float) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [[lon, -6.180], [lon, -6.179]]}


def test_complaints_near_a_segment_move_it_up_and_give_its_patched_area(
    tmp_path: Path, run_programme: Any
) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": _line(lon),
            "properties": {
                "nama_ruas": name,
                "kecamatan": "Karawaci",
                "lebar": 5,
                "perkerasan": "aspal",
                "kondisi": "sedang",
            },
        }
        for name, lon in (("A", 106.630), ("B", 106.640))
    ]
    path = tmp_path / "two.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    near_b = GEOD.fwd(106.640, -6.1795, 90, 24.0)[:2]
    far_from_a = GEOD.fwd(106.630, -6.1795, 270, 26.0)[:2]
    alone = run_programme(path)
    assert alone.line.rank.tolist() == [1, 2]  # equal: input order
    made = run_programme(path, complaints=[near_b, far_from_a])
    assert made.segments["complaints"].tolist() == [0, 1]
    assert made.line.rank.tolist() == [2, 1]
    length = GEOD.line_length([106.640, 106.640], [-6.180, -6.179])
    assert made.segments["length_m"][1] == pytest.approx(length, rel=1e-9)
    assert made.segments["treated_m2"].tolist() == pytest.approx([length * 5 * 0.1, 1.0])
    assert made.reasons(1, 2)[0].split("; ")[2] == "1 complaints within 25 m"


def test_complaint_distance_is_geodesic_to_the_nearest_point_of_the_road() -> None:
    # a diagonal road; points 24.9 m and 25.1 m off its middle, square to it
    start, end = (106.6300, -6.1800), (106.6310, -6.1790)
    azimuth, _, _ = GEOD.inv(*start, *end)
    middle = GEOD.fwd(*start, azimuth, GEOD.inv(*start, *end)[2] / 2)[:2]
    inside = GEOD.fwd(*middle, azimuth + 90, 24.9)[:2]
    outside = GEOD.fwd(*middle, azimuth - 90, 25.1)[:2]
    road = np.array([shapely.LineString([start, end]), None], dtype=object)
    assert count_near(road, np.array([inside]), 25.0).tolist() == [1, 0]
    assert count_near(road, np.array([outside]), 25.0).tolist() == [0, 0]
    assert count_near(road, np.array([inside, outside]), 25.2).tolist() == [2, 0]


def test_indonesian_columns_and_decimal_commas_are_read_right(
    tmp_path: Path, run_programme: Any
) -> None:
    header = ["NAMA", "kecamatan", "PJG_M", "Lebar", "Perkerasan", "Kondisi", "IRI"]
    rows = [["Jl. Mawar", "Tangerang", "1.200,5", "6,5", "aspal", "", "9,25"]]
    path = _write(tmp_path / "inv.csv", header, rows)
    with pytest.raises(InvalidInput, match="neither geometry nor a panjang column"):
        run_programme(path)
    made = run_programme(path, columns={"panjang": "PJG_M"})
    assert made.messages == {0: "row 1, column PJG_M: panjang is not a number"}
    rows = [["Jl. Mawar", "Tangerang", "1200,5", "6,5", "aspal", "", "9,25"]]
    made = run_programme(_write(path, header, rows), columns={"panjang": "PJG_M"})
    assert made.messages == {}
    assert made.segments["length_m"][0] == 1200.5
    assert made.segments["width_m"][0] == 6.5
    assert made.segments["road_m2"][0] == pytest.approx(7803.25)
    assert made.segments["iri"][0] == 9.25
    assert made.segments["treatment"][0] == "overlay"  # IRI 9.25: rusak ringan, lokal


def test_bad_rows_are_named_by_row_and_column_and_kept(tmp_path: Path, run_programme: Any) -> None:
    rows = [
        ["ok", "Cibodas", "100", "5", "aspal", "baik", "", ""],
        ["no number", "Cibodas", "abc", "5", "aspal", "baik", "", ""],
        ["wood", "Cibodas", "100", "5", "kayu", "baik", "", ""],
        ["no condition", "Cibodas", "100", "5", "aspal", "", "", ""],
        ["bad pci", "Cibodas", "100", "5", "aspal", "", "", "120"],
        ["unknown", "Cibodas", "100", "5", "beton", "hancur", "", ""],
        ["no width", "Cibodas", "100", "", "beton", "baik", "", ""],
    ]
    made = run_programme(_write(tmp_path / "bad.csv", HEADER, rows))
    assert made.rows == 7
    assert made.messages == {
        1: "row 2, column panjang: panjang is not a number",
        2: "row 3, column perkerasan: unknown pavement 'kayu'; known: aspal, beton, paving, tanah",
        3: "row 4, column kondisi: no condition: give kondisi, iri or pci",
        4: "row 5, column pci: PCI must be between 0 and 100",
        5: "row 6, column kondisi: unknown condition 'hancur'; known: baik, sedang, "
        "rusak ringan, rusak berat",
        6: "row 7, column lebar: lebar is needed",
    }
    status = made.result_columns(0, 7).column("status").to_pylist()
    assert status == ["funded", *["error"] * 6]


def test_a_column_map_names_an_unknown_field_or_header() -> None:
    with pytest.raises(InvalidInput, match="names no field length"):
        column_map(["panjang"], {"length": "panjang"})
    with pytest.raises(InvalidInput, match="which the inventory lacks"):
        column_map(["panjang"], {"panjang": "PJG"})
    assert column_map(["Nama_Ruas", "PANJANG", "lebar_m"]) == {
        "nama_ruas": "Nama_Ruas",
        "panjang": "PANJANG",
        "lebar": "lebar_m",
    }
