"""An invalid search space is refused before any trial runs, with the offending entry named."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.core.tuning import StudyRequest, parse_edit


def _count(services) -> tuple[int, int]:
    return len(services.tuning.list()), services.tracking.search(limit=None).total


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("knn.n_neighbors=30:3", "the low bound 30.0 is above the high bound 3.0"),
        ("logistic.C=0:10:log", "a log scale needs a low bound above 0"),
        ("knn.neighbours=1:5", "has no parameter 'neighbours'"),
        ("knn.weights=uniform,closest", "must be one of uniform, distance"),
        ("knn.n_neighbors=0:5", "outside what 'n_neighbors' accepts"),
        ("svm.C=1:10", "not among the study's estimators"),
        ("xgb.depth=1:5", "There is no estimator 'xgb'"),
    ],
)
def test_bad_space_entry_is_refused_by_name_and_nothing_is_stored(services, entry, expected):
    before = _count(services)
    request = StudyRequest(
        dataset="bc",
        target="target",
        estimators=("knn", "logistic"),
        space=(parse_edit(entry),),
        n_trials=3,
        name="bad",
    )
    with pytest.raises(InvalidInput) as caught:
        services.tuning.create(request)
    assert entry in caught.value.message
    assert expected in caught.value.message
    assert _count(services) == before


def test_edits_change_ranges_choices_and_fixed_values(services):
    plan = services.tuning.validate(
        StudyRequest(
            dataset="bc",
            target="target",
            estimators="rf,knn",
            space=(
                parse_edit("rf.max_depth=3:9"),
                parse_edit("rf.n_estimators=20", fixed=True),
                parse_edit("knn.weights=distance"),
                parse_edit("knn.p=default"),
            ),
        )
    )
    rf, knn = plan.space["random_forest"], plan.space["knn"]
    depth = next(d for d in rf.dims if d.name == "max_depth")
    assert (depth.low, depth.high, depth.log) == (3, 9, False)  # LOW:HIGH is linear
    assert "n_estimators" not in [d.name for d in rf.dims]
    assert rf.fixed == {"n_estimators": 20}
    assert next(d for d in knn.dims if d.name == "weights").choices == ("distance",)
    assert "p" not in [d.name for d in knn.dims]


def test_all_means_every_estimator_of_the_task_and_names_are_checked(services):
    plan = services.tuning.validate(StudyRequest(dataset="bc", target="target", estimators="all"))
    assert "logistic" in plan.estimators and "ridge" not in plan.estimators
    assert "dummy" not in plan.estimators
    with pytest.raises(InvalidInput, match="Ridge regression cannot be trained for binary"):
        services.tuning.validate(StudyRequest(dataset="bc", target="target", estimators="ridge"))
    with pytest.raises(InvalidInput, match="'r2' is not a metric for binary"):
        services.tuning.validate(StudyRequest(dataset="bc", target="target", metric="r2"))
    with pytest.raises(InvalidInput, match="prunes single-objective studies only"):
        services.tuning.validate(
            StudyRequest(dataset="bc", target="target", second_objective="latency", pruner="median")
        )
