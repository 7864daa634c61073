"""The local engine's worker processes are forked by a fork server, never by the process
that already runs Arrow's and the database driver's threads."""

from __future__ import annotations

import os

from app.batch.work import process_pool


def test_workers_are_children_of_the_fork_server_not_of_this_process() -> None:
    with process_pool(2) as pool:
        parents = {pool.submit(os.getppid).result() for _ in range(4)}
    assert os.getpid() not in parents
    assert len(parents) == 1  # one fork server for every worker
