"""Fixtures for the CLI tests: the data sets scikit-learn ships, as files a user would add."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main


def load_frame(name: str):
    """iris (target 'species' as names), wine and breast_cancer (target 'target'), original
    column names: spaces, '/' and '()' included."""
    from sklearn import datasets

    bunch = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "bc": datasets.load_breast_cancer,
    }[name](as_frame=True)
    frame = bunch.frame
    if name == "iris":
        frame = frame.drop(columns="target").assign(species=bunch.target_names[bunch.target])
    return frame


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def add_sklearn(capsys, tmp_path: Path, store_url: str):
    """``add_sklearn("iris")`` writes the frame to iris.csv and ``datasets add``s it."""

    def add(name: str) -> str:
        path = tmp_path / f"{name}.csv"
        load_frame(name).to_csv(path, index=False)
        code, _, err = run_cli(capsys, "datasets", "add", str(path), "--store", store_url)
        assert code == 0, err
        return name

    return add
