"""Register, resolve, load (hash checked), aliases under the promotion policy, archive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.core.errors import Conflict, InvalidInput, NotFound, PolicyRefused, TamperedArtifact

from .conftest import train

pytestmark = pytest.mark.both_stores

ROWS = pd.DataFrame({"x1": [2.0, -2.0], "x2": [1.0, -1.0], "x3": [0.0, 0.0]})


def test_register_copies_what_serving_and_auditors_need(services, good_and_bad_runs) -> None:
    good, _ = good_and_bad_runs
    v = services.registry.register(good.id, "churn", description="first", tags={"team": "a"})
    assert (v.model_name, v.version, v.run_id, v.status) == ("churn", 1, good.id, "active")
    assert v.artifact_sha256 == good.artifact("model.skops").sha256
    assert [c["name"] for c in v.signature["columns"]] == ["x1", "x2", "x3"]
    assert v.signature["columns"][0]["min"] < v.signature["columns"][0]["max"]
    assert len(v.input_example) == 5 and set(v.input_example[0]) == {"x1", "x2", "x3"}
    assert v.output == {"task": "binary", "classes": ["no", "yes"]}
    assert v.metrics["accuracy"] == pytest.approx(good.metrics["accuracy"])
    assert "accuracy_std" in v.metrics and not any(k.startswith("cv.") for k in v.metrics)
    assert v.packages["scikit-learn"] and v.python_version.count(".") == 2
    assert v.dataset_version_id == good.dataset_version_id and v.recipe is None
    assert v.tags == {"team": "a"} and v.aliases == []
    meta = v.bundle_meta()
    assert meta["artifact_sha256"] == v.artifact_sha256 and meta["name"] == "churn"

    log = services.registry.audit_log("churn")
    assert [e.action for e in log] == ["model.create", "version.register"]
    assert log[1].subject == "churn@1" and log[1].details["run_id"] == good.id
    assert log[1].actor


def test_versions_are_numbered_per_model_and_refs_resolve(services, good_and_bad_runs) -> None:
    good, bad = good_and_bad_runs
    reg = services.registry
    reg.register(good.id, "churn")
    reg.register(bad.id, "churn")
    reg.register(bad.id, "other")
    assert reg.resolve("churn").version == 2  # latest active
    assert reg.resolve("churn@1").run_id == good.id
    assert reg.resolve("other").version == 1
    reg.set_alias("churn", "challenger", 2)
    assert reg.resolve("churn@challenger").version == 2
    assert reg.resolve("churn@2").aliases == ["challenger"]
    with pytest.raises(NotFound, match="no version 7") as exc:
        reg.resolve("churn@7")
    assert "1 to 2" in str(exc.value)
    with pytest.raises(NotFound, match="no alias 'champion'"):
        reg.resolve("churn@champion")
    with pytest.raises(NotFound, match="No registered model named 'nope'"):
        reg.resolve("nope")
    with pytest.raises(InvalidInput):
        reg.register(good.id, "bad@name")


def test_load_model_by_alias_predicts_and_bytes_match(services, good_and_bad_runs) -> None:
    import hashlib

    good, _ = good_and_bad_runs
    reg = services.registry
    reg.register(good.id, "churn")
    reg.set_alias("churn", "champion", 1)
    model = reg.load_model("churn@champion")
    assert list(model.predict(ROWS)) == ["yes", "no"]
    data, version = reg.model_bytes("churn@champion")
    assert hashlib.sha256(data).hexdigest() == version.artifact_sha256

    from app.core.registry import load_model

    again = load_model("churn@1", store=services.store.url)
    assert list(again.predict(ROWS)) == ["yes", "no"]


def test_one_flipped_byte_is_refused_and_logged(services, good_and_bad_runs) -> None:
    good, _ = good_and_bad_runs
    reg = services.registry
    v = reg.register(good.id, "churn")
    path = services.artifacts.path_for(v.artifact_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(TamperedArtifact, match="was changed after it was stored"):
        reg.load_model("churn@1")
    with pytest.raises(TamperedArtifact):
        reg.model_bytes("churn")
    refused = reg.audit_log("churn@1", action="artifact.load_refused")
    assert len(refused) == 2
    assert refused[0].details["expected_sha256"] == v.artifact_sha256
    assert refused[0].details["actual_sha256"] != v.artifact_sha256


def test_worse_challenger_is_refused_then_forced_with_reason(services, good_and_bad_runs) -> None:
    good, bad = good_and_bad_runs
    reg = services.registry
    reg.register(good.id, "churn")
    reg.register(bad.id, "churn")
    reg.set_alias("churn", "champion", 1)  # first champion: nothing to beat
    assert bad.metrics["roc_auc"] < good.metrics["roc_auc"]

    with pytest.raises(PolicyRefused) as exc:
        reg.set_alias("churn", "champion", 2)
    assert exc.value.exit_code == 3
    assert "scores roc_auc" in exc.value.message and "worse" in exc.value.message
    assert reg.resolve("churn@champion").version == 1  # unchanged

    with pytest.raises(InvalidInput, match="written reason"):
        reg.set_alias("churn", "champion", 2, force=True)
    moved = reg.set_alias("churn", "champion", 2, force=True, reason="Baseline for the A/B test")
    assert moved.version == 2 and moved.aliases == ["champion"]

    actions = [(e.action, e.subject) for e in reg.audit_log("churn")]
    assert ("alias.refused", "churn@2") in actions
    forced = reg.audit_log("churn@2", action="alias.set")[-1]
    assert forced.details["forced"] is True
    assert forced.details["reason"] == "Baseline for the A/B test"
    assert forced.details["previous"] == 1
    assert forced.details["policy"]["allowed"] is False


def test_better_challenger_passes_and_policy_is_per_model(services, good_and_bad_runs) -> None:
    good, bad = good_and_bad_runs
    reg = services.registry
    reg.register(bad.id, "churn")
    reg.register(good.id, "churn")
    reg.set_alias("churn", "champion", 1)
    assert reg.check_promotion("churn", 2).allowed
    reg.set_policy("churn", required_tags=["reviewed"], min_gain=0.01)
    check = reg.check_promotion("churn", 2)
    assert not check.allowed and "required tag 'reviewed'" in check.reasons[0]
    reg.update_version("churn@2", tags={"reviewed": "yes"})
    assert reg.set_alias("churn", "champion", 2).version == 2
    assert reg.policy_of("churn")["min_gain"] == 0.01
    assert reg.policy_of("churn")["metric"] == "roc_auc"

    reg.set_policy("churn", min_gain=5.0)
    reg.set_alias("churn", "champion", 1, force=True, reason="rollback")
    with pytest.raises(PolicyRefused, match="at least 5"):
        reg.set_alias("churn", "champion", 2)
    with pytest.raises(InvalidInput, match="not a metric"):
        reg.set_policy("churn", metric="speed")


def test_scores_on_other_data_are_not_comparable(services, numeric) -> None:
    from .conftest import numeric_table

    services.datasets.add_table(numeric_table(seed=5), name="numeric", source_kind="test")
    first = train(services, numeric)
    second = train(services, "numeric@2", n_estimators=40)
    reg = services.registry
    reg.register(first.id, "m")
    reg.register(second.id, "m")
    reg.set_alias("m", "champion", 1)
    check = reg.check_promotion("m", 2)
    assert any("other data" in r for r in check.reasons)
    reg.set_policy("m", same_data=False, min_gain=0.0)
    check = reg.check_promotion("m", 2)
    assert not any("other data" in r for r in check.reasons)


def test_list_search_archive_restore(services, good_and_bad_runs) -> None:
    good, bad = good_and_bad_runs
    reg = services.registry
    reg.register(good.id, "churn")
    reg.register(bad.id, "churn")
    reg.register(bad.id, "fraud")
    reg.update_model("fraud", description="Card payments")
    reg.set_alias("churn", "champion", 1)
    assert [m.name for m in reg.list_models()] == ["churn", "fraud"]
    assert [m.name for m in reg.list_models("PAYM")] == ["fraud"]
    churn = reg.list_models("chu")[0]
    assert (churn.versions, churn.latest_version, churn.aliases) == (2, 2, {"champion": 1})
    assert [v.version for v in reg.list_versions("churn")] == [2, 1]

    with pytest.raises(Conflict, match="champion"):
        reg.archive("churn@1")
    assert reg.archive("churn@2").status == "archived"
    assert reg.resolve("churn").version == 1  # latest *active*
    assert [v.version for v in reg.list_versions("churn", include_archived=False)] == [1]
    with pytest.raises(Conflict, match="archived"):
        reg.set_alias("churn", "challenger", 2)
    assert reg.restore("churn@2").status == "active"
    actions = [e.action for e in reg.audit_log("churn@2")]
    assert actions[-2:] == ["version.archive", "version.restore"]


def test_unfinished_or_modelless_run_cannot_be_registered(services) -> None:
    run_id = services.tracking.create_run(name="logged")
    with pytest.raises(InvalidInput, match="running"):
        services.registry.register(run_id, "x")
    services.tracking.finish(run_id)
    with pytest.raises(NotFound, match="no saved model"):
        services.registry.register(run_id, "x")
    assert services.registry.list_models() == []


def test_recipe_is_read_from_the_run_in_each_recorded_form(services, numeric) -> None:
    from dataclasses import replace

    from app.core.registry.service import recipe_of

    run = train(services, numeric)
    assert recipe_of(run) is None
    assert recipe_of(replace(run, params={"recipe": "clean@2"})) == {"name": "clean", "version": 2}
    as_dict = {**run.recipe, "recipe": {"name": "clean", "version": 3}}
    assert recipe_of(replace(run, recipe=as_dict)) == {"name": "clean", "version": 3}
    plan = {**run.recipe["plan"], "request": {**run.recipe["plan"]["request"], "recipe": "c@1"}}
    assert recipe_of(replace(run, recipe={**run.recipe, "plan": plan})) == {
        "name": "c",
        "version": 1,
    }
    assert services.registry.register(run.id, "withrecipe").recipe is None
    assert np.isfinite(services.registry.resolve("withrecipe").metrics["accuracy"])
