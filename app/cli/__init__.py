"""The `takeoff` command line."""

import atexit
import contextlib
import os
import sys

BATCH_COMMAND = "estimate"
"""The command that may run chunks on worker processes (`app.batch.pool`)."""


def main() -> None:
    """The `takeoff` entry point. The commands are imported only now: a batch's worker
    processes start by running the `takeoff` script again (multiprocessing's fork server
    prepares each worker's `__main__` that way), and that should cost them nothing. A batch
    starts its fork server first, so that it imports the workers' modules on another core
    while this process imports the command's (about a second sooner at work)."""
    if sys.argv[1:2] == [BATCH_COMMAND]:
        from app.batch.pool import start_fork_server

        start_fork_server()
    from app.cli.main import main as run

    try:
        run()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code: object) -> None:
    """Exit without tearing the interpreter down: freeing every module and object of a
    command's libraries (pandas, GDAL, SQLAlchemy) takes about half a second that nobody
    waits for usefully. Exit handlers still run (coverage, multiprocessing, logging) and
    the standard streams are flushed, so nothing written is lost."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`)
            stream.flush()
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    os._exit(code)
