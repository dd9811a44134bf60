"""Recipes stored and versioned; applied to datasets with lineage; the CLI commands."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from app.cli import main
from app.core.errors import InvalidInput, NotFound
from tests.conftest import store_snapshot

pytestmark = pytest.mark.both_stores

STEPS = [
    {"op": "impute", "columns": ["petal"], "strategy": "mean"},
    {"op": "expr", "name": "area", "expression": "sepal * petal"},
    {"op": "filter", "expression": "sepal >= 1"},
    {"op": "text_clean", "columns": ["species"], "case": "upper"},
    {"op": "drop", "columns": ["when"]},
]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_versions_are_immutable_and_identical_steps_are_not_stored_twice(services) -> None:
    v1 = services.recipes.save("clean", STEPS[:2], description="first")
    assert (v1.ref, v1.needs, v1.produces) == ("clean@1", ["petal", "sepal"], ["area"])
    assert services.recipes.save("clean", STEPS[:2]).id == v1.id
    v2 = services.recipes.save("clean", STEPS)
    assert v2.version == 2 and services.recipes.resolve("clean@1").steps == v1.steps
    assert services.recipes.resolve("clean").version == 2
    with pytest.raises(NotFound, match="no version 7"):
        services.recipes.resolve("clean@7")


def test_bad_steps_are_refused_naming_the_step(services) -> None:
    with pytest.raises(InvalidInput, match=r"Step 2 \(filter\): row steps run first.*'area'"):
        services.recipes.save("x", [STEPS[1], {"op": "filter", "expression": "area > 1"}])
    with pytest.raises(InvalidInput, match=r"Step 2 \(expr\): Expressions cannot call 'open'"):
        services.recipes.save("x", [STEPS[0], {"op": "expr", "name": "a", "expression": "open(1)"}])
    with pytest.raises(InvalidInput, match=r"Step 1 \(clip\): unknown parameter 'colums'"):
        services.recipes.save("x", [{"op": "clip", "colums": ["a"]}])
    with pytest.raises(InvalidInput, match="'explode' is not a recipe step"):
        services.recipes.save("x", [{"op": "explode"}])
    with pytest.raises(NotFound):
        services.recipes.get("x")


def test_apply_makes_a_version_whose_lineage_names_the_recipe(services, small_csv) -> None:
    source = services.datasets.add_file(small_csv, name="iris").version
    rv = services.recipes.save("clean", STEPS)
    out = services.recipes.apply("iris", "clean", name="iris-clean")
    assert out.ref == "iris-clean@1" and out.source_kind == "recipe"
    assert out.parent_version_id == source.id
    assert out.options["recipe"] == {"name": "clean", "version": rv.version}
    frame = services.datasets.load_table(out).to_pandas()
    raw = pd.read_csv(small_csv)
    expected = raw[raw["sepal"] >= 1].copy()  # row steps first, on the raw rows
    expected["petal"] = expected["petal"].fillna(expected["petal"].mean())
    expected["area"] = expected["sepal"] * expected["petal"]
    assert len(frame) == len(expected) == 50
    assert frame["area"].round(9).tolist() == expected["area"].round(9).tolist()
    assert set(frame["species"]) == {"SETOSA", "VERSICOLOR", "VIRGINICA"}
    assert "when" not in frame.columns
    usage = services.recipes.usages("clean")
    assert [(u.kind, u.dataset, u.input) for u in usage] == [("dataset", "iris-clean@1", "iris@1")]
    assert services.recipes.catalog()[0]["datasets"] == ["iris-clean@1"]


def test_a_dataset_lacking_a_needed_column_is_named_and_nothing_is_stored(
    services, small_csv
) -> None:
    services.datasets.add_file(small_csv, name="iris")
    services.recipes.save("needs", [{"op": "clip", "columns": ["sepal", "weight"]}])
    before = store_snapshot(services)
    with pytest.raises(InvalidInput, match="needs column 'weight', which dataset iris@1 lacks"):
        services.recipes.apply("iris", "needs")
    services.recipes.save("badcast", [{"op": "cast", "columns": ["species"], "to": "float"}])
    before = store_snapshot(services)
    with pytest.raises(
        InvalidInput, match=r"'species' cannot become numbers: 60 values.*rows 1, 2"
    ):
        services.recipes.apply("iris", "badcast")
    assert store_snapshot(services) == before


def test_preview_of_one_step_shows_what_changed(services, small_csv) -> None:
    services.datasets.add_file(small_csv, name="iris")
    sample = services.recipes.sample("iris", 40)
    assert len(sample) == 40
    p = services.recipes.preview(sample, STEPS, upto=1)
    assert p.added == ("area",) and p.changed == ()
    assert p.summary["before"]["missing"] == 0 == p.summary["after"]["missing"]
    p0 = services.recipes.preview(sample, STEPS, upto=0)
    assert p0.changed == ("petal",) and p0.summary["after"]["missing"] == 0
    p2 = services.recipes.preview(sample, STEPS, upto=2)
    assert p2.summary["before"]["rows"] == 40 and p2.summary["after"]["rows"] == 30
    # the filter runs first, on the raw rows, so the mean imputed is learnt on the kept rows
    assert set(p2.changed) == {"petal", "area"} and p2.added == ()


def test_cli_recipes_import_list_show_export_and_prepare(
    capsys, store_url, small_csv, tmp_path
) -> None:
    recipe_file = tmp_path / "clean.json"
    recipe_file.write_text(
        json.dumps({"format": "modeldesk-recipe", "format_version": 1, "name": "clean",
                    "steps": STEPS})
    )  # fmt: skip
    code, out, err = run(capsys, "recipes", "import", str(recipe_file), "--store", store_url)
    assert code == 0, err
    assert "Stored clean@1 (5 steps)" in out
    run(capsys, "datasets", "add", str(small_csv), "--name", "iris", "--store", store_url)

    code, out, err = run(
        capsys, "prepare", "iris@1", "--recipe", "clean@1", "--store", store_url, "--json"
    )
    assert code == 0, err
    made = json.loads(out)
    assert (made["ref"], made["recipe"], made["input"]) == (
        "iris@2",
        {"name": "clean", "version": 1},
        "iris@1",
    )

    code, out, _ = run(capsys, "recipes", "list", "--store", store_url, "--json")
    assert json.loads(out)[0]["datasets"] == ["iris@2"]
    code, out, _ = run(capsys, "recipes", "show", "clean", "--store", store_url)
    assert "Keep rows where sepal >= 1  [training only]" in out and "made dataset iris@2" in out

    exported = tmp_path / "out.json"
    code, _, _ = run(
        capsys, "recipes", "export", "clean", "-o", str(exported), "--store", store_url
    )
    assert json.loads(exported.read_text())["steps"][1]["expression"] == "sepal * petal"
    code, out, _ = run(capsys, "recipes", "export", "clean", "--python", "--store", store_url)
    assert "class Recipe(TransformerMixin, BaseEstimator)" in out

    script = tmp_path / "recipe.py"
    script.write_text(
        out
        + "\n\nif __name__ == '__main__':\n"
        + "    import sys\n"
        + "    df = pd.read_csv(sys.argv[1])\n"
        + "    out = Recipe().fit_transform(prepare_rows(df))\n"
        + "    print(round(float(out['area'].sum()), 6), len(out))\n"
    )
    result = subprocess.run(
        [sys.executable, str(script), str(small_csv)], capture_output=True, text=True, check=True
    )
    raw = pd.read_csv(small_csv)
    kept = raw[raw["sepal"] >= 1].copy()
    kept["petal"] = kept["petal"].fillna(kept["petal"].mean())
    assert result.stdout.split() == [
        str(round(float((kept["sepal"] * kept["petal"]).sum()), 6)),
        "50",
    ]

    code, _, err = run(capsys, "prepare", "iris", "--recipe", "nope", "--store", store_url)
    assert code == 1 and "error: No recipe named 'nope'" in err


def test_cli_add_sql_masks_the_password(capsys, store_url, tmp_path) -> None:
    db = tmp_path / "s.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, str(i)) for i in range(10)])
    code, out, err = run(
        capsys, "datasets", "add-sql", f"sqlite:///{db}", "--query", "SELECT * FROM t",
        "--name", "t", "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["rows"] == 10
    from app.core.readers.sql import masked_url

    assert masked_url("postgresql://u:s3cret@h:5/db") == "postgresql+psycopg://u:***@h:5/db"


def test_cli_watch_takes_new_files_until_told_to_stop(capsys, store_url, small_csv, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()

    def drop_later() -> None:
        time.sleep(1.0)
        shutil.copy(small_csv, inbox / "a.csv")

    threading.Thread(target=drop_later, daemon=True).start()
    code, out, err = run(
        capsys, "datasets", "watch", str(inbox), "--name", "w", "--debounce", "0.5",
        "--max-files", "1", "--timeout", "30", "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert [v["ref"] for v in json.loads(out)] == ["w@1"]


def test_cli_train_with_a_recipe_records_it(capsys, store_url, small_csv) -> None:
    run(capsys, "datasets", "add", str(small_csv), "--name", "iris", "--store", store_url)
    from app.bootstrap import build_services

    services = build_services(store_url)
    try:
        services.recipes.save("feat", STEPS[:2])
    finally:
        services.close()
    code, out, err = run(
        capsys, "train", "iris", "--target", "species", "--recipe", "feat", "--cv", "3",
        "--no-plots", "--store", store_url, "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["status"] == "finished" and payload["recipe"] == {"name": "feat", "version": 1}
    code, _, err = run(
        capsys, "train", "iris", "--target", "species", "--recipe", "feat@9", "--store", store_url
    )
    assert code == 1 and "Recipe 'feat' has no version 9" in err
