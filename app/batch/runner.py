"""Stream a batch input through the pipeline, chunk by chunk, accounting for every row.

Per chunk, in the calling process: read each row's own options into a plan
(`app.pipeline.plan_columns`, plus template maps and width rules) and resolve the templates
it names (the store is here); in worker processes (`app.batch.work.run_chunk`): decode,
validate, measure, price and encode; back in input order: add the chunk's lines to the batch
bill and write the rows. A row that cannot be estimated gets `status` error and a reason
naming its row and column; it never stops the others and is never dropped. At most
`workers + 1` chunks are in flight, so memory stays bounded whatever the input size.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from app.batch.bill import BillAccumulator
from app.batch.mapping import TemplateMap, WidthRule
from app.batch.work import (
    ChunkResult,
    ChunkTask,
    CsvFormat,
    InlineExecutor,
    OutputChunk,
    RowErrors,
    column_of,
    paused_gc,
    process_pool,
    run_chunk,
)
from app.errors import InvalidInput, TakeoffError
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.materials import MaterialView
from app.estimate.pricing import catalog_problem
from app.estimate.templates import Template
from app.geo.overlap import PavedSurfaces
from app.io.csvin import parse_numbers
from app.io.sources import Source, SourceChunk
from app.pipeline import OVERRIDE_PROPERTIES, EstimateOptions, FeaturePlan, plan_columns

BoolArray = npt.NDArray[np.bool_]
_JSON_OVERRIDES = ("thickness", "density", "spray_rate", "material_loss", "rates")


@dataclass(frozen=True)
class BatchOptions:
    """What applies to every row unless the row says otherwise."""

    estimate: EstimateOptions
    template_map: TemplateMap | None = None
    width_from: WidthRule | None = None
    max_vertices: int = 100_000
    workers: int = 2
    want_geometry: bool = False


class Sink(Protocol):
    """Where rows go, a chunk at a time; a CSV sink lets workers encode its rows."""

    csv_format: CsvFormat | None

    def write(self, chunk: OutputChunk | None, encoded: tuple[bytes, bytes] | None) -> None:
        """Write the chunk's rows, in order; a CSV sink gets them `encoded` (header, rows)
        by a worker, the others get the rows."""

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
    materials: MaterialView | None = None
    """The material view when already made (a single estimate's, with its hauls)."""

    @property
    def succeeded(self) -> int:
        """Rows estimated."""
        return self.rows - self.failed


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
        # items the catalog cannot price fail their rows; they get no column
        self.codes = [code for code in dict.fromkeys(item_codes) if code in catalog.items]
        self.accumulator = BillAccumulator(
            catalog, options.estimate.overrides, options.estimate.project_items
        )
        self._paved = PavedSurfaces() if options.estimate.dissolve else None
        self.summary = BatchSummary(catalog=catalog)
        self.next_row = 1
        self._check_columns()

    def with_resolver(self, resolve_template: Callable[[str], Template]) -> BatchRunner:
        """A fresh runner for the same batch that finds templates with `resolve_template`
        (one a remote worker can use: the store stays with the caller)."""
        return BatchRunner(self.source, self.options, self.catalog, resolve_template, self.codes)

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

    def resolve(self, reference: str) -> Template | TakeoffError:
        """The template `reference` names, checked against the catalog, or why it cannot be
        used (kept: each reference is looked up once per batch)."""
        if reference not in self._templates:
            try:
                template = self._resolve(reference)
            except TakeoffError as exc:
                self._templates[reference] = exc
            else:
                self._templates[reference] = catalog_problem(template, self.catalog) or template
        return self._templates[reference]

    def _prepare(self, chunk: SourceChunk) -> _Prepared:
        count = len(chunk)
        errors = RowErrors(count, self.next_row)
        self.next_row += count
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
                column = column_of(problem)
                if column == "width_m":
                    column = " or ".join(width_columns)
                errors.add(index, column, problem.detail)
        references = np.asarray(planned.plan.templates, dtype=object)
        for reference in dict.fromkeys(planned.plan.templates):
            resolved = self.resolve(reference)
            if isinstance(resolved, TakeoffError):
                for index in np.flatnonzero(references == reference).tolist():
                    errors.add(index, template_column, resolved.detail)
        return _Prepared(chunk, errors, planned.plan)

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

    def task(self, chunk: SourceChunk, formats: tuple[CsvFormat | None, ...]) -> ChunkTask:
        """Plan a chunk: the work a worker does on it (`app.batch.work.run_chunk`)."""
        prepared = self._prepare(chunk)
        errors = prepared.errors
        used = {
            reference: template
            for reference in dict.fromkeys(prepared.plan.templates)
            if isinstance(template := self._templates[reference], Template)
        }
        chunk = prepared.chunk
        return ChunkTask(
            attributes=chunk.attributes,
            geometry=chunk.geometry,
            encoding=self.source.encoding,
            geometry_column=self.source.geometry_column,
            crs=self.source.crs,
            plan=prepared.plan,
            errors=errors,
            options=self.options.estimate,
            templates=used,
            catalog=self.catalog,
            codes=tuple(self.codes),
            max_vertices=self.options.max_vertices,
            want_geometry=self.options.want_geometry,
            csv_formats=formats,
            paved=self._paved,
        )

    # the stream

    def run(
        self,
        sinks: Sequence[Sink],
        progress: Callable[[int], None] | None = None,
        executor: Executor | None = None,
        in_flight: int | None = None,
    ) -> BatchSummary:
        """Process every chunk of the source, writing each to every sink in input order.

        Chunks run on `executor` (a Dask cluster's, say) with at most `in_flight` of them
        pending; by default on this machine's worker processes, or inline for one chunk.
        """
        pool: Executor | None = None
        if executor is None or self._paved is not None:
            # with dissolve each chunk needs the surfaces of all before it: one at a time
            executor = InlineExecutor()
            if self.options.workers > 1 and self.source.several_chunks and self._paved is None:
                pool = executor = process_pool(self.options.workers)
        limit = in_flight or self.options.workers
        formats = tuple(sink.csv_format for sink in sinks)

        def submitted(runs_on: Executor) -> Iterator[tuple[ChunkTask, Future[ChunkResult]]]:
            pending: deque[tuple[ChunkTask, Future[ChunkResult]]] = deque()
            for chunk in self.source.chunks():
                with paused_gc():
                    task = self.task(chunk, formats)
                pending.append((task, runs_on.submit(run_chunk, task)))
                while len(pending) > limit:
                    yield pending.popleft()
            yield from pending

        try:
            return self.run_finished(submitted(executor), sinks, progress)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def run_finished(
        self,
        chunks: Iterator[tuple[ChunkTask, Future[ChunkResult]]],
        sinks: Sequence[Sink],
        progress: Callable[[int], None] | None = None,
    ) -> BatchSummary:
        """Write chunks as they finish, in input order; price the batch's bill at the end."""
        for task, future in chunks:
            self._finish(task, future, sinks, progress)
        summary = self.summary
        summary.bill = self.accumulator.bill()
        templates = [t for t in self._templates.values() if isinstance(t, Template)]
        summary.templates = list({t.slug: t for t in templates}.values())
        for sink in sinks:
            sink.close(summary)
        return summary

    def _finish(
        self,
        task: ChunkTask,
        future: Future[ChunkResult],
        sinks: Sequence[Sink],
        progress: Callable[[int], None] | None,
    ) -> None:
        result = future.result()
        self.accumulator.add(result.bill)
        failed = int(result.failed.sum())
        self.summary.rows += len(result.failed)
        self.summary.failed += failed
        if failed and len(self.summary.first_errors) < 10:
            messages = [m for m in result.messages if m is not None]
            self.summary.first_errors.extend(messages[: 10 - len(self.summary.first_errors)])
        output = result.output(task.attributes) if result.results is not None else None
        for sink, encoded in zip(sinks, result.encoded, strict=True):
            sink.write(output, encoded)
        if progress is not None:
            progress(len(result.failed))
