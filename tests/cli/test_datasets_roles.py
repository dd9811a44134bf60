"""``modeldesk datasets roles``: show a version's column roles, set them (the Data panel's
schema call), refuse an unknown column or a column given two roles in one ``error:`` line
with nothing stored, and the stored target is the one ``train`` then uses."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run_cli


@pytest.fixture
def added(capsys, store_url, small_csv) -> str:
    code, _, err = run_cli(capsys, "datasets", "add", str(small_csv), "--store", store_url)
    assert code == 0, err
    return "iris_like@1"


def roles(capsys, store_url, *argv: str) -> tuple[int, dict | str, str]:
    code, out, err = run_cli(capsys, "datasets", "roles", *argv, "--store", store_url, "--json")
    return code, (json.loads(out) if code == 0 else out), err


def test_roles_are_shown_then_set_and_kept(capsys, store_url, added) -> None:
    code, shown, _ = roles(capsys, store_url, added)
    assert code == 0 and shown["changed"] is False and shown["target"] is None
    assert set(shown["roles"]) == {"id", "sepal", "petal", "species", "flag", "when"}

    code, shown, err = roles(
        capsys, store_url, added, "--target", "species", "--id", "id", "--ignore", "when", "flag"
    )
    assert code == 0, err
    assert shown["target"] == "species" and shown["changed"] is True
    expected = {"id": "identifier", "sepal": "feature", "petal": "feature",
                "species": "target", "flag": "ignored", "when": "ignored"}  # fmt: skip
    assert shown["roles"] == expected

    # the next call changes only what it names; a new target replaces the old one
    code, shown, _ = roles(capsys, store_url, added, "--target", "flag", "--feature", "when")
    assert code == 0 and shown["target"] == "flag"
    assert shown["roles"]["species"] == "feature" and shown["roles"]["id"] == "identifier"
    assert shown["roles"]["when"] == "feature"

    # the same roles the Data panel reads, and the text form names them
    from app.bootstrap import build_services

    services = build_services(store_url)
    try:
        version = services.datasets.resolve(added)
        assert version.target == "flag" and version.usages["id"] == "identifier"
    finally:
        services.close()
    code, out, _ = run_cli(capsys, "datasets", "roles", added, "--store", store_url)
    assert code == 0 and "target 'flag'" in out and "identifier" in out

    code, shown, _ = roles(capsys, store_url, added, "--no-target")
    assert code == 0 and shown["target"] is None and "target" not in shown["roles"].values()


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (("--target", "colour"), "no column 'colour'"),
        (("--id", "id", "nope"), "no column 'nope'"),
        (("--id", "id", "--ignore", "id"), "Column 'id' was given two roles"),
        (("--target", "flag", "--no-target"), "contradict"),
    ],
)
def test_bad_roles_are_one_error_line_and_store_nothing(
    capsys, store_url, added, argv, phrase
) -> None:
    code, _, _ = roles(capsys, store_url, added, "--target", "species")
    assert code == 0
    code, out, err = run_cli(capsys, "datasets", "roles", added, *argv, "--store", store_url)
    lines = err.strip().splitlines()
    assert code == 1 and out == "" and lines[0].startswith("error:") and phrase in lines[0]
    assert "Traceback" not in err
    code, shown, _ = roles(capsys, store_url, added)
    assert shown["target"] == "species" and shown["roles"]["id"] == "feature"  # unchanged


def test_an_unknown_dataset_is_named(capsys, store_url, added) -> None:
    code, _, err = run_cli(capsys, "datasets", "roles", "nosuch@1", "--store", store_url)
    assert code == 1 and "nosuch" in err and err.startswith("error:")
