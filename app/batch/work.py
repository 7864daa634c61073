"""One chunk's work, run in worker processes: decode, validate, measure, price, encode.

Everything here is a plain function of picklable inputs (the chunk's own columns, its
encoded geometry, its plan, the resolved templates and the catalog) returning the rows to
write, so a process pool, a Dask worker or the calling thread can run it. Decoding WKT and
measuring hold the GIL most of the time, hence processes rather than threads; the calling
process only reads, plans, adds up the bill and writes.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely

from app.errors import TakeoffError
from app.estimate.bom import BillOfMaterials, amount_column, quantity_column
from app.estimate.catalogs import RateCatalog
from app.estimate.templates import Template
from app.geo.overlap import PavedSurfaces
from app.geo.parse import ParsedFeatures, parse_geometries, parse_wkt
from app.geo.validate import find_problems
from app.io.safety import FORMULA_PREFIXES
from app.pipeline import EstimateOptions, FeaturePlan, estimate_chunk

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]
MONEY_COLUMNS = ("subtotal", "overhead_profit", "tax", "total")


class RowErrors:
    """Each row's first problem as `row N, column C: reason` (None: none so far)."""

    def __init__(self, count: int, first_row: int) -> None:
        self.messages: list[str | None] = [None] * count
        self.failed: BoolArray = np.zeros(count, dtype=bool)
        self.first_row = first_row

    def add(self, index: int, column: str | None, reason: str) -> None:
        """Keep the first problem of row `index` (0-based in the chunk)."""
        if self.messages[index] is None:
            place = f"row {self.first_row + index}" + (f", column {column}" if column else "")
            self.messages[index] = f"{place}: {reason}"
            self.failed[index] = True


def column_of(problem: TakeoffError) -> str | None:
    """The input column a domain error's `field` names (`thickness.AC-WC` -> `thickness`)."""
    return str(problem.where.get("field", "")).split(".")[0] or None


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV output encodes rows; picklable, so workers format and the writer appends."""

    wkt_column: str | None
    errors_only: bool = False


@dataclass
class OutputChunk:
    """Rows ready to write: input columns, result columns, geometry (WKB, EPSG:4326)."""

    attributes: pa.Table
    results: pa.Table
    wkb: npt.NDArray[np.object_] | None
    failed: BoolArray


@dataclass(frozen=True)
class ChunkTask:
    """One chunk: its rows, its plan and the problems already found while planning; with
    `dissolve`, the surfaces earlier chunks paved (the chunk then runs after them, in the
    process that keeps them)."""

    attributes: pa.Table
    geometry: pa.Array
    encoding: Literal["wkt", "wkb"]
    geometry_column: str
    crs: Any
    plan: FeaturePlan
    errors: RowErrors
    options: EstimateOptions
    templates: dict[str, Template]
    catalog: RateCatalog
    codes: tuple[str, ...]
    max_vertices: int
    want_geometry: bool
    csv_formats: tuple[CsvFormat | None, ...]
    paved: PavedSurfaces | None = None

    @property
    def want_rows(self) -> bool:
        """Whether some output is not a CSV encoded here (it needs the result columns)."""
        return any(fmt is None for fmt in self.csv_formats)


@dataclass
class ChunkResult:
    """What comes back from a worker: which rows failed and why, the chunk's bill (lines and
    totals only), each CSV output's bytes, and the result columns and geometry only when an
    output other than CSV needs them (the input columns stay with the caller)."""

    failed: BoolArray
    messages: list[str | None]
    bill: BillOfMaterials
    encoded: list[tuple[bytes, bytes] | None]
    results: pa.Table | None
    wkb: npt.NDArray[np.object_] | None

    def output(self, attributes: pa.Table) -> OutputChunk:
        """The rows to write, with the input columns they came from."""
        assert self.results is not None
        return OutputChunk(attributes, self.results, self.wkb, self.failed)


def decode(geometry: pa.Array, encoding: str, crs: Any) -> ParsedFeatures:
    """Geometry as sent (WKT/EWKT text or WKB) to features in EPSG:4326, never raising per row.

    It travels as an Arrow array (a few buffers to pickle) and becomes Python objects here.
    """
    if encoding == "wkt":
        return parse_wkt(geometry, crs=crs)
    values = geometry.to_numpy(zero_copy_only=False)
    return parse_geometries(shapely.from_wkb(values, on_invalid="ignore"), crs=crs)


@contextmanager
def paused_gc() -> Iterator[None]:
    """A chunk makes millions of small lists and dicts and no reference cycles: the cyclic
    collector would rescan them all many times (it doubles the cost of decoding WKT)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Decode every row, measure and price the ones that can be, and encode the outputs."""
    with paused_gc():
        return _run_chunk(task)


def _run_chunk(task: ChunkTask) -> ChunkResult:
    errors = task.errors
    features = decode(task.geometry, task.encoding, task.crs)
    for index, problem in enumerate(find_problems(features, max_vertices=task.max_vertices)):
        if problem is not None:
            errors.add(index, task.geometry_column, problem)
    estimate = estimate_chunk(
        features.geometries,
        task.plan,
        replace(task.options, check_overlaps=False),
        task.templates,
        task.catalog,
        skip=errors.failed.copy(),
        paved=task.paved,
    )
    for index, unpriced in enumerate(estimate.problems):
        if unpriced is not None:
            errors.add(index, column_of(unpriced), unpriced.detail)
    measurements = estimate.measured.measurements
    warnings = features.warnings
    for position in np.flatnonzero([bool(w) for w in measurements.warnings]).tolist():
        row = int(estimate.rows[position])
        warnings[row] = warnings[row] + measurements.warnings[position]
    methods = measurements.length_method[np.searchsorted(estimate.rows, estimate.priced)]
    results = _results(task, estimate.bill, estimate.priced, methods, warnings)
    wkb = (
        np.asarray(shapely.to_wkb(features.geometries), dtype=object)
        if task.want_geometry
        else None
    )
    output = OutputChunk(task.attributes, results, wkb, errors.failed)
    encoded = [None if fmt is None else encode_csv(fmt, output) for fmt in task.csv_formats]
    wanted = task.want_rows
    return ChunkResult(
        failed=errors.failed,
        messages=errors.messages,
        bill=_lines_only(estimate.bill),
        encoded=encoded,
        results=results if wanted else None,
        wkb=wkb if wanted else None,
    )


def _lines_only(bill: BillOfMaterials) -> BillOfMaterials:
    """The bill without its per-feature columns: what the batch bill needs, cheap to send."""
    nothing = np.empty(0, dtype=np.int64)
    features = replace(
        bill.features,
        template=nothing.astype(np.intp),
        length_m=nothing.astype(float),
        width_m=nothing.astype(float),
        area_m2=nothing.astype(float),
        subtotal=nothing,
        overhead_profit=nothing,
        tax=nothing,
        total=nothing,
    )
    return replace(bill, blocks=(), features=features)


def _results(
    task: ChunkTask,
    bill: BillOfMaterials,
    priced: IndexArray,
    methods: npt.NDArray[np.str_],
    warnings: list[list[str]],
) -> pa.Table:
    """The result columns: template, measures, `<code>_<unit>`, `<code>_amount`, money,
    warnings, `status`, `error`; empty where a row failed."""
    count = len(task.errors.messages)
    exponent = task.catalog.currency_exponent
    which = np.full(count, -1, dtype=np.intp)  # each row's template in the bill (-1: none)
    floats = {name: np.full(count, np.nan) for name in ("length_m", "area_m2", "mean_width_m")}
    method = np.full(count, None, dtype=object)
    quantities = {code: np.full(count, np.nan) for code in task.codes}
    amounts = {code: np.full(count, -1, dtype=np.int64) for code in task.codes}
    money = {name: np.full(count, -1, dtype=np.int64) for name in MONEY_COLUMNS}
    if len(bill):
        which[priced] = bill.features.template
        floats["length_m"][priced] = bill.features.length_m
        floats["area_m2"][priced] = bill.features.area_m2
        floats["mean_width_m"][priced] = bill.features.width_m
        method[priced] = methods
        for block in bill.blocks:
            for j, line in enumerate(block.lines[:, 0]):
                code = bill.items[line].code
                if code in quantities:
                    quantities[code][priced[block.features]] = block.quantities[j]
                    amounts[code][priced[block.features]] = block.amounts[j]
        for name in MONEY_COLUMNS:
            money[name][priced] = getattr(bill.features, name)
    refs = bill.templates
    picks = pa.array(which, mask=which < 0)
    columns: dict[str, pa.Array] = {
        "template": pa.array([ref.slug for ref in refs], pa.string()).take(picks),
        "template_version": pa.array([ref.version for ref in refs], pa.int64()).take(picks),
    }
    for name, values in floats.items():
        columns[name] = pa.array(values, pa.float64(), from_pandas=True)
    columns["length_method"] = pa.array(method, pa.string())
    units = {code: task.catalog.items[code].unit for code in task.codes}
    for code in task.codes:
        columns[quantity_column(code, units[code])] = pa.array(
            quantities[code], pa.float64(), from_pandas=True
        )
    for code in task.codes:
        columns[amount_column(code)] = decimal_array(amounts[code], exponent)
    for name in MONEY_COLUMNS:
        columns[name] = decimal_array(money[name], exponent)
    joined: list[str | None] = [None] * count
    for row in np.flatnonzero([bool(w) for w in warnings]).tolist():
        joined[row] = "; ".join(warnings[row])
    columns["warnings"] = pa.array(joined, pa.string())
    failed = task.errors.failed
    columns["status"] = pc.if_else(pa.array(failed), "error", "ok")
    columns["error"] = pa.array(task.errors.messages, pa.string())
    taken = set(task.attributes.column_names)
    return pa.table({(f"{k}_result" if k in taken else k): v for k, v in columns.items()})


def decimal_array(minor: npt.NDArray[np.int64], exponent: int) -> pa.Array:
    """Integer minor units as exact decimals (-1: null): 12345, 2 -> 123.45, no float between.

    Whole currency units (exponent 0) stay integers: exact, and three times faster to write.
    """
    valid = minor >= 0
    if exponent == 0:
        return pa.array(minor, pa.int64(), mask=~valid)
    wide = np.zeros((minor.size, 2), dtype=np.int64)
    wide[:, 0] = np.where(valid, minor, 0)  # amounts are never negative: high word 0
    data = pa.py_buffer(wide.tobytes())
    array = pa.Array.from_buffers(pa.decimal128(38, exponent), minor.size, [None, data])
    if valid.all():
        return array
    return pc.if_else(pa.array(valid), array, pa.scalar(None, pa.decimal128(38, exponent)))


def neutralise_column(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """`app.io.safety.neutralise` on a whole text column (numbers such as -5 stay as they are)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values
    first = pc.utf8_slice_codeunits(values, 0, 1)
    risky = pc.fill_null(pc.is_in(first, pa.array(list(FORMULA_PREFIXES))), False)
    if not pc.any(risky).as_py():
        return values
    number = pc.match_substring_regex(values, r"^[+-]?[0-9]+([.,][0-9]+)?$")
    risky = pc.and_(risky, pc.invert(number))
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def _csv_table(fmt: CsvFormat, chunk: OutputChunk) -> pa.Table:
    """The rows of a CSV output: input columns (text neutralised, WKT as sent), then results;
    for an error file, the failed rows' input columns alone, exactly as sent."""
    attributes = chunk.attributes
    if fmt.errors_only:
        table = attributes.filter(pa.array(chunk.failed))
        wkb = None if chunk.wkb is None else chunk.wkb[chunk.failed]
    else:
        for index, name in enumerate(attributes.column_names):
            if name != fmt.wkt_column:
                column = neutralise_column(attributes.column(index))
                attributes = attributes.set_column(index, name, column)
        table = attributes
        for name in chunk.results.column_names:
            table = table.append_column(name, chunk.results.column(name))
        wkb = chunk.wkb
    if fmt.wkt_column is None:
        geometries = shapely.from_wkb(wkb) if wkb is not None else np.full(table.num_rows, None)
        text = shapely.to_wkt(geometries, rounding_precision=7, trim=True)
        table = table.append_column("wkt", pa.array(text, pa.string()))
    return table


def encode_csv(fmt: CsvFormat, chunk: OutputChunk) -> tuple[bytes, bytes]:
    """(header line, rows) of the chunk as CSV: workers encode, the writer only appends."""
    table = _csv_table(fmt, chunk)
    rows = io.BytesIO()
    pacsv.write_csv(table, rows, pacsv.WriteOptions(include_header=False, batch_size=8192))
    header = io.BytesIO()
    pacsv.write_csv(table.slice(0, 0), header)
    return header.getvalue(), rows.getvalue()


class InlineExecutor(Executor):
    """Runs each task in the calling thread: small inputs do not pay for starting processes."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run now; the future is already done."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from a `forkserver`, never from this process.

    Forking a process that already runs Arrow's, GDAL's or the database driver's threads
    can leave a child holding a lock nobody will release. The fork server is a clean
    single-threaded process started once, with this module (and so NumPy, Arrow, Shapely
    and the estimate models) imported beforehand: each worker starts from it in
    milliseconds instead of importing everything again as `spawn` would.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
