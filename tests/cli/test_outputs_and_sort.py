"""Every file a command writes needs an existing folder (one ``error:`` line naming it,
nothing written); ``runs list`` refuses a sort key or column no run has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli


@pytest.fixture
def journey(capsys, store_url, small_csv, services) -> dict:
    """A dataset, a finished run, a registered model and a recipe, all in one store."""
    code, _, err = run_cli(capsys, "datasets", "add", str(small_csv), "--store", store_url)
    assert code == 0, err
    code, out, err = run_cli(
        capsys, "train", "iris_like", "-t", "species", "-e", "logistic", "--cv", "3",
        "--no-plots", "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    code, _, err = run_cli(
        capsys, "models", "register", str(run_id), "--name", "iris", "--store", store_url
    )
    assert code == 0, err
    services.recipes.save("clean", [{"op": "impute", "columns": ["petal"], "strategy": "mean"}])
    return {"run": str(run_id)}


WRITERS = [
    ["datasets", "export", "iris_like", "-o", "{dir}/x.csv"],
    ["models", "card", "iris@1", "-o", "{dir}/x.md"],
    ["models", "export", "iris@1", "-o", "{dir}/x.skops"],
    ["runs", "export-code", "{run}", "-o", "{dir}/x.py"],
    ["recipes", "export", "clean", "-o", "{dir}/x.json"],
    ["profile", "iris_like", "--html", "{dir}/x.html"],
]


@pytest.mark.parametrize("argv", WRITERS, ids=lambda a: " ".join(a[:2]))
def test_a_missing_output_folder_is_one_error_line(
    capsys, store_url, journey, tmp_path, argv
) -> None:
    missing = tmp_path / "MISSING_DIR"
    args = [a.format(dir=missing, run=journey["run"]) for a in argv]
    out = Path(args[-1])
    code, stdout, err = run_cli(capsys, *args, "--store", store_url)
    assert code == 1 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert f"The folder {missing} " in lines[0] and "does not exist" in lines[0]
    assert f"mkdir -p {missing}" in lines[0]
    assert not missing.exists()  # refused, not created

    code, stdout, err = run_cli(capsys, *args, "--store", store_url, "--json")
    assert code == 1 and json.loads(stdout)["error"] == "InvalidInput"

    missing.mkdir()  # the folder made as told: the same command works
    code, _, err = run_cli(capsys, *args, "--store", store_url)
    assert code == 0, err
    assert out.exists()


def test_an_output_that_is_a_folder_is_refused(capsys, store_url, journey, tmp_path) -> None:
    code, _, err = run_cli(
        capsys, "models", "card", "iris@1", "-o", str(tmp_path), "--store", store_url
    )
    assert code == 1 and f"{tmp_path} is a folder" in err


@pytest.mark.parametrize(
    ("option", "value", "phrase"),
    [("--sort", "nosuch", "No run has a metric 'nosuch' to sort by"),
     ("--sort", "params.nosuch", "No run has a parameter 'nosuch' to sort by"),
     ("--columns", "accuracy,bogus", "No run has a metric 'bogus' to show")],
)  # fmt: skip
def test_runs_list_refuses_keys_no_run_has(capsys, store_url, journey, option, value, phrase):
    code, out, err = run_cli(capsys, "runs", "list", option, value, "--store", store_url)
    assert code == 1 and out == ""
    assert err.startswith(f"error: {phrase}") and len(err.strip().splitlines()) == 1
    assert "accuracy" in err and "params.NAME (C," in err and "started_at" in err  # valid keys


@pytest.mark.parametrize("key", ["accuracy", "cv.accuracy", "params.C", "started_at"])
def test_runs_list_sorts_by_keys_that_exist(capsys, store_url, journey, key) -> None:
    code, out, err = run_cli(capsys, "runs", "list", "--sort", key, "--store", store_url, "--json")
    assert code == 0, err
    assert json.loads(out)["total"] == 1


def test_an_empty_store_sorts_by_any_metric(capsys, store_url) -> None:
    code, out, err = run_cli(capsys, "runs", "list", "--sort", "accuracy", "--store", store_url)
    assert code == 0 and "No runs yet." in out, err


def test_output_paths_are_not_created_by_the_helper(tmp_path: Path) -> None:
    from app.cli.output import output_file
    from app.core.errors import InvalidInput

    assert output_file(str(tmp_path / "a.csv")) == tmp_path / "a.csv"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="is a file, not a folder"):
        output_file(str(tmp_path / "file" / "a.csv"))
