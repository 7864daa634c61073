"""Stream a batch input through the pipeline, chunk by chunk, accounting for every row.

Per chunk, in the calling process: read the row's own options into a plan
(`app.pipeline.plan_columns`, plus template maps and width rules), resolve the templates it
names; in worker processes: decode, validate and measure (`app.batch.work`); back in order:
price with the engine, add the chunk's lines to the batch bill, write the rows. A row that
cannot be estimated gets `status` error and a reason naming its row and column; it never
stops the others and is never dropped. At most `workers + 1` chunks are in flight, so
memory stays bounded whatever the input size.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from app.batch.bill import BillAccumulator, item_columns
from app.batch.mapping import TemplateMap, WidthRule
from app.batch.work import InlineExecutor, MeasuredChunk, MeasureTask, measure_chunk, process_pool
from app.errors import InvalidInput, TakeoffError
from app.estimate.bom import BillOfMaterials, amount_column, quantity_column
from app.estimate.catalogs import RateCatalog
from app.estimate.overrides import check_overrides
from app.estimate.pricing import price_bill
from app.estimate.quantities import Measures
from app.estimate.templates import Template
from app.io.csvin import parse_numbers
from app.io.sources import Source, SourceChunk
from app.pipeline import OVERRIDE_PROPERTIES, EstimateOptions, FeaturePlan, plan_columns
from app.pipeline import none_if_all_none as _none_if_all_none

BoolArray = npt.NDArray[np.bool_]
MONEY_COLUMNS = ("subtotal", "overhead_profit", "tax", "total")
_JSON_OVERRIDES = ("thickness", "density", "spray_rate", "waste", "rates")
_MAX_PRICING_RETRIES = 1000


@dataclass(frozen=True)
class BatchOptions:
    """What applies to every row unless the row says otherwise."""

    estimate: EstimateOptions
    template_map: TemplateMap | None = None
    width_from: WidthRule | None = None
    max_vertices: int = 100_000
    workers: int = 2
    want_geometry: bool = False


@dataclass
class OutputChunk:
    """Rows ready to write: input columns, result columns, geometry (WKB, EPSG:4326)."""

    attributes: pa.Table
    results: pa.Table
    wkb: npt.NDArray[np.object_] | None
    failed: BoolArray


class Sink(Protocol):
    """Where rows go, a chunk at a time."""

    def write(self, chunk: OutputChunk) -> None:
        """Write the chunk's rows, in order."""

    def close(self, summary: BatchSummary) -> None:
        """Finish the file (summary sheets, footers)."""


@dataclass
class BatchSummary:
    """How the batch went, and its bill priced on the aggregated quantities."""

    rows: int = 0
    failed: int = 0
    first_errors: list[str] = field(default_factory=list)
    bill: BillOfMaterials | None = None
    templates: list[Template] = field(default_factory=list)
    catalog: RateCatalog | None = None

    @property
    def succeeded(self) -> int:
        """Rows estimated."""
        return self.rows - self.failed


class RowErrors:
    """Each row's first problem as `row N, column C: reason`."""

    def __init__(self, count: int, first_row: int) -> None:
        self.messages: list[str | None] = [None] * count
        self.first_row = first_row

    def add(self, index: int, column: str | None, reason: str) -> None:
        """Keep the first problem of row `index` (0-based in the chunk)."""
        if self.messages[index] is None:
            place = f"row {self.first_row + index}" + (f", column {column}" if column else "")
            self.messages[index] = f"{place}: {reason}"

    @property
    def failed(self) -> BoolArray:
        """Rows with a problem."""
        return np.array([message is not None for message in self.messages], dtype=bool)


def _column_values(table: pa.Table, name: str) -> npt.NDArray[np.object_]:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=object)


def _numbers(table: pa.Table, name: str, decimal: str) -> tuple[npt.NDArray[np.float64], BoolArray]:
    column = table.column(name)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        return values, np.zeros(len(values), dtype=bool)
    return parse_numbers(column.cast(pa.string()), decimal)


@dataclass
class _Prepared:
    chunk: SourceChunk
    errors: RowErrors
    plan: FeaturePlan
    width_columns: list[str]


class BatchRunner:
    """One batch: options, the catalog, and how to find a template by reference."""

    def __init__(
        self,
        source: Source,
        options: BatchOptions,
        catalog: RateCatalog,
        resolve_template: Callable[[str], Template],
        item_codes: Sequence[str],
    ) -> None:
        self.source = source
        self.options = options
        self.catalog = catalog
        self._resolve = resolve_template
        self._templates: dict[str, Template | TakeoffError] = {}
        self._checked_overrides: dict[Any, TakeoffError | None] = {}
        self.codes = list(dict.fromkeys(item_codes))
        self.units = {
            code: catalog.items[code].unit for code in self.codes if code in catalog.items
        }
        self.accumulator = BillAccumulator(catalog)
        self.summary = BatchSummary(catalog=catalog)
        self._check_columns()

    def _check_columns(self) -> None:
        columns = set(self.source.columns)
        needed = []
        if self.options.template_map is not None:
            needed.append(("template map", self.options.template_map.column))
        if self.options.width_from is not None:
            needed += [("width rule", name) for name in self.options.width_from.columns]
        for what, name in needed:
            if name not in columns:
                raise InvalidInput(
                    f"the {what} reads column {name!r}, which {self.source.path.name} does "
                    f"not have; its columns: {', '.join(self.source.columns)}",
                    field="input",
                )

    # planning, in the calling process

    def _template_of(self, reference: str) -> Template | TakeoffError:
        if reference not in self._templates:
            try:
                template = self._resolve(reference)
                price_bill(
                    Measures.from_columns([1.0]),
                    reference,
                    templates={reference: template},
                    catalog=self.catalog,
                )
                self._templates[reference] = template
            except TakeoffError as exc:
                self._templates[reference] = exc
        return self._templates[reference]

    def _prepare(self, chunk: SourceChunk) -> _Prepared:
        count = len(chunk)
        errors = RowErrors(count, self.summary.rows + 1)
        self.summary.rows += count
        for index, reason in chunk.broken.items():
            errors.add(index, None, reason)
        table, decimal = chunk.attributes, self.source.decimal
        has = set(table.column_names)

        template: list[Any] | None = None
        template_column = "template"
        if "template" in has:
            template = _column_values(table, "template").tolist()
        mapping = self.options.template_map
        if mapping is not None:
            mapped, reasons = mapping.lookup(_column_values(table, mapping.column))
            own = template or [None] * count
            template = []
            for index, value in enumerate(own):
                template.append(mapped[index] if value is None or value == "" else value)
                if value is None or value == "":
                    why = reasons[index]
                    if why is not None:
                        errors.add(index, mapping.column, why)
            template_column = f"template or {mapping.column}"

        widths: npt.NDArray[np.float64] | None = None
        width_columns = ["width_m"]
        if "width_m" in has:
            widths, bad = _numbers(table, "width_m", decimal)
            for index in np.flatnonzero(bad).tolist():
                errors.add(index, "width_m", f"{table.column('width_m')[index]} is not a number")
        rule = self.options.width_from
        if rule is not None:
            inputs: dict[str, npt.NDArray[np.float64]] = {}
            for name in rule.columns:
                inputs[name], bad = _numbers(table, name, decimal)
                for index in np.flatnonzero(bad).tolist():
                    errors.add(index, name, f"{table.column(name)[index]} is not a number")
            derived = rule.evaluate(inputs)
            widths = derived if widths is None else np.where(np.isnan(widths), derived, widths)
            width_columns = ["width_m", *rule.columns]

        overrides: dict[str, list[Any]] = {}
        for name in OVERRIDE_PROPERTIES:
            if name in has:
                overrides[name] = self._override_values(table, name, decimal, errors)

        planned = plan_columns(
            count,
            self.options.estimate,
            template=template,
            width_m=widths,
            name=_column_values(table, "name").tolist() if "name" in has else None,
            overrides=overrides or None,
        )
        for index, problem in enumerate(planned.problems):
            if problem is not None:
                column = str(problem.where.get("field", "")).split(".")[0] or None
                if column == "width_m":
                    column = " or ".join(width_columns)
                errors.add(index, column, problem.detail)
        for index, reference in enumerate(planned.plan.templates):
            if errors.messages[index] is None:
                resolved = self._template_of(reference)
                if isinstance(resolved, TakeoffError):
                    errors.add(index, template_column, resolved.detail)
        return _Prepared(chunk, errors, planned.plan, width_columns)

    def _override_values(
        self, table: pa.Table, name: str, decimal: str, errors: RowErrors
    ) -> list[Any]:
        column = table.column(name)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            return column.to_pylist()
        if name not in _JSON_OVERRIDES:
            numbers, bad = parse_numbers(column, decimal)
            for index in np.flatnonzero(bad).tolist():
                errors.add(index, name, f"{column[index]} is not a number")
            return [None if np.isnan(value) else value for value in numbers.tolist()]
        values: list[Any] = column.to_pylist()
        for index, text in enumerate(values):
            if text is not None:
                try:
                    values[index] = json.loads(text)
                except json.JSONDecodeError:
                    values[index] = None
                    errors.add(index, name, 'expected a JSON object such as {"AC-WC": 0.05}')
        return values

    def _task(self, prepared: _Prepared) -> MeasureTask:
        failed = prepared.errors.failed
        used = {
            reference: template
            for reference, bad in zip(prepared.plan.templates, failed.tolist(), strict=True)
            if not bad and isinstance(template := self._templates[reference], Template)
        }
        return MeasureTask(
            geometry=prepared.chunk.geometry,
            encoding=self.source.encoding,
            crs=self.source.crs,
            plan=prepared.plan,
            blocked=failed,
            options=self.options.estimate,
            templates=used,
            max_vertices=self.options.max_vertices,
            want_geometry=self.options.want_geometry,
        )

    # pricing and output, in input order

    def _price(self, prepared: _Prepared, measured: MeasuredChunk) -> OutputChunk:
        errors, plan = prepared.errors, prepared.plan
        for index, problem in enumerate(measured.problems):
            if problem is not None:
                errors.add(index, self.source.geometry_column, problem)
        rows = np.flatnonzero(measured.measured)
        position_of = {row: position for position, row in enumerate(rows.tolist())}
        for row in rows.tolist():
            own = plan.overrides[row]
            if own is not None:
                self._check_own_overrides(row, own, plan.templates[row], errors)
        keep = ~errors.failed[rows]
        bill: BillOfMaterials | None = None
        for _attempt in range(_MAX_PRICING_RETRIES):
            chosen = rows[keep]
            if not chosen.size:
                break
            picked = np.array([position_of[row] for row in chosen.tolist()], dtype=np.intp)
            try:
                bill = self._price_rows(plan, chosen, measured.measures.take(picked))
                self.accumulator.check(bill)
                break
            except TakeoffError as exc:
                bill = None
                feature = exc.where.get("feature")
                if not isinstance(feature, int):
                    for row in chosen.tolist():
                        errors.add(row, None, exc.detail)
                    break
                row = int(chosen[feature])
                errors.add(row, str(exc.where.get("field", "")).split(".")[0] or None, exc.detail)
                keep[position_of[row]] = False
        failed = errors.failed
        if bill is not None:
            self.accumulator.add(bill)
        return OutputChunk(
            attributes=prepared.chunk.attributes,
            results=self._results(prepared, measured, bill, failed, position_of),
            wkb=measured.wkb,
            failed=failed,
        )

    def _check_own_overrides(self, row: int, own: Any, reference: str, errors: RowErrors) -> None:
        key = (own.key(), reference)
        if key not in self._checked_overrides:
            template = self._templates[reference]
            assert isinstance(template, Template)
            try:
                check_overrides(own, [template], feature=None)
                self._checked_overrides[key] = None
            except TakeoffError as exc:
                self._checked_overrides[key] = exc
        problem = self._checked_overrides[key]
        if problem is not None:
            errors.add(
                row, str(problem.where.get("field", "")).split(".")[0] or None, problem.detail
            )

    def _price_rows(
        self, plan: FeaturePlan, rows: npt.NDArray[np.intp], measures: Measures
    ) -> BillOfMaterials:
        references = [plan.templates[row] for row in rows.tolist()]
        templates = {ref: self._templates[ref] for ref in set(references)}
        return price_bill(
            measures,
            references,
            templates=templates,  # type: ignore[arg-type]
            catalog=self.catalog,
            overrides=self.options.estimate.overrides,
            feature_overrides=_none_if_all_none([plan.overrides[row] for row in rows.tolist()]),
        )

    def _results(
        self,
        prepared: _Prepared,
        measured: MeasuredChunk,
        bill: BillOfMaterials | None,
        failed: BoolArray,
        position_of: dict[int, int],
    ) -> pa.Table:
        count = len(failed)
        priced = np.flatnonzero(~failed)
        exponent = self.catalog.currency_exponent
        columns: dict[str, pa.Array] = {}
        template = np.full(count, None, dtype=object)
        version = np.full(count, None, dtype=object)
        floats = {name: np.full(count, np.nan) for name in ("length_m", "area_m2", "mean_width_m")}
        method = np.full(count, None, dtype=object)
        quantities = {code: np.full(count, np.nan) for code in self.codes}
        amounts = {code: np.full(count, -1, dtype=np.int64) for code in self.codes}
        money = {name: np.full(count, -1, dtype=np.int64) for name in MONEY_COLUMNS}
        if bill is not None and priced.size:
            refs = bill.templates
            which = bill.features.template
            template[priced] = np.array([refs[t].slug for t in range(len(refs))], dtype=object)[
                which
            ]
            version[priced] = np.array([refs[t].version for t in range(len(refs))], dtype=object)[
                which
            ]
            floats["length_m"][priced] = bill.features.length_m
            floats["area_m2"][priced] = bill.features.area_m2
            floats["mean_width_m"][priced] = bill.features.width_m
            positions = np.array([position_of[row] for row in priced.tolist()], dtype=np.intp)
            method[priced] = measured.length_method[positions]
            own_quantities, own_amounts = item_columns(bill, self.codes)
            for code in self.codes:
                quantities[code][priced] = own_quantities[code]
                amounts[code][priced] = own_amounts[code]
            for name in MONEY_COLUMNS:
                money[name][priced] = getattr(bill.features, name)
        columns["template"] = pa.array(template, pa.string())
        columns["template_version"] = pa.array(version, pa.int64())
        for name, values in floats.items():
            columns[name] = pa.array(values, pa.float64(), from_pandas=True)
        columns["length_method"] = pa.array(method, pa.string())
        for code in self.codes:
            columns[quantity_column(code, self.units.get(code, ""))] = pa.array(
                quantities[code], pa.float64(), from_pandas=True
            )
        for code in self.codes:
            columns[amount_column(code)] = decimal_array(amounts[code], exponent)
        for name in MONEY_COLUMNS:
            columns[name] = decimal_array(money[name], exponent)
        warnings = ["; ".join(row) or None for row in measured.warnings]
        columns["warnings"] = pa.array(warnings, pa.string())
        columns["status"] = pa.array(np.where(failed, "error", "ok"), pa.string())
        columns["error"] = pa.array(prepared.errors.messages, pa.string())
        taken = set(prepared.chunk.attributes.column_names)
        return pa.table({(f"{k}_result" if k in taken else k): v for k, v in columns.items()})

    # the stream

    def run(
        self, sinks: Sequence[Sink], progress: Callable[[int], None] | None = None
    ) -> BatchSummary:
        """Process every chunk of the source, writing each to every sink in input order."""
        executor: Executor = InlineExecutor()
        pool: Executor | None = None
        pending: deque[tuple[_Prepared, Future[MeasuredChunk]]] = deque()
        try:
            for number, chunk in enumerate(self.source.chunks()):
                if number == 1 and self.options.workers > 1:
                    pool = executor = process_pool(self.options.workers)
                prepared = self._prepare(chunk)
                pending.append((prepared, executor.submit(measure_chunk, self._task(prepared))))
                while len(pending) > self.options.workers:
                    self._finish(*pending.popleft(), sinks, progress)
            while pending:
                self._finish(*pending.popleft(), sinks, progress)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        summary = self.summary
        summary.bill = self.accumulator.bill()
        summary.templates = list(
            {
                template.slug: template
                for template in self._templates.values()
                if isinstance(template, Template)
            }.values()
        )
        for sink in sinks:
            sink.close(summary)
        return summary

    def _finish(
        self,
        prepared: _Prepared,
        future: Future[MeasuredChunk],
        sinks: Sequence[Sink],
        progress: Callable[[int], None] | None,
    ) -> None:
        output = self._price(prepared, future.result())
        failed = int(output.failed.sum())
        self.summary.failed += failed
        if failed and len(self.summary.first_errors) < 10:
            messages = [m for m in prepared.errors.messages if m is not None]
            self.summary.first_errors.extend(messages[: 10 - len(self.summary.first_errors)])
        for sink in sinks:
            sink.write(output)
        if progress is not None:
            progress(len(output.failed))


def decimal_array(minor: npt.NDArray[np.int64], exponent: int) -> pa.Array:
    """Integer minor units as exact decimals (-1: null): 12345, 2 -> 123.45, no float between."""
    valid = minor >= 0
    wide = np.zeros((minor.size, 2), dtype=np.int64)
    wide[:, 0] = np.where(valid, minor, 0)  # amounts are never negative: high word 0
    data = pa.py_buffer(wide.tobytes())
    array = pa.Array.from_buffers(pa.decimal128(38, exponent), minor.size, [None, data])
    if valid.all():
        return array
    return pc.if_else(pa.array(valid), array, pa.scalar(None, pa.decimal128(38, exponent)))
