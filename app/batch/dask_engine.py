"""`--engine dask`: the batch runs on a Dask cluster instead of local processes.

GIS files (GeoPackage, Shapefile, GeoJSON, GeoParquet) are read by the workers themselves as
dask-geopandas partitions; each partition is planned and worked on where it was read, by the
very functions the local engine runs (`BatchRunner` planning, `app.batch.work.run_chunk`).
The templates the rows may name are resolved on the client first (it has the store) and sent
along. A CSV is read by the client, which keeps track of quoting and broken rows from the
first byte, and its chunks are shipped to the workers. Either way the client writes the rows
in input order and prices the batch's bill. A `LocalCluster` with one single-threaded
worker per core is started when no scheduler address is given; a real cluster's workers
need this package installed and the input on a path they can read.

Dask is an optional extra (`pip install takeoff[dask]`): only this module imports it, and
only when a batch runs on it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pyarrow as pa
import shapely

from app.batch.runner import BatchRunner, BatchSummary
from app.batch.service import OpenBatch
from app.batch.work import ChunkResult, ChunkTask, CsvFormat, paused_gc, run_chunk
from app.errors import ConfigurationError, InvalidInput, TakeoffError, UnknownTemplate
from app.estimate.templates import Template
from app.io.sources import Source, SourceChunk


@dataclass(frozen=True)
class Resolved:
    """Templates resolved on the client, looked up on a worker; anything else is unknown."""

    templates: dict[str, Template]
    problems: dict[str, str]

    def __call__(self, reference: str) -> Template:
        """The template, or `UnknownTemplate` with the reason the client found."""
        if reference in self.templates:
            return self.templates[reference]
        known = ", ".join(sorted(self.templates))
        raise UnknownTemplate(
            self.problems.get(reference, f"unknown template {reference!r}; known: {known}"),
            field="template",
        )


def require_dask() -> None:
    """Stop with one line saying how to install Dask when it is missing."""
    try:
        import dask_geopandas  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            f"--engine dask needs Dask ({exc.name} is not installed): pip install takeoff[dask]"
        ) from exc


def run_dask(batch: OpenBatch, scheduler: str | None = None) -> BatchSummary:
    """Run the batch on the cluster at `scheduler` (default: a local cluster)."""
    require_dask()
    if batch.runner.options.estimate.dissolve:
        raise InvalidInput(
            "dissolve needs each chunk after the ones before it; use --engine local",
            field="dissolve",
        )
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        workers = max(1, os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="scheduler"
            ) from exc
    try:
        slots = sum(info["nthreads"] for info in client.scheduler_info()["workers"].values())
        in_flight = max(2, 2 * slots)
        if batch.runner.source.kind == "csv":
            return batch.run(executor=client.get_executor(pure=False), in_flight=in_flight)
        return _run_partitions(batch, client, in_flight)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _read(source: Source) -> Any:
    import dask_geopandas

    if source.kind == "parquet":
        return dask_geopandas.read_parquet(source.path)
    return dask_geopandas.read_file(source.path, chunksize=source.batch_rows)


def _references(batch: OpenBatch, partitions: Any) -> Resolved:
    """Every template reference the rows may use, resolved with the client's store."""
    runner = batch.runner
    options = runner.options
    candidates = {options.estimate.template}
    mapping = options.template_map
    if mapping is not None:
        candidates |= set(mapping.templates.values())
        if mapping.default is not None:
            candidates.add(mapping.default)
    if "template" in partitions.columns:
        named = partitions["template"].dropna().unique().compute()
        candidates |= {str(value) for value in named if str(value)}
    templates: dict[str, Template] = {}
    problems: dict[str, str] = {}
    for reference in sorted(candidates):
        resolved = runner.resolve(reference)
        if isinstance(resolved, TakeoffError):
            problems[reference] = resolved.detail
        else:
            templates[reference] = resolved
    return Resolved(templates, problems)


def _partition_task(
    frame: gpd.GeoDataFrame,
    first_row: int,
    runner: BatchRunner,
    formats: tuple[CsvFormat | None, ...],
) -> tuple[ChunkTask, ChunkResult]:
    """Plan and work on one partition, on the worker that read it."""
    geometry = pa.array(shapely.to_wkb(frame.geometry.array), pa.binary())
    attributes = pa.Table.from_pandas(frame.drop(columns=frame.geometry.name), preserve_index=False)
    runner.next_row = first_row
    with paused_gc():
        task = runner.task(SourceChunk(attributes, geometry), formats)
    return task, run_chunk(task)


def _run_partitions(batch: OpenBatch, client: Any, in_flight: int) -> BatchSummary:
    import dask

    runner = batch.runner
    partitions = _read(runner.source)
    resolved = _references(batch, partitions)
    remote = runner.with_resolver(resolved)
    lengths = partitions.map_partitions(len).compute().tolist()
    formats = tuple(sink.csv_format for sink in batch.sinks)
    first_rows = [1 + sum(lengths[:i]) for i in range(len(lengths))]
    tasks = [
        dask.delayed(_partition_task)(part, first, remote, formats)
        for part, first in zip(partitions.to_delayed(), first_rows, strict=True)
    ]

    def done() -> Iterator[tuple[ChunkTask, Future[ChunkResult]]]:
        pending: deque[Any] = deque()
        submitted = 0
        for _ in tasks:
            while submitted < len(tasks) and len(pending) < in_flight:
                pending.append(client.compute(tasks[submitted]))
                submitted += 1
            task, result = pending.popleft().result()
            finished: Future[ChunkResult] = Future()
            finished.set_result(result)
            yield task, finished

    return runner.run_finished(done(), batch.sinks)
