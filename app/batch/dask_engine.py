"""`--engine dask`: the batch's chunks run on a Dask cluster instead of local processes.

The client reads and plans the input (it has the store) and writes the outputs in order;
each chunk's decoding, measuring, pricing and encoding (`app.batch.work.run_chunk`, the very
function the local engine runs) is a task on the cluster's workers. A `LocalCluster` with
one single-threaded worker per core is started when no scheduler address is given; a real
cluster's workers need this package installed, like any Dask dependency.
"""

from __future__ import annotations

import os

from app.batch.runner import BatchSummary
from app.batch.service import OpenBatch
from app.errors import ConfigurationError


def run_dask(batch: OpenBatch, scheduler: str | None = None) -> BatchSummary:
    """Run the batch on the cluster at `scheduler` (default: a local cluster)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        workers = max(1, os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(scheduler, timeout=10)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="scheduler"
            ) from exc
    try:
        slots = sum(info["nthreads"] for info in client.scheduler_info()["workers"].values())
        executor = client.get_executor(pure=False)
        return batch.run(executor=executor, in_flight=max(2, 2 * slots))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
