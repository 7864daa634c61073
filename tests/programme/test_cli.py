"""`takeoff programme` as a user runs it: a spreadsheet inventory in, files out."""

from __future__ import annotations

import csv
from pathlib import Path

import pyogrio
from openpyxl import load_workbook

from tests.live import run_takeoff

INVENTORY = (
    "NAMA;kecamatan;PJG;lebar;perkerasan;kondisi;wkt\n"
    "Jl. Mawar;Tangerang;100;5;aspal;sedang;LINESTRING (106.63 -6.18, 106.63 -6.179)\n"
    "Jl. Kenanga;Cibodas;80;3;paving;rusak berat;LINESTRING (106.64 -6.18, 106.64 -6.1795)\n"
    "Jl. Dahlia;Cibodas;100;4;kayu;sedang;LINESTRING (106.65 -6.18, 106.65 -6.179)\n"
)


def test_takeoff_programme_writes_every_row_with_its_treatment(tmp_path: Path) -> None:
    inventory = tmp_path / "inventaris.csv"
    inventory.write_text(INVENTORY, encoding="utf-8")
    store = str(tmp_path / "store")
    out = tmp_path / "programme.csv"
    run = run_takeoff(
        "programme", str(inventory), "-o", str(out), "--budget", "20000000",
        "--column", "nama_ruas=NAMA", "--lang", "id", data_dir=store,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "error: row 3, column perkerasan: unknown pavement 'kayu'" in run.stderr
    with out.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["NAMA"] for row in rows] == ["Jl. Mawar", "Jl. Kenanga", "Jl. Dahlia"]
    assert [row["treatment"] for row in rows] == ["patching", "reconstruction-paving", ""]
    # the line gives the length (geodesic), not the PJG column
    assert abs(float(rows[1]["length_m"]) - 55.29) < 0.01
    # Kenanga (rusak berat) ranks first and alone costs more than 20,000,000: the budget line
    # is drawn above it, and the cheaper patch below it is not funded either
    assert [row["rank"] for row in rows] == ["2", "1", ""]
    assert [row["status"] for row in rows] == ["not funded", "not funded", "error"]
    assert int(rows[1]["cost"]) > 20_000_000 > int(rows[0]["cost"])
    assert rows[0]["reason"].startswith("sedang -> Penambalan (pemeliharaan rutin); fungsi lokal")
    assert rows[2]["status"] == "error" and rows[2]["wkt"].startswith("LINESTRING")
    gpkg = tmp_path / "programme.gpkg"
    run = run_takeoff("programme", str(inventory), "-o", str(gpkg), data_dir=store)
    assert run.returncode == 0, run.stderr
    frame = pyogrio.read_dataframe(gpkg)
    assert list(frame["treatment"].fillna("-")) == ["patching", "reconstruction-paving", "-"]
    assert frame.geometry.geom_type.tolist()[:2] == ["LineString", "LineString"]
    book = tmp_path / "programme.xlsx"
    run = run_takeoff("programme", str(inventory), "-o", str(book), data_dir=store)
    assert run.returncode == 0, run.stderr
    assert load_workbook(book).sheetnames == [
        "Programme",
        "Segments",
        "RAB Cibodas",
        "RAB Tangerang",
    ]
