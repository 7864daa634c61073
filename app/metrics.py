"""Prometheus metrics: requests by route template and status, their durations, the job
pool's use, and jobs by state.

Request and pool metrics are counted in the process that answers. With several workers
(`takeoff serve --workers N`) each is a process of its own: `takeoff serve` then sets
`PROMETHEUS_MULTIPROC_DIR`, every worker writes its figures there, and a scrape of any worker
sums them all. Jobs by state are counted in the store at each scrape, so they cover every
worker and every host.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from app.store.repository import Repository

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "takeoff_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "takeoff_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
POOL_JOBS = Gauge(
    "takeoff_job_pool_jobs",
    "Jobs the job pools of this service hold, by state (running, queued).",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "takeoff_job_pool_size",
    "Jobs the job pools of this service run at once, at most.",
    multiprocess_mode="livesum",
)


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request; paths no route matched share one label (`unmatched`), and
    so do unknown methods, so clients cannot make series without end."""
    method = method if method in _METHODS else "other"
    route = route or "unmatched"
    REQUESTS.labels(method, route, str(status)).inc()
    DURATION.labels(method, route).observe(seconds)


class JobStates(Collector):
    """Jobs by state, counted in the store when scraped."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository

    def collect(self) -> Iterator[Metric]:
        """One gauge sample per job state."""
        family = GaugeMetricFamily(
            "takeoff_jobs", "Jobs in the store, by state (every worker and host).", labels=["state"]
        )
        for state, count in self.repository.count_jobs().items():
            family.add_metric([state], count)
        yield family


def exposition(repository: Repository) -> bytes:
    """The metrics in Prometheus text format: every worker's when they share a folder."""
    folder = os.environ.get(MULTIPROCESS_DIR)
    if folder:
        forget_dead_workers(Path(folder))
        workers = CollectorRegistry()
        MultiProcessCollector(workers)
        counted = generate_latest(workers)
    else:
        counted = generate_latest(REGISTRY)
    stored = CollectorRegistry()
    stored.register(JobStates(repository))
    return counted + generate_latest(stored)


def forget_dead_workers(folder: Path) -> None:
    """Drop the pool gauges of workers that died (the server restarts them under new process
    ids), so the pool's size and use count live workers only; their counts stay."""
    for path in folder.glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, str(folder))
        except PermissionError:
            continue  # alive, someone else's


def share_metrics() -> None:
    """Before starting several workers: a new folder where each writes its figures (the
    operator's own `PROMETHEUS_MULTIPROC_DIR`, emptied, if one is set), removed at exit."""
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return
    folder = tempfile.mkdtemp(prefix="takeoff-metrics-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ[MULTIPROCESS_DIR] = folder
