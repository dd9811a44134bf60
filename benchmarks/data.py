"""The benchmark data every issue measures against: a 1,000,000 × 21 mixed CSV.

Generated once with a fixed seed and cached in ``benchmarks/_data/`` (git-ignored), so the
figures of different benchmarks and sessions refer to the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).with_name("_data")


def mixed_frame(rows: int, seed: int = 0):
    """21 columns: ints, floats with missing values, low/high-cardinality text, dates, bools."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = {
        "id": np.arange(rows),
        "age": rng.integers(18, 90, rows),
        "count": rng.poisson(3, rows),
        "year": rng.integers(1990, 2025, rows),
        "income": np.round(rng.lognormal(10, 0.5, rows), 2),
        "score": np.round(rng.normal(0, 1, rows), 4),
        "ratio": np.round(rng.uniform(0, 1, rows), 4),
        "balance": np.round(rng.normal(1000, 300, rows), 2),
        "temp": np.round(rng.normal(20, 5, rows), 1),
        "weight": np.round(rng.normal(70, 12, rows), 1),
        "city": rng.choice(["Paris", "Lyon", "Nice", "Lille", "Nantes", "Brest"], rows),
        "segment": rng.choice(["a", "b", "c"], rows, p=[0.6, 0.3, 0.1]),
        "product": rng.choice([f"P{i:03d}" for i in range(200)], rows),
        "customer": np.char.add("C", rng.integers(0, 300_000, rows).astype(str)),
        "email_domain": rng.choice(["gmail.com", "yahoo.fr", "corp.example", "free.fr"], rows),
        "signup": pd.Timestamp("2015-01-01")
        + pd.to_timedelta(rng.integers(0, 3650, rows), unit="D"),
        "last_seen": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(rng.integers(0, 86400 * 300, rows), unit="s"),
        "active": rng.random(rows) < 0.7,
        "premium": rng.random(rows) < 0.1,
        "churn": rng.random(rows) < 0.2,
        "target": np.round(rng.normal(50, 10, rows), 3),
    }
    df = pd.DataFrame(frame)
    for col, share in (("income", 0.05), ("score", 0.1), ("temp", 0.02), ("city", 0.03)):
        df.loc[rng.random(rows) < share, col] = None
    return df


def mixed_csv(rows: int = 1_000_000) -> Path:
    """The cached CSV of ``mixed_frame(rows)``, generated on first use."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"mixed_{rows}.csv"
    if not path.exists():
        tmp = path.with_suffix(".part")
        mixed_frame(rows).to_csv(tmp, index=False)
        tmp.rename(path)
    return path
