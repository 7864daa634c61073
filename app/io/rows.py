"""Estimated rows ready to write: the input's own columns, the result columns, the geometry.

Every output of every route (`POST /estimates?f=...`, `POST /batch`, `takeoff estimate`)
writes an `OutputChunk`: a batch makes one per chunk of its input, a single estimate is one
chunk (`estimate_rows`). The result columns are made here and nowhere else, so the same
features give the same per-feature figures by every route: template, measures, one
`<code>_<unit>` quantity and one `<code>_amount` per item, `<code>_haul_km` and
`<code>_haul_from` per item an analysis prices at a haul distance L (`request`, `network`,
`straight-line` or `catalog`; empty where the row bills no such item), the money totals,
warnings, `status` and `error`. Measures and quantities carry the decimals the bill uses for
their unit (`app.estimate.units.quantity_decimals`), money its currency's. A result column
whose name the input already uses gets `_result`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from app.estimate.bom import BillOfMaterials, amount_column, haul_columns, quantity_column
from app.estimate.catalogs import RateCatalog
from app.estimate.overrides import Overrides
from app.estimate.units import quantity_decimals, stated_units
from app.io.rfc7946 import rfc7946_geometries

if TYPE_CHECKING:
    from app.pipeline import EstimateResult

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]
MONEY_COLUMNS = ("subtotal", "overhead_profit", "tax", "total")
MEASURE_UNITS = {"length_m": "m", "area_m2": "m2", "mean_width_m": "m"}


@dataclass
class OutputChunk:
    """Rows ready to write: input columns, result columns, geometry (WKB, EPSG:4326), and
    the overrides the rows were priced with (the request's, and each row's own)."""

    attributes: pa.Table
    results: pa.Table
    wkb: npt.NDArray[np.object_] | None
    failed: BoolArray
    request_overrides: Overrides = field(default_factory=Overrides)
    own_overrides: Sequence[Overrides | None] | None = None

    def overrides(self, row: int) -> Overrides:
        """What row `row` was priced with: the request's overrides under its own."""
        own = None if self.own_overrides is None else self.own_overrides[row]
        return self.request_overrides.merged_with(own)


def _nulls(count: int, exponent: int) -> pa.Array:
    """An empty column of the type `decimal_array` gives for `exponent`."""
    return pa.nulls(count, pa.int64() if exponent == 0 else pa.decimal128(38, exponent))


def decimal_array(minor: npt.NDArray[np.int64], exponent: int) -> pa.Array:
    """Non-negative integers in units of 10**-exponent as exact decimals (-1: null):
    12345, 2 -> 123.45, no float between.

    Whole units (exponent 0) stay integers: exact, and three times faster to write.
    """
    valid = minor >= 0
    if not valid.any():  # an item no row of the chunk bills: most columns of a wide file
        return _nulls(minor.size, exponent)
    if exponent == 0:
        return pa.array(minor, pa.int64(), mask=~valid)
    wide = np.zeros((minor.size, 2), dtype=np.int64)
    wide[:, 0] = np.where(valid, minor, 0)  # amounts are never negative: high word 0
    nulls = int(minor.size - np.count_nonzero(valid))
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(
        pa.decimal128(38, exponent), minor.size, [validity, pa.py_buffer(wide)], null_count=nulls
    )


def quantity_array(values: npt.NDArray[np.float64], unit: str) -> pa.Array:
    """Quantities or measures in `unit` with the decimals a bill uses for it, rounded half
    up, as exact decimals (null where NaN): short to write and to read, no 17-digit floats."""
    missing = np.isnan(values)
    if missing.all():
        return _nulls(values.size, quantity_decimals(unit))
    units = stated_units(np.where(missing, 0.0, values), unit)
    return decimal_array(np.where(missing, -1, units), quantity_decimals(unit))


def result_table(
    bill: BillOfMaterials | None,
    priced: IndexArray,
    methods: npt.NDArray[np.str_],
    warnings: Sequence[Sequence[str]],
    messages: Sequence[str | None],
    *,
    codes: Sequence[str],
    catalog: RateCatalog,
    overrides: Sequence[Overrides | None] | None = None,
    taken: Collection[str] = (),
) -> pa.Table:
    """The result columns of `len(messages)` rows, of which `priced` (ascending) are the
    bill's features in order and have `methods`; the others stay empty, with `status` error
    and their message. `codes` are the items given a column; `overrides` each row's own (a
    row's `haul_km` prices its hauled items); `taken` the input's columns."""
    count = len(messages)
    exponent = catalog.currency_exponent
    which = np.full(count, -1, dtype=np.intp)  # each row's template in the bill (-1: none)
    floats = {name: np.full(count, np.nan) for name in MEASURE_UNITS}
    method = np.full(count, None, dtype=object)
    quantities = {code: np.full(count, np.nan) for code in codes}
    amounts = {code: np.full(count, -1, dtype=np.int64) for code in codes}
    money = {name: np.full(count, -1, dtype=np.int64) for name in MONEY_COLUMNS}
    if bill is not None:
        which[priced] = bill.features.template
        floats["length_m"][priced] = bill.features.length_m
        floats["area_m2"][priced] = bill.features.area_m2
        floats["mean_width_m"][priced] = bill.features.width_m
        method[priced] = methods
        for block in bill.blocks:
            for j, code in enumerate(block.codes):
                if code in quantities:
                    quantities[code][priced[block.features]] = block.stated[j]
                    amounts[code][priced[block.features]] = block.amounts[j]
        for name in MONEY_COLUMNS:
            money[name][priced] = getattr(bill.features, name)
    refs = bill.templates if bill is not None else []
    picks = pa.array(which, mask=which < 0)
    columns: dict[str, pa.Array] = {
        "template": pa.array([ref.slug for ref in refs], pa.string()).take(picks),
        "template_version": pa.array([ref.version for ref in refs], pa.int64()).take(picks),
    }
    for name, values in floats.items():
        columns[name] = quantity_array(values, MEASURE_UNITS[name])
    columns["length_method"] = pa.array(method, pa.string())
    for code in codes:
        unit = catalog.items[code].unit
        columns[quantity_column(code, unit)] = quantity_array(quantities[code], unit)
    for code in codes:
        columns[amount_column(code)] = decimal_array(amounts[code], exponent)
    hauled = set(catalog.hauled_items())
    for code in (code for code in codes if code in hauled):
        km, origin = _haul_column(code, ~np.isnan(quantities[code]), catalog, overrides)
        km_column, origin_column = haul_columns(code)
        columns[km_column] = pa.array(km, pa.float64(), mask=np.isnan(km))
        columns[origin_column] = pa.array(origin, pa.string())
    for name in MONEY_COLUMNS:
        columns[name] = decimal_array(money[name], exponent)
    joined: list[str | None] = [None] * count
    for row in np.flatnonzero([bool(w) for w in warnings]).tolist():
        joined[row] = "; ".join(warnings[row])
    columns["warnings"] = pa.array(joined, pa.string())
    failed = pa.array([message is not None for message in messages], pa.bool_())
    columns["status"] = pc.if_else(failed, "error", "ok")
    columns["error"] = pa.array(messages, pa.string())
    return pa.table({(f"{k}_result" if k in taken else k): v for k, v in columns.items()})


def _haul_column(
    code: str,
    billed: BoolArray,
    catalog: RateCatalog,
    overrides: Sequence[Overrides | None] | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.object_]]:
    """The L each row's `code` was priced at and where it came from (NaN and None where the
    row bills none, or states its own rate for it)."""
    priced = catalog.haul_length(code)
    km = np.where(billed, float(priced.km), np.nan)
    origin = np.full(len(billed), None, dtype=object)
    origin[billed] = priced.origin
    for row, own in enumerate(overrides or ()):
        if own is None or not billed[row]:
            continue
        if code in own.rates:
            km[row], origin[row] = np.nan, None
        elif own.haul_km is not None:
            km[row], origin[row] = float(own.haul_km), "request"
    return km, origin


def _property_column(values: list[Any]) -> pa.Array:
    """One property across features: typed when the values agree, else as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def attributes_table(properties: Sequence[dict[str, Any]]) -> pa.Table:
    """The features' own scalar properties as input columns, in order of first appearance
    (nested values such as `rates` or `centerline` have no cell to go in)."""
    names: dict[str, None] = {}
    for row in properties:
        for key, value in row.items():
            if isinstance(value, str | int | float | bool):
                names.setdefault(key)
    columns = {}
    for name in names:
        values = [row.get(name) for row in properties]
        scalar = [v if isinstance(v, str | int | float | bool) else None for v in values]
        columns[name] = _property_column(scalar)
    if not columns:  # no column, but still one row per feature
        return pa.table({"_": pa.nulls(len(properties))}).drop_columns(["_"])
    return pa.table(columns)


def estimate_rows(
    result: EstimateResult, codes: Sequence[str], catalog: RateCatalog
) -> OutputChunk:
    """A single estimate as one chunk: every feature priced, its properties as the input
    columns, its geometry in EPSG:4326."""
    count = len(result.bill)
    attributes = attributes_table(result.features.properties)
    results = result_table(
        result.bill,
        np.arange(count),
        result.measurements.length_method,
        [result.feature_warnings(index) for index in range(count)],
        [None] * count,
        codes=codes,
        catalog=catalog,
        overrides=result.plan.overrides,
        taken=attributes.column_names,
    )
    wkb = np.asarray(shapely.to_wkb(result.features.geometries), dtype=object)
    failed = np.zeros(count, dtype=bool)
    return OutputChunk(
        attributes, results, wkb, failed, result.options.overrides, result.plan.overrides
    )


def money_number(value: Any) -> Any:
    """A Decimal as an int when whole (exact), else a float; anything else unchanged."""
    if not isinstance(value, Decimal):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def money_as_numbers(table: pa.Table) -> pa.Table:
    """Decimal columns as integers (whole currency units) or floats: GIS formats and
    spreadsheets have no arbitrary-precision decimal per cell."""
    for index, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):
            target = pa.int64() if column.type.scale == 0 else pa.float64()
            table = table.set_column(index, column.name, table.column(index).cast(target))
    return table


def output_table(chunk: OutputChunk, wkt_column: str | None, errors_only: bool) -> pa.Table:
    """The columns of a GIS or spreadsheet output: input columns (without the input's WKT
    text: the geometry is the geometry), then results with money as numbers; for an error
    file, the failed rows' input columns alone."""
    table = chunk.attributes
    if wkt_column in table.column_names:
        table = table.drop_columns([wkt_column])
    if errors_only:
        return table.filter(pa.array(chunk.failed))
    for name in chunk.results.column_names:
        table = table.append_column(name, chunk.results.column(name))
    return money_as_numbers(table)


def output_geometry(chunk: OutputChunk, errors_only: bool) -> pa.Array:
    """The rows' geometry as RFC 7946 WKB (right-hand rule, 7 decimals); null where none."""
    wkb = chunk.wkb if chunk.wkb is not None else np.full(len(chunk.failed), None)
    if errors_only:
        wkb = wkb[chunk.failed]
    oriented = rfc7946_geometries(shapely.from_wkb(wkb))
    return pa.array(shapely.to_wkb(oriented), pa.binary())
