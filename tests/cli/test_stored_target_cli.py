"""The target stored with a dataset version: set once, used by `profile`, `train` and `tune`
when no --target is given; --target still overrides; none at all is one `error:` line."""

from __future__ import annotations

import json

import pytest

from app.core.errors import InvalidInput
from tests.cli.test_train_cli import iris, run  # noqa: F401  (iris is a fixture)


def set_target(store_url: str, ref: str, column: str | None) -> None:
    from app.bootstrap import build_services

    svc = build_services(store_url)
    try:
        svc.datasets.set_target(ref, column)
    finally:
        svc.close()


@pytest.fixture
def iris_ref(iris: str) -> str:  # noqa: F811  (the imported fixture)
    return f"{iris}@1"


def test_train_and_profile_without_target_use_the_stored_one(capsys, store_url, iris_ref) -> None:
    code, out, err = run(capsys, "train", iris_ref, "--cv", "3", "--no-plots", "--store", store_url)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ")
    assert "no stored target" in err and "--target" in err and "Schema" in err

    set_target(store_url, iris_ref, "species")
    code, out, err = run(
        capsys, "train", iris_ref, "--cv", "3", "--no-plots", "--store", store_url, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["target"] == "species"

    code, out, err = run(capsys, "profile", iris_ref, "--store", store_url, "--json")
    assert code == 0, err
    assert json.loads(out)["target"]["column"] == "species"

    code, out, err = run(capsys, "datasets", "show", iris_ref, "--store", store_url, "--json")
    if code == 0:  # the version document carries its usages
        assert "species" in out


def test_target_flag_overrides_the_stored_target(capsys, store_url, iris_ref) -> None:
    set_target(store_url, iris_ref, "species")
    code, out, err = run(
        capsys, "profile", iris_ref, "--target", "sepal", "--store", store_url, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["target"]["column"] == "sepal"


def test_tune_without_target_uses_the_stored_one(capsys, store_url, iris_ref) -> None:
    set_target(store_url, iris_ref, "species")
    code, out, err = run(
        capsys, "tune", iris_ref, "--estimators", "logistic", "--trials", "1", "--cv", "2",
        "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert "species" in out


def test_usages_are_checked_and_one_target_is_kept(services, small_csv) -> None:
    version = services.datasets.add_file(small_csv).version
    with pytest.raises(InvalidInput, match="no column 'nope'"):
        services.datasets.set_usages(version, {"nope": "target"})
    with pytest.raises(InvalidInput, match="not a column role"):
        services.datasets.set_usages(version, {"species": "label"})
    with pytest.raises(InvalidInput, match="one target"):
        services.datasets.set_usages(version, {"species": "target", "sepal": "target"})
    stored = services.datasets.set_usages(
        version, {"species": "target", "flag": "ignored", "petal": "feature"}
    )
    assert stored.usages == {"species": "target", "flag": "ignored"}
    again = services.datasets.set_target(version.ref, "petal")
    assert again.target == "petal" and again.usages["flag"] == "ignored"
    assert services.datasets.resolve(version.ref).target == "petal"


def test_a_new_version_keeps_the_roles_of_the_one_it_follows(services, small_csv) -> None:
    first = services.datasets.add_file(small_csv).version
    services.datasets.set_usages(first, {"species": "target", "id": "identifier"})
    small_csv.write_text(small_csv.read_text() + "60,6.0,1.0,setosa,true,2024-02-01\n")
    second = services.datasets.add_file(small_csv).version
    assert second.version == 2
    assert second.usages == {"species": "target", "id": "identifier"}
    assert services.datasets.target_for(second.ref, None) == "species"


def test_identifiers_and_ignored_columns_are_not_learnt_from(services, small_csv) -> None:
    from app.core.training.request import TrainRequest

    version = services.datasets.add_file(small_csv).version
    services.datasets.set_usages(version, {"species": "target", "flag": "ignored"})
    plan = services.training.validate(TrainRequest(dataset=version.ref, target=None, folds=3))
    assert plan.request.target == "species" and "flag" in plan.request.exclude
    learnt = [c.name for c in plan.columns]
    assert "flag" not in learnt and "species" not in learnt and "sepal" in learnt
    # an explicit target that is marked ignored is still the target
    plan = services.training.validate(TrainRequest(dataset=version.ref, target="flag", folds=3))
    assert plan.request.target == "flag" and "flag" not in plan.request.exclude
