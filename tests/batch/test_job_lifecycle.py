"""Jobs from queue to removal, on both stores: the bounded pool, a worker that died,
`DELETE /jobs/{id}`, retention.

`Gated` holds a real batch back (reporting progress, as between chunks, while it waits) so a
test can see a job queued or running for as long as it needs to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from app.batch.jobs import LOST_MESSAGE, STOPPED_MESSAGE, JobPool, job_folder, open_upload
from app.batch.runner import BatchSummary
from app.batch.service import BatchRequest, OpenBatch
from app.main import create_app
from app.routes.deps import key_owner
from app.settings import Settings, StoreSettings
from app.store.database import create_store_engine
from app.store.models import Job
from app.store.repository import EVERYONE, Repository
from app.store.startup import prepare_store
from tests.conftest import API_KEY, app_settings

ROADS_CSV = (
    b"id,width_m,wkt\n"
    b'1,4,"LINESTRING (106.63 -6.17, 106.631 -6.17)"\n'
    b'2,5,"LINESTRING (106.63 -6.171, 106.631 -6.171)"\n'
)
AS_OWNER = {"X-API-Key": API_KEY}


class Gated:
    """A real batch that starts only once `gate` is open; counts how many run at once."""

    running = 0
    most = 0
    lock = threading.Lock()

    def __init__(self, batch: OpenBatch, gate: threading.Event) -> None:
        self.batch = batch
        self.gate = gate

    def run(self, progress: Callable[[int], None] | None = None) -> BatchSummary:
        with Gated.lock:
            Gated.running += 1
            Gated.most = max(Gated.most, Gated.running)
        try:
            while not self.gate.wait(0.01):
                assert progress is not None
                progress(0)
            return self.batch.run(progress)
        finally:
            with Gated.lock:
                Gated.running -= 1


def _gated(
    repository: Repository, settings: Settings, job_id: str, gate: threading.Event
) -> OpenBatch:
    folder = job_folder(settings, job_id)
    folder.mkdir(parents=True)
    upload = folder / "input.csv"
    upload.write_bytes(ROADS_CSV)
    batch = open_upload(repository, settings, folder, upload, "csv", BatchRequest())
    return cast(OpenBatch, Gated(batch, gate))


def _wait(read: Callable[[], Any], wanted: Any) -> None:
    deadline = time.monotonic() + 30
    while read() != wanted:
        assert time.monotonic() < deadline, f"still {read()!r}, not {wanted!r}"
        time.sleep(0.02)


@pytest.fixture
def pool_of(store_settings: StoreSettings) -> Iterator[Callable[..., JobPool]]:
    """Job pools on a fresh store of each backend, with `fields` as their settings."""
    engine = create_store_engine(store_settings)
    prepare_store(engine, app_settings(store_settings))
    pools: list[JobPool] = []

    def make(**fields: Any) -> JobPool:
        pool = JobPool(Repository(engine), app_settings(store_settings, **fields))
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
    engine.dispose()


def test_at_most_max_running_jobs_run_the_rest_wait(pool_of: Callable[..., JobPool]) -> None:
    pool = pool_of(max_running_jobs=2)
    gate = threading.Event()
    Gated.most = 0
    ids = [f"job-{i}" for i in range(4)]
    for job_id in ids:
        pool.start(
            job_id, _gated(pool.repository, pool.settings, job_id, gate), "csv", BatchRequest(), 2
        )

    def states() -> list[str]:
        return sorted(pool.repository.get_job(job_id).status for job_id in ids)

    _wait(states, ["accepted", "accepted", "running", "running"])
    time.sleep(0.2)  # still two: the others wait their turn
    assert states() == ["accepted", "accepted", "running", "running"]
    gate.set()
    _wait(states, ["successful"] * 4)
    assert Gated.most == 2


def test_a_job_whose_worker_died_is_failed_at_the_next_start(
    store_settings: StoreSettings,
) -> None:
    settings = app_settings(store_settings, job_heartbeat_timeout_seconds=60)
    engine = create_store_engine(store_settings)
    repository = Repository(engine)
    repository.create_job("died-running", "batch", {}, rows_total=10)
    repository.update_job("died-running", status="running")
    repository.create_job("died-queued", "batch", {}, rows_total=10)
    with engine.begin() as connection:  # their worker was killed a minute ago
        a_minute_ago = datetime.now(UTC) - timedelta(seconds=61)
        connection.execute(sa.update(Job).values(updated_at=a_minute_ago))
    repository.create_job("fresh", "batch", {}, rows_total=10)  # its worker may be alive
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        for job_id in ("died-running", "died-queued"):
            status = client.get(f"/jobs/{job_id}").json()
            assert (status["status"], status["message"]) == ("failed", LOST_MESSAGE)
            assert status["finished"] is not None
        assert client.get("/jobs/fresh").json()["status"] == "accepted"


def test_a_running_job_is_stamped_so_it_is_never_taken_for_dead(
    pool_of: Callable[..., JobPool],
) -> None:
    pool = pool_of(job_heartbeat_timeout_seconds=0.4)
    gate = threading.Event()
    pool.start(
        "long", _gated(pool.repository, pool.settings, "long", gate), "csv", BatchRequest(), 2
    )
    _wait(lambda: pool.repository.get_job("long").status, "running")
    time.sleep(1.0)  # over twice the timeout, with the sweeps of this pool running
    assert pool.repository.get_job("long").status == "running"
    gate.set()
    _wait(lambda: pool.repository.get_job("long").status, "successful")


def test_delete_dismisses_a_running_job_and_removes_its_files(
    store_settings: StoreSettings,
) -> None:
    with TestClient(create_app(app_settings(store_settings))) as client:
        pool: JobPool = client.app.state.jobs  # type: ignore[attr-defined]
        gate = threading.Event()
        batch = _gated(pool.repository, pool.settings, "to-stop", gate)
        pool.start("to-stop", batch, "csv", BatchRequest(), 2, owner=_owner(client))
        _wait(lambda: pool.repository.get_job("to-stop").status, "running")

        assert client.delete("/jobs/to-stop").status_code == 404  # not the owner's key
        response = client.delete("/jobs/to-stop", headers=AS_OWNER)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "dismissed"
        folder = job_folder(pool.settings, "to-stop")
        _wait(folder.exists, False)
        status = client.get("/jobs/to-stop", headers=AS_OWNER).json()
        assert status["status"] == "dismissed" and status["rows"]["done"] == 0
        gate.set()  # too late: the batch stopped at its next chunk, without a result
        time.sleep(0.2)
        assert not folder.exists()
        results = client.get("/jobs/to-stop/results", headers=AS_OWNER)
        assert results.status_code == 404
        assert results.json()["detail"] == (
            "job to-stop was dismissed before it finished: it has no results"
        )


def test_delete_removes_a_queued_job_before_it_starts(pool_of: Callable[..., JobPool]) -> None:
    pool = pool_of(max_running_jobs=1)
    gate = threading.Event()
    for job_id in ("first", "waiting"):
        pool.start(
            job_id, _gated(pool.repository, pool.settings, job_id, gate), "csv", BatchRequest(), 2
        )
    _wait(lambda: pool.repository.get_job("first").status, "running")
    assert pool.repository.transition_job("waiting", ("accepted",), status="dismissed")
    gate.set()
    _wait(lambda: pool.repository.get_job("first").status, "successful")
    _wait(job_folder(pool.settings, "waiting").exists, False)
    assert pool.repository.get_job("waiting").status == "dismissed"


def test_delete_removes_a_finished_job_and_its_result(store_settings: StoreSettings) -> None:
    with TestClient(create_app(app_settings(store_settings))) as client:
        response = client.post(
            "/batch",
            headers={"Prefer": "respond-async", **AS_OWNER},
            files={"file": ("roads.csv", ROADS_CSV, "text/csv")},
        )
        job_id = response.json()["jobID"]
        _wait(
            lambda: client.get(f"/jobs/{job_id}", headers=AS_OWNER).json()["status"], "successful"
        )
        folder = job_folder(client.app.state.settings, job_id)  # type: ignore[attr-defined]
        assert (folder / "result.csv").is_file()
        assert client.delete(f"/jobs/{job_id}", headers=AS_OWNER).status_code == 204
        assert not folder.exists()
        assert client.get(f"/jobs/{job_id}", headers=AS_OWNER).status_code == 404
        assert client.delete(f"/jobs/{job_id}", headers=AS_OWNER).status_code == 404


def test_finished_jobs_expire_with_their_folders(pool_of: Callable[..., JobPool]) -> None:
    pool = pool_of(job_retention_hours=1 / 3600)  # one second
    gate = threading.Event()
    gate.set()
    pool.start("old", _gated(pool.repository, pool.settings, "old", gate), "csv", BatchRequest(), 2)
    _wait(lambda: pool.repository.get_job("old").status, "successful")
    pool.repository.create_job("queued", "batch", {}, rows_total=1)
    pool.sweep()
    assert job_folder(pool.settings, "old").is_dir()  # not yet a second old
    time.sleep(1.1)
    pool.sweep()
    assert [job.id for job in pool.repository.list_jobs(EVERYONE)] == ["queued"]
    assert not job_folder(pool.settings, "old").exists()


def test_stopping_the_service_fails_its_unfinished_jobs(pool_of: Callable[..., JobPool]) -> None:
    pool = pool_of(max_running_jobs=1)
    gate = threading.Event()
    for job_id in ("running", "queued"):
        pool.start(
            job_id, _gated(pool.repository, pool.settings, job_id, gate), "csv", BatchRequest(), 2
        )
    _wait(lambda: pool.repository.get_job("running").status, "running")
    size = _pool_size()
    pool.close()
    for job_id in ("running", "queued"):
        job = pool.repository.get_job(job_id)
        assert (job.status, job.message) == ("failed", STOPPED_MESSAGE)
    pool.close()  # and again, as the service's shutdown may: counted down once
    assert _pool_size() == size - 1


def _pool_size() -> float | None:
    return REGISTRY.get_sample_value("takeoff_job_pool_size")


def test_store_sweeps_touch_only_the_jobs_they_name(repository: Repository) -> None:
    repository.create_job("silent", "batch", {}, rows_total=1)
    repository.create_job("stamped", "batch", {}, rows_total=1)
    repository.create_job("done", "batch", {}, rows_total=1)
    repository.update_job("done", status="successful", finished_at=datetime.now(UTC))
    time.sleep(0.01)
    cutoff = datetime.now(UTC)
    repository.heartbeat_jobs(["stamped"])
    assert repository.fail_silent_jobs(cutoff, "gone") == ["silent"]
    assert repository.get_job("stamped").status == "accepted"
    assert repository.get_job("done").status == "successful"
    assert not repository.transition_job("done", ("accepted", "running"), status="dismissed")
    assert repository.delete_finished_jobs(cutoff) == ["done"]
    assert sorted(job.id for job in repository.list_jobs(EVERYONE)) == ["silent", "stamped"]


def _owner(client: TestClient) -> str:
    owner = key_owner(client.app.state.settings, API_KEY)  # type: ignore[attr-defined]
    assert owner is not None
    return owner
