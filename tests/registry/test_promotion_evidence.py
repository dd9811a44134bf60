"""Promotion on fair evidence: champion and challenger scored on the same held-out rows.

The retraining flow trains a challenger on a newer dataset version, so the registered
cross-validation scores describe different data and the policy refuses them; scores of both
versions on one new batch are comparable, and the policy decides on those without force.
"""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput, PolicyRefused

from .conftest import numeric_table, train

pytestmark = pytest.mark.both_stores


@pytest.fixture
def retrained(services, numeric):
    """Champion: a dummy on numeric@1. Challenger: a forest on numeric@2 (other data)."""
    services.datasets.add_table(numeric_table(seed=5), name="numeric", source_kind="test")
    services.datasets.add_table(numeric_table(seed=9), name="numeric", source_kind="test")
    reg = services.registry
    reg.register(train(services, numeric, "dummy").id, "m")
    reg.register(train(services, "numeric@2", n_estimators=15).id, "m")
    reg.set_alias("m", "champion", 1)
    return reg


def held_out_scores(services, reg, data: str) -> dict[int, float]:
    """What the retraining flow does: score both versions on the same new rows."""
    from app.core.training.metrics import evaluate, predict_scores

    frame = services.datasets.load_table(data).to_pandas()
    y = frame.pop("label")
    out = {}
    for number in (1, 2):
        model = reg.load_model(f"m@{number}")
        scores = predict_scores(model, frame)
        out[number] = evaluate(
            "binary", y, model.predict(frame), scores, classes=list(model.classes_)
        )["roc_auc"]
    return out


def test_without_evidence_other_data_is_still_refused(retrained) -> None:
    with pytest.raises(PolicyRefused, match="other data"):
        retrained.set_alias("m", "champion", 2)
    assert retrained.resolve("m@champion").version == 1


def test_better_on_the_same_new_data_is_promoted_without_force(services, retrained) -> None:
    scores = held_out_scores(services, retrained, "numeric@3")
    assert scores[2] > scores[1]  # the forest beats the dummy on unseen rows
    evidence = {"metric": "roc_auc", "data": "numeric@3", "scores": scores}

    check = retrained.check_promotion("m", 2, evidence=evidence)
    assert check.allowed, check.reasons
    assert (check.candidate, check.incumbent) == (scores[2], scores[1])
    assert check.evidence["data"] == "numeric@3"

    moved = retrained.set_alias("m", "champion", 2, evidence=evidence)
    assert moved.version == 2 and moved.aliases == ["champion"]
    entry = retrained.audit_log("m@2", action="alias.set")[-1]
    assert entry.details["forced"] is False and entry.details["reason"] == ""
    assert entry.details["evidence"] == {
        "metric": "roc_auc",
        "data": "numeric@3",
        "scores": {"1": scores[1], "2": scores[2]},
    }
    assert entry.details["policy"]["allowed"] is True
    assert retrained.audit_verify().ok  # the evidence is inside the hash chain


def test_worse_on_evidence_is_refused_and_logged(retrained) -> None:
    evidence = {"metric": "roc_auc", "data": "numeric@3", "scores": {1: 0.81, 2: 0.74}}
    with pytest.raises(PolicyRefused, match=r"0\.7400 on numeric@3") as exc:
        retrained.set_alias("m", "champion", 2, evidence=evidence)
    assert exc.value.exit_code == 3 and "worse" in exc.value.message
    assert "other data" not in exc.value.message  # the evidence, not the CV scores, decided
    assert retrained.resolve("m@champion").version == 1
    refused = retrained.audit_log("m@2", action="alias.refused")[-1]
    assert refused.details["evidence"]["scores"] == {"1": 0.81, "2": 0.74}


def test_min_gain_and_direction_come_from_the_policy_and_metric(retrained) -> None:
    retrained.set_policy("m", metric="log_loss", min_gain=0.05)
    lower = {"metric": "log_loss", "data": "numeric@3", "scores": {1: 0.60, 2: 0.50}}
    assert retrained.check_promotion("m", 2, evidence=lower).allowed  # lower is better
    small = {"metric": "log_loss", "data": "numeric@3", "scores": {1: 0.60, 2: 0.58}}
    check = retrained.check_promotion("m", 2, evidence=small)
    assert not check.allowed and "at least 0.05" in check.reasons[0]
    higher = {"metric": "log_loss", "data": "numeric@3", "scores": {1: 0.50, 2: 0.60}}
    assert "lower is better" in retrained.check_promotion("m", 2, evidence=higher).reasons[0]


def test_evidence_on_two_different_data_is_not_comparable(retrained) -> None:
    evidence = {
        "metric": "roc_auc",
        "data": {1: "numeric@1", 2: "numeric@3"},
        "scores": {1: 0.6, 2: 0.9},
    }
    with pytest.raises(PolicyRefused, match="different data are not comparable") as exc:
        retrained.set_alias("m", "champion", 2, evidence=evidence)
    assert "numeric@1" in exc.value.message and "numeric@3" in exc.value.message
    assert retrained.resolve("m@champion").version == 1

    same = {**evidence, "data": {"1": "numeric@3", "2": "numeric@3"}}
    assert retrained.check_promotion("m", 2, evidence=same).allowed


def test_incomplete_or_off_policy_evidence_is_refused(retrained) -> None:
    no_champion = {"metric": "roc_auc", "data": "numeric@3", "scores": {2: 0.9}}
    check = retrained.check_promotion("m", 2, evidence=no_champion)
    assert not check.allowed and "no score for version 1" in check.reasons[0]
    other_metric = {"metric": "accuracy", "data": "numeric@3", "scores": {1: 0.5, 2: 0.9}}
    check = retrained.check_promotion("m", 2, evidence=other_metric)
    assert not check.allowed and "decides on roc_auc" in check.reasons[0]


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ({"metric": "roc_auc", "scores": {1: 0.5, 2: 0.6}}, "missing: data"),
        ({"metric": "speed", "data": "d@1", "scores": {1: 0.5}}, "not a metric"),
        ({"metric": "roc_auc", "data": "numeric", "scores": {1: 0.5}}, "dataset version"),
        ({"metric": "roc_auc", "data": "d@1", "scores": {"one": 0.5}}, "not a version number"),
        ({"metric": "roc_auc", "data": "d@1", "scores": {1: "high"}}, "no number"),
    ],
)
def test_malformed_evidence_names_the_problem(retrained, evidence, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        retrained.set_alias("m", "champion", 2, evidence=evidence)
    assert retrained.resolve("m@champion").version == 1
    assert not retrained.audit_log("m@2", action="alias.refused")


def test_cli_alias_takes_evidence_and_exits_3_when_worse(
    capsys, services, retrained, store_url, tmp_path
) -> None:
    import json

    from app.cli import main

    services.close()  # the CLI opens the store itself
    worse = json.dumps({"metric": "roc_auc", "data": "numeric@3", "scores": {"1": 0.8, "2": 0.7}})
    code = main(
        ["models", "alias", "m", "champion", "2", "--evidence", worse, "--store", store_url]
    )
    assert code == 3 and "0.7000 on numeric@3" in capsys.readouterr().err
    path = tmp_path / "evidence.json"
    path.write_text(worse.replace("0.7", "0.9"), encoding="utf-8")
    code = main(
        ["models", "alias", "m", "champion", "2", "--evidence", f"@{path}", "--store", store_url]
    )
    out, err = capsys.readouterr()
    assert code == 0 and "on the evidence given" in out, err
    path.write_text("{not json", encoding="utf-8")
    code = main(
        ["models", "alias", "m", "champion", "1", "--evidence", f"@{path}", "--store", store_url]
    )
    assert code != 0 and "is not JSON" in capsys.readouterr().err
