"""Job records on both store backends."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput, NotFound
from app.store.repository import EVERYONE, Repository


def test_a_job_is_created_updated_and_listed(repository: Repository) -> None:
    job = repository.create_job("j-1", "batch", {"format": "csv"}, rows_total=10)
    assert (job.status, job.rows_done, job.rows_total) == ("accepted", 0, 10)
    running = repository.update_job("j-1", status="running", rows_done=4)
    assert running.status == "running" and running.updated_at >= job.updated_at
    done = repository.update_job(
        "j-1", status="successful", summary={"rows": 10}, result_file="result.csv"
    )
    assert repository.get_job("j-1") == done
    assert done.summary == {"rows": 10} and done.request == {"format": "csv"}
    repository.create_job("j-2", "batch", {}, rows_total=None)
    assert [j.id for j in repository.list_jobs(EVERYONE)][:2] == ["j-2", "j-1"]


def test_unknown_jobs_and_states_are_refused(repository: Repository) -> None:
    with pytest.raises(NotFound):
        repository.get_job("missing")
    repository.create_job("j-3", "batch", {}, rows_total=1)
    with pytest.raises(InvalidInput):
        repository.update_job("j-3", status="exploded")
