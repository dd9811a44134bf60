"""`modeldesk tune` and `modeldesk studies …` on a real store."""

from __future__ import annotations

import json

import pytest

from app.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tune_then_studies_list_show_export_plot_stop(capsys, services, store_url, tmp_path):
    code, out, err = run(
        capsys,
        "tune",
        "bc",
        "--target",
        "target",
        "--estimators",
        "knn,nb",
        "--trials",
        "4",
        "--cv",
        "2",
        "--sampler",
        "random",
        "--study",
        "cli",
        "--store",
        store_url,
        "--json",
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["name"] == "cli" and summary["done"] == 4 and summary["status"] == "finished"
    assert summary["best_run_id"] and summary["best_value"] > 0.5

    code, out, _ = run(capsys, "studies", "list", "--store", store_url)
    assert code == 0 and "cli" in out and "4/4" in out
    code, out, _ = run(capsys, "studies", "show", "cli", "--store", store_url, "--json")
    shown = json.loads(out)
    assert [t["number"] for t in shown["trials"]] == [0, 1, 2, 3]
    csv = tmp_path / "trials.csv"
    code, out, _ = run(capsys, "studies", "export", "cli", "-o", str(csv), "--store", store_url)
    assert code == 0 and len(csv.read_text().splitlines()) == 5
    svg = tmp_path / "history.svg"
    code, _, err = run(capsys, "studies", "plot", "cli", "-o", str(svg), "--store", store_url)
    assert code == 0, err
    assert svg.read_bytes().lstrip().startswith(b"<?xml")
    code, out, _ = run(capsys, "studies", "stop", "cli", "--store", store_url)
    assert code == 0 and "will stop" in out

    # resume with a larger budget: only the new trials run
    code, out, err = run(
        capsys, "tune", "--study", "cli", "--trials", "6", "--store", store_url, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["done"] == 6


def test_tune_refuses_a_bad_space_before_any_trial(capsys, services, store_url):
    code, out, err = run(
        capsys,
        "tune",
        "bc",
        "--target",
        "target",
        "--estimators",
        "knn",
        "--space",
        "knn.n_neighbors=9:2",
        "--store",
        store_url,
    )
    assert code == 1
    assert "error: Space entry 'knn.n_neighbors=9:2'" in err and "above the high bound" in err
    code, out, _ = run(capsys, "studies", "list", "--store", store_url, "--json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "studies", "show", "nope", "--store", store_url)
    assert code == 1 and "There is no study 'nope'" in err


def test_a_study_whose_every_trial_failed_is_an_error_without_tracebacks(
    capsys, services, store_url
):
    """Through a real process: Optuna's log handler writes to the process's own stderr."""
    bad = ("tune", "bc", "--target", "target", "--estimators", "knn", "--fix",
           "knn.n_neighbors=500", "--trials", "2", "--cv", "2", "--study", "doomed")  # fmt: skip
    proc = _cli(*bad, "--store", store_url)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "\r" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: Every trial of study 'doomed' failed")
    assert "trial 0:" in proc.stderr and "n_neighbors" in proc.stderr  # the first trial's error
    assert "Traceback" not in proc.stderr and "[I " not in proc.stderr
    _, out, _ = run(capsys, "studies", "show", "doomed", "--store", store_url, "--json")
    assert json.loads(out)["status"] == "failed"
    assert [t["state"] for t in json.loads(out)["trials"]] == ["FAIL", "FAIL"]
    assert all("n_neighbors" in t["error"] for t in json.loads(out)["trials"])

    # --verbose lets Optuna say what happened, traceback included
    proc = _cli("tune", "--study", "doomed", "--trials", "3", "--verbose", "--store", store_url)
    assert proc.returncode == 1
    assert "Trial 2 failed" in proc.stderr and "Traceback" in proc.stderr


def _cli(*argv: str):
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=600,
    )


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_bad_worker_count_is_refused_before_any_study_or_run(capsys, services, store_url, workers):
    code, _, err = run(
        capsys, "tune", "bc", "--target", "target", "--estimators", "nb", "--trials", "2",
        "--workers", workers, "--study", "w", "--store", store_url,
    )  # fmt: skip
    assert code == 1 and err.strip() == f"error: --workers must be 1 to 64; got {workers}."
    assert services.tuning.list() == []
    assert services.tracking.search().total == 0
