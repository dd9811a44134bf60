"""Folds a model cannot train on are refused as one ``error:`` line before any run exists."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run_cli

CASES = [
    (
        "iris",
        ["-t", "species", "-e", "knn", "-p", "n_neighbors=500"],
        ["'n_neighbors' is 500", "only 96 rows", "The largest n_neighbors that fits is 96"],
    ),
    (
        "iris",
        ["-t", "species", "--cv", "100"],
        ["100 folds", "40 training row(s) of class 'setosa'", "The largest cv allowed is 40"],
    ),
    (
        "wine",
        ["-t", "target", "--validation", "timeseries", "--cv", "2", "-e", "logistic"],
        ["Fold 1 of 2", "all of class '0'", "at least two classes", "stratified validation"],
    ),
]


@pytest.mark.parametrize(("name", "argv", "phrases"), CASES)
def test_unfittable_folds_are_an_error_line(capsys, store_url, add_sklearn, name, argv, phrases):
    add_sklearn(name)
    code, out, err = run_cli(capsys, "train", name, *argv, "--no-plots", "--store", store_url)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for phrase in phrases:
        assert phrase in lines[0]

    code, out, err = run_cli(
        capsys, "train", name, *argv, "--no-plots", "--store", store_url, "--json"
    )
    assert code == 1
    error = json.loads(out)  # the JSON error object, and no success payload
    assert error["error"] == "InvalidInput" and "run_id" not in error
    code, out, _ = run_cli(capsys, "runs", "list", "--store", store_url, "--json")
    assert json.loads(out)["total"] == 0  # nothing stored half-way


def test_the_largest_values_named_do_train(capsys, store_url, add_sklearn) -> None:
    """The bounds the messages name are the real ones: at the bound, training works."""
    add_sklearn("iris")
    for extra in (["-e", "knn", "-p", "n_neighbors=96"], ["--cv", "40", "-e", "logistic"]):
        code, out, err = run_cli(
            capsys, "train", "iris", "-t", "species", *extra, "--no-plots",
            "--store", store_url, "--json",
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out)["status"] == "finished"
    code, out, err = run_cli(
        capsys, "train", "iris", "-t", "species", "-e", "knn", "-p", "n_neighbors=97",
        "--no-plots", "--store", store_url,
    )  # fmt: skip
    assert code == 1 and "The largest n_neighbors that fits is 96" in err
