"""The result columns every output writes, and a single estimate's input columns."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from app.estimate import Measures, RateCatalog, Template, price_bill
from app.estimate.catalogs import load_builtin_catalogs
from app.estimate.templates import load_builtin_templates
from app.estimate.units import quantity_decimals
from app.io.rows import (
    attributes_table,
    decimal_array,
    money_as_numbers,
    quantity_array,
    result_table,
)

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def templates() -> dict[str, Template]:
    return load_builtin_templates(DATA / "templates")


@pytest.fixture(scope="module")
def catalog() -> RateCatalog:
    return load_builtin_catalogs(DATA / "catalogs")["tangerang-sample"]


def test_priced_rows_get_their_lines_and_a_failed_row_stays_empty(templates, catalog) -> None:
    bill = price_bill(
        Measures.from_columns([100.0, 50.0]),
        ["neighbourhood-rigid", "asphalt-overlay"],
        templates=templates,
        catalog=catalog,
    )
    codes = ["SAND-BED", "CONC-FC20", "TACK-COAT", "AC-WC"]
    table = result_table(
        bill,
        np.array([0, 2]),
        np.array(["line", "medial-axis"]),
        [[], ["short"], ["a", "b"]],
        [None, "row 2, column wkt: not a geometry", None],
        codes=codes,
        catalog=catalog,
        taken={"template", "name"},
    )
    assert table.column_names == [
        "template_result",
        "template_version",
        "length_m",
        "area_m2",
        "mean_width_m",
        "length_method",
        "sand_bed_m3",
        "conc_fc20_m3",
        "tack_coat_l",
        "ac_wc_t",
        "sand_bed_amount",
        "conc_fc20_amount",
        "tack_coat_amount",
        "ac_wc_amount",
        "subtotal",
        "overhead_profit",
        "tax",
        "total",
        "warnings",
        "status",
        "error",
    ]
    rows = table.to_pylist()
    assert [row["template_result"] for row in rows] == [
        "neighbourhood-rigid",
        None,
        "asphalt-overlay",
    ]
    assert [row["status"] for row in rows] == ["ok", "error", "ok"]
    assert rows[1]["error"] == "row 2, column wkt: not a geometry"
    assert all(
        value is None
        for key, value in rows[1].items()
        if key not in ("status", "error", "warnings")
    )
    assert rows[1]["warnings"] == "short"  # a failed row keeps what reading it found
    assert rows[2]["warnings"] == "a; b"
    assert rows[0]["ac_wc_t"] is None and rows[0]["sand_bed_m3"] > 0
    assert rows[2]["sand_bed_amount"] is None and rows[2]["ac_wc_amount"] > 0
    first, second = bill.feature_totals(0), bill.feature_totals(1)
    assert [rows[0]["total"], rows[2]["total"]] == [first.total, second.total]
    assert rows[2]["length_method"] == "medial-axis"


def test_money_is_exact_decimal_until_a_format_needs_numbers() -> None:
    cents = decimal_array(np.array([12345, -1, 5], dtype=np.int64), 2)
    assert cents.to_pylist() == [Decimal("123.45"), None, Decimal("0.05")]
    whole = decimal_array(np.array([7, -1, 0], dtype=np.int64), 0)
    assert whole.type == pa.int64() and whole.to_pylist() == [7, None, 0]
    numbers = money_as_numbers(pa.table({"amount": cents, "units": whole}))
    assert numbers.schema.types == [pa.float64(), pa.int64()]
    assert numbers.column("amount").to_pylist() == [123.45, None, 0.05]


def test_feature_properties_become_input_columns() -> None:
    table = attributes_table(
        [
            {"name": "Jalan Mawar", "ref": 5, "rates": {"AC-WC": 1}, "lanes": 2},
            {"ref": "5a", "lanes": 2.5, "paved": True},
            {},
        ]
    )
    assert table.column_names == ["name", "ref", "lanes", "paved"]  # nested `rates` has no cell
    assert table.column("ref").to_pylist() == ["5", "5a", None]  # mixed: written as text
    assert table.column("lanes").to_pylist() == [2.0, 2.5, None]
    assert table.column("paved").to_pylist() == [None, True, None]
    assert attributes_table([{}, {"centerline": {"type": "LineString"}}]).num_rows == 2


def test_quantities_are_written_with_the_decimals_the_bill_uses() -> None:
    assert [quantity_decimals(unit) for unit in ("m", "m²", "M3", "ton", "ltr", "kg", "pcs")] == [
        2,
        2,
        2,
        2,
        2,
        0,
        0,
    ]
    values = np.array([12.344, 12.345, np.nan, 0.004, 1_234_567.891])
    assert quantity_array(values, "m3").to_pylist() == [
        Decimal("12.34"),
        Decimal("12.35"),
        None,
        Decimal("0.00"),
        Decimal("1234567.89"),
    ]
    assert quantity_array(np.array([12.5, 12.49, np.nan]), "kg").to_pylist() == [13, 12, None]
