"""Asynchronous jobs, OGC API Processes style: `/jobs`, `/jobs/{id}`, `/jobs/{id}/results`.

The state comes from the store, so any web worker answers for a job another one runs.
A job is its creator's: its id is unguessable, `/jobs` lists a caller only the jobs made
with their key, and a job made with a key is read only with that key. Anyone else gets the
same 404 as for a job that does not exist, so no one learns which ids are taken. Whoever may
read a job may also dismiss it (`DELETE`).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from app.batch.jobs import JobPool, job_folder
from app.errors import InvalidInput, NotFound
from app.routes.deps import CallerDep, RepositoryDep, SettingsDep
from app.routes.errors import problems
from app.routes.ogc import link
from app.routes.responses import JSONAnswer, MediaType
from app.store.repository import UNFINISHED_JOB_STATES, Repository, StoredJob, Visibility

router = APIRouter(prefix="/jobs", tags=["OGC API Processes"], responses=problems(503))

RESULTS_REL = "http://www.opengis.net/def/rel/ogc/1.0/results"


DISMISSED_MESSAGE = "dismissed by its owner before it finished"


def job_pool(request: Request) -> JobPool:
    """The jobs this worker runs, made at start-up."""
    pool: JobPool = request.app.state.jobs
    return pool


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _progress(job: StoredJob) -> int:
    if job.status == "successful":
        return 100
    if not job.rows_total:
        return 0
    return min(99, int(100 * job.rows_done / job.rows_total))


def status_info(request: Request, job: StoredJob) -> dict[str, Any]:
    """The job's statusInfo (OGC API Processes Part 1), with its batch summary when done."""
    url = request.url_for("job", job_id=job.id)
    links = [link(url, "self", MediaType.json, "Job status")]
    if job.status == "successful":
        results = request.url_for("job_results", job_id=job.id)
        links.append(
            {"href": str(results), "rel": RESULTS_REL, "type": job.result_media_type or ""}
        )
    info: dict[str, Any] = {
        "processID": job.process_id,
        "type": "process",
        "jobID": job.id,
        "status": job.status,
        "message": job.message,
        "created": _time(job.created_at),
        "started": _time(job.started_at),
        "finished": _time(job.finished_at),
        "updated": _time(job.updated_at),
        "progress": _progress(job),
        "rows": {"total": job.rows_total, "done": job.rows_done},
        "links": links,
    }
    if job.summary is not None:
        info["summary"] = job.summary
    return info


def readable_job(repository: Repository, job_id: str, caller: str | None) -> StoredJob:
    """The job, if the caller may read it: one made without a key by its id alone, one made
    with a key only with that key; `NotFound` otherwise, as for an unknown id."""
    stored = repository.get_job(job_id)
    if stored.owner is not None and stored.owner != caller:
        raise NotFound(f"there is no job {job_id!r}")
    return stored


@router.get("", name="jobs", summary="The caller's jobs, newest first")
def jobs(request: Request, repository: RepositoryDep, caller: CallerDep) -> JSONAnswer:
    """The hundred newest jobs made with the caller's key (none for an anonymous caller)."""
    mine = Visibility(owner_only=True, owner=caller)
    listed = [status_info(request, job) for job in repository.list_jobs(mine, limit=100)]
    self_link = link(request.url_for("jobs"), "self", MediaType.json)
    return JSONAnswer({"jobs": listed, "links": [self_link]})


@router.get("/{job_id}", name="job", summary="A job's status and progress")
def job(job_id: str, request: Request, repository: RepositoryDep, caller: CallerDep) -> JSONAnswer:
    """Status, progress (0-100, by rows) and, once done, the batch summary."""
    return JSONAnswer(status_info(request, readable_job(repository, job_id, caller)))


@router.get("/{job_id}/results", name="job_results", summary="A finished job's result file")
def job_results(
    job_id: str, repository: RepositoryDep, settings: SettingsDep, caller: CallerDep
) -> Response:
    """The result file (from the store or the job's folder); 404 while the job runs, 422
    with the reason when it failed."""
    stored = readable_job(repository, job_id, caller)
    if stored.status == "failed":
        raise InvalidInput(f"job {job_id} failed: {stored.message}")
    if stored.status == "dismissed":
        raise NotFound(f"job {job_id} was dismissed before it finished: it has no results")
    path = job_folder(settings, job_id) / (stored.result_file or "")
    if stored.status != "successful" or not stored.result_file:
        raise NotFound(f"job {job_id} is {stored.status}: its results are not ready yet")
    filename = f"estimate-{job_id}{path.suffix}"
    size = repository.job_result_size(job_id)
    if size is not None:  # kept in the store (TAKEOFF_JOB_RESULTS=store)
        return StreamingResponse(
            repository.job_result_chunks(job_id),
            media_type=stored.result_media_type,
            headers={
                "Content-Length": str(size),
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
    if not path.is_file():
        raise NotFound(f"the result of job {job_id} is no longer kept")
    return FileResponse(path, media_type=stored.result_media_type, filename=filename)


@router.delete(
    "/{job_id}",
    name="dismiss_job",
    summary="Cancel a queued or running job, or remove a finished one and its result",
    responses={204: {"description": "The finished job and its result are removed"}},
)
def dismiss_job(
    job_id: str,
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
    caller: CallerDep,
) -> Response:
    """A queued or running job becomes `dismissed` (200 with its status; a running one stops
    after its current chunk, its files are removed); a finished one is removed with its
    result (204)."""
    readable_job(repository, job_id, caller)
    dismissed = repository.transition_job(
        job_id,
        UNFINISHED_JOB_STATES,
        status="dismissed",
        message=DISMISSED_MESSAGE,
        finished_at=datetime.now(UTC),
    )
    if dismissed:
        job_pool(request).dismiss(job_id)
        return JSONAnswer(status_info(request, repository.get_job(job_id)))
    repository.delete_job(job_id)
    shutil.rmtree(job_folder(settings, job_id), ignore_errors=True)
    return Response(status_code=204)
