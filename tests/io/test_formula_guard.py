"""Formulas never reach a spreadsheet: one guard, every writer, every route, every dtype.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`;
a plain number written as text (`-5`, `+1.5`) stays as it is. Checked on the guard itself
for pandas 2 (`object`) and pandas 3 (`str`, `string[pyarrow]`) columns and Arrow
string/large_string columns, then through `POST /estimates`, `POST /batch` and
`takeoff estimate` in CSV and XLSX, on the names, the echoed input columns and the WKT.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from app.io.safety import neutralise, neutralise_column, neutralise_table
from tests.conftest import store_env
from tests.live import run_takeoff

RISKY = ["=1+1", '=HYPERLINK("http://x","y")', "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]
HARMLESS = ["-5", "+1.5", "12", "-0,5", "Jalan Mawar", "a=b", ""]
LINE = "LINESTRING (106.6300 -6.1700, 106.6309 -6.1700)"


def _guarded(value: str) -> str:
    return "'" + value


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(RISKY + HARMLESS + [None], dtype=object),
        pd.Series(RISKY + HARMLESS + [None], dtype="str"),
        pd.Series(RISKY + HARMLESS + [None], dtype="string[pyarrow]"),
        pa.array(RISKY + HARMLESS + [None], pa.string()),
        pa.array(RISKY + HARMLESS + [None], pa.large_string()),
        pa.chunked_array([RISKY, [*HARMLESS, None]], pa.string()),
        pa.array(RISKY + HARMLESS + [None], pa.string()).dictionary_encode(),
    ],
    ids=["pandas-object", "pandas-str", "pandas-arrow", "arrow", "arrow-large", "chunked", "dict"],
)
def test_every_text_dtype_is_guarded_alike(column: Any) -> None:
    out = neutralise_column(column)
    values = out.tolist() if isinstance(out, pd.Series) else out.to_pylist()
    values = [None if v is None or v is pd.NA or v != v else v for v in values]
    assert values == [_guarded(v) for v in RISKY] + HARMLESS + [None]
    assert [neutralise(v) for v in RISKY + HARMLESS] == values[:-1]


def test_a_number_followed_by_more_text_is_not_a_plain_number_anywhere() -> None:
    values = ["-5\n=1+1", "-5\n", "+1.5 "]
    expected = ["'-5\n=1+1", "'-5\n", "'+1.5 "]
    assert [neutralise(v) for v in values] == expected
    assert neutralise_column(pd.Series(values, dtype="str")).tolist() == expected
    assert neutralise_column(pa.array(values)).to_pylist() == expected


def test_mixed_pandas_objects_and_numbers_stay_as_they_are() -> None:
    mixed = pd.Series(["=1", 5, -2.5, None, "-5"], dtype=object)
    assert neutralise_column(mixed).tolist() == ["'=1", 5, -2.5, None, "-5"]
    numbers = pa.table({"n": pa.array([-5, 1]), "t": pa.array(["@x", "y"])})
    assert neutralise_table(numbers).to_pydict() == {"n": [-5, 1], "t": ["'@x", "y"]}


def _feature(index: int, name: str, ref: str) -> dict[str, Any]:
    lat = -6.17 - index * 0.001
    return {
        "type": "Feature",
        "properties": {"name": name, "ref": ref, "width_m": 4},
        "geometry": {"type": "LineString", "coordinates": [[106.63, lat], [106.631, lat]]},
    }


def _body() -> dict[str, Any]:
    cells = RISKY + HARMLESS[:-1]  # a name is never empty
    refs = list(reversed(cells))
    features = [
        _feature(i, name, ref) for i, (name, ref) in enumerate(zip(cells, refs, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


def _upload() -> bytes:
    """The same features as CSV, plus a row whose WKT itself looks like a formula."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["name", "ref", "width_m", "wkt"])
    for feature in _body()["features"]:
        lat = feature["geometry"]["coordinates"][0][1]
        own = feature["properties"]
        writer.writerow([own["name"], own["ref"], 4, f"LINESTRING (106.63 {lat}, 106.631 {lat})"])
    writer.writerow(["Jalan Dahlia", "x", 4, '=HYPERLINK("http://x")'])
    return text.getvalue().encode("utf-8")


def _expected(values: list[str]) -> list[str]:
    return [_guarded(v) if v in RISKY else v for v in values]


def _csv_columns(content: bytes) -> dict[str, list[str]]:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    return {name: [row[name] for row in rows] for name in rows[0]}


def _items_columns(content: bytes) -> dict[str, list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    header, *rows = book["Items"].iter_rows(values_only=True)
    assert not any(cell.data_type == "f" for row in book["Items"].iter_rows() for cell in row), (
        "a cell was stored as a formula"
    )
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}


def _check(columns: dict[str, list[Any]], wkt: bool) -> None:
    """Names and refs guarded, numbers as sent; a workbook (`wkt` False) reads back a carriage
    return as a line feed, as XML does."""
    body = _body()["features"]
    names = [feature["properties"]["name"] for feature in body]
    refs = [feature["properties"]["ref"] for feature in body]
    count = len(body)

    def read_back(values: list[str]) -> list[str]:
        return values if wkt else [value.replace("\r", "\n") for value in values]

    assert columns["name"][:count] == read_back(_expected(names))
    assert columns["ref"][:count] == read_back(_expected(refs))
    assert columns["status"][:count] == ["ok"] * count
    if wkt:
        assert all(text.startswith("LINESTRING (106.63") for text in columns["wkt"][:count])


def test_post_estimates_guards_csv_and_xlsx(client: TestClient) -> None:
    url = "/estimates"
    as_csv = client.post(url, params={"f": "csv"}, json=_body(), timeout=60)
    assert as_csv.status_code == 200, as_csv.text
    _check(_csv_columns(as_csv.content), wkt=True)
    as_xlsx = client.post(url, params={"f": "xlsx"}, json=_body(), timeout=60)
    assert as_xlsx.status_code == 200, as_xlsx.text
    _check(_items_columns(as_xlsx.content), wkt=False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_post_batch_guards_every_cell_and_the_wkt_it_echoes(client: TestClient, fmt: str) -> None:
    response = client.post(
        "/batch",
        params={"f": fmt},
        files={"file": ("roads.csv", _upload(), "text/csv")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    if fmt == "csv":
        columns = _csv_columns(response.content)
        _check(columns, wkt=True)
        assert columns["wkt"][-1] == '\'=HYPERLINK("http://x")'
        assert columns["status"][-1] == "error"
    else:
        _check(_items_columns(response.content), wkt=False)


def test_post_batch_guards_a_geojson_upload(client: TestClient) -> None:
    upload = json.dumps(_body()).encode("utf-8")
    response = client.post(
        "/batch",
        files={"file": ("roads.geojson", upload, "application/geo+json")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    _check(_csv_columns(response.content), wkt=True)


def test_the_cli_guards_csv_xlsx_and_the_error_file(client: TestClient, tmp_path: Path) -> None:
    source = tmp_path / "roads.csv"
    source.write_bytes(_upload())
    for suffix in ("csv", "xlsx"):
        out, errors = tmp_path / f"out.{suffix}", tmp_path / "failed.csv"
        run = run_takeoff(
            "estimate", str(source), "-o", str(out), "--errors", str(errors), **store_env(client)
        )
        assert run.returncode == 0, run.stderr
        if suffix == "csv":
            _check(_csv_columns(out.read_bytes()), wkt=True)
        else:
            _check(_items_columns(out.read_bytes()), wkt=False)
        failed = _csv_columns(errors.read_bytes())
        assert failed["wkt"] == ['\'=HYPERLINK("http://x")']
