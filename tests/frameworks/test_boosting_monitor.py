"""A boosted model is monitored and retrained like any other: drift of its inputs and its
predictions against the training data, its metrics on a labelled batch, a challenger
trained with the same recipe on new data."""

from __future__ import annotations

import pyarrow as pa

from tests.frameworks.conftest import frame


def test_drift_and_retrain_of_a_lightgbm_model(fw) -> None:
    from app.core.monitoring.retrain import Retrainer

    services, models = fw
    _, version = models[("lightgbm", "diabetes")]
    shifted = frame("diabetes")
    shifted["bmi"] = shifted["bmi"] + 3 * shifted["bmi"].std()
    services.datasets.add_table(
        pa.Table.from_pandas(shifted, preserve_index=False), name="diabetes-shifted",
        source_kind="test",
    )  # fmt: skip
    [report] = services.monitoring.check(version.ref, dataset="diabetes-shifted@1")
    assert report.feature("bmi").drift_detected and not report.feature("age").drift_detected
    assert report.prediction is not None and report.prediction.drift_detected  # its answers moved
    assert report.metrics  # the batch has the target: the model was scored on it

    retrainer = Retrainer(
        services.registry, services.training, services.datasets, services.monitoring
    )
    result = retrainer.retrain(version.ref, "diabetes-shifted@1")
    challenger = services.registry.resolve(result.challenger)
    plan = services.training.plan_of(challenger.run_id)
    assert plan.request.estimator == "lightgbm" and plan.request.dataset == "diabetes-shifted@1"
    assert result.comparison.challenger > result.comparison.champion  # it learnt the new bmi
    assert type(services.registry.load_model(challenger.ref)[-1]).__name__ == "LightGBMRegressor"
