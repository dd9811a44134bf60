"""`runs reproduce` / `runs export-code` on a study's trial and on its parent run."""

from __future__ import annotations

import json

import pytest

from app.core.training.metrics import is_timing
from tests.cli.conftest import run_cli


@pytest.mark.parametrize(
    ("key", "timing"),
    [("train_seconds", True), ("fit_seconds", True), ("predict_ms_per_row", True),
     ("cv.fit_seconds", True), ("fit_seconds_std", True), ("accuracy", False),
     ("test.log_loss", False), ("model_size_bytes", False)],
)  # fmt: skip
def test_timing_metrics_are_told_apart(key, timing) -> None:
    assert is_timing(key) is timing


@pytest.fixture
def study(capsys, store_url, add_sklearn) -> dict:
    add_sklearn("iris")
    code, out, err = run_cli(
        capsys, "tune", "iris", "--target", "species", "--estimators", "knn", "--trials", "2",
        "--cv", "3", "--sampler", "random", "--study", "s", "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


def test_reproducing_a_trial_reports_no_timing_difference(capsys, store_url, study) -> None:
    best = str(study["best_run_id"])
    code, out, _ = run_cli(capsys, "runs", "show", best, "--store", store_url, "--json")
    assert "fit_seconds" in json.loads(out)["metrics"]  # the trial did time its fits
    code, out, err = run_cli(capsys, "runs", "reproduce", best, "--store", store_url, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["differences"] == {} and again["same_metrics"] is True
    assert again["reproduces"] == study["best_run_id"]
    code, out, _ = run_cli(capsys, "runs", "reproduce", best, "--store", store_url)
    assert code == 0 and out.strip().endswith(f"Same metrics as run {best}.")


@pytest.mark.parametrize("command", [["reproduce"], ["export-code", "-o", "{tmp}/s.py"]])
def test_a_study_parent_run_says_it_is_a_study(capsys, store_url, study, tmp_path, command) -> None:
    parent = str(study["parent_run_id"])
    argv = [c.replace("{tmp}", str(tmp_path)) for c in command]
    code, out, err = run_cli(capsys, "runs", argv[0], parent, *argv[1:], "--store", store_url)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "parent run of study 's'" in err and "logged from a script" not in err
    assert f"modeldesk runs reproduce {study['best_run_id']}" in err  # how to reproduce the best
    assert f"parent_run_id = {parent}" in err  # and how to list the trials
    assert not (tmp_path / "s.py").exists()
