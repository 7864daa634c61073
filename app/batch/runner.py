"""Stream a batch input through the pipeline, chunk by chunk, accounting for every row.

Per chunk, in the calling process: read it and resolve the templates its rows may name (the
store is here); in worker processes (`app.batch.work.run_chunk`): plan each row's own
options (`app.batch.planning`), decode, validate, measure, price and encode, writing CSV
rows to a file of the chunk's own; back in input order: add the chunk's lines to the batch
bill and append the rows. A row that cannot be estimated gets `status` error and a reason
naming its row and column; it never stops the others and is never dropped. At most
`workers + 1` chunks are in flight, so memory stays bounded whatever the input size.
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Protocol

from app.batch.bill import BillAccumulator
from app.batch.mapping import TemplateMap, WidthRule
from app.batch.planning import RowPlanner, Templates
from app.batch.pool import InlineExecutor, process_pool
from app.batch.work import (
    ChunkResult,
    ChunkTask,
    CsvFormat,
    OutputChunk,
    paused_gc,
    run_chunk,
)
from app.errors import InvalidInput, TakeoffError
from app.estimate.bom import BillOfMaterials
from app.estimate.catalogs import RateCatalog
from app.estimate.materials import MaterialView
from app.estimate.pricing import catalog_problem
from app.estimate.templates import Template
from app.geo.overlap import PavedSurfaces
from app.io.csvout import EncodedRows
from app.io.sources import Source, SourceChunk
from app.pipeline import EstimateOptions


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

    def write(self, chunk: OutputChunk | None, encoded: EncodedRows | None) -> None:
        """Write the chunk's rows, in order; a CSV sink gets them `encoded`
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
        self.planner = RowPlanner(
            options.estimate, source.decimal, options.template_map, options.width_from
        )
        self._used: set[str] = set()  # the references rows named
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

    def task(self, chunk: SourceChunk, formats: tuple[CsvFormat | None, ...]) -> ChunkTask:
        """A chunk's work for a worker (`app.batch.work.run_chunk`), with the templates its
        rows may name resolved here, where the store is."""
        usable: dict[str, Template] = {}
        unusable: dict[str, str] = {}
        for reference in self.planner.references(chunk.attributes):
            resolved = self.resolve(reference)
            if isinstance(resolved, TakeoffError):
                unusable[reference] = resolved.detail
            else:
                usable[reference] = resolved
        first_row = self.next_row
        self.next_row += len(chunk)
        inline = self.source.geometry_column in chunk.attributes.column_names
        return ChunkTask(
            attributes=chunk.attributes,
            geometry=None if inline else chunk.geometry,
            broken=chunk.broken,
            first_row=first_row,
            encoding=self.source.encoding,
            geometry_column=self.source.geometry_column,
            crs=self.source.crs,
            planner=self.planner,
            templates=Templates(usable, unusable),
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
        pieces = tempfile.TemporaryDirectory(prefix="takeoff-pieces-") if pool is not None else None
        if pieces is not None:  # local workers write their rows to files the sinks append
            formats = tuple(fmt and fmt.in_pieces(pieces.name) for fmt in formats)

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
            if pieces is not None:
                pieces.cleanup()

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
        named = [self._templates.get(reference) for reference in sorted(self._used)]
        templates = [t for t in named if isinstance(t, Template)]
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
        self._used |= result.references
        self.accumulator.add(result.bill)
        failed = int(result.failed.sum())
        self.summary.rows += len(result.failed)
        self.summary.failed += failed
        if failed and len(self.summary.first_errors) < 10:
            messages = [m for m in result.messages if m is not None]
            self.summary.first_errors.extend(messages[: 10 - len(self.summary.first_errors)])
        output = result.output(task) if result.results is not None else None
        for sink, encoded in zip(sinks, result.encoded, strict=True):
            sink.write(output, encoded)
        if progress is not None:
            progress(len(result.failed))
