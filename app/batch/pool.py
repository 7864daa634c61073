"""Where a local batch's chunks run: inline for one chunk, else worker processes forked from
a fork server, which the command line can start before it imports anything else.

This module imports nothing heavy, so that starting the fork server costs the command
nothing: the server imports the workers' modules (`WORKER_MODULE`) on another core while
the command imports its own.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

WORKER_MODULE = "app.batch.work"
"""What every worker runs (`run_chunk`), imported once by the fork server."""


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


def _forkserver() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WORKER_MODULE])
    return context


def start_fork_server() -> None:
    """Start the fork server now rather than at the first chunk: on a large input it is
    ready when the first chunk is read. Unused (a small input, `--workers 1`), it waits
    idle and ends with this process."""
    _forkserver()
    multiprocessing.forkserver.ensure_running()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from a `forkserver`, never from this process.

    Forking a process that already runs Arrow's, GDAL's or the database driver's threads
    can leave a child holding a lock nobody will release. The fork server is a clean
    single-threaded process started once, with the workers' module (and so NumPy, Arrow,
    Shapely and the estimate models) imported beforehand: each worker starts from it in
    milliseconds instead of importing everything again as `spawn` would.
    """
    return ProcessPoolExecutor(max_workers=workers, mp_context=_forkserver())
