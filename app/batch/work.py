"""The expensive part of a chunk, run in worker processes: decode, validate, measure.

Everything here is a plain function of picklable inputs (encoded geometry, the chunk's plan,
templates) returning arrays, so a process pool, a Dask worker or the calling thread can run it.
Decoding WKT and measuring hold the GIL for most of their time, hence processes, not threads.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

from app.estimate.quantities import Measures
from app.estimate.templates import Template
from app.geo.parse import ParsedFeatures, parse_geometries, parse_wkt
from app.geo.validate import find_problems
from app.pipeline import EstimateOptions, FeaturePlan, measure_features

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MeasureTask:
    """One chunk to measure; `blocked` rows already failed and are only decoded."""

    geometry: npt.NDArray[np.object_]
    encoding: Literal["wkt", "wkb"]
    crs: Any
    plan: FeaturePlan
    blocked: BoolArray
    options: EstimateOptions
    templates: dict[str, Template]
    max_vertices: int
    want_geometry: bool


@dataclass(frozen=True)
class MeasuredChunk:
    """Per row: the geometry problem (None: none), warnings, WKB in EPSG:4326 if asked;
    for the rows in `measured` only: the measures to price and how length was found."""

    problems: list[str | None]
    warnings: list[list[str]]
    measured: BoolArray
    measures: Measures
    length_method: npt.NDArray[np.str_]
    wkb: npt.NDArray[np.object_] | None


def decode(geometry: npt.NDArray[np.object_], encoding: str, crs: Any) -> ParsedFeatures:
    """Geometry as sent (WKT/EWKT text or WKB) to features in EPSG:4326, never raising per row."""
    if encoding == "wkt":
        return parse_wkt(list(geometry), crs=crs)
    return parse_geometries(shapely.from_wkb(geometry, on_invalid="ignore"), crs=crs)


def take_plan(plan: FeaturePlan, rows: npt.NDArray[np.intp]) -> FeaturePlan:
    """The plan of some rows only."""
    picked = rows.tolist()
    return replace(
        plan,
        templates=[plan.templates[i] for i in picked],
        width_m=plan.width_m[rows],
        names=[plan.names[i] for i in picked],
        overrides=[plan.overrides[i] for i in picked],
        centerlines=None if plan.centerlines is None else [plan.centerlines[i] for i in picked],
    )


def measure_chunk(task: MeasureTask) -> MeasuredChunk:
    """Decode every row, find what cannot be measured, measure the rest."""
    features = decode(task.geometry, task.encoding, task.crs)
    problems = find_problems(features, max_vertices=task.max_vertices)
    fine = np.array([problem is None for problem in problems], dtype=bool)
    rows = np.flatnonzero(fine & ~task.blocked)
    warnings = features.warnings
    options = replace(task.options, check_overlaps=False, dissolve=False)
    result = measure_features(
        features.geometries[rows], take_plan(task.plan, rows), options, task.templates
    )
    for position, row in enumerate(rows.tolist()):
        warnings[row] = warnings[row] + result.measurements.warnings[position]
    wkb = None
    if task.want_geometry:
        wkb = np.asarray(shapely.to_wkb(features.geometries), dtype=object)
    measured = np.zeros(len(problems), dtype=bool)
    measured[rows] = True
    return MeasuredChunk(
        problems=problems,
        warnings=warnings,
        measured=measured,
        measures=result.measures,
        length_method=result.measurements.length_method,
        wkb=wkb,
    )


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
    """Worker processes started fresh (`spawn`): safe next to Arrow's threads."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
