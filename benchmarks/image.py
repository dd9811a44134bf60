"""Model image size and build times: a scikit-learn model (100-tree random forest on the
breast-cancer data) packaged by DeployService on the real daemon, in this run.

Measured: the first build (wheel cache warm, as after the first build of any model on these
dependencies; ``--cold`` empties a private wheel cache first), the rebuild for a new version
of the same model on the same dependencies, and the final image's size. Baseline (quoted in
issue 7): MLflow's ``build-docker`` images of 3.2–3.7 GB taking over 5 minutes, still near
1 GB after slimming. Goals: image ≤ 450 MB; rebuild ≤ 15 s.

    DOCKER_HOST=unix:///run/modeldesk-docker/docker.sock \\
        .venv/bin/python -m benchmarks.image [--base-image IMG] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

MLFLOW_IMAGE_MB = (3200, 3700)  # build-docker, before slimming (issue 7)
MLFLOW_SLIM_MB = 1000
MLFLOW_BUILD_S = 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.image")
    parser.add_argument(
        "--base-image",
        default=os.environ.get("MODELDESK_BASE_IMAGE", "modeldesk/python-base:3.11-bookworm"),
    )
    parser.add_argument("--cold", action="store_true", help="start from an empty wheel cache")
    parser.add_argument("--keep", action="store_true", help="keep the images afterwards")
    args = parser.parse_args(argv)

    import pyarrow as pa
    from sklearn.datasets import load_breast_cancer

    from app.bootstrap import build_services
    from app.core.deploy import DeployService
    from app.core.training import TrainRequest

    with tempfile.TemporaryDirectory(prefix="modeldesk-bench-image-") as tmp:
        root = Path(tmp)
        services = build_services(f"sqlite:///{root / 'store.db'}")
        data = load_breast_cancer(as_frame=True).frame
        data["target"] = data["target"].map({0: "malignant", 1: "benign"})
        services.datasets.add_table(pa.Table.from_pandas(data), name="cancer", source_kind="bench")
        refs = []
        for seed in (0, 1):
            run = services.training.train_inline(
                TrainRequest(
                    "cancer@1",
                    "target",
                    "random_forest",
                    params={"n_estimators": 100},
                    folds=2,
                    plots=False,
                    seed=seed,
                )
            )
            refs.append(services.registry.register(run.id, "bench-cancer").ref)
        cache = (
            root / "wheels" if args.cold else Path(tempfile.gettempdir()) / "modeldesk-test-wheels"
        )
        deploy = DeployService(
            services.store,
            services.artifacts,
            services.registry,
            base_image=args.base_image,
            wheel_cache=cache,
        )
        t0 = time.perf_counter()
        first = deploy.build(refs[0])
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = deploy.build(refs[1])
        rebuild_s = time.perf_counter() - t0
        client = deploy.client()
        size_mb = client.images.get(first.image_id).attrs["Size"] / 1e6
        if not args.keep:
            for image in (second, first):
                client.images.remove(image.image_id, force=True)
        deploy.close()
        services.close()

    load = Path("/proc/loadavg").read_text().split()[:3]
    result = {
        "image_mb": round(size_mb, 1),
        "first_build_s": round(first_s, 1),
        "first_build_daemon_s": round(first.build_seconds, 1),
        "rebuild_s": round(rebuild_s, 1),
        "rebuild_daemon_s": round(second.build_seconds, 1),
        "wheel_cache": "cold" if args.cold else "warm",
        "loadavg": " ".join(load),
        "vs_mlflow_image": f"{MLFLOW_IMAGE_MB[0] / size_mb:.1f}–"
        f"{MLFLOW_IMAGE_MB[1] / size_mb:.1f}x smaller ({MLFLOW_SLIM_MB / size_mb:.1f}x vs slimmed)",
        "vs_mlflow_build": f"{MLFLOW_BUILD_S / first_s:.1f}x faster first build",
        "goals": {
            "image_mb<=450": size_mb <= 450,
            "rebuild_s<=15": rebuild_s <= 15,
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
