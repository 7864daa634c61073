"""`takeoff estimate` as a user runs it: real files in, real files out, every row accounted for."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyogrio
import pytest
from openpyxl import load_workbook

from tests.batch.conftest import SAMPLE_LAYER
from tests.live import run_takeoff


def _estimate(tmp_path: Path, *args: str):
    return run_takeoff("estimate", *args, data_dir=str(tmp_path / "store"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_spreadsheet_csv_keeps_every_row_in_order_with_its_reason(
    tmp_path: Path, excel_csv: Path
) -> None:
    out, errors = tmp_path / "out.csv", tmp_path / "failed.csv"
    run = _estimate(tmp_path, str(excel_csv), "-o", str(out), "--errors", str(errors))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    rows = _rows(out)
    assert [row["status"] for row in rows] == [
        "ok",
        "ok",
        "error",
        "error",
        "error",
        "error",
        "error",
        "ok",
    ]
    assert [row["id"] for row in rows] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert rows[0]["name"] == "Jalan Mawar; gang 2"
    assert float(rows[0]["mean_width_m"]) == 3.5
    assert float(rows[1]["mean_width_m"]) == 4.25
    assert rows[0]["template_result"] == "local-flexible"
    assert rows[1]["template_result"] == "neighbourhood-rigid"
    assert rows[7]["length_method"] == "line"
    assert abs(float(rows[7]["length_m"]) - 100.0) < 0.1  # EWKT in UTM 48S: 100 m
    reasons = {row["id"]: row["error"] for row in rows if row["error"]}
    assert reasons["3"].startswith("row 3, column width_m: lebar is not a number")
    assert reasons["4"].startswith("row 4, column geom: ")
    assert "unknown template" in reasons["5"] or "no-such-template" in reasons["5"]
    assert reasons["5"].startswith("row 5, column template")
    assert reasons["6"].startswith("row 6: 3 fields where the header has 5")
    assert reasons["7"].startswith("row 7, column width_m")
    # the formula-like name is neutralised in the output and in the error file alike: both
    # are opened in a spreadsheet
    assert rows[6]["name"] == '\'=HYPERLINK("x")'
    failed = _rows(errors)
    assert list(failed[0]) == ["id", "name", "width_m", "template", "geom"]
    assert [row["id"] for row in failed] == ["3", "4", "5", "6", "7"]
    assert failed[4]["name"] == '\'=HYPERLINK("x")'
    assert "row 3, column width_m" in run.stderr
    assert "8 rows: 3 estimated, 5 with errors" in run.stdout.replace("\n", " ")
    assert "Material to order and deliver" in run.stdout
    assert "Truck mixer" in run.stdout  # the concrete of the neighbourhood-rigid row

    strict = _estimate(tmp_path, str(excel_csv), "-o", str(out), "--strict")
    assert strict.returncode == 1


def test_failed_rows_fixed_and_sent_again_are_estimated(tmp_path: Path, excel_csv: Path) -> None:
    errors = tmp_path / "failed.csv"
    _estimate(tmp_path, str(excel_csv), "-o", str(tmp_path / "out.csv"), "--errors", str(errors))
    rows = _rows(errors)
    fixes = {
        "3": {"width_m": "4"},
        "4": {"geom": "LINESTRING (106.63 -6.17, 106.64 -6.17)"},
        "5": {"template": "local-flexible"},
        "7": {"width_m": "3"},
    }
    for row in rows:
        row.update(fixes.get(row["id"], {}))
    path = tmp_path / "fixed.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "again.csv"
    run = _estimate(tmp_path, str(path), "-o", str(out))
    assert run.returncode == 0, run.stderr
    statuses = {row["id"]: row["status"] for row in _rows(out)}
    assert statuses == {"3": "ok", "4": "ok", "5": "ok", "6": "error", "7": "ok"}


def test_nothing_estimated_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("wkt\nPOINT (1 2)\nnot wkt\n", encoding="utf-8")
    run = _estimate(tmp_path, str(path), "-o", str(tmp_path / "out.csv"))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    rows = _rows(tmp_path / "out.csv")
    assert [row["status"] for row in rows] == ["error", "error"]
    assert "Point is not a road geometry" in rows[0]["error"]


def test_missing_geometry_column_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nogeom.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    run = _estimate(tmp_path, str(path), "-o", str(tmp_path / "out.csv"))
    assert run.returncode == 2
    assert "no geometry column" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_the_osm_sample_layer_works_out_of_the_box(tmp_path: Path) -> None:
    out = tmp_path / "roads.gpkg"
    run = _estimate(tmp_path, str(SAMPLE_LAYER), "-o", str(out), "--template-map", "osm-highway")
    assert run.returncode == 0, run.stderr
    frame = pyogrio.read_dataframe(out, layer="estimate")
    assert len(frame) == 142
    assert (frame["status"] == "ok").all()
    assert frame.crs.to_epsg() == 4326
    by_class = frame.groupby("highway")[
        "template_result" if "template_result" in frame else "template"
    ].unique()
    assert list(by_class["residential"]) == ["local-flexible"]
    assert list(by_class["tertiary"]) == ["local-flexible"]
    assert list(by_class["primary"]) == ["arterial-flexible"]
    with_lanes = frame[frame["lanes"].notna()]
    assert (abs(with_lanes["mean_width_m"] - with_lanes["lanes"] * 3.5) < 1e-9).all()
    assert abs(frame["length_m"].sum() - 27_040) < 10  # the layer's README: 27.04 km


@pytest.mark.parametrize("suffix", ["geojson", "parquet", "xlsx", "csv"])
def test_every_output_format_opens(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"roads.{suffix}"
    run = _estimate(
        tmp_path,
        str(SAMPLE_LAYER),
        "-o",
        str(out),
        "--template",
        "local-flexible",
        "--width-from",
        "lanes * 3",
    )
    assert run.returncode == 0, run.stderr
    if suffix == "xlsx":
        book = load_workbook(out)
        assert book.sheetnames == [
            "Summary",
            "Items",
            "RAB",
            "REKAPITULASI",
            "Volume back-up",
            "Material",
            "Assumptions",
        ]
        assert book["Items"].max_row == 143
    elif suffix == "csv":
        rows = _rows(out)
        assert len(rows) == 142 and rows[0]["wkt"].startswith("LINESTRING (106.")
    else:
        frame = (
            pyogrio.read_dataframe(out)
            if suffix == "geojson"
            else __import__("geopandas").read_parquet(out)
        )
        assert len(frame) == 142
        assert frame.crs.to_epsg() == 4326 or frame.crs.to_string() == "OGC:CRS84"
    if suffix == "geojson":
        document = json.loads(out.read_text())
        assert document["features"][0]["properties"]["status"] == "ok"


@pytest.mark.parametrize("suffix", ["gpkg", "shp", "parquet"])
def test_every_input_format_reads(tmp_path: Path, suffix: str) -> None:
    layer = __import__("geopandas").read_file(SAMPLE_LAYER)
    source = tmp_path / f"roads.{suffix}"
    if suffix == "parquet":
        layer.to_parquet(source)
    else:
        layer.to_file(source)
    out = tmp_path / "out.csv"
    run = _estimate(tmp_path, str(source), "-o", str(out), "--template-map", "osm-highway")
    assert run.returncode == 0, run.stderr
    rows = _rows(out)
    assert len(rows) == 142 and {row["status"] for row in rows} == {"ok"}
    assert rows[0]["wkt"].startswith("LINESTRING (106.")


def test_row_columns_win_over_the_options(tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text(
        "name,template,width_m,thickness,wkt\n"
        'a,,,,"LINESTRING (680000 9317000, 680100 9317000)"\n'
        'b,local-flexible,6,"{""AC-WC"": 0.08}","LINESTRING (680000 9317100, 680100 9317100)"\n'
        'c,local-flexible,,"{""NOPE"": 0.08}","LINESTRING (680000 9317200, 680100 9317200)"\n'
        'd,local-flexible,6,,"LINESTRING (680000 9317300, 680100 9317300)"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    run = _estimate(
        tmp_path,
        str(path),
        "-o",
        str(out),
        "--crs",
        "EPSG:32748",
        "--width-m",
        "3",
        "--template",
        "neighbourhood-rigid",
    )
    assert run.returncode == 0, run.stderr
    a, b, c, d = _rows(out)
    assert abs(float(a["length_m"]) - 100.0) < 0.1  # UTM 48S metres, measured on the ellipsoid
    assert (a["template_result"], float(a["mean_width_m"])) == ("neighbourhood-rigid", 3.0)
    assert (b["template_result"], float(b["mean_width_m"])) == ("local-flexible", 6.0)
    # AC-WC 8 cm instead of the template's 5 cm: 1.6 times the tonnes per m2
    per_m2 = [float(row["ac_wc_t"]) / float(row["area_m2"]) for row in (b, d)]
    assert abs(per_m2[0] / per_m2[1] - 1.6) < 1e-3  # tonnes and m2 to 2 decimals
    assert c["status"] == "error" and c["error"].startswith("row 3, column thickness")
