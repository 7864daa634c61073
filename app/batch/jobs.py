"""Batches over HTTP: uploads kept under the data folder, large ones run as asynchronous jobs.

Job state (status, progress, summary, where the result is) lives in the store, so any web
worker behind the proxy answers `/jobs/{id}` whichever worker runs the job. Inputs and results
are files under `TAKEOFF_DATA_DIR/jobs/<id>/`, not database rows: a result can be hundreds of
megabytes, which a file serves with constant memory and a database value would have to load
whole (several workers on several hosts share the folder as a volume). The job runs in a thread
of the worker that accepted it, on one core: the web tier does not fork process pools.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from app.batch.service import BatchRequest, OpenBatch, open_batch, summary_dict
from app.errors import InvalidInput, TakeoffError
from app.io import vector, xlsx
from app.io.sources import FORMATS
from app.settings import Settings
from app.store.repository import Repository, StoredJob

PROCESS_ID = "batch"
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


def save_upload(stream: BinaryIO, filename: str | None, folder: Path) -> Path:
    """Copy the upload to `folder` as `input.<ext>`; the extension says the format."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_FORMATS:
        raise InvalidInput(
            f"upload a CSV, GeoJSON or GeoPackage file (got {filename!r}); the file name's "
            f"extension says which: {', '.join(UPLOAD_FORMATS)}",
            field="file",
        )
    assert suffix in FORMATS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"input{suffix}"
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


def start_job(
    repository: Repository,
    settings: Settings,
    job_id: str,
    batch: OpenBatch,
    fmt: str,
    request: BatchRequest,
    rows: int,
    owner: str | None = None,
) -> StoredJob:
    """Record the job as `owner`'s (a key digest, or None) and run it in a background thread."""
    job = repository.create_job(
        job_id,
        PROCESS_ID,
        {"format": fmt, "options": asdict(request)},
        rows_total=rows,
        owner=owner,
    )
    thread = threading.Thread(
        target=run_job, args=(repository, job_id, batch, fmt), name=f"job-{job_id}", daemon=True
    )
    thread.start()
    return job


def run_job(repository: Repository, job_id: str, batch: OpenBatch, fmt: str) -> None:
    """Run the batch, keeping the job's status and progress in the store up to date."""
    repository.update_job(job_id, status="running", started_at=_now())
    done = 0
    reported = time.monotonic()

    def progress(rows: int) -> None:
        nonlocal done, reported
        done += rows
        if time.monotonic() - reported >= _PROGRESS_SECONDS:
            repository.update_job(job_id, rows_done=done)
            reported = time.monotonic()

    try:
        summary = batch.run(progress)
    except TakeoffError as exc:
        repository.update_job(job_id, status="failed", message=str(exc), finished_at=_now())
        return
    except Exception as exc:  # a job must end in a state a client can read
        log.exception("job %s failed", job_id)
        message = f"the batch stopped unexpectedly ({type(exc).__name__}); try again"
        repository.update_job(job_id, status="failed", message=message, finished_at=_now())
        return
    repository.update_job(
        job_id,
        status="successful",
        rows_done=summary.rows,
        message=f"{summary.rows} rows: {summary.succeeded} estimated, {summary.failed} with errors",
        summary=summary_dict(summary),
        result_file=f"result.{fmt}",
        result_media_type=OUTPUTS[fmt],
        finished_at=_now(),
    )


def _now() -> datetime:
    return datetime.now(UTC)
