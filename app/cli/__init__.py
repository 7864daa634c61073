"""The `takeoff` command line."""

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

    run()
