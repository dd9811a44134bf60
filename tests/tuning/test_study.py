"""A study end to end in one process: seeded search vs the default run, trials as runs,
Optuna and optuna-dashboard reading the study, exports and plots."""

from __future__ import annotations

import json
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from app.core.training.request import TrainRequest
from app.core.tuning import StudyRequest

pytestmark = pytest.mark.both_stores


def test_seeded_study_beats_the_default_run_and_its_trials_are_runs(services):
    default_run = services.training.train_inline(
        TrainRequest(dataset="bc", target="target", estimator="knn", folds=3, plots=False)
    )
    services.tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("knn",),
            n_trials=8,
            folds=3,
            seed=0,
            name="knn-study",
        )
    )
    summary = services.tuning.optimize("knn-study")

    assert summary.budget == 8 and summary.done == 8
    assert summary.best_value >= default_run.metrics["roc_auc"]
    trials = services.tuning.trials("knn-study")
    assert trials[0].params == {"n_neighbors": 5, "weights": "uniform", "p": 2}  # the baseline
    assert trials[0].values[0] == pytest.approx(default_run.metrics["roc_auc"])
    parent = services.tracking.get(summary.parent_run_id)
    assert parent.status == "finished"
    assert parent.metrics["best.roc_auc"] == pytest.approx(summary.best_value)
    children = services.tracking.search(filter=f"parent_run_id = {parent.id}", limit=None).runs
    assert len(children) == 8
    for trial in trials:  # the link goes both ways
        run = services.tracking.get(trial.run_id)
        assert (run.study_name, run.trial_number, run.parent_run_id) == (
            "knn-study",
            trial.number,
            parent.id,
        )
        assert int(run.params["n_neighbors"]) == trial.params["n_neighbors"]
        if trial.state == "COMPLETE":
            assert run.status == "finished"
            assert run.metrics["roc_auc"] == pytest.approx(trial.values[0])
            assert [s for s, _, _ in services.tracking.metric_history(run.id, "cv.roc_auc")] == [
                1, 2, 3,
            ]  # fmt: skip
        else:
            assert trial.state == "PRUNED" and run.status == "cancelled"
    # the best trial trains again as a full run with a model, ready to register
    best_run_id, _ = services.tuning.train_best("knn-study")
    best = services.tracking.get(best_run_id)
    assert best.status == "finished" and best.artifact("model.skops") is not None
    assert best.params == services.tracking.get(summary.best_run_id).params


def _dashboard_get(app, path: str) -> dict:
    import httpx

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}{path}", timeout=30)
        response.raise_for_status()
        return response.json()
    finally:
        server.shutdown()
        server.server_close()


def test_optuna_and_optuna_dashboard_open_the_study_unchanged(services, store_url, tmp_path):
    import optuna
    import optuna_dashboard

    services.tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators="knn,nb",
            n_trials=5,
            folds=3,
            sampler="random",
            pruner="none",
            name="automl",
        )
    )
    services.tuning.optimize("automl")

    study = optuna.load_study(study_name="automl", storage=store_url)
    assert len(study.trials) == 5
    assert study.user_attrs["dataset"] == "bc@1" and study.user_attrs["target"] == "target"
    assert set(study.trials[0].params) <= {"estimator", "knn.n_neighbors", "knn.weights",
                                           "knn.p", "naive_bayes.var_smoothing"}  # fmt: skip
    assert all(t.user_attrs["run_id"] for t in study.trials)

    app = optuna_dashboard.wsgi(store_url)
    listed = _dashboard_get(app, "/api/studies")["study_summaries"]
    assert [s["study_name"] for s in listed] == ["automl"]
    detail = _dashboard_get(app, f"/api/studies/{listed[0]['study_id']}?after=0")
    assert len(detail["trials"]) == 5
    assert {t["state"] for t in detail["trials"]} == {"Complete"}

    csv = tmp_path / "out" / "trials.csv"
    assert services.tuning.export_csv("automl", csv) == 5
    header = csv.read_text().splitlines()[0].split(",")
    assert "params_estimator" in header and "user_attrs_run_id" in header
    png = services.tuning.plot("automl", "history", "png")
    svg = services.tuning.plot("automl", "parallel", "svg")
    assert png.startswith(b"\x89PNG") and b"<svg" in svg[:500]


def test_multi_objective_study_has_a_pareto_front(services):
    services.tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("knn",),
            n_trials=6,
            folds=2,
            second_objective="model_size",
            name="mo",
        )
    )
    summary = services.tuning.optimize("mo")
    assert summary.directions == ("maximize", "minimize")
    assert summary.objectives == ("roc_auc", "model_size_bytes")
    assert summary.pareto_size >= 1
    trials = services.tuning.trials("mo")
    run = services.tracking.get(trials[0].run_id)
    assert run.metrics["model_size_bytes"] == pytest.approx(trials[0].values[1])
    assert services.tuning.plot("mo", "pareto").startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("sampler", "pruner"),
    [
        ("tpe", "hyperband"),
        ("random", "halving"),
        ("qmc", "median"),
        ("cmaes", "none"),
        ("gp", "median"),
    ],
)
def test_samplers_and_pruners_run(services, sampler, pruner):
    services.tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("logistic",),
            n_trials=4,
            folds=3,
            sampler=sampler,
            pruner=pruner,
            name=f"s-{sampler}",
        )
    )
    summary = services.tuning.optimize(f"s-{sampler}")
    assert summary.sampler == sampler and summary.pruner == pruner
    assert summary.counts.get("COMPLETE", 0) + summary.counts.get("PRUNED", 0) == 4
    assert json.dumps(summary.to_dict(), default=str)


def test_time_budget_and_stop_flag(services):
    services.tuning.create(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators=("nb",),
            n_trials=None,
            timeout=1.0,
            folds=2,
            name="timed",
        )
    )
    summary = services.tuning.optimize("timed")
    assert summary.done >= 1 and summary.status == "finished"
    services.tuning.stop("timed")  # a stop from any process: the next session starts fresh
    again = services.tuning.optimize("timed", timeout=0.5)
    assert again.done > summary.done


def test_stop_from_another_caller_ends_a_running_study_after_its_trial(services):
    services.tuning.create(
        StudyRequest(
            dataset="bc", target="target", estimators=("nb",), n_trials=500, folds=2,
            name="to-stop",
        )
    )  # fmt: skip
    result = {}
    worker = threading.Thread(
        target=lambda: result.setdefault("summary", services.tuning.optimize("to-stop"))
    )
    worker.start()
    deadline = time.monotonic() + 120
    while services.tuning.summary("to-stop").done < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    services.tuning.stop("to-stop")  # what `modeldesk studies stop` does from its own process
    worker.join(120)
    summary = result["summary"]
    assert summary.status == "cancelled" and 2 <= summary.done < 500
    assert "RUNNING" not in summary.counts
