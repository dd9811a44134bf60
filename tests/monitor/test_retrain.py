"""Retraining: same recipe on new data; --promote-if-better promotes or keeps out, audited."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from app.core.errors import InvalidInput
from app.core.monitoring.retrain import Retrainer

from .conftest import world


def retrainer(services) -> Retrainer:
    return Retrainer(services.registry, services.training, services.datasets, services.monitoring)


def test_a_better_challenger_is_promoted_and_a_worse_one_kept_out(services, model):
    # the world changed: the label now follows x2, which the champion learnt to ignore
    new = world(900, 11)
    rng = np.random.default_rng(11)
    x2 = new.column("x2").to_numpy()
    label = np.where(x2 + rng.normal(0, 0.3, 900) > 0, "yes", "no")
    new = new.set_column(new.schema.get_field_index("label"), "label", pa.array(label))
    services.datasets.add_table(new, name="fresh", source_kind="test")
    result = retrainer(services).retrain(model, "fresh@1", promote_if_better=True)
    assert result.challenger == "churn@2" and result.decision == "promoted" and result.promoted
    cmp = result.comparison
    assert cmp.metric == "roc_auc" and cmp.challenger > cmp.champion + 0.2
    v2 = services.registry.resolve("churn@champion")
    assert v2.version == 2 and v2.tags["retrained_from"] == "churn@1"
    # same recipe: estimator, parameters, validation and seed of the champion's run
    plan1 = services.training.plan_of(services.registry.resolve("churn@1").run_id)
    plan2 = services.training.plan_of(v2.run_id)
    for field in ("estimator", "params", "validation", "folds", "seed", "target", "test_size"):
        assert getattr(plan2.request, field) == getattr(plan1.request, field)
    assert plan2.request.dataset == "fresh@1"

    # now a challenger trained on noise: worse than the new champion on the same rows
    noise = world(600, 12)
    shuffled = np.random.default_rng(0).permutation(noise.column("label").to_numpy())
    noise = noise.set_column(noise.schema.get_field_index("label"), "label", pa.array(shuffled))
    services.datasets.add_table(noise, name="noise", source_kind="test")
    worse = retrainer(services).retrain("churn@champion", "noise@1", promote_if_better=True)
    assert worse.decision == "kept out" and not worse.promoted
    assert services.registry.resolve("churn@champion").version == 2
    assert services.registry.resolve("churn@challenger").version == 3

    actions = [(e.action, e.subject) for e in services.registry.audit_log("churn")]
    assert ("retrain.promoted", "churn@2") in actions
    assert ("retrain.kept_out", "churn@3") in actions
    [moved] = [
        e
        for e in services.registry.audit_log("churn", action="alias.set")
        if e.details.get("alias") == "champion" and e.subject == "churn@2"
    ]
    # no force: the policy decided on the two scores measured on the same rows
    assert not moved.details["forced"] and moved.details["policy"]["allowed"]
    assert moved.details["evidence"] == {
        "metric": "roc_auc",
        "data": "fresh@1",
        "scores": {"1": pytest.approx(cmp.champion), "2": pytest.approx(cmp.challenger)},
    }


def test_retraining_needs_the_target(services, model):
    services.datasets.add_table(world(200, 3, label=False), name="unlabelled", source_kind="t")
    with pytest.raises(InvalidInput, match="no column 'label'"):
        retrainer(services).retrain(model, "unlabelled")
