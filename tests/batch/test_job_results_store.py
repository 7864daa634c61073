"""`TAKEOFF_JOB_RESULTS=store`: job results kept in the database in chunks, on both stores,
served byte for byte as the result file would be, and removed with their job."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.batch.jobs import job_folder
from app.main import create_app
from app.settings import StoreSettings
from app.store.repository import Repository
from tests.batch.test_job_lifecycle import AS_OWNER, ROADS_CSV, _wait
from tests.conftest import app_settings

JOB = "0" * 36


def _chunk_rows(repository: Repository) -> int:
    with repository.engine.connect() as connection:
        return int(connection.scalar(sa.text("select count(*) from job_result_chunks")) or 0)


def test_a_result_is_kept_in_chunks_and_read_back_whole(repository: Repository) -> None:
    repository.create_job(JOB, "batch", {}, rows_total=1)
    data = bytes(range(256)) * 3 + b"tail"  # 772 bytes, every byte value
    assert repository.store_job_result(JOB, io.BytesIO(data), chunk_bytes=100) == 772
    assert repository.job_result_size(JOB) == 772
    pieces = list(repository.job_result_chunks(JOB))
    assert [len(piece) for piece in pieces] == [100] * 7 + [72]
    assert b"".join(pieces) == data
    assert _chunk_rows(repository) == 8

    assert repository.store_job_result(JOB, io.BytesIO(b""), chunk_bytes=100) == 0
    assert repository.job_result_size(JOB) == 0  # replaced: kept, and empty
    assert list(repository.job_result_chunks(JOB)) == [b""]

    repository.delete_job(JOB)
    assert _chunk_rows(repository) == 0  # gone with the job
    assert repository.job_result_size(JOB) is None


def _finished_job(client: TestClient) -> tuple[str, Any]:
    response = client.post(
        "/batch",
        headers={"Prefer": "respond-async", **AS_OWNER},
        files={"file": ("roads.csv", ROADS_CSV, "text/csv")},
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    _wait(lambda: client.get(f"/jobs/{job_id}", headers=AS_OWNER).json()["status"], "successful")
    return job_id, client.get(f"/jobs/{job_id}/results", headers=AS_OWNER)


def test_results_in_the_store_are_served_as_the_file_would_be(
    store_settings: StoreSettings,
) -> None:
    with TestClient(create_app(app_settings(store_settings))) as client:
        _, from_file = _finished_job(client)
    assert from_file.status_code == 200

    in_store = app_settings(store_settings.model_copy(update={"job_results": "store"}))
    with TestClient(create_app(in_store)) as client:
        job_id, answer = _finished_job(client)
        repository = client.app.state.repository  # type: ignore[attr-defined]
        assert answer.status_code == 200
        assert answer.content == from_file.content
        assert answer.headers["content-type"] == from_file.headers["content-type"]
        assert answer.headers["content-length"] == str(len(from_file.content))
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="estimate-{job_id}.csv"'
        )
        assert repository.job_result_size(job_id) == len(from_file.content)
        assert not job_folder(in_store, job_id).exists()  # nothing left on this host's disk

        assert client.delete(f"/jobs/{job_id}", headers=AS_OWNER).status_code == 204
        assert repository.job_result_size(job_id) is None
        assert client.get(f"/jobs/{job_id}/results", headers=AS_OWNER).status_code == 404
