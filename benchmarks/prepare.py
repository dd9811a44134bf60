"""Recipes: a 10-step recipe against the same transformations as plain pandas, same run.

Data: the foundation's 1,000,000 × 21 mixed CSV (``benchmarks.data.mixed_csv``), read once
with pandas before timing. Measured, best of ``--repeat``:

- recipe: ``RecipeTransformer(steps).fit_transform(frame)`` — what training does on the
  training rows (learning medians, bounds, bins, kept categories, then applying them);
- pandas: the same ten transformations written by hand as vectorised pandas;
- preview: ``preview_steps`` of an edited step on a 1,000-row sample, the steps before it
  taken from the panel's prefix cache (what the Prepare panel computes after each edit);
  the worst step is reported, and also the cold figure (every earlier step re-run).

Goals (issue: prepare): recipe ≤ 1.5 × pandas; preview ≤ 50 ms.

    .venv/bin/python -m benchmarks.prepare [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

STEPS = [
    {"op": "impute", "columns": ["income"], "strategy": "median"},
    {"op": "impute", "columns": ["score"], "strategy": "mean"},
    {"op": "clip", "columns": ["balance"], "method": "iqr", "k": 1.5},
    {"op": "rare", "columns": ["product"], "min_share": 0.0049},
    {"op": "text_clean", "columns": ["email_domain"], "trim": True, "case": "upper"},
    {"op": "expr", "name": "income_per_age", "expression": "income / age"},
    {"op": "bin", "column": "temp", "method": "quantile", "bins": 5},
    {"op": "duration", "start": "signup", "end": "last_seen", "unit": "days", "name": "tenure"},
    {"op": "date_parts", "column": "signup", "parts": ["year", "month"]},
    {"op": "onehot", "columns": ["city"]},
]


def by_hand(df):
    """The ten steps as a person writes them in pandas."""
    import pandas as pd

    df = df.copy(deep=False)
    df["income"] = df["income"].fillna(df["income"].median())
    df["score"] = df["score"].fillna(df["score"].mean())
    q1, q3 = df["balance"].quantile([0.25, 0.75])
    df["balance"] = df["balance"].clip(q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
    share = df["product"].value_counts(normalize=True)
    kept = share[share >= 0.0049].index
    df["product"] = df["product"].where(df["product"].isin(kept), "other")
    df["email_domain"] = df["email_domain"].str.strip().str.upper()
    df["income_per_age"] = df["income"] / df["age"]
    edges = np.unique(df["temp"].quantile(np.linspace(0, 1, 6)).to_numpy())
    df["temp_bin"] = np.searchsorted(edges[1:-1], df["temp"].to_numpy(), side="right")
    df["tenure"] = (df["last_seen"] - df["signup"]).dt.total_seconds() / 86400
    df["signup_year"] = df["signup"].dt.year
    df["signup_month"] = df["signup"].dt.month
    top = df["city"].value_counts().index[:20]
    dummies = pd.get_dummies(
        df["city"].astype(pd.CategoricalDtype(top)), prefix="city", prefix_sep="="
    )
    return pd.concat([df.drop(columns=["city"]), dummies], axis=1)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from app.core.recipes import preview_steps
    from app.core.recipes.runtime import RecipeTransformer
    from app.core.recipes.service import PrefixCache
    from benchmarks.data import mixed_csv

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    path = mixed_csv(args.rows)
    frame = pd.read_csv(path, parse_dates=["signup", "last_seen"])
    recipe_s = best(lambda: RecipeTransformer(STEPS).fit_transform(frame), args.repeat)
    pandas_s = best(lambda: by_hand(frame), args.repeat)
    sample = frame.head(1000).copy()
    preview_steps(sample, STEPS, 9, cache=None)  # warm-up: imports
    # What the panel does after an edit of step k: the first k steps come from its cache,
    # step k runs on their result (a new parameter each time, so it is never cached).
    previews, cold = [], []
    for upto in range(len(STEPS)):
        cache = PrefixCache()
        cache.prefix(sample, STEPS, upto)
        times = []
        for attempt in range(5):
            edited = [*STEPS[:upto], {**STEPS[upto], "note": f"edit {attempt}"}]
            t0 = time.perf_counter()
            preview_steps(sample, edited, upto, cache=cache)
            times.append(time.perf_counter() - t0)
        previews.append(min(times))
        cold.append(best(lambda u=upto: preview_steps(sample, STEPS, u, cache=None), 3))
    result = {
        "rows": len(frame),
        "columns": frame.shape[1],
        "recipe_s": round(recipe_s, 3),
        "pandas_s": round(pandas_s, 3),
        "ratio": round(recipe_s / pandas_s, 2),
        "goal_ratio": 1.5,
        "preview_ms_max": round(1000 * max(previews), 1),
        "preview_ms_last_step": round(1000 * previews[-1], 1),
        "preview_cold_ms_max": round(1000 * max(cold), 1),
        "goal_preview_ms": 50,
        "loadavg": os.getloadavg()[0],
    }
    print(
        f"10-step recipe on {len(frame):,} × {frame.shape[1]}: {recipe_s:.2f} s; plain pandas "
        f"{pandas_s:.2f} s; ratio {result['ratio']} (goal ≤ 1.5)\n"
        f"preview of one step on 1,000 rows: ≤ {result['preview_ms_max']} ms (goal ≤ 50 ms); "
        f"cold (all earlier steps re-run): ≤ {result['preview_cold_ms_max']} ms\n"
        f"load average {result['loadavg']:.2f}"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
