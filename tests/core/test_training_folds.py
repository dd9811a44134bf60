"""Folds a model cannot train on are refused when the request is checked, before a run or a
worker exists: in the CLI, the Runs panel's New run (``TrainingService.start``) and tuning."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidInput
from app.core.training import TrainRequest
from app.core.training.validation import fold_fit_sizes, make_splitter
from app.jobs import JobRunner


def add_sklearn(services, name: str) -> str:
    import pyarrow as pa

    from tests.cli.conftest import load_frame

    services.datasets.add_table(
        pa.Table.from_pandas(load_frame(name), preserve_index=False), name=name, source_kind="test"
    )
    return f"{name}@1"


@pytest.fixture
def runner():
    r = JobRunner(max_threads=2)
    yield r
    r.shutdown(timeout=10)


def count_runs(services) -> int:
    return services.tracking.search(limit=None, include_deleted=True).total


def test_fit_sizes_are_those_of_the_worker_splitter() -> None:
    y = np.array(["a", "b", "c"] * 40)
    sizes = fold_fit_sizes(
        y, task="multiclass", validation="stratified", folds=4, repeats=1, test_size=0.0, seed=3
    )
    splitter = make_splitter("stratified", "multiclass", 4, 1, 3)
    assert sizes == [len(f) for f, _ in splitter.split(np.zeros((120, 1)), y)] == [90] * 4


def test_the_smallest_class_bounds_stratified_folds() -> None:
    y = np.array(["big"] * 50 + ["small"] * 6)
    with pytest.raises(InvalidInput) as caught:
        fold_fit_sizes(
            y, task="binary", validation="stratified", folds=7, repeats=1, test_size=0.0, seed=0
        )
    assert "6 training row(s) of class 'small'" in caught.value.message
    assert caught.value.hint == "The largest cv allowed is 6."
    assert fold_fit_sizes(
        y, task="binary", validation="stratified", folds=6, repeats=1, test_size=0.0, seed=0
    )


def test_a_time_series_fold_of_one_class_names_fewer_folds_that_work() -> None:
    y = np.array([0] * 30 + [1, 0] * 45)  # the first 30 rows are all class 0
    with pytest.raises(InvalidInput) as caught:
        fold_fit_sizes(
            y, task="binary", validation="timeseries", folds=5, repeats=1, test_size=0.0, seed=0
        )
    assert "Fold 1 of 5" in caught.value.message and "the first 20 rows" in caught.value.message
    assert "fewer folds (at most 2)" in caught.value.hint
    fold_fit_sizes(  # the bound named is one that trains
        y, task="binary", validation="timeseries", folds=2, repeats=1, test_size=0.0, seed=0
    )


@pytest.mark.parametrize(
    ("name", "request_kw", "phrase"),
    [
        ("iris", {"target": "species", "estimator": "knn", "params": {"n_neighbors": 500}},
         "largest n_neighbors that fits is 96"),
        ("iris", {"target": "species", "folds": 100}, "largest cv allowed is 40"),
        ("wine", {"target": "target", "validation": "timeseries", "folds": 2,
                  "estimator": "logistic"}, "all of class '0'"),
    ],
)  # fmt: skip
def test_the_panels_start_refuses_before_a_run_or_worker(
    services, runner, name, request_kw, phrase
) -> None:
    """The Runs panel's New run calls ``start``: the refusal reaches its MessageBar as an
    ``InvalidInput`` and no failed run is left in the table."""
    dataset = add_sklearn(services, name)
    request = TrainRequest(dataset=dataset, plots=False, **request_kw)
    with pytest.raises(InvalidInput) as caught:
        services.training.validate(request)
    assert phrase in f"{caught.value.message} {caught.value.hint}"
    with pytest.raises(InvalidInput):
        services.training.start(request, runner)
    assert count_runs(services) == 0 and runner.live == []
