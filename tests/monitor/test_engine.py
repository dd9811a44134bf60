"""The drift engine on plain tables: statistics against scipy and by hand, decisions, export."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats as sps

from app.core.errors import InvalidInput
from app.core.monitoring import DriftReport, DriftSettings, compute_drift, stats
from app.core.monitoring.html import render_html


def frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    """Five numeric features (the first moved by ``shift`` standard deviations) and two
    categorical ones."""
    return pd.DataFrame(
        {
            "age": rng.normal(40 + 12 * shift, 12, n),
            "income": rng.lognormal(10, 0.5, n),
            "score": rng.uniform(0, 1, n),
            "visits": rng.poisson(3, n).astype(float),
            "tenure": rng.exponential(5, n),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "plan": rng.choice(["basic", "pro"], n, p=[0.7, 0.3]),
        }
    )


# -- statistics ------------------------------------------------------------------------------


def test_psi_equals_the_hand_computed_value_on_a_small_table():
    ref = np.arange(1.0, 11.0)  # 1..10: the median edge is 6 → 5 | 5 rows
    cur = np.array([1.0, 2, 3, 7, 8, 9, 10, 11, 12, 13])  # 3 below 6, 7 from 6 up
    by_hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + (0.7 - 0.5) * math.log(0.7 / 0.5)
    assert by_hand == pytest.approx(0.169459, abs=1e-6)
    assert stats.numeric_psi(np.sort(ref), np.sort(cur), bins=2) == pytest.approx(
        by_hand, rel=1e-12
    )
    report = compute_drift(
        pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), settings=DriftSettings(psi_bins=2)
    )
    assert report.features[0].stats["psi"] == pytest.approx(by_hand, rel=1e-12)


def test_categorical_psi_equals_the_hand_computed_value():
    ref = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    cur = pd.DataFrame({"c": ["a"] * 30 + ["b"] * 30 + ["c"] * 40})
    by_hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.4 - 0.2) * math.log(0.4 / 0.2)
    f = compute_drift(ref, cur).features[0]
    assert f.stats["psi"] == pytest.approx(by_hand, rel=1e-12)
    chi2, p, _, _ = sps.chi2_contingency([[50, 30, 20], [30, 30, 40]], correction=False)
    assert f.stats["chi2"] == pytest.approx(chi2) and f.stats["chi2_p_value"] == pytest.approx(p)
    assert f.method == "chi2" and f.drift_detected  # p ≈ 0.006 on 100 rows


@pytest.mark.parametrize(("n", "m"), [(300, 500), (20_000, 30_000)])
@pytest.mark.parametrize("ties", [False, True])
def test_ks_and_wasserstein_equal_scipy(n, m, ties):
    rng = np.random.default_rng(n + ties)
    a, b = rng.normal(0, 1, n), rng.normal(0.05, 1.1, m)
    if ties:  # integer-valued data: many equal values across both samples
        a, b = np.round(a * 3), np.round(b * 3)
    ks, w = stats.ks_and_wasserstein(np.sort(a), np.sort(b))
    expected = sps.ks_2samp(a, b)
    assert ks.statistic == pytest.approx(expected.statistic, rel=1e-12, abs=1e-15)
    assert ks.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert w == pytest.approx(sps.wasserstein_distance(a, b), rel=1e-9)


def test_ks_p_value_matches_scipy_in_the_report():
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(0, 1, 800), rng.normal(0.2, 1, 600)
    f = compute_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur})).features[0]
    expected = sps.ks_2samp(ref, cur)
    assert f.method == "ks"  # small sample: the test decides
    assert f.value == pytest.approx(expected.pvalue) and f.stats["ks_statistic"] == pytest.approx(
        expected.statistic
    )


# -- decisions ---------------------------------------------------------------------------------


def test_a_feature_shifted_by_one_standard_deviation_is_flagged():
    rng = np.random.default_rng(0)
    report = compute_drift(frame(rng, 5000), frame(rng, 5000, shift=1.0))
    age = report.feature("age")
    assert age.status == "alert" and age.drift_detected
    assert age.method == "wasserstein" and age.value == pytest.approx(1.0, abs=0.1)
    assert age.stats["psi"] > 0.25
    assert [f.name for f in report.features if f.status != "ok"] == ["age"]
    assert report.n_drifted == 1 and not report.dataset_drift
    assert report.status == "warning"  # one feature of seven: below the dataset share


def test_a_shift_is_also_flagged_on_a_small_sample_by_the_ks_test():
    rng = np.random.default_rng(3)
    report = compute_drift(frame(rng, 400), frame(rng, 300, shift=1.0))
    age = report.feature("age")
    assert age.method == "ks" and age.value < 1e-6 and age.status == "alert"


def test_twenty_seeds_of_unshifted_data_give_at_most_one_false_alert():
    alerts = 0
    checked = 0
    for seed in range(20):
        rng = np.random.default_rng(1000 + seed)
        report = compute_drift(frame(rng, 5000), frame(rng, 5000))
        alerts += sum(f.status == "alert" for f in report.features)
        checked += len(report.features)
    assert checked == 140
    assert alerts <= 1


def test_most_features_drifting_makes_the_dataset_drift_and_the_status_an_alert():
    rng = np.random.default_rng(5)
    ref = frame(rng, 3000)
    cur = frame(rng, 3000)
    for col in ("income", "score", "visits", "tenure"):
        cur[col] = cur[col] * 1.8 + cur[col].std()
    report = compute_drift(ref, cur)
    assert report.n_drifted == 4 and report.drift_share == pytest.approx(4 / 7)
    assert report.dataset_drift and report.status == "alert"


WEIGHTS = {"age": 0.4, "income": 0.3, "score": 0.2, "visits": 0.06, "tenure": 0.04}


def test_one_drifted_feature_that_matters_is_an_alert_by_the_importance_rule():
    rng = np.random.default_rng(0)
    report = compute_drift(frame(rng, 5000), frame(rng, 5000, shift=1.0), importance=WEIGHTS)
    assert report.status == "alert" and report.rules == ("importance",)
    assert not report.dataset_drift and report.n_drifted == 1
    assert "importance rule" in report.verdict and "'age' (40%)" in report.verdict
    assert report.feature("age").importance == 0.4
    assert report.feature("city").importance == 0.0  # not in the weights: no weight
    assert report.importance["threshold"] == 0.05 and not report.notes
    # the same drift on a feature the model hardly uses (4%) is a warning that says why
    rng = np.random.default_rng(0)
    ref, cur = frame(rng, 5000), frame(rng, 5000)
    cur["tenure"] = cur["tenure"] + cur["tenure"].std() * 1.5
    quiet = compute_drift(ref, cur, importance=WEIGHTS)
    assert quiet.feature("tenure").status == "alert"
    assert quiet.status == "warning" and quiet.rules == () and "5%" in quiet.verdict
    # the bar is a setting
    strict = compute_drift(
        ref, cur, importance=WEIGHTS, settings=DriftSettings(importance_share=0.03)
    )
    assert strict.status == "alert" and strict.rules == ("importance",)


def test_without_importance_the_share_rule_decides_and_the_report_says_so():
    rng = np.random.default_rng(0)
    report = compute_drift(frame(rng, 5000), frame(rng, 5000, shift=1.0))
    assert report.status == "warning" and report.importance is None
    assert any("only the share rule" in n for n in report.notes)
    assert report.feature("age").importance is None
    rng = np.random.default_rng(5)
    ref, cur = frame(rng, 3000), frame(rng, 3000)
    for col in ("income", "score", "visits", "tenure"):
        cur[col] = cur[col] * 1.8 + cur[col].std()
    both = compute_drift(ref, cur, importance=WEIGHTS)  # the share rule stays a trigger
    assert both.rules == ("importance", "share") and "share rule" in both.verdict
    back = DriftReport.from_dict(json.loads(json.dumps(both.to_dict())))
    assert back == both
    with pytest.raises(InvalidInput, match="importance_share"):
        DriftSettings(importance_share=1.5)


def test_missing_values_and_unseen_categories_are_reported():
    rng = np.random.default_rng(9)
    ref, cur = frame(rng, 3000), frame(rng, 3000)
    cur.loc[: int(0.3 * len(cur)), "score"] = np.nan
    cur.loc[:200, "city"] = "marseille"
    report = compute_drift(ref, cur)
    score = report.feature("score")
    assert score.missing["change"] == pytest.approx(0.3, abs=0.01)
    assert score.status == "alert" and any("missing" in r for r in score.reasons)
    city = report.feature("city")
    assert city.stats["unseen"] == {"marseille": 201}
    assert city.stats["unseen_share"] == pytest.approx(201 / 3000)
    assert city.status != "ok"


def test_thresholds_are_settings():
    rng = np.random.default_rng(2)
    ref, cur = frame(rng, 3000), frame(rng, 3000, shift=0.3)
    assert compute_drift(ref, cur).feature("age").status == "alert"
    lenient = DriftSettings(distance=0.5, psi_warning=0.5, psi_alert=0.9)
    assert compute_drift(ref, cur, settings=lenient).feature("age").status == "ok"
    with pytest.raises(InvalidInput, match="psi_alert"):
        DriftSettings(psi_warning=0.3, psi_alert=0.2)
    with pytest.raises(InvalidInput, match="Unknown drift setting"):
        DriftSettings.from_dict({"pvalue": 0.01})


def test_prediction_drift_is_reported_apart_from_the_features():
    rng = np.random.default_rng(4)
    ref, cur = frame(rng, 2000), frame(rng, 2000)
    ref["pred"] = rng.choice(["yes", "no"], 2000, p=[0.2, 0.8])
    cur["pred"] = rng.choice(["yes", "no"], 2000, p=[0.6, 0.4])
    report = compute_drift(ref, cur, prediction="pred")
    assert "pred" not in [f.name for f in report.features]
    assert report.prediction is not None and report.prediction.kind == "categorical"
    assert report.prediction.status == "alert" and report.status == "alert"


# -- bad input -------------------------------------------------------------------------------


def test_bad_current_data_is_refused_with_the_column_named():
    rng = np.random.default_rng(1)
    ref = frame(rng, 100)
    with pytest.raises(InvalidInput, match="'tenure' is missing from the batch"):
        compute_drift(ref, ref.drop(columns=["tenure"]), current_label="the batch")
    bad = ref.copy()
    bad["age"] = ["forty"] * len(bad)
    with pytest.raises(InvalidInput, match="'age' of the batch holds values that are not numbers"):
        compute_drift(ref, bad, current_label="the batch", columns={"age": "numeric"})
    with pytest.raises(InvalidInput, match="has no rows"):
        compute_drift(ref, ref.iloc[:0], current_label="the batch")


# -- export ----------------------------------------------------------------------------------


def test_report_round_trips_through_json_and_renders_self_contained_html():
    rng = np.random.default_rng(0)
    report = compute_drift(pa.Table.from_pandas(frame(rng, 2000)), frame(rng, 1500, shift=1.0))
    text = json.dumps(report.to_dict())
    again = DriftReport.from_dict(json.loads(text))
    assert again == report
    html = render_html(report, trend=[report.summary() | {"created_at": report.created_at}] * 2)
    assert html.startswith("<!doctype html>") and html.count("<svg") >= 8
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "age" in html and "alert" in html


def test_a_numeric_column_with_few_values_is_compared_as_categories():
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"grade": rng.choice([1.0, 2.0, 3.0], 4000, p=[0.5, 0.3, 0.2])})
    cur = pd.DataFrame({"grade": rng.choice([1.0, 2.0, 3.0], 4000, p=[0.2, 0.3, 0.5])})
    f = compute_drift(ref, cur).features[0]
    assert f.method == "jensenshannon" and f.status == "alert"
    assert sorted(f.histogram["categories"]) == ["1", "2", "3"]
