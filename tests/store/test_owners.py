"""Owners recorded on jobs and saved estimates, and readers limited to their own, on both stores."""

from __future__ import annotations

import shapely

from app.store.repository import EVERYONE, Repository, Visibility
from tests.store.test_repository import _estimate

OWNER_A = "a" * 64
OWNER_B = "b" * 64


def test_owner_only_readers_see_their_estimates_and_extent(repository: Repository) -> None:
    near = repository.save_estimate(_estimate(), owner=OWNER_A)
    far = repository.save_estimate(
        _estimate(geometry=shapely.box(110.0, -7.0, 110.1, -6.9)), owner=OWNER_B
    )
    anonymous = repository.save_estimate(_estimate(geometry=shapely.box(120, 1, 121, 2)))
    own_a = Visibility(owner_only=True, owner=OWNER_A)
    own_b = Visibility(owner_only=True, owner=OWNER_B)
    nobody = Visibility(owner_only=True, owner=None)

    page = repository.estimate_page(limit=10, visible=EVERYONE)
    assert [f.id for f in page.features] == [near.id, far.id, anonymous.id]
    assert [f.id for f in repository.estimate_page(limit=10, visible=own_b).features] == [far.id]
    assert repository.estimate_page(limit=10, visible=nobody).number_matched == 0
    assert repository.estimate_extent(own_b) == (110.0, -7.0, 110.1, -6.9)
    assert repository.estimate_extent(nobody) is None
    assert repository.get_estimate(near.id, own_a).owner == OWNER_A
    assert repository.get_estimate(anonymous.id).owner is None


def test_jobs_are_listed_by_owner_newest_first(repository: Repository) -> None:
    for job_id, owner in (("a-1", OWNER_A), ("b-1", OWNER_B), ("a-2", OWNER_A), ("x", None)):
        repository.create_job(job_id, "batch", {}, rows_total=1, owner=owner)
    own_a = Visibility(owner_only=True, owner=OWNER_A)
    assert [job.id for job in repository.list_jobs(own_a)] == ["a-2", "a-1"]
    assert repository.list_jobs(Visibility(owner_only=True, owner=None)) == []
    assert repository.get_job("x").owner is None
