"""A study's best trial (each Pareto-optimal one) ends with a model on its own run, so it can
be registered like any trained run: ``models register``, ``studies best --register`` and
``TuningService.register_best``."""

from __future__ import annotations

import json

from app.cli import main
from app.core.tuning import StudyRequest


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _study(services, name: str, **kw) -> None:
    settings = dict(
        dataset="bc",
        target="target",
        estimators=("logistic", "knn"),
        n_trials=4,
        folds=2,
        sampler="random",
        pruner="none",
        name=name,
    )
    services.tuning.create(StudyRequest(**{**settings, **kw}))


def test_best_trial_of_an_ended_study_has_a_model_that_registers(capsys, services, store_url):
    _study(services, "small")
    summary = services.tuning.optimize("small")
    assert summary.best_run_id is not None and summary.best_run_ids == (summary.best_run_id,)

    best = services.tracking.get(summary.best_run_id)
    assert best.status == "finished" and best.trial_number == summary.best_trial
    assert best.artifact("model.skops") is not None and best.artifact("model.json") is not None
    assert best.tags["best_of_study"] == "small"
    # scored on the held-out rows no trial saw, as a training run's model is
    assert 0.5 < best.metrics["test.accuracy"] <= 1.0
    assert best.metrics["roc_auc"] == summary.best_value  # the trial's own record is kept
    # the other trials stay light: no model for them
    others = [t for t in services.tuning.trials("small") if t.run_id != summary.best_run_id]
    assert others and all(services.tracking.get(t.run_id).artifacts == () for t in others)

    pipeline = services.training.load_model(summary.best_run_id)
    rows = services.datasets.load_table(services.datasets.resolve("bc")).to_pandas().head(5)
    assert set(pipeline.predict(rows.drop(columns="target"))) <= {"malignant", "benign"}

    code, out, err = run(
        capsys, "models", "register", str(summary.best_run_id), "--name", "bc-best",
        "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["run_id"] == summary.best_run_id


def test_studies_best_register_in_one_step(capsys, services, store_url):
    code, out, err = run(
        capsys, "tune", "bc", "--target", "target", "--estimators", "nb,logistic",
        "--trials", "3", "--cv", "2", "--sampler", "random", "--study", "one",
        "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    best_run = json.loads(out)["best_run_id"]

    code, out, err = run(capsys, "studies", "best", "one", "--store", store_url, "--json")
    assert code == 0, err
    rows = json.loads(out)["best"]
    assert [r["run_id"] for r in rows] == [best_run] and rows[0]["model_saved"]

    code, out, err = run(capsys, "studies", "best", "one", "--register", "bc", "--store", store_url)
    assert code == 0, err
    assert out.startswith(f"Registered bc@1 from run {best_run}")
    version = services.registry.resolve("bc@1")
    assert version.run_id == best_run and version.tags["study"] == "one"
    assert "test.accuracy" in version.metrics

    code, out, err = run(capsys, "studies", "best", "nope", "--register", "x", "--store", store_url)
    assert code == 1 and "There is no study 'nope'" in err


def test_multi_objective_study_registers_its_pareto_set(services):
    _study(services, "pareto", second_objective="latency", n_trials=6, sampler="nsga2")
    summary = services.tuning.optimize("pareto")
    assert summary.pareto_size >= 1 and len(summary.best_run_ids) == summary.pareto_size
    for run_id in summary.best_run_ids:
        assert services.tracking.get(run_id).artifact("model.skops") is not None

    versions = services.tuning.register_best("pareto", "bc-front")
    assert [v.run_id for v in versions] == list(summary.best_run_ids)
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))


def test_register_best_saves_the_model_when_the_study_ended_without_it(services):
    """A study that ended before models were saved (or whose save failed) still registers."""
    from sqlalchemy import delete

    from app.core.store.models import RunArtifactRow

    _study(services, "late", n_trials=2)
    summary = services.tuning.optimize("late")
    with services.store.session(write=True) as s:
        s.execute(delete(RunArtifactRow).where(RunArtifactRow.run_id == summary.best_run_id))
    (version,) = services.tuning.register_best("late", "bc-late")
    assert version.run_id == summary.best_run_id
    assert services.tracking.get(summary.best_run_id).artifact("model.skops") is not None
