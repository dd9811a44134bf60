"""Registry costs: a verified load by alias against a bare skops load, and listing models.

- load: a registered 100-tree random forest loaded with ``RegistryService.load_model(
  "bench@champion")`` (resolve the alias in the store, read the file once, SHA-256 of the
  bytes read, skops with the recorded trusted types) against ``skops.io.load`` of the very
  same file with the same trusted types. Interleaved, best of ``--repeat``. Goal ≤ 1.2 ×.
- list: ``list_models()`` over 1,000 models × 20 versions (inserted through a bulk Core
  insert, as a benchmark may) and ``list_versions`` of one. Goal ≤ 0.2 s.

    .venv/bin/python -m benchmarks.registry [--repeat 7] [--models 1000] [--versions 20]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def _train_forest(services) -> int:
    import numpy as np
    import pyarrow as pa

    from app.core.training import TrainRequest

    rng = np.random.default_rng(0)
    n = 3000
    cols = {f"x{i}": rng.normal(size=n) for i in range(8)}
    signal = cols["x0"] + 0.5 * cols["x1"] - cols["x2"] + rng.normal(scale=0.7, size=n)
    cols["label"] = np.where(signal > 0, "yes", "no")
    services.datasets.add_table(pa.table(cols), name="bench", source_kind="benchmark")
    run = services.training.train_inline(
        TrainRequest(
            "bench@1",
            "label",
            "random_forest",
            params={"n_estimators": 100},
            folds=2,
            test_size=0.0,
            plots=False,
        )
    )
    return run.id


def measure_load(services, repeat: int) -> dict:
    import skops.io as sio

    run_id = _train_forest(services)
    registry = services.registry
    version = registry.register(run_id, "bench")
    registry.set_alias("bench", "champion", version.version)
    path = services.artifacts.path_for(version.artifact_sha256)
    trusted = list(version.trusted_types)
    sio.load(path, trusted=trusted)  # warm-up: imports, page cache
    registry.load_model("bench@champion")
    bare, verified = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sio.load(path, trusted=trusted)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        registry.load_model("bench@champion")
        verified.append(time.perf_counter() - t0)
    return {
        "file_bytes": path.stat().st_size,
        "bare_skops_load_s": min(bare),
        "registry_load_by_alias_s": min(verified),
        "ratio": min(verified) / min(bare),
        "goal_ratio": 1.2,
    }


def bulk_insert(services, models: int, versions: int) -> None:
    from sqlalchemy import insert

    from app.core.store.models import ArtifactRow
    from app.core.store.models_registry import (
        ModelAliasRow,
        ModelVersionRow,
        RegisteredModelRow,
    )

    now = datetime.now(UTC)
    sha = "b" * 64
    signature = {"columns": [{"name": f"x{i}", "dtype": "float64"} for i in range(8)]}

    def write(s) -> None:
        s.execute(
            insert(ArtifactRow),
            [
                {
                    "sha256": sha,
                    "size": 1,
                    "kind": "model",
                    "state": "stored",
                    "owner": "",
                    "created_at": now,
                }
            ],
        )
        s.execute(
            insert(RegisteredModelRow),
            [
                {
                    "id": 10_000 + m,
                    "name": f"model-{m:04d}",
                    "description": f"benchmark model {m}",
                    "tags": {},
                    "policy": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for m in range(models)
            ],
        )
        rows = []
        for m in range(models):
            for v in range(1, versions + 1):
                rows.append(
                    {
                        "id": 1_000_000 + m * versions + v,
                        "model_id": 10_000 + m,
                        "version": v,
                        "source": "run",
                        "artifact_sha256": sha,
                        "artifact_size": 1,
                        "task": "binary",
                        "signature": signature,
                        "input_example": [],
                        "output": {"task": "binary"},
                        "metrics": {"roc_auc": 0.5 + v / 100},
                        "trusted_types": [],
                        "packages": {},
                        "python_version": "3.11",
                        "description": "",
                        "tags": {},
                        "card": {},
                        "status": "active",
                        "created_at": now,
                    }
                )
        s.execute(insert(ModelVersionRow), rows)
        s.execute(
            insert(ModelAliasRow),
            [
                {
                    "model_id": 10_000 + m,
                    "alias": "champion",
                    "version_id": 1_000_000 + m * versions + versions,
                    "updated_at": now,
                }
                for m in range(models)
            ],
        )

    services.store.write(write)


def measure_list(services, models: int, versions: int, repeat: int) -> dict:
    bulk_insert(services, models, versions)
    registry = services.registry
    listed = registry.list_models()
    assert len(listed) >= models and listed[-1].versions == versions
    times, version_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        registry.list_models()
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        registry.list_versions("model-0500")
        version_times.append(time.perf_counter() - t0)
    return {
        "models": models,
        "versions_each": versions,
        "list_models_s": min(times),
        "list_versions_s": min(version_times),
        "goal_s": 0.2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    args = parser.parse_args()

    from app.bootstrap import build_services

    with tempfile.TemporaryDirectory() as folder:
        services = build_services(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            result = {
                "load": measure_load(services, args.repeat),
                "list": measure_list(services, args.models, args.versions, args.repeat),
                "loadavg": Path("/proc/loadavg").read_text().split()[:3]
                if os.path.exists("/proc/loadavg")
                else None,
            }
        finally:
            services.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
