"""The `takeoff` command line."""


def main() -> None:
    """The `takeoff` entry point. The commands are imported only now: a batch's worker
    processes start by running the `takeoff` script again (multiprocessing's fork server
    prepares each worker's `__main__` that way), and that should cost them nothing."""
    from app.cli.main import main as run

    run()
