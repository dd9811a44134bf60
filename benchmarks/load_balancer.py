"""The HAProxy load balancer in front of model containers, against the direct container, in
this run on the real daemon.

Measured: p50 latency through the balancer minus p50 straight to the same replica (goal
≤ 0.5 ms added), throughput at concurrency 8 with 1 replica through the balancer against the
direct container (goal ≥ 0.9×), 2 replicas against 1 (goal ≥ 1.6× on a predict of ≥ 5 ms:
a 300-tree forest), and the time from ``docker kill`` of a canary to 100 healthy answers in a
row (goal ≤ 2 s).

    source /work/devenv.sh && python -m benchmarks.load_balancer [--requests N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BODY = {"dataframe_records": [{"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}]}


def _timed(url: str, n: int) -> list[float]:
    import httpx

    out = []
    with httpx.Client(timeout=30) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            assert client.post(f"{url}/invocations", json=BODY).status_code == 200
            out.append((time.perf_counter() - t0) * 1000)
    return out


def _throughput(url: str, n: int, workers: int = 8) -> float:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: _timed(url, n // workers), range(workers)))
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_balancer")
    parser.add_argument("--requests", type=int, default=800)
    args = parser.parse_args(argv)

    import numpy as np
    import pyarrow as pa

    from app.bootstrap import build_services
    from app.core.training import TrainRequest

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4))
    table = pa.table(
        {**{k: x[:, i] for i, k in enumerate("abcd")}, "y": np.where(x[:, 0] > 0, "p", "n")}
    )
    with tempfile.TemporaryDirectory(prefix="modeldesk-bench-lb-") as tmp:
        services = build_services(f"sqlite:///{Path(tmp) / 'store.db'}")
        services.datasets.add_table(table, name="lb", source_kind="bench")
        refs = []
        for trees in (300, 310):
            run = services.training.train_inline(
                TrainRequest(
                    "lb@1",
                    "y",
                    "random_forest",
                    params={"n_estimators": trees},
                    folds=2,
                    plots=False,
                )
            )
            refs.append(services.registry.register(run.id, "bench-lb").ref)
        deploy = services.deployments
        one = deploy.deploy_variants(refs[0], canary=refs[1], weight=50)
        try:
            primary = next(v for v in one.variants if v.role == "primary")
            direct = deploy.deployment(primary.replica_ids[0]).url
            deploy.abort(one.id)  # the balancer now has the primary's one replica only
            _timed(one.url, 50), _timed(direct, 50)  # warm up
            p50_direct = statistics.median(_timed(direct, args.requests // 2))
            p50_lb = statistics.median(_timed(one.url, args.requests // 2))
            rps_direct = _throughput(direct, args.requests)
            rps_lb1 = _throughput(one.url, args.requests)
            deploy.scale(one.id, 2)
            rps_lb2 = _throughput(one.url, args.requests)
        finally:
            deploy.stop(one.id)
        two = deploy.deploy_variants(refs[0], canary=refs[1], weight=50)
        try:
            canary = next(v for v in two.variants if v.role == "canary")
            container = deploy.deployment(canary.replica_ids[0]).container_id
            deploy.client().containers.get(container).kill()
            t0 = time.perf_counter()
            import httpx

            healthy = 0
            with httpx.Client(timeout=30) as client:
                while healthy < 100:
                    ok = client.post(f"{two.url}/invocations", json=BODY).status_code == 200
                    healthy = healthy + 1 if ok else 0
            fallback_s = time.perf_counter() - t0
        finally:
            deploy.stop(two.id)
        services.close()

    result = {
        "p50_direct_ms": round(p50_direct, 2),
        "p50_lb_ms": round(p50_lb, 2),
        "p50_added_ms": round(p50_lb - p50_direct, 2),
        "rps_direct_c8": round(rps_direct, 1),
        "rps_lb_1_replica_c8": round(rps_lb1, 1),
        "lb_vs_direct": round(rps_lb1 / rps_direct, 2),
        "rps_lb_2_replicas_c8": round(rps_lb2, 1),
        "two_vs_one_replica": round(rps_lb2 / rps_lb1, 2),
        "fallback_to_100_healthy_s": round(fallback_s, 2),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "goals": {
            "p50_added_ms<=0.5": p50_lb - p50_direct <= 0.5,
            "lb_vs_direct>=0.9": rps_lb1 / rps_direct >= 0.9,
            "two_vs_one>=1.6": rps_lb2 / rps_lb1 >= 1.6,
            "fallback_s<=2": fallback_s <= 2,
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
