"""Heavy work on a Dask cluster (dask.distributed): training's cross-validation folds.

``--cluster tcp://HOST:8786`` (or ``MODELDESK_CLUSTER``) connects to a running scheduler;
``--cluster local:N`` starts a ``LocalCluster`` of N worker processes on this machine. The
data is not pickled through the scheduler: each task names the store and the dataset
version, and the worker reads the stored Parquet snapshot itself (from the artifact store,
verified by SHA-256), once per process. Workers need ModelDesk installed and the store and
artifact URLs (the task carries them; credentials for S3 come from the worker's own
environment). Dask reschedules a dead worker's tasks on the others; cancelling the run
cancels its tasks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from app.core.errors import InvalidInput, StoreUnavailable
from app.core.progress import Progress

CLUSTER_ENV = "MODELDESK_CLUSTER"
#: seconds between checks for a cancel while waiting on the cluster
_POLL = 0.25

_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://[^\s/]+(:\d+)?$")


def parse_cluster(value: str | None) -> str | None:
    """The cluster spec (``tcp://host:port`` or ``local:N``), checked; None for none."""
    if value is None or not value.strip() or value.strip().lower() in ("none", "off"):
        return None
    value = value.strip()
    if value.startswith("local:"):
        count = value.split(":", 1)[1]
        if not count.isdigit() or not 1 <= int(count) <= 256:
            raise InvalidInput(
                f"--cluster {value}: local:N needs a number of worker processes from 1 to 256.",
                hint="e.g. --cluster local:4",
            )
        return value
    if _ADDRESS.match(value):
        return value
    raise InvalidInput(
        f"--cluster {value!r} is neither a scheduler address nor local:N.",
        hint="Give tcp://HOST:8786 (a running `dask scheduler`) or local:N (N worker processes).",
    )


def cluster_from_env() -> str | None:
    return parse_cluster(os.environ.get(CLUSTER_ENV))


class Cluster:
    """A connected ``distributed.Client`` (and the ``LocalCluster`` it started, if any)."""

    def __init__(self, spec: str) -> None:
        from distributed import Client, LocalCluster

        self.spec = spec
        self._local = None
        try:
            if spec.startswith("local:"):
                self._local = LocalCluster(
                    n_workers=int(spec.split(":", 1)[1]),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self.client = Client(self._local)
            else:
                self.client = Client(spec, timeout=20)
        except OSError as exc:
            raise StoreUnavailable(
                f"Cannot reach the Dask scheduler at {spec}: {exc}.",
                hint="Start it with `dask scheduler` and workers with `dask worker ADDRESS`, "
                "or train without --cluster.",
            ) from exc

    def describe(self) -> dict[str, Any]:
        """Workers, cores and tasks in flight (for the status bar and `--json`)."""
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        return {
            "cluster": self.spec,
            "workers": len(workers),
            "cores": sum(int(w.get("nthreads", 0)) for w in workers.values()),
        }

    def folds(
        self,
        store: Any,
        plan: Any,
        train_rows: Any,
        folds: list[tuple[Any, Any]],
        progress: Progress,
    ) -> Iterator[dict[str, Any]]:
        """Each fold fitted on a worker; results yielded in fold order; cancel cancels all."""
        from app.core.cluster_tasks import fit_fold_task

        artifacts = store.artifacts_remote or str(store.artifacts_dir)
        plan_dict = plan.to_dict()
        futures = [
            self.client.submit(
                fit_fold_task,
                store.url,
                artifacts,
                plan_dict,
                train_rows,
                fit_rows,
                val_rows,
                pure=False,
                key=f"modeldesk-fold-{k}-{os.getpid()}-{id(folds)}",
            )
            for k, (fit_rows, val_rows) in enumerate(folds, start=1)
        ]
        try:
            for future in futures:
                while True:
                    progress.check_cancelled()
                    try:
                        result = future.result(timeout=_POLL)
                    except TimeoutError:
                        continue
                    break
                yield result
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        self.client.close()
        if self._local is not None:
            self._local.close()
