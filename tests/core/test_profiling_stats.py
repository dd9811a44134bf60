"""Profile statistics equal those of pandas, numpy and scipy on generated data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from app.core.profiling import associations, missing, target
from app.core.profiling.arrays import ColumnData, sample_indices
from app.core.profiling.engine import compute_profile
from app.core.profiling.settings import ProfileSettings
from app.core.profiling.stats import QUANTILES, profile_column

SETTINGS = ProfileSettings()


def column(
    values, role: str = "numeric", typ: pa.DataType | None = None
) -> tuple[dict, ColumnData]:
    arr = (
        pa.chunked_array([pa.array(values, type=typ)])
        if not isinstance(values, pa.ChunkedArray)
        else values
    )
    return profile_column("x", arr, role, SETTINGS)


def assert_numeric_like_pandas(values: list, stats: dict) -> None:
    s = pd.Series(values, dtype="float64")
    finite = s[np.isfinite(s)]
    num = stats["numeric"]
    assert stats["count"] == int(s.notna().sum())
    assert stats["missing"] == int(s.isna().sum())
    assert stats["distinct"] == s.nunique()
    assert num["min"] == finite.min() and num["max"] == finite.max()
    assert num["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert num["std"] == pytest.approx(finite.std(), rel=1e-9)  # pandas: ddof=1
    assert num["sum"] == pytest.approx(finite.sum(), rel=1e-12)
    expected_q = np.quantile(finite.to_numpy(), QUANTILES)
    got_q = [num["quantiles"][f"{q:g}"] for q in QUANTILES]
    np.testing.assert_allclose(got_q, expected_q, rtol=1e-12, atol=1e-12)
    assert num["skewness"] == pytest.approx(sps.skew(finite, bias=False), rel=1e-9)
    assert num["skewness"] == pytest.approx(finite.skew(), rel=1e-9)
    assert num["kurtosis"] == pytest.approx(sps.kurtosis(finite, bias=False), rel=1e-9)
    assert num["kurtosis"] == pytest.approx(finite.kurt(), rel=1e-9)
    assert num["zeros"] == int((finite == 0).sum())
    assert num["negatives"] == int((finite < 0).sum())
    q1, q3 = np.quantile(finite, [0.25, 0.75])
    iqr = q3 - q1
    outliers = int(((finite < q1 - 1.5 * iqr) | (finite > q3 + 1.5 * iqr)).sum())
    assert num["outliers"]["count"] == outliers
    counts = num["histogram"]["counts"]
    edges = num["histogram"]["edges"]
    assert sum(counts) == len(finite)
    expected_hist, _ = np.histogram(finite, bins=np.array(edges))
    assert counts == expected_hist.tolist()
    top = finite.value_counts()
    for value, count in stats["top_values"]:
        assert top[value] == count
    assert stats["top_values"][0][1] == top.iloc[0]


def test_float_column_matches_pandas_numpy_and_scipy() -> None:
    rng = np.random.default_rng(1)
    values = list(np.round(rng.lognormal(3, 0.8, 5000), 2))
    for i in range(0, 5000, 37):
        values[i] = None
    values[5], values[6] = 0.0, -4.5
    stats, data = column(values)
    assert_numeric_like_pandas(values, stats)
    assert data.missing is not None and int(data.missing.sum()) == stats["missing"]


def test_fixed_decimal_columns_are_counted_exactly_like_pandas() -> None:
    rng = np.random.default_rng(11)
    for decimals, scale in ((1, 30.0), (2, 5.0), (4, 0.5)):
        values = list(np.round(rng.normal(20, scale, 6000), decimals))
        for i in range(0, 6000, 53):
            values[i] = None
        values[7] = -0.0
        stats, _ = column(values)
        assert_numeric_like_pandas(values, stats)
    values = [0.1, 0.2, 0.30000000000000004, 0.4] * 100  # not 1-decimal: sorted instead
    stats, _ = column(values)
    assert_numeric_like_pandas(values, stats)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(10**6), 10**6), min_size=4, max_size=300), st.integers(0, 4))
def test_decimal_counting_property(cents: list[int], decimals: int) -> None:
    values = [c / 10**decimals for c in cents]
    stats, _ = column(values)
    expected = np.quantile(np.array(values), QUANTILES)
    got = [stats["numeric"]["quantiles"][f"{q:g}"] for q in QUANTILES]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert stats["distinct"] == len(set(values))
    assert stats["numeric"]["min"] == min(values) and stats["numeric"]["max"] == max(values)


def test_integer_columns_counted_and_sorted_match_pandas() -> None:
    rng = np.random.default_rng(2)
    small_range = rng.integers(-20, 60, 4000).tolist()  # counting path
    stats, _ = column(small_range, typ=pa.int64())
    assert_numeric_like_pandas(small_range, stats)
    wide = (rng.integers(0, 10**12, 3000)).tolist()  # sorting path
    stats, _ = column(wide, typ=pa.int64())
    assert_numeric_like_pandas(wide, stats)
    ordered = list(range(1000, 4000, 3))  # already sorted: read without sorting
    stats, _ = column(ordered, typ=pa.int64())
    assert_numeric_like_pandas(ordered, stats)
    assert stats["monotonic"] == "increasing"


def test_integer_column_with_missing_values() -> None:
    values = [3, None, 5, 5, None, -1, 0, 12, 3, 3]
    stats, _ = column(values, typ=pa.int32())
    assert_numeric_like_pandas(values, stats)
    assert stats["monotonic"] is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=4, max_size=300)
)
def test_quantiles_and_moments_property(values: list[float]) -> None:
    stats, _ = column(values)
    num = stats["numeric"]
    expected = np.quantile(np.array(values), QUANTILES)
    got = [num["quantiles"][f"{q:g}"] for q in QUANTILES]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    assert num["mean"] == pytest.approx(float(np.mean(values)), rel=1e-9, abs=1e-9)
    if np.std(values) > 1e-6 * max(1.0, float(np.max(np.abs(values)))):
        assert num["skewness"] == pytest.approx(sps.skew(values, bias=False), rel=1e-6, abs=1e-6)


def test_infinities_are_counted_apart_and_only_infinities_say_so() -> None:
    stats, _ = column([1.0, 2.0, math.inf, -math.inf, 3.0, None])
    assert (stats["infinite"], stats["pos_infinite"], stats["neg_infinite"]) == (2, 1, 1)
    assert stats["numeric"]["max"] == 3.0 and stats["numeric"]["mean"] == 2.0
    stats, data = column([math.inf, math.inf, -math.inf])
    assert "numeric" not in stats and not data.usable
    assert any("infinite" in n for n in stats["notes"])


def test_text_lengths_kinds_and_values_match_pandas() -> None:
    values = [
        "apple",
        "kiwi",
        "",
        None,
        "banana split",
        "42",
        "3.5",
        "2024-01-02",
        "kiwi",
        "yes",
    ] * 30
    stats, data = column(values, role="categorical")
    s = pd.Series(values, dtype="object").dropna()
    text = stats["text"]
    lengths = s.str.len()
    assert (text["length_min"], text["length_max"]) == (lengths.min(), lengths.max())
    assert text["length_mean"] == pytest.approx(lengths.mean())
    assert text["length_median"] == int(np.median(lengths))
    assert text["empty"] == int((s == "").sum())
    assert text["kinds"] == {"text": 150, "number": 60, "date": 30, "boolean": 30}
    assert stats["distinct"] == s.nunique()
    counts = s.value_counts()
    assert [c for _, c in stats["top_values"]] == sorted(counts.tolist(), reverse=True)
    assert dict(stats["top_values"]) == counts.to_dict()
    assert data.codes is not None and (data.codes < 0).sum() == 30


def test_boolean_balance_from_bools_numbers_and_words() -> None:
    stats, _ = column([True, False, True, None, True], role="boolean")
    assert stats["boolean"] == {"true": 3, "false": 1, "true_share": 0.75, "balance": 1 / 3}
    stats, _ = column([1, 0, 0, 0], role="boolean", typ=pa.int64())
    assert (stats["boolean"]["true"], stats["boolean"]["false"]) == (1, 3)
    stats, _ = column(["yes", "no", "Yes", "no"], role="boolean")
    assert (stats["boolean"]["true"], stats["boolean"]["false"]) == (2, 2)


def test_datetime_range_gaps_and_periods_match_pandas() -> None:
    rng = np.random.default_rng(3)
    base = pd.Timestamp("2023-01-01")
    times = base + pd.to_timedelta(np.sort(rng.integers(0, 86400 * 200, 3000)), unit="s")
    times = times.delete(range(1000, 1100))  # a gap
    arr = pa.chunked_array([pa.array(times.to_numpy(), type=pa.timestamp("s"))])
    stats, _ = profile_column("t", arr, "datetime", SETTINGS)
    dt = stats["datetime"]
    assert dt["min"] == times.min().isoformat() and dt["max"] == times.max().isoformat()
    gaps = pd.Series(times.unique()).diff().dt.total_seconds()
    assert dt["largest_gap_seconds"] == gaps.max()
    assert sum(dt["period"]["counts"]) == len(times)
    assert dt["period"]["unit"] == "week"
    assert (
        dt["weekday"]
        == pd.Series(times.day_of_week)
        .value_counts()
        .sort_index()
        .reindex(range(7), fill_value=0)
        .tolist()
    )
    assert (
        dt["hour"]
        == pd.Series(times.hour)
        .value_counts()
        .sort_index()
        .reindex(range(24), fill_value=0)
        .tolist()
    )
    dates = pa.chunked_array(
        [pa.array([pd.Timestamp("2020-01-31").date(), pd.Timestamp("2020-03-01").date(), None])]
    )
    stats, _ = profile_column("d", dates, "datetime", SETTINGS)
    assert stats["datetime"]["period"]["unit"] == "day"
    assert stats["missing"] == 1 and stats["datetime"]["has_time"] is False


# -- associations -----------------------------------------------------------------------------


def _columns(frame: pd.DataFrame, roles: dict[str, str]) -> tuple[list[ColumnData], dict]:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    stats, data = {}, []
    for name in table.column_names:
        s, d = profile_column(name, table.column(name), roles[name], SETTINGS)
        stats[name] = s
        data.append(d)
    return data, stats


def test_pearson_and_spearman_match_pandas_and_scipy_with_ties_and_missing() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    a = rng.normal(size=n)
    b = np.round(a * 0.5 + rng.normal(size=n), 1)  # ties
    c = rng.integers(0, 5, n).astype(float)  # many ties
    b[rng.random(n) < 0.1] = np.nan
    c[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame({"a": a, "b": b, "c": c})
    data, stats = _columns(frame, dict.fromkeys("abc", "numeric"))
    result = associations.compute(data, stats, np.arange(n), n, SETTINGS)
    assert result["numeric"] == ["a", "b", "c"]
    np.testing.assert_allclose(result["pearson"], frame.corr().to_numpy(), atol=1e-6)
    for i, x in enumerate("abc"):
        for j, y in enumerate("abc"):
            if i == j:
                continue
            rho = sps.spearmanr(frame[x], frame[y], nan_policy="omit").statistic
            assert result["spearman"][i][j] == pytest.approx(rho, abs=1e-6)
    assert result["spearman"][0][1] == pytest.approx(frame.corr("spearman").loc["a", "b"], abs=1e-6)
    assert associations.spearman(a, b) == pytest.approx(
        sps.spearmanr(a, b, nan_policy="omit").statistic, abs=1e-12
    )


def test_cramers_v_matches_a_hand_worked_table() -> None:
    # 2 × 2 table [[30, 10], [10, 50]]: n = 100, row and column sums 40 and 60, so the
    # expected counts are 16, 24, 24, 36 and chi² = 14²/16 + 14²/24 + 14²/24 + 14²/36.
    chi2 = 196 / 16 + 196 / 24 + 196 / 24 + 196 / 36  # 34.02778
    phi2 = chi2 / 100
    phi2corr = phi2 - 1 * 1 / 99  # (k-1)(r-1)/(n-1)
    kcorr = 2 - 1 / 99  # k - (k-1)²/(n-1), the same for rows
    expected = math.sqrt(phi2corr / (kcorr - 1))
    assert expected == pytest.approx(0.577534, abs=1e-6)
    table = np.array([[30, 10], [10, 50]])
    assert associations.cramers_v_table(table) == pytest.approx(expected, rel=1e-12)
    a = np.repeat([0, 0, 1, 1], [30, 10, 10, 50]).astype(np.int32)
    b = np.repeat([0, 1, 0, 1], [30, 10, 10, 50]).astype(np.int32)
    assert associations.cramers_v(a, b, 2, 2) == pytest.approx(expected, rel=1e-12)
    # 2 × 3: [[20, 10, 10], [5, 15, 40]] by hand: rows 40/60, columns 25/25/50, n = 100
    obs = np.array([[20, 10, 10], [5, 15, 40]], dtype=float)
    exp = np.array([[10, 10, 20], [15, 15, 30]], dtype=float)
    chi2 = ((obs - exp) ** 2 / exp).sum()  # 10 + 0 + 5 + 6.667 + 0 + 3.333 = 25
    assert chi2 == pytest.approx(25.0)
    phi2corr = 0.25 - 2 * 1 / 99
    rcorr, kcorr = 2 - 1 / 99, 3 - 4 / 99
    assert associations.cramers_v_table(obs.astype(int)) == pytest.approx(
        math.sqrt(phi2corr / min(rcorr - 1, kcorr - 1)), rel=1e-12
    )
    # no association at all: the bias correction brings V to 0
    assert associations.cramers_v_table(np.array([[25, 25], [25, 25]])) == 0.0


def test_correlation_ratio_and_categorical_associations_through_compute() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    group = rng.choice(["a", "b", "c"], n)
    x = np.where(group == "a", 0.0, np.where(group == "b", 1.0, 5.0)) + rng.normal(size=n)
    same = np.where(group == "a", "x", np.where(group == "b", "y", "z"))
    frame = pd.DataFrame({"x": x, "g": group, "h": same})
    data, stats = _columns(frame, {"x": "numeric", "g": "categorical", "h": "categorical"})
    result = associations.compute(data, stats, np.arange(n), n, SETTINGS)
    means = frame.groupby("g")["x"].transform("mean")
    eta = math.sqrt(((means - x.mean()) ** 2).sum() / ((x - x.mean()) ** 2).sum())
    assert result["correlation_ratio"][0][0] == pytest.approx(eta, abs=1e-6)  # 6 decimals
    assert result["cramers_v"][0][1] == pytest.approx(1.0)
    assert result["pairs"][0]["value"] == pytest.approx(1.0)


# -- missing values and duplicates ------------------------------------------------------------


def test_missing_cooccurrence_and_nullity_correlation_match_pandas() -> None:
    rng = np.random.default_rng(6)
    n = 5000
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(["p", "q"], n),
            "d": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.2, "a"] = np.nan
    frame.loc[frame["a"].isna() & (rng.random(n) < 0.5), "b"] = np.nan
    frame.loc[rng.random(n) < 0.1, "c"] = None
    data, _ = _columns(frame, {"a": "numeric", "b": "numeric", "c": "categorical", "d": "numeric"})
    result = missing.missing_values(data, n, SETTINGS)
    co = result["cooccurrence"]
    assert co["columns"] == ["a", "b", "c"]
    na = frame[["a", "b", "c"]].isna().astype(int)
    assert co["counts"] == (na.T @ na).to_numpy().tolist()
    np.testing.assert_allclose(co["correlation"], na.corr().to_numpy(), atol=1e-6)
    assert result["rows_with_missing"] == int(na.any(axis=1).sum())
    rows = result["matrix"]["rows"]
    assert rows == sorted(rows) and len(rows) == SETTINGS.missing_matrix_rows
    expected = np.flatnonzero(frame["a"].isna().to_numpy()[rows]).tolist()
    assert result["matrix"]["missing"]["a"] == expected


def test_duplicate_rows_are_counted_exactly_with_examples() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 4, n),
            "b": rng.choice(["x", "y"], n),
            "c": rng.choice([1.5, np.nan], n),
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    data, stats = _columns(frame, {"a": "numeric", "b": "categorical", "c": "numeric"})
    result = missing.duplicate_rows(table, data, stats, examples=3)
    assert result["count"] == int(frame.duplicated().sum())
    assert len(result["examples"]) == 3
    sizes = frame.groupby(["a", "b", "c"], dropna=False).size().sort_values(ascending=False)
    assert [e["count"] for e in result["examples"]] == sizes.iloc[:3].tolist()
    unique = pd.DataFrame({"id": range(100), "v": [1] * 100})
    data, stats = _columns(unique, {"id": "identifier", "v": "numeric"})
    out = missing.duplicate_rows(pa.Table.from_pandas(unique), data, stats, examples=3)
    assert out["count"] == 0 and "every value of 'id' differs" in out["method"]


# -- target -----------------------------------------------------------------------------------


def test_mutual_information_ranks_the_informative_feature_first() -> None:
    rng = np.random.default_rng(8)
    n = 6000
    y = rng.integers(0, 3, n)
    strong = y + rng.normal(scale=0.3, size=n)
    weak = y + rng.normal(scale=3.0, size=n)
    frame = pd.DataFrame(
        {"y": y.astype(str), "strong": strong, "weak": weak, "noise": rng.normal(size=n)}
    )
    data, stats = _columns(
        frame, {"y": "categorical", "strong": "numeric", "weak": "numeric", "noise": "numeric"}
    )
    task = target.check_target("y", stats["y"], data[0], SETTINGS)
    out = target.analyse(data[0], stats["y"], task, data, stats, np.arange(n), SETTINGS)
    names = [f["name"] for f in out["features"]]
    assert names == ["strong", "weak", "noise"]
    noise = out["features"][2]
    assert noise["mutual_information"] == pytest.approx(0.0, abs=0.005)
    assert [c["count"] for c in out["classes"]] == sorted(np.bincount(y).tolist(), reverse=True)


def test_document_is_strict_json_and_says_what_was_sampled() -> None:
    import json

    rng = np.random.default_rng(9)
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n), "y": rng.choice(["a", "b"], n)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    doc = compute_profile(
        table,
        roles={"x": "numeric", "y": "categorical"},
        settings=ProfileSettings(sample_rows=1000),
    )
    json.dumps(doc, allow_nan=False)
    parts = {s["part"]: (s["rows"], s["of"]) for s in doc["samples"]}
    assert parts["associations"] == (1000, 3000)
    assert doc["associations"]["sampled"] is True
    assert doc["columns"][0]["count"] == n  # exact statistics are never sampled
    assert len(sample_indices(10, 100, 0)) == 10


def test_quantile_bins_laid_out_along_the_sort_equal_the_searched_ones() -> None:
    rng = np.random.default_rng(10)
    x = np.round(rng.normal(size=5000), 1)  # many ties
    x[rng.random(5000) < 0.1] = np.nan
    order = np.argsort(x)
    valid = ~np.isnan(x)
    in_sample = order[valid[order]]
    searched = target._binnings(x, 20, 100)
    laid_out = target._binnings(x, 20, 100, ordered=x[in_sample], positions=in_sample)
    for (a, ka), (b, kb) in zip(searched, laid_out, strict=True):
        assert ka == kb
        np.testing.assert_array_equal(a, b)
