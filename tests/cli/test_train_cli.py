"""`modeldesk train` and `modeldesk runs …`: JSON documents, errors before any run exists."""

from __future__ import annotations

import json

import pytest

from app.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def iris(capsys, store_url, small_csv) -> str:
    code, _, err = run(capsys, "datasets", "add", str(small_csv), "--store", store_url)
    assert code == 0, err
    return "iris_like"


def train(capsys, store_url, *extra: str) -> dict:
    code, out, err = run(
        capsys,
        "train",
        "iris_like",
        "--target",
        "species",
        "--cv",
        "3",
        "--no-plots",
        "--store",
        store_url,
        "--json",
        *extra,
    )
    assert code == 0, err
    return json.loads(out)


def test_train_list_show_compare(capsys, store_url, iris) -> None:
    first = train(capsys, store_url, "--estimator", "logistic", "--param", "C=0.5", "--seed", "3")
    assert first["status"] == "finished" and first["task"] == "multiclass"
    assert first["dataset"] == "iris_like@1" and first["seed"] == 3
    assert first["params"]["C"] == "0.5" and 0 <= first["metrics"]["accuracy"] <= 1
    assert "accuracy" in first["test"] and first["model_sha256"]
    assert any("'id' was dropped" in n for n in first["notes"])
    second = train(capsys, store_url, "-e", "decision_tree", "-p", "max_depth=2")

    code, out, _ = run(
        capsys, "runs", "list", "--sort", "accuracy", "--asc", "--store", store_url, "--json"
    )
    listed = json.loads(out)
    accs = [r["metrics.accuracy"] for r in listed["runs"]]
    assert code == 0 and listed["total"] == 2 and accs == sorted(accs)

    code, out, _ = run(
        capsys, "runs", "list", "--filter", "estimator = 'logistic'", "--store", store_url, "--json"
    )
    assert [r["id"] for r in json.loads(out)["runs"]] == [first["run_id"]]

    code, out, _ = run(capsys, "runs", "list", "--store", store_url)
    assert code == 0 and "logistic" in out and "decision_tree" in out

    code, out, _ = run(capsys, "runs", "show", str(first["run_id"]), "--store", store_url, "--json")
    shown = json.loads(out)
    assert shown["status"] == "finished" and len(shown["folds"]["accuracy"]) == 3
    assert shown["recipe"]["plan"]["request"]["estimator"] == "logistic"
    assert "scikit-learn" in shown["env"]["packages"]

    code, out, _ = run(
        capsys,
        "runs",
        "compare",
        str(first["run_id"]),
        str(second["run_id"]),
        "--store",
        store_url,
        "--json",
    )
    compared = json.loads(out)
    assert code == 0 and compared["runs"] == [first["run_id"], second["run_id"]]
    assert "C" in compared["params_differ"] and "max_depth" in compared["params_differ"]
    assert compared["best"]["accuracy"] in compared["runs"]

    code, out, _ = run(
        capsys, "runs", "compare", str(first["run_id"]), str(second["run_id"]), "--store", store_url
    )
    assert code == 0 and "* C" in out


def test_reproduce_export_rm_restore(capsys, store_url, iris, tmp_path) -> None:
    first = train(capsys, store_url, "-e", "knn")
    rid = str(first["run_id"])
    code, out, err = run(capsys, "runs", "reproduce", rid, "--store", store_url, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["same_metrics"] and again["reproduces"] == first["run_id"]
    assert again["metrics"] == first["metrics"]

    target = tmp_path / "run.py"
    code, out, _ = run(
        capsys, "runs", "export-code", rid, "-o", str(target), "--store", store_url, "--json"
    )
    assert code == 0 and json.loads(out)["path"] == str(target)
    assert "cross_validate" in target.read_text()

    assert run(capsys, "runs", "rm", rid, "--store", store_url)[0] == 0
    code, out, _ = run(capsys, "runs", "list", "--store", store_url, "--json")
    assert [r["id"] for r in json.loads(out)["runs"]] == [again["run_id"]]
    assert run(capsys, "runs", "restore", rid, "--store", store_url)[0] == 0
    code, out, _ = run(capsys, "runs", "list", "--store", store_url, "--json")
    assert json.loads(out)["total"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--target", "nope"], "no column 'nope'"),
        (["--target", "species", "-e", "wizard"], "no estimator 'wizard'"),
        (
            ["--target", "species", "-e", "knn", "-p", "n_neighbors=five"],
            "'n_neighbors' must be a whole number",
        ),
        (["--target", "species", "-p", "oops"], "not a parameter"),
        (["--target", "species", "--task", "regression"], "has text in row 1"),
    ],
)
def test_bad_input_exits_1_and_creates_no_run(capsys, store_url, iris, argv, message) -> None:
    code, out, err = run(capsys, "train", "iris_like", *argv, "--store", store_url, "--json")
    assert code == 1 and message in json.loads(out)["message"]
    assert err.startswith("error: ")
    code, out, _ = run(capsys, "runs", "list", "--store", store_url, "--json")
    assert json.loads(out)["total"] == 0


def test_estimators_lists_the_catalog(capsys, store_url) -> None:
    code, out, _ = run(
        capsys, "runs", "estimators", "--task", "regression", "--store", store_url, "--json"
    )
    names = [e["name"] for e in json.loads(out)]
    assert code == 0 and "ridge" in names and "logistic" not in names and len(names) >= 8
