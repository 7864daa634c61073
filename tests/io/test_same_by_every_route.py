"""The same 500 features through `POST /estimates`, `POST /batch` and `takeoff estimate`.

Every route writes through the same writers, so the per-feature figures and the workbook's
sheets must agree cell by cell. The only cells allowed to differ are echoes of the input as
each route received it: `wkt` (a single estimate writes it from the parsed geometry, last; a
batch copies the text it was sent, in its place), in the Items sheet `width_m` (a number in
the GeoJSON body, text in the CSV upload), and in Assumptions the time it was made.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import shapely
from fastapi.testclient import TestClient

from tests.conftest import store_env
from tests.live import run_takeoff

COUNT = 500
TEMPLATES = [None, "local-flexible", "neighbourhood-rigid", "asphalt-overlay", "collector-rigid"]
NAMES = ["Jalan Mawar", '=HYPERLINK("http://x")', "+1+1", "Gang Melati", "-2+3"]
ECHOED = {"wkt"}
ECHOED_IN_ITEMS = {"width_m"}
STEP = 0.003  # degrees between features (about 330 m): no two touch


def _coordinate(value: float) -> float:
    return round(value, 6)


def _geometry(index: int, rng: random.Random) -> tuple[shapely.Geometry, bool]:
    """A road in its own grid cell, and whether it is a line (lines take a width)."""
    x0 = 106.60 + (index % 25) * STEP
    y0 = -6.20 - (index // 25) * STEP
    length = rng.uniform(0.0004, 0.0015)
    kind = index % 4
    if kind == 0:  # a line with a bend
        points = [(x0, y0), (x0 + length, y0), (x0 + length, y0 - length / 2)]
        return shapely.LineString([tuple(map(_coordinate, p)) for p in points]), True
    if kind == 1:  # two lines
        first = [(x0, y0), (x0 + length, y0)]
        second = [(x0, y0 - 0.001), (x0 + length, y0 - 0.001 - length / 3)]
        parts = [[tuple(map(_coordinate, p)) for p in part] for part in (first, second)]
        return shapely.MultiLineString(parts), True
    width = rng.uniform(0.00003, 0.00008)
    box = shapely.box(*map(_coordinate, (x0, y0 - width, x0 + length, y0)))
    if kind == 2:
        return box, False
    other = shapely.box(*map(_coordinate, (x0, y0 - 0.001 - width, x0 + length, y0 - 0.001)))
    return shapely.MultiPolygon([box, other]), False


def _features() -> list[dict[str, Any]]:
    rng = random.Random(11)
    features = []
    for index in range(COUNT):
        geometry, is_line = _geometry(index, rng)
        properties: dict[str, Any] = {}
        template = TEMPLATES[index % len(TEMPLATES)]
        if template is not None:
            properties["template"] = template
        if is_line and index % 3:
            properties["width_m"] = round(rng.uniform(3, 8), 3)
        if index % 37 == 0:
            properties["name"] = NAMES[(index // 37) % len(NAMES)]
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": json.loads(shapely.to_geojson(geometry)),
            }
        )
    return features


def _csv_upload(features: list[dict[str, Any]]) -> bytes:
    """The same features as a spreadsheet would hold them: one row each, WKT geometry."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["name", "template", "width_m", "wkt"])
    for feature in features:
        own = feature["properties"]
        geometry = shapely.from_geojson(json.dumps(feature["geometry"]))
        width = own.get("width_m")
        writer.writerow(
            [
                own.get("name", ""),
                own.get("template", ""),
                "" if width is None else repr(width),
                shapely.to_wkt(geometry, rounding_precision=-1),
            ]
        )
    return text.getvalue().encode("utf-8")


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def _sheet(content: bytes | Path, name: str) -> list[tuple[Any, ...]]:
    source = io.BytesIO(content) if isinstance(content, bytes) else content
    book = openpyxl.load_workbook(source)
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]


def _without(rows: list[tuple[Any, ...]], names: set[str]) -> list[tuple[Any, ...]]:
    keep = [i for i, name in enumerate(rows[0]) if name not in names]
    return [tuple(row[i] for i in keep) for row in rows]


@pytest.fixture(scope="module")
def outputs(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every route's CSV and workbook for the same features."""
    features = _features()
    body = {"type": "FeatureCollection", "features": features}
    upload = _csv_upload(features)
    folder = tmp_path_factory.mktemp("routes")
    (folder / "roads.csv").write_bytes(upload)
    out: dict[str, Any] = {}
    for fmt in ("csv", "xlsx"):
        answer = client.post("/estimates", params={"f": fmt}, json=body, timeout=120)
        assert answer.status_code == 200, answer.text
        out[f"estimates.{fmt}"] = answer.content
        batch = client.post(
            "/batch",
            params={"f": fmt},
            files={"file": ("roads.csv", upload, "text/csv")},
            timeout=120,
        )
        assert batch.status_code == 200, batch.text
        assert batch.headers["x-rows-failed"] == "0"
        out[f"batch.{fmt}"] = batch.content
        target = folder / f"cli.{fmt}"
        run = run_takeoff(
            "estimate", str(folder / "roads.csv"), "-o", str(target), **store_env(client)
        )
        assert run.returncode == 0, run.stderr
        out[f"cli.{fmt}"] = target.read_bytes()
    out["json"] = client.post("/estimates", json=body, timeout=120).json()
    return out


def test_every_route_gives_each_feature_the_same_figures(outputs: dict[str, Any]) -> None:
    single = _csv_rows(outputs["estimates.csv"])
    assert len(single) == COUNT
    columns = [name for name in single[0] if name not in ECHOED]
    assert columns[:3] == ["name", "template", "width_m"]  # the input's own columns first
    assert {"template_result", "ac_wc_t", "ac_wc_amount", "total", "status"} <= set(columns)
    for route in ("batch.csv", "cli.csv"):
        rows = _csv_rows(outputs[route])
        assert [name for name in rows[0] if name not in ECHOED] == columns, route
        for index, (mine, theirs) in enumerate(zip(single, rows, strict=True)):
            assert [mine[c] for c in columns] == [theirs[c] for c in columns], (route, index)
    # the figures are the JSON answer's, feature by feature
    for row, feature in zip(single, outputs["json"]["features"], strict=True):
        assert row["total"] == feature["total"]
        assert abs(float(row["area_m2"]) - feature["area_m2"]) <= 0.005  # 2 decimals for m2
        assert len(row["area_m2"].partition(".")[2]) == 2
        assert row["template_result"] == feature["template"]["slug"]
        assert row["status"] == "ok" and row["error"] == ""
    # a mix of every kind of road and several templates went through
    assert len({row["template_result"] for row in single}) == 4  # one default, three named
    assert {row["length_method"] for row in single} == {
        "line",
        "strip",
        "medial-axis",
    }  # bands, other polygons
    # formula-like names are neutralised, by every route alike
    assert '\'=HYPERLINK("http://x")' in [row["name"] for row in single]


def test_every_route_writes_the_same_workbook(outputs: dict[str, Any]) -> None:
    summary = _sheet(outputs["estimates.xlsx"], "Summary")
    items = _sheet(outputs["estimates.xlsx"], "Items")
    assumptions = [
        row
        for row in _sheet(outputs["estimates.xlsx"], "Assumptions")
        if row[0] != "Generated (UTC)"
    ]
    assert {row[0] for row in assumptions} >= {"collector-rigid", "asphalt-overlay"}
    assert summary[0][:3] == ("No", "Code", "Description")
    assert summary[-2][2].startswith("Total") and summary[-2][7] > 0
    assert summary[-1][2] == "Rounded / Dibulatkan"
    assert len(items) == COUNT + 1
    totals = outputs["json"]["totals"]
    assert str(summary[-2][7]) == totals["total"]
    assert str(summary[-1][7]) == totals["rounded_total"]
    for route in ("batch.xlsx", "cli.xlsx"):
        assert _sheet(outputs[route], "Summary") == summary, route
        backup = _sheet(outputs["estimates.xlsx"], "Volume back-up")
        assert {row[0] for row in backup[1:]} == set(range(1, COUNT + 1))  # every row's lines
        for sheet in ("RAB", "REKAPITULASI", "Volume back-up"):
            mine = _sheet(outputs["estimates.xlsx"], sheet)
            assert _sheet(outputs[route], sheet) == mine, (route, sheet)
        theirs = _sheet(outputs[route], "Items")
        assert theirs[0] == items[0], route
        assert _without(theirs, ECHOED_IN_ITEMS) == _without(items, ECHOED_IN_ITEMS), route
        width = items[0].index("width_m")
        as_text = [None if row[width] is None else repr(row[width]) for row in items[1:]]
        assert [row[width] for row in theirs[1:]] == as_text, route
        assert sum(value is not None for value in as_text) > 100
        made = [row for row in _sheet(outputs[route], "Assumptions") if row[0] != "Generated (UTC)"]
        assert made == assumptions, route
