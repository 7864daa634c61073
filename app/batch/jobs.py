"""Batches over HTTP: uploads kept under the data folder, large ones run as asynchronous jobs.

Job state (status, progress, summary, where the result is) lives in the store, so any web
worker behind the proxy answers `/jobs/{id}` whichever worker runs the job. Inputs and results
are files under `TAKEOFF_DATA_DIR/jobs/<id>/`, not database rows: a result can be hundreds of
megabytes, which a file serves with constant memory and a database value would have to load
whole (several workers on several hosts share the folder as a volume). The job runs in a thread
of the worker that accepted it (its `JobPool`), on one core: the web tier does not fork
process pools.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from app import metrics
from app.batch.service import BatchRequest, OpenBatch, open_batch, summary_dict
from app.errors import InvalidInput, TakeoffError
from app.io import vector, xlsx
from app.io.sources import FORMATS
from app.settings import Settings
from app.store.repository import UNFINISHED_JOB_STATES, Repository, StoredJob

PROCESS_ID = "batch"


@dataclass(frozen=True)
class JobReport:
    """What a finished job's record says: rows done, a one-line message, a JSON summary."""

    rows: int
    message: str
    summary: dict[str, Any]


class JobWork:
    """Work other than an estimate batch that a job runs (a maintenance programme): rows
    read with progress, then its report. It writes `result.<fmt>` in its job folder."""

    process_id = "work"

    def run(self, progress: Callable[[int], None]) -> JobReport:
        """Do the work, calling `progress(rows)` after each chunk of rows."""
        raise NotImplementedError


def _batch_report(batch: OpenBatch, progress: Callable[[int], None]) -> JobReport:
    summary = batch.run(progress)
    return JobReport(
        rows=summary.rows,
        message=f"{summary.rows} rows: {summary.succeeded} estimated, {summary.failed} with errors",
        summary=summary_dict(summary),
    )


UPLOAD_FORMATS = (".csv", ".geojson", ".json", ".gpkg")
OUTPUTS = {
    "csv": vector.MEDIA_TYPES["csv"],
    "geojson": vector.MEDIA_TYPES["geojson"],
    "gpkg": vector.MEDIA_TYPES["gpkg"],
    "parquet": vector.MEDIA_TYPES["parquet"],
    "xlsx": xlsx.MEDIA_TYPE,
}
_PROGRESS_SECONDS = 1.0
log = logging.getLogger(__name__)


def new_job_id() -> str:
    """A job id nobody can guess."""
    return str(uuid.uuid4())


def job_folder(settings: Settings, job_id: str) -> Path:
    """Where a batch's input and result are kept."""
    return settings.store.data_dir / "jobs" / job_id


def save_upload(
    stream: BinaryIO, filename: str | None, folder: Path, stem: str = "input", field: str = "file"
) -> Path:
    """Copy the upload to `folder` as `<stem>.<ext>`; the extension says the format."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_FORMATS:
        raise InvalidInput(
            f"upload a CSV, GeoJSON or GeoPackage file (got {filename!r}); the file name's "
            f"extension says which: {', '.join(UPLOAD_FORMATS)}",
            field=field,
        )
    assert suffix in FORMATS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}{suffix}"
    with path.open("wb") as target:
        shutil.copyfileobj(stream, target, 1 << 20)
    return path


def shipped_map(name: str | None) -> str | None:
    """Over HTTP a template map is a shipped one, named: never a path on the server."""
    if name is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise InvalidInput(
            f"template_map must name a shipped map, got {name!r}", field="template_map"
        )
    return name


def open_upload(
    repository: Repository,
    settings: Settings,
    folder: Path,
    upload: Path,
    fmt: str,
    request: BatchRequest,
) -> OpenBatch:
    """The batch of an uploaded file, writing `result.<fmt>` next to it."""
    if fmt not in OUTPUTS:
        known = ", ".join(OUTPUTS)
        raise InvalidInput(f"unknown format {fmt!r}; use one of {known}", field="f")
    return open_batch(repository, settings, upload, folder / f"result.{fmt}", request)


class JobCancelled(Exception):
    """Raised between chunks when the job's owner dismissed it or the service is stopping."""


class JobPool:
    """The jobs of one web worker: at most `max_running_jobs` run at once, the rest wait
    queued (`accepted`).

    A worker that is alive stamps its jobs in the store every few seconds; a queued or
    running job not stamped for `job_heartbeat_timeout_seconds` lost its worker (a crash, a
    kill) and is marked failed, by the next worker to start or by any worker's next sweep.
    The same sweep removes finished jobs, and their folders, past the retention period.
    A job stops between two chunks when its status turns `dismissed` (`DELETE /jobs/{id}`,
    from any worker) or when this worker stops.
    """

    def __init__(self, repository: Repository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings
        limits = settings.limits
        self._executor = ThreadPoolExecutor(limits.max_running_jobs, thread_name_prefix="job")
        self._mine: set[str] = set()
        self._dismissed: set[str] = set()
        self._asked: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_forever, name="job-sweep", daemon=True)
        self.sweep()
        self._sweeper.start()
        metrics.POOL_SIZE.inc(limits.max_running_jobs)

    @property
    def sweep_seconds(self) -> float:
        """How often jobs are stamped and the store swept: a few times per timeout."""
        return self.settings.limits.job_heartbeat_timeout_seconds / 4

    def start(
        self,
        job_id: str,
        batch: OpenBatch | JobWork,
        fmt: str,
        request: BatchRequest | dict[str, Any],
        rows: int,
        owner: str | None = None,
    ) -> StoredJob:
        """Record the job as `owner`'s (a key digest, or None) and queue it."""
        options = request if isinstance(request, dict) else asdict(request)
        job = self.repository.create_job(
            job_id,
            batch.process_id if isinstance(batch, JobWork) else PROCESS_ID,
            {"format": fmt, "options": options},
            rows_total=rows,
            owner=owner,
        )
        with self._lock:
            self._mine.add(job_id)
        metrics.POOL_JOBS.labels("queued").inc()
        self._executor.submit(self._run, job_id, batch, fmt)
        return job

    def sweep(self) -> None:
        """Stamp this worker's jobs, fail the ones whose worker died, remove expired ones."""
        limits = self.settings.limits
        with self._lock:
            mine = list(self._mine)
        self.repository.heartbeat_jobs(mine)
        now = _now()
        silent = now - timedelta(seconds=limits.job_heartbeat_timeout_seconds)
        lost = self.repository.fail_silent_jobs(silent, LOST_MESSAGE)
        if lost:
            log.warning("jobs %s lost their worker: marked failed", ", ".join(lost))
        expired = now - timedelta(hours=limits.job_retention_hours)
        for job_id in self.repository.delete_finished_jobs(expired):
            shutil.rmtree(job_folder(self.settings, job_id), ignore_errors=True)

    def close(self) -> None:
        """Stop: running jobs stop at their next chunk, queued ones never start; both are
        marked failed so a client knows to submit them again. Closing again does nothing
        (the pool's gauges are counted down once)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            left = list(self._mine)
        metrics.POOL_JOBS.labels("queued").dec(len(left))  # never started
        metrics.POOL_SIZE.dec(self.settings.limits.max_running_jobs)
        for job_id in left:
            self._end(job_id, "failed", STOPPED_MESSAGE)

    def _sweep_forever(self) -> None:
        while not self._stopping.wait(self.sweep_seconds):
            try:
                self.sweep()
            except Exception:  # a store outage must not end the sweeps
                log.exception("sweeping jobs failed")

    def _run(self, job_id: str, batch: OpenBatch | JobWork, fmt: str) -> None:
        state = "queued"
        folder = job_folder(self.settings, job_id)
        in_store = self.settings.store.job_results == "store"
        try:
            if self._stopping.is_set():
                return
            if not self.repository.transition_job(
                job_id, ("accepted",), status="running", started_at=_now()
            ):
                return  # dismissed while it waited
            metrics.POOL_JOBS.labels("queued").dec()
            metrics.POOL_JOBS.labels(state := "running").inc()
            keep = folder / f"result.{fmt}" if in_store else None
            run_job(self.repository, job_id, batch, fmt, self._check, keep)
        finally:
            metrics.POOL_JOBS.labels(state).dec()
            with self._lock:
                self._mine.discard(job_id)
                self._dismissed.discard(job_id)
                self._asked.pop(job_id, None)
            if in_store or self.repository.get_job(job_id).status == "dismissed":
                shutil.rmtree(folder, ignore_errors=True)

    def dismiss(self, job_id: str) -> None:
        """Stop the job at its next chunk if this worker runs it (others read the store)."""
        with self._lock:
            if job_id in self._mine:
                self._dismissed.add(job_id)

    def _check(self, job_id: str) -> None:
        """Between chunks: stop if the service stops or the job was dismissed, here at once,
        by another worker within a second."""
        if self._stopping.is_set():
            raise JobCancelled(STOPPED_MESSAGE)
        with self._lock:
            dismissed = job_id in self._dismissed
            due = time.monotonic() - self._asked.get(job_id, 0.0) >= _PROGRESS_SECONDS
            if due:
                self._asked[job_id] = time.monotonic()
        if dismissed or (due and self.repository.get_job(job_id).status == "dismissed"):
            raise JobCancelled("dismissed")

    def _end(self, job_id: str, status: str, message: str) -> None:
        self.repository.transition_job(
            job_id, UNFINISHED_JOB_STATES, status=status, message=message, finished_at=_now()
        )


LOST_MESSAGE = "the worker running this job stopped before it finished; submit it again"
STOPPED_MESSAGE = "the service stopped before this job finished; submit it again"


def run_job(
    repository: Repository,
    job_id: str,
    batch: OpenBatch | JobWork,
    fmt: str,
    check: Callable[[str], None] | None = None,
    keep_in_store: Path | None = None,
) -> None:
    """Run the batch (or other work), keeping the job's status and progress in the store up to
    date; `check(job_id)`, called after each chunk, raises `JobCancelled` to stop it. The result
    file `keep_in_store`, if given, is copied into the store before the job is done."""
    done = 0
    reported = time.monotonic()

    def progress(rows: int) -> None:
        nonlocal done, reported
        done += rows
        if check is not None:
            check(job_id)
        if time.monotonic() - reported >= _PROGRESS_SECONDS:
            repository.transition_job(job_id, ("running",), rows_done=done)
            reported = time.monotonic()

    def end(**changes: Any) -> None:
        repository.transition_job(job_id, ("running",), finished_at=_now(), **changes)

    try:
        report = (
            batch.run(progress) if isinstance(batch, JobWork) else _batch_report(batch, progress)
        )
        if keep_in_store is not None:
            with keep_in_store.open("rb") as result:
                repository.store_job_result(job_id, result)
    except (JobCancelled, TakeoffError) as exc:  # a dismissed job keeps its status
        end(status="failed", message=str(exc))
        return
    except Exception as exc:  # a job must end in a state a client can read
        log.exception("job %s failed", job_id)
        end(
            status="failed",
            message=f"the batch stopped unexpectedly ({type(exc).__name__}); try again",
        )
        return
    end(
        status="successful",
        rows_done=report.rows,
        message=report.message,
        summary=report.summary,
        result_file=f"result.{fmt}",
        result_media_type=OUTPUTS[fmt],
    )


def _now() -> datetime:
    return datetime.now(UTC)
