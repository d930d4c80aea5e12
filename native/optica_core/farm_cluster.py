"""The local Dask cluster a farm starts when it is given no scheduler: worker processes on
127.0.0.1 only, laid out as the PARALLEL export lays out its workers, each in a session of its own.

    with local_client(workers=2, timeout=60) as client:   # shut down on exit, however it ends
        run_farm(job, client=client)

Why a session of its own: Linux's autogroup scheduling (on by default in most distributions'
kernels) shares the CPU fairly between sessions, not processes. Workers left in the client's
session share that one session's part of a busy machine between them, while the PARALLEL
export's workers, started in sessions of their own (so that a terminal's Ctrl-C reaches the
parent only), get one part each (on a shared 2-core machine the farm used 1.25 cores where
PARALLEL used 1.73, with no worker ever idle: docs/benchmarks.md, "Farm (issue 12)"). Here too a Ctrl-C
reaches the client only, which shuts the cluster down; a worker whose client dies exits at once
(Dask's parent-alive pipe), so nothing is left behind either way.
"""

from __future__ import annotations

import contextlib
import logging
import os

import dask
from distributed import Client, LocalCluster, WorkerPlugin

# A local cluster serves no dashboard: its workers need not sample their own stacks every 10 ms
# for one (Dask's statistical profiler) nor watch the system as often; their render threads keep
# that CPU.
LOCAL_WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class OwnSession(WorkerPlugin):
    """Moves each worker process (a restarted one too) into a session of its own."""

    name = "optica-own-session"

    def setup(self, worker) -> None:
        with contextlib.suppress(OSError):  # already a session leader, or not a POSIX system
            os.setsid()


@contextlib.contextmanager
def local_client(workers: int, timeout: float = 60):
    """A client of a new LocalCluster: `workers` processes of one task slot each, on 127.0.0.1,
    no dashboard, each worker in its own session; closed on exit."""
    with dask.config.set(LOCAL_WORKER_CONFIG), LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
            scheduler_port=0, silence_logs=logging.ERROR, timeout=timeout,
            # The scheduler's HTTP server (health routes) starts even without a dashboard, on
            # port 8787 unless told: a free loopback port, so that two farms do not collide.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            Client(cluster, timeout=timeout) as client:
        if hasattr(os, "setsid"):
            client.register_plugin(OwnSession())
        yield client
