"""One chunk's work, run in worker processes: decode, validate, measure, price, encode.

Everything here is a plain function of picklable inputs (the chunk's own columns, its
encoded geometry, how to plan its rows, the templates they may name and the catalog)
returning the rows to write, so a process pool, a Dask worker or the calling thread can run
it. Planning, decoding WKT and measuring hold the GIL most of the time, hence processes
rather than threads; the calling process only reads, resolves templates, adds up the bill
and appends what the workers wrote.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely

from app.batch.planning import RowErrors, RowPlanner, Templates, column_of
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.overrides import Overrides
from app.geo.overlap import PavedSurfaces
from app.geo.parse import ParsedFeatures, parse_geometries, parse_wkt
from app.geo.validate import find_problems
from app.io.csvout import CsvFormat, EncodedRows, encode_csv
from app.io.rows import OutputChunk, result_table
from app.pipeline import FeaturePlan, estimate_chunk

BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class ChunkTask:
    """One chunk: its rows, how to plan them, the templates they may name and the problems
    already found while reading (`broken`, by row index in the chunk); with `dissolve`, the
    surfaces earlier chunks paved (the chunk then runs after them, in the process that keeps
    them)."""

    attributes: pa.Table
    geometry: pa.Array | None
    """None: it is the attributes' `geometry_column` (a CSV's WKT, sent once)."""
    broken: dict[int, str]
    first_row: int
    encoding: Literal["wkt", "wkb"]
    geometry_column: str
    crs: Any
    planner: RowPlanner
    templates: Templates
    catalog: RateCatalog
    codes: tuple[str, ...]
    max_vertices: int
    want_geometry: bool
    csv_formats: tuple[CsvFormat | None, ...]
    paved: PavedSurfaces | None = None

    @property
    def encoded_geometry(self) -> pa.Array:
        """The rows' geometry as sent (WKT text or WKB)."""
        if self.geometry is not None:
            return self.geometry
        return self.attributes.column(self.geometry_column).combine_chunks()

    @property
    def want_rows(self) -> bool:
        """Whether some output is not a CSV encoded here (it needs the result columns)."""
        return any(fmt is None for fmt in self.csv_formats)


@dataclass
class ChunkResult:
    """What comes back from a worker: which rows failed and why, the chunk's bill (lines and
    totals only), each CSV output's rows (bytes, or the piece file the worker wrote), and
    the result columns, geometry and rows' own overrides only when an output other than CSV
    needs them (the input columns stay with the caller)."""

    failed: BoolArray
    messages: list[str | None]
    references: set[str]
    """The templates the rows name (whether or not they could be priced)."""
    bill: BillOfMaterials
    encoded: list[EncodedRows | None]
    results: pa.Table | None
    wkb: npt.NDArray[np.object_] | None
    own_overrides: list[Overrides | None] | None

    def output(self, task: ChunkTask) -> OutputChunk:
        """The rows to write, with the input columns they came from."""
        assert self.results is not None
        overrides = task.planner.options.overrides
        return OutputChunk(
            task.attributes, self.results, self.wkb, self.failed, overrides, self.own_overrides
        )


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
    errors = RowErrors(len(task.attributes), task.first_row)
    plan = task.planner.plan(task.attributes, task.broken, errors, task.templates)
    features = decode(task.encoded_geometry, task.encoding, task.crs)
    for index, problem in enumerate(find_problems(features, max_vertices=task.max_vertices)):
        if problem is not None:
            errors.add(index, task.geometry_column, problem)
    estimate = estimate_chunk(
        features.geometries,
        plan,
        replace(task.planner.options, check_overlaps=False),
        task.templates.usable,
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
    results = _results(task, plan, errors, estimate.bill, estimate.priced, methods, warnings)
    wkb = (
        np.asarray(shapely.to_wkb(features.geometries), dtype=object)
        if task.want_geometry
        else None
    )
    output = OutputChunk(task.attributes, results, wkb, errors.failed)  # CSV: no overrides
    encoded = [  # a piece file is named by the chunk's first row and the output
        None if fmt is None else encode_csv(fmt, output, f"{errors.first_row}-{number}")
        for number, fmt in enumerate(task.csv_formats)
    ]
    wanted = task.want_rows
    return ChunkResult(
        failed=errors.failed,
        messages=errors.messages,
        references=set(plan.templates),
        bill=_lines_only(estimate.bill),
        encoded=encoded,
        results=results if wanted else None,
        wkb=wkb if wanted else None,
        own_overrides=plan.overrides if wanted else None,
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
    plan: FeaturePlan,
    errors: RowErrors,
    bill: BillOfMaterials,
    priced: IndexArray,
    methods: npt.NDArray[np.str_],
    warnings: list[list[str]],
) -> pa.Table:
    """The result columns (`app.io.rows.result_table`); empty where a row failed."""
    return result_table(
        bill,
        priced,
        methods,
        warnings,
        errors.messages,
        codes=task.codes,
        catalog=task.catalog,
        overrides=plan.overrides,
        taken=task.attributes.column_names,
    )
