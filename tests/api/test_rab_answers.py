"""The RAB an estimator submits, by every route: stated volumes and amounts, Divisi, project
items once, rounded total and terbilang, and the workbook's formulas recomputed here."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import shapely
from fastapi.testclient import TestClient

from app.estimate.grand_total import total_in_words
from app.settings import StoreSettings
from app.store.database import create_store_engine
from app.store.repository import NewEstimate, Repository
from tests.conftest import API_KEY, store_env
from tests.live import run_takeoff

ROADS = [
    [[106.6300, -6.1700], [106.6309, -6.1700]],
    [[106.6310, -6.1710], [106.6310, -6.1719]],
    [[106.6320, -6.1720], [106.6329, -6.1726]],
]
BODY = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": f"Jalan {n}"},
            "geometry": {"type": "LineString", "coordinates": road},
        }
        for n, road in enumerate(ROADS)
    ],
}
PARAMS = {"template": "collector-rigid", "catalog": "tangerang-sample", "width_m": 5}
PROJECT = {"MOBILISASI", "PAPAN-NAMA", "TRAFFIC-MGMT", "SMKK"}
WHOLE_UNITS = {"kg", "Ls", "unit"}
SAVED_ABOUT = ("id", "name", "version", "supersedes", "superseded_by", "created_at", "request")
"""What `GET /estimates/{id}` says about a saved estimate, beside its stored answer."""


def _estimate(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.post("/estimates", params={**PARAMS, **params}, json=BODY)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _csv() -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["name", "wkt"])
    for feature in BODY["features"]:
        line = shapely.LineString(feature["geometry"]["coordinates"])
        writer.writerow(
            [feature["properties"]["name"], shapely.to_wkt(line, rounding_precision=-1)]
        )
    return text.getvalue().encode("utf-8")


def test_every_amount_is_its_stated_volume_times_its_rate(client: TestClient) -> None:
    result = _estimate(client)
    lines = [*result["items"], *(item for f in result["features"] for item in f["items"])]
    for item in lines:
        quantity = Decimal(str(item["quantity"]))
        places = 0 if item["unit"] in WHOLE_UNITS else 2
        assert quantity == quantity.quantize(Decimal(1).scaleb(-places)), item
        assert quantity > 0, item  # a zero line is no line
        amount = (quantity * Decimal(item["unit_rate"])).quantize(1, rounding=ROUND_HALF_UP)
        assert Decimal(item["amount"]) == amount, item
    # 5 m wide: two 4 m slabs need a longitudinal joint
    assert "LONG-JOINT" in {item["code"] for item in result["items"]}
    subtotal = Decimal(result["totals"]["subtotal"])
    assert sum(Decimal(item["amount"]) for item in result["items"]) == subtotal
    assert sum(Decimal(d["amount"]) for d in result["divisions"]) == subtotal
    assert [d["division"] for d in result["divisions"]] == ["1", "3", "5", "9", "11"]
    assert result["divisions"][-1]["name"]["id"].endswith("(SMKK)")
    concrete = next(item for item in result["items"] if item["code"] == "CONC-FC30")
    assert (concrete["division"], concrete["pay_item"]) == ("5", "5.3.(1)")


def test_project_items_once_for_three_roads_and_left_out_on_request(client: TestClient) -> None:
    result = _estimate(client)
    codes = [item["code"] for item in result["items"]]
    assert [code for code in codes if code in PROJECT] == [
        "MOBILISASI",
        "PAPAN-NAMA",
        "TRAFFIC-MGMT",
        "SMKK",
    ]
    assert codes[0] == "MOBILISASI" and codes[-1] == "SMKK"  # Divisi 1 first, SMKK last
    for feature in result["features"]:
        assert not PROJECT & {item["code"] for item in feature["items"]}
    segment = _estimate(client, project_items="false")
    assert not PROJECT & {item["code"] for item in segment["items"]}
    # 7,500,000 + 1,500,000 + 5,000,000 + 10,000,000 = 24,000,000 of project items
    assert Decimal(result["totals"]["subtotal"]) - Decimal(
        segment["totals"]["subtotal"]
    ) == Decimal(24_000_000)
    assert [d["division"] for d in segment["divisions"]] == ["3", "5", "9"]
    assert segment["features"] == result["features"]


def test_rounded_total_and_terbilang_in_the_answers_language(client: TestClient) -> None:
    result = _estimate(client, lang="id")
    totals = result["totals"]
    total = Decimal(totals["total"])
    rounded = (total / 1000).to_integral_value(rounding=ROUND_FLOOR) * 1000
    assert Decimal(totals["rounded_total"]) == rounded
    assert total - rounded < 1000
    assert totals["total_in_words"] == total_in_words(rounded, "id")
    assert totals["total_in_words"].endswith(" Rupiah")
    assert result["vat_label"]["id"] == "PPN 12 % x 11/12"
    english = total_in_words(rounded, "en")
    assert english.endswith(" rupiah") and english != totals["total_in_words"]
    assert _estimate(client)["totals"]["total_in_words"] == english  # no preference: English
    for header, words in (
        ("id-ID,id;q=0.9,en;q=0.8", totals["total_in_words"]),
        ("fr-FR, en;q=0.5, id;q=0.4", english),
        ("en;q=0.3, id;q=0.7", totals["total_in_words"]),
        ("de", english),
    ):
        answer = client.post(
            "/estimates", params=PARAMS, json=BODY, headers={"Accept-Language": header}
        ).json()
        assert answer["totals"]["total_in_words"] == words, header
    assert _estimate(client, lang="en")["totals"]["total_in_words"] == english
    bad = client.post("/estimates", params={**PARAMS, "lang": "fr"}, json=BODY)
    assert bad.status_code == 422
    assert "use id or en" in bad.text


class Workbook:
    """A workbook's formulas evaluated here, from the cells they name (no spreadsheet)."""

    def __init__(self, content: bytes) -> None:
        self.formulas = openpyxl.load_workbook(io.BytesIO(content))
        self.cached = openpyxl.load_workbook(io.BytesIO(content), data_only=True)

    def value(self, sheet: str, ref: str) -> Decimal:
        cell = self.formulas[sheet][ref].value
        if isinstance(cell, str) and cell.startswith("="):
            return self.evaluate(sheet, cell)
        return Decimal(str(cell))

    def evaluate(self, sheet: str, formula: str) -> Decimal:
        def cells(match: re.Match[str]) -> str:
            column, first, last = match[1], int(match[2]), int(match[4])
            return "(" + "+".join(f"{column}{row}" for row in range(first, last + 1)) + ")"

        expression = re.sub(r"SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", cells, formula[1:])
        expression = re.sub(
            r"(?:'([^']+)'!)?\b([A-Z]{1,2}\d+)\b",
            lambda m: f"_cell({m[1] or sheet!r}, {m[2]!r})",
            expression,
        )
        expression = re.sub(r"(?<![\w'])(\d+(?:\.\d+)?)", r"Decimal('\1')", expression)
        expression = expression.replace("ROUNDDOWN(", "_down(").replace("ROUND(", "_round(")

        def _round(value: Decimal, places: Decimal) -> Decimal:
            return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)

        def _down(value: Decimal, places: Decimal) -> Decimal:
            unit = Decimal(1).scaleb(-int(places))
            return (value / unit).to_integral_value(rounding=ROUND_FLOOR) * unit

        names = {"_cell": self.value, "_round": _round, "_down": _down, "Decimal": Decimal}
        return Decimal(eval(expression, {"__builtins__": {}}, names))

    def rows(self, sheet: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.formulas[sheet].iter_rows()]

    def check(self, sheet: str, ref: str) -> Decimal:
        """The cell's formula recomputed here, equal to the value cached in the file."""
        computed = self.evaluate(sheet, self.formulas[sheet][ref].value)
        assert computed == Decimal(str(self.cached[sheet][ref].value)), (sheet, ref)
        return computed


def _rab(book: Workbook) -> tuple[dict[str, tuple[Decimal, Decimal, Decimal]], dict[str, Decimal]]:
    """RAB lines (code by uraian: volume, rate, amount) and Divisi sums, recomputed."""
    lines, sums = {}, {}
    for row in book.rows("RAB")[4:]:
        number, _, uraian, _, volume, rate = (cell.value for cell in row[:6])
        if isinstance(number, int):
            value = book.check("RAB", row[6].coordinate)
            lines[uraian] = (Decimal(str(volume)), Decimal(str(rate)), value)
        elif isinstance(uraian, str) and uraian.startswith("Jumlah Divisi"):
            sums[uraian.removeprefix("Jumlah Divisi ")] = book.check("RAB", row[6].coordinate)
    return lines, sums


def _rekap(book: Workbook) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for row in book.rows("REKAPITULASI")[3:]:
        label, text, amount = (cell.value for cell in row[:3])
        if isinstance(amount, str) and amount.startswith("="):
            key = text.split(" ")[0] if text.startswith("(") else f"divisi {label}"
            figures[key] = book.check("REKAPITULASI", row[2].coordinate)
        elif label in ("Terbilang", "In words"):
            figures[label] = text
    return figures


def _matches(book: Workbook, answer: dict[str, Any]) -> None:
    lines, sums = _rab(book)
    assert len(lines) == len(answer["items"])
    for item in answer["items"]:
        volume, rate, amount = lines[item["description"]["id"]]
        assert volume == Decimal(str(item["quantity"])), item["code"]
        assert rate == Decimal(item["unit_rate"]), item["code"]
        assert amount == Decimal(item["amount"]), item["code"]
    assert sums == {d["division"]: Decimal(d["amount"]) for d in answer["divisions"]}
    rekap = _rekap(book)
    totals = answer["totals"]
    for division in answer["divisions"]:
        assert rekap[f"divisi {division['division']}"] == Decimal(division["amount"])
    assert rekap["(A)"] == Decimal(totals["subtotal"])
    assert rekap["(B)"] == Decimal(totals["overhead_profit"])
    assert rekap["(C)"] == Decimal(totals["tax"])
    assert rekap["(D)"] == Decimal(totals["total"])
    assert rekap["(E)"] == Decimal(totals["rounded_total"])
    rounded = Decimal(totals["rounded_total"])
    assert rekap["Terbilang"] == total_in_words(rounded, "id")
    assert rekap["In words"] == total_in_words(rounded, "en")


def test_the_rab_workbook_recomputes_to_the_json(client: TestClient) -> None:
    answer = _estimate(client, lang="id")
    content = client.post("/estimates", params={**PARAMS, "f": "xlsx"}, json=BODY).content
    book = Workbook(content)
    _matches(book, answer)
    rekap = [cell.value for row in book.rows("REKAPITULASI") for cell in row]
    assert "(C) PPN 12 % x 11/12" in rekap
    formulas = [row[6].value for row in book.rows("RAB")[4:] if isinstance(row[0].value, int)]
    assert formulas[0] == "=ROUND(E6*F6,0)"  # first line under the Divisi 1 heading
    # the volume back-up: every road's line with its measures, formula and stated volume
    header, *backup = [[cell.value for cell in row] for row in book.rows("Volume back-up")]
    assert header[:2] == ["Baris / Row", "Template"]
    concrete = [row for row in backup if row[2] == "5.3.(1)"]  # CONC-FC30
    assert [row[0] for row in concrete] == [1, 2, 3]
    for row, feature in zip(concrete, answer["features"], strict=True):
        assert row[8] == 0.28 and row[9] == "A x 0.28"
        volume = next(i for i in feature["items"] if i["code"] == "CONC-FC30")["quantity"]
        assert row[10] == volume
        assert row[7] == pytest.approx(feature["area_m2"], abs=0.005)


def test_the_volume_back_up_shows_the_thickness_a_row_was_priced_with(
    client: TestClient,
) -> None:
    body = json.loads(json.dumps(BODY))
    body["features"][1]["properties"]["thickness"] = {"CONC-FC30": 0.3}
    response = client.post("/estimates", params={**PARAMS, "f": "xlsx"}, json=body)
    assert response.status_code == 200, response.text
    answer = client.post("/estimates", params=PARAMS, json=body).json()
    _header, *backup = [
        [c.value for c in row] for row in Workbook(response.content).rows("Volume back-up")
    ]
    concrete = [row for row in backup if row[2] == "5.3.(1)"]  # CONC-FC30
    assert [(row[0], row[8], row[9]) for row in concrete] == [
        (1, 0.28, "A x 0.28"),
        (2, 0.3, "A x 0.3"),
        (3, 0.28, "A x 0.28"),
    ]
    for row, feature in zip(concrete, answer["features"], strict=True):
        volume = next(i for i in feature["items"] if i["code"] == "CONC-FC30")["quantity"]
        assert row[10] == volume == pytest.approx(round(row[7] * row[8], 2), abs=0.011)
    # the same rows as a batch, the thickness in a column of the second row
    rows = _csv().decode().splitlines()
    rows = [f"{rows[0]},thickness"] + [
        f'{row},"{{""CONC-FC30"": 0.3}}"' if number == 2 else f"{row},"
        for number, row in enumerate(rows[1:], start=1)
    ]
    files = {"file": ("roads.csv", "\n".join(rows).encode(), "text/csv")}
    batch = client.post("/batch", params={**PARAMS, "f": "xlsx"}, files=files)
    assert batch.status_code == 200, batch.text
    _header, *again = [
        [c.value for c in row] for row in Workbook(batch.content).rows("Volume back-up")
    ]
    assert [row for row in again if row[2] == "5.3.(1)"] == concrete


def test_a_batch_bills_project_items_once_and_matches_the_single_estimate(
    client: TestClient,
) -> None:
    answer = _estimate(client, lang="id")
    params = {**PARAMS, "f": "xlsx"}
    files = {"file": ("roads.csv", _csv(), "text/csv")}
    response = client.post("/batch", params=params, files=files)
    assert response.status_code == 200, response.text
    _matches(Workbook(response.content), answer)
    segment = _estimate(client, project_items="false")
    response = client.post("/batch", params={**params, "project_items": "false"}, files=files)
    book = Workbook(response.content)
    lines, _ = _rab(book)
    assert "Mobilisasi" not in {uraian.split(" ")[0] for uraian in lines}
    assert _rekap(book)["(A)"] == Decimal(segment["totals"]["subtotal"])


def test_an_estimate_saved_before_stated_volumes_answers_its_stored_figures(
    client: TestClient,
) -> None:
    saved = client.post(
        "/estimates", params={**PARAMS, "save": "true"}, json=BODY, headers={"X-API-Key": API_KEY}
    )
    assert saved.status_code == 201, saved.text
    record = client.get(saved.headers["location"]).json()
    # the same estimate as it was stored before: volumes unrounded, no Divisi, no project
    # items, no rounded total, and a query without project_items or lang
    old = {
        key: value
        for key, value in record.items()
        if key not in (*SAVED_ABOUT, "divisions", "vat_label")
    }
    old["items"] = [
        {**item, "quantity": item["quantity"] + 1 / 3}
        for item in old["items"]
        if item["code"] not in PROJECT
    ]
    old["totals"] = {
        key: value
        for key, value in old["totals"].items()
        if key not in ("rounded_total", "total_in_words")
    }
    query = {
        k: v for k, v in record["request"]["query"].items() if k not in ("project_items", "lang")
    }
    request = {**record["request"], "query": query}
    store: StoreSettings = client.app.state.settings.store  # type: ignore[attr-defined]
    engine = create_store_engine(store)
    stored = Repository(engine).save_estimate(
        NewEstimate(
            name=None,
            geometry=shapely.box(106.63, -6.173, 106.633, -6.17),
            request=request,
            result=old,
            properties={},
            template_slug="collector-rigid",
            template_version=1,
            catalog_slug="tangerang-sample",
            catalog_version=1,
            currency="IDR",
            total=Decimal(old["totals"]["total"]),
        )
    )
    engine.dispose()
    answer = client.get(f"/estimates/{stored.id}", headers={"X-API-Key": API_KEY})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: v for k, v in body.items() if k not in SAVED_ABOUT} == old
    stored_text = json.dumps(old, ensure_ascii=False, separators=(",", ":"))[1:-1]
    assert stored_text in answer.text  # the stored figures, byte for byte
    assert "divisions" not in body and "rounded_total" not in body["totals"]
    # other formats are made again from the pinned versions, with the query as it was saved
    again = client.get(
        f"/estimates/{stored.id}", params={"f": "csv"}, headers={"X-API-Key": API_KEY}
    )
    assert again.status_code == 200, again.text


def test_the_cli_leaves_project_items_out_on_request(client: TestClient, tmp_path: Path) -> None:
    source = tmp_path / "roads.csv"
    source.write_bytes(_csv())
    books = {}
    for flag in ("--project-items", "--no-project-items"):
        out = tmp_path / f"{flag}.xlsx"
        options = [flag, "--template", "collector-rigid", "--catalog", "tangerang-sample"]
        run = run_takeoff(
            "estimate", str(source), "-o", str(out), *options, "--width-m", "5", **store_env(client)
        )
        assert run.returncode == 0, run.stderr
        books[flag] = Workbook(out.read_bytes())
    _matches(books["--project-items"], _estimate(client, lang="id"))
    _matches(books["--no-project-items"], _estimate(client, lang="id", project_items="false"))
