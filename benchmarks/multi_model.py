"""Several models in one server: image size and per-request latency against one model,
measured in this run on the real daemon.

Three scikit-learn models are trained on the breast-cancer data (a 100-tree random forest,
a logistic regression and histogram gradient boosting) and registered. Measured:

- the size of the image serving all three (``build_models``) against the image of the
  forest alone (``build``), both on the same base image and wheels; goal ≤ 1.1×;
- p50/p99 of sequential 1-row requests (MLflow ``dataframe_split`` JSON) to the forest on
  a server holding only it (``POST /invocations``) and on a server holding all three
  (``POST /models/NAME/invocations``), both ``python -m app.serving`` processes on
  127.0.0.1, alternated ``--repeat`` times, best kept; and throughput at concurrency 8.
  ``--before TREE`` adds the one-model server of another checkout (e.g. the commit before
  several models: ``git worktree add /tmp/before a25aa0d``), to show the one-model server
  kept its speed.

    DOCKER_HOST=… .venv/bin/python -m benchmarks.multi_model [--requests 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serving import free_port, latency, throughput, wait_up

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = (
    ("random_forest", {"n_estimators": 100}),
    ("logistic", {}),
    ("hist_gradient_boosting", {}),
)


def start_server(bundle: Path, tree: Path = ROOT) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.serving", "--bundle", str(bundle), "--port", str(port)],
        cwd=tree, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(tree)},
    )  # fmt: skip
    wait_up(port, "/v2/health/ready", proc)
    return proc, port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.multi_model")
    parser.add_argument(
        "--base-image",
        default=os.environ.get("MODELDESK_BASE_IMAGE", "modeldesk/python-base:3.11-bookworm"),
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the images afterwards")
    parser.add_argument("--before", type=Path, help="also serve the one model from this tree")
    args = parser.parse_args(argv)

    import pyarrow as pa
    from sklearn.datasets import load_breast_cancer

    from app.bootstrap import build_services
    from app.core.bundle import bundle_folder, verified_bundle
    from app.core.deploy import DeployService
    from app.core.training import TrainRequest

    with tempfile.TemporaryDirectory(prefix="modeldesk-bench-multi-") as tmp:
        root = Path(tmp)
        services = build_services(f"sqlite:///{root / 'store.db'}")
        data = load_breast_cancer(as_frame=True).frame
        data["target"] = data["target"].map({0: "malignant", 1: "benign"})
        services.datasets.add_table(pa.Table.from_pandas(data), name="cancer", source_kind="bench")
        refs = []
        for i, (estimator, params) in enumerate(ESTIMATORS):
            run = services.training.train_inline(
                TrainRequest("cancer@1", "target", estimator, params=params, folds=2, plots=False)
            )
            refs.append(services.registry.register(run.id, f"bench-m{i}").ref)
        deploy = DeployService(
            services.store,
            services.artifacts,
            services.registry,
            base_image=args.base_image,
            wheel_cache=Path(tempfile.gettempdir()) / "modeldesk-test-wheels",
        )
        single = deploy.build(refs[0])
        t0 = time.perf_counter()
        multi = deploy.build_models(refs, name="bench-multi")
        multi_build_s = time.perf_counter() - t0
        client = deploy.client()
        single_mb = client.images.get(single.image_id).attrs["Size"] / 1e6
        multi_mb = client.images.get(multi.image_id).attrs["Size"] / 1e6
        if not args.keep:
            for image in (multi, single):
                client.images.remove(image.image_id, force=True)
        deploy.close()

        bundles = [verified_bundle(services.registry, ref) for ref in refs]
        bundles[0].write(root / "one")
        for bundle in bundles:
            bundle.write(root / "three" / bundle_folder(bundle))
        services.close()
        row = data.drop(columns="target").iloc[[0]]
        body = json.dumps(
            {"dataframe_split": json.loads(row.to_json(orient="split", index=False))}
        ).encode()
        one, one_port = start_server(root / "one")
        three, three_port = start_server(root / "three")
        targets = {
            "single": (one_port, "/invocations"),
            "multi": (three_port, f"/models/{bundles[0].name}/invocations"),
        }
        servers = [one, three]
        if args.before:
            before, before_port = start_server(root / "one", args.before.resolve())
            servers.append(before)
            targets["single_before"] = (before_port, "/invocations")
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        best = {k: {"p50_ms": 1e9, "p99_ms": 1e9, "rps_c8": 0.0} for k in targets}
        try:
            for _ in range(args.repeat):
                for name, (port, path) in targets.items():
                    p50, p99 = latency(port, body, args.requests, path=path)
                    rps = throughput(port, body, args.seconds, path=path)
                    b = best[name]
                    b["p50_ms"], b["p99_ms"] = min(b["p50_ms"], p50), min(b["p99_ms"], p99)
                    b["rps_c8"] = max(b["rps_c8"], rps)
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=60)
        load_after = Path("/proc/loadavg").read_text().split()[:3]

    result = {
        "single_image_mb": round(single_mb, 1),
        "multi_image_mb (3 models)": round(multi_mb, 1),
        "size_ratio": round(multi_mb / single_mb, 4),
        "multi_build_s": round(multi_build_s, 1),
        **{f"{k}_server": {m: round(v, 3) for m, v in b.items()} for k, b in best.items()},
        "p50_ratio_multi_vs_single": round(best["multi"]["p50_ms"] / best["single"]["p50_ms"], 3),
        "rps_ratio_multi_vs_single": round(best["multi"]["rps_c8"] / best["single"]["rps_c8"], 3),
        "loadavg_before": " ".join(load_before),
        "loadavg_after": " ".join(load_after),
        "goals": {"size_ratio<=1.1": multi_mb / single_mb <= 1.1},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
