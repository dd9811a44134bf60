"""Every CLI subcommand with wrong input: exit 1 (2 for argparse usage errors), exactly one
``error:`` line on stderr, no traceback, and never the generic last-line-of-defence message
(a generic catch would hide a missing specific error).

The table holds known-bad cases per subcommand (missing dataset/run/model refs, bad numbers,
bad files, missing folders, bad choices); hypothesis draws values for the options that take
text or numbers. Everything runs in-process through ``app.cli.main`` on one store prepared
once; the cases that could block (a server on a bad port) run as real subprocesses with a
deadline. ``test_every_subcommand_has_cases`` keeps the table complete when a command is
added.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import build_command_parser, main
from tests.cli.conftest import load_frame

GENERIC = "ModelDesk hit an unexpected problem"
ROOT = Path(__file__).resolve().parents[2]


# -- the store every case runs against -------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, str]:
    """A store with iris (sklearn's, original names), a finished run, iris@1 registered and a
    recipe; plus files: a garbage 'csv', an empty file, a bad recipe, a text 'skops'."""
    root = tmp_path_factory.mktemp("sweep")
    store = f"sqlite:///{root / 'store' / 'md.db'}"
    iris = root / "iris.csv"
    load_frame("iris").to_csv(iris, index=False)
    (root / "garbage.csv").write_bytes(b"\x00\xff\xfe binary \x00 not a table \x81\x82")
    (root / "empty.csv").write_text("")
    (root / "bad_recipe.json").write_text('{"steps": [{"op": "nosuch"}]}')
    (root / "not_json.json").write_text("{ this is not json")
    (root / "model.skops").write_text("not a zip")
    (root / "batch.csv").write_text("a,b\n1,2\n")
    (root / "file.txt").write_text("x")
    (root / "folder").mkdir()
    for argv in (
        ["datasets", "add", str(iris)],
        ["train", "iris", "-t", "species", "-e", "logistic", "--cv", "3", "--no-plots"],
        ["models", "register", "1", "--name", "iris"],
    ):
        assert main([*argv, "--store", store]) == 0, argv
    from app.bootstrap import build_services

    services = build_services(store)
    try:
        services.recipes.save(
            "clean", [{"op": "impute", "columns": ["sepal length (cm)"], "strategy": "mean"}]
        )
        services.recipes.save(
            "needs-z", [{"op": "impute", "columns": ["zeta"], "strategy": "mean"}]
        )
    finally:
        services.close()
    return {"store": store, "root": str(root)}


# -- the cases ---------------------------------------------------------------------------------

M = "{root}/MISSING_DIR"  # a folder that does not exist
USAGE = 2  # argparse's own usage errors

#: (argv, expected exit code); {root} is the world's folder
CASES: list[tuple[list[str], int]] = [
    # datasets
    (["datasets", "add", "{root}/nosuch.csv"], 1),
    (["datasets", "add", "{root}/garbage.csv"], 1),
    (["datasets", "add", "{root}/empty.csv"], 1),
    (["datasets", "add", "{root}/folder"], 1),
    (["datasets", "add", "{root}/file.txt"], 1),
    (["datasets", "add", "{root}/iris.csv", "--sheet", "Sheet9"], 1),
    (["datasets", "add", "{root}/iris.csv", "--name", ""], 1),
    (["datasets", "add", "{root}/iris.csv", "--name", "a@b"], 1),
    (["datasets", "list", "--bogus"], USAGE),
    (["datasets", "export", "iris@99", "-o", "{root}/x.csv"], 1),
    (["datasets", "show", "nosuch"], 1),
    (["datasets", "show", "iris@99"], 1),
    (["datasets", "show", "iris@x"], 1),
    (["datasets", "show", "@"], 1),
    (["datasets", "show", ""], 1),
    (["datasets", "roles", "nosuch"], 1),
    (["datasets", "roles", "iris@99", "--target", "species"], 1),
    (["datasets", "roles", "iris", "--target", "nosuch"], 1),
    (["datasets", "roles", "iris", "--id", "species", "--ignore", "species"], 1),
    (["datasets", "roles", "iris", "--target", "species", "--no-target"], 1),
    (["datasets", "roles", "iris", "--id"], USAGE),
    (["datasets", "export", "nosuch", "-o", "{root}/x.csv"], 1),
    (["datasets", "export", "iris", "-o", M + "/x.csv"], 1),
    (["datasets", "export", "iris", "-o", "{root}/x.nosuchformat"], 1),
    (["datasets", "export", "iris", "-o", "{root}/folder"], 1),
    (["datasets", "rm", "nosuch"], 1),
    (["datasets", "restore", "nosuch"], 1),
    (["datasets", "add-sql", "notaurl", "--query", "select 1", "--name", "q"], 1),
    (["datasets", "add-sql", "sqlite:///{root}/MISSING_DIR/x.db", "--query", "select 1",
      "--name", "q"], 1),
    (["datasets", "add-sql", "sqlite:///{root}/q.db", "--query", "select * from nosuch",
      "--name", "q"], 1),
    (["datasets", "add-sql", "sqlite:///{root}/q.db", "--query", "select 1", "--name", ""], 1),
    (["datasets", "watch", M, "--name", "w", "--timeout", "1"], 1),
    (["datasets", "watch", "{root}/file.txt", "--name", "w", "--timeout", "1"], 1),
    (["datasets", "watch", "{root}/folder", "--name", "w", "--debounce", "-1",
      "--timeout", "1"], 1),
    (["datasets", "watch", "{root}/folder", "--name", "w", "--timeout", "-5"], 1),
    (["datasets", "watch", "{root}/folder", "--name", "w", "--max-files", "0",
      "--timeout", "1"], 1),
    (["datasets", "rename", "nosuch", "other"], 1),
    (["datasets", "rename", "iris", ""], 1),
    (["datasets", "rename", "iris", "a@b"], 1),
    # profile
    (["profile", "nosuch"], 1),
    (["profile", "iris", "--target", "nosuch"], 1),
    (["profile", "iris", "--sample", "0"], 1),
    (["profile", "iris", "--sample", "-5"], 1),
    (["profile", "iris", "--threshold", "bogus"], 1),
    (["profile", "iris", "--threshold", "high_missing=abc"], 1),
    (["profile", "iris", "--threshold", "nosuch=1"], 1),
    (["profile", "iris", "--html", M + "/p.html"], 1),
    (["profile", "iris", "--task", "bogus"], USAGE),
    (["profile", "iris", "--sample", "abc"], USAGE),
    (["profile", "iris", "--task", "regression", "--target", "species"], 1),
    # train
    (["train", "nosuch", "-t", "species"], 1),
    (["train", "iris", "-t", "nosuch"], 1),
    (["train", "iris", "-t", "species", "--cv", "1"], 1),
    (["train", "iris", "-t", "species", "--cv", "0"], 1),
    (["train", "iris", "-t", "species", "--cv", "-3"], 1),
    (["train", "iris", "-t", "species", "--cv", "five"], USAGE),
    (["train", "iris", "-t", "species", "--cv", "100"], 1),
    (["train", "iris", "-t", "species", "--validation", "repeated", "--repeats", "0"], 1),
    (["train", "iris", "-t", "species", "--test-size", "1.5"], 1),
    (["train", "iris", "-t", "species", "--test-size", "-0.1"], 1),
    (["train", "iris", "-t", "species", "--test-size", "nan"], 1),
    (["train", "iris", "-t", "species", "--seed", "-1"], 1),
    (["train", "iris", "-t", "species", "--time-column", "nosuch"], 1),
    (["train", "iris", "-t", "species", "--exclude", "nosuch"], 1),
    (["train", "iris", "-t", "species", "-e", "nosuch"], 1),
    (["train", "iris", "-t", "species", "-e", "knn", "-p", "n_neighbors=abc"], 1),
    (["train", "iris", "-t", "species", "-e", "knn", "-p", "n_neighbors=500"], 1),
    (["train", "iris", "-t", "species", "-e", "knn", "-p", "n_neighbors=0"], 1),
    (["train", "iris", "-t", "species", "-p", "nosuch=1"], 1),
    (["train", "iris", "-t", "species", "-p", "oops"], 1),
    (["train", "iris", "-t", "species", "--tag", "oops"], 1),
    (["train", "iris", "-t", "species", "-p", "max_depth=-1"], 1),
    (["train", "iris", "-t", "species", "--recipe", "nosuch"], 1),
    (["train", "iris", "-t", "species", "--recipe", "needs-z"], 1),
    (["train", "iris", "-t", "species", "--task", "regression"], 1),
    (["train", "iris", "-t", "species", "--validation", "timeseries", "--cv", "2",
      "-e", "logistic"], 1),
    (["train", "iris", "-t", "species", "--validation", "bogus"], USAGE),
    (["train", "iris", "-t", "species", "-e", "ridge"], 1),
    (["train", "iris", "-t", "sepal length (cm)", "--task", "binary"], 1),
    (["train", "iris", "-t", "species", "--validation", "stratified", "--task", "regression"],
     1),
    (["train", "iris@7", "-t", "species"], 1),
    (["train", "iris"], 1),  # no --target and none stored with the dataset
    (["train", "iris", "-t", "species", "--cluster", "nowhere"], 1),
    # runs
    (["runs", "list", "--sort", "nosuch"], 1),
    (["runs", "list", "--filter", "garbage ((("], 1),
    (["runs", "list", "--filter", "metrics.accuracy > abc"], 1),
    (["runs", "list", "--filter", "nosuch = 1"], 1),
    (["runs", "list", "--limit", "-1"], 1),
    (["runs", "list", "--columns", "bogus"], 1),
    # the list commands' stdlib read path (no --filter): the same refusals as the services'
    (["runs", "list", "--columns", "params.nosuch,metrics.accuracy"], 1),
    (["runs", "list", "--sort", "params.nosuch", "--asc", "--limit", "0"], 1),
    (["runs", "list", "--sort", "metrics.", "--deleted"], 1),
    (["runs", "list", "--limit", "x"], USAGE),
    (["models", "list", "--search"], USAGE),
    (["datasets", "list", "--deleted", "x"], USAGE),
    (["runs", "show", "999"], 1),
    (["runs", "show", "abc"], USAGE),
    (["runs", "compare", "999", "998"], 1),
    (["runs", "compare", "1"], 1),
    (["runs", "compare", "1", "999"], 1),
    (["runs", "reproduce", "999"], 1),
    (["runs", "export-code", "999", "-o", "{root}/x.py"], 1),
    (["runs", "export-code", "1", "-o", M + "/x.py"], 1),
    (["runs", "export-code", "1", "-o", "{root}/folder"], 1),
    (["runs", "rm", "999"], 1),
    (["runs", "restore", "999"], 1),
    (["runs", "estimators", "--task", "bogus"], USAGE),
    # recipes and prepare
    (["recipes", "list", "--bogus"], USAGE),
    (["recipes", "show", "nosuch"], 1),
    (["recipes", "show", "clean@9"], 1),
    (["recipes", "export", "nosuch"], 1),
    (["recipes", "export", "clean", "-o", M + "/r.json"], 1),
    (["recipes", "import", "{root}/nosuch.json"], 1),
    (["recipes", "import", "{root}/not_json.json"], 1),
    (["recipes", "import", "{root}/bad_recipe.json"], 1),
    (["recipes", "import", "{root}/empty.csv"], 1),
    (["recipes", "import", "{root}/garbage.csv"], 1),
    (["recipes", "import", "{root}/folder"], 1),
    (["recipes", "import", "{root}/bad_recipe.json", "--name", "a@b"], 1),
    (["prepare", "nosuch", "--recipe", "clean"], 1),
    (["prepare", "iris", "--recipe", "nosuch"], 1),
    (["prepare", "iris", "--recipe", "needs-z"], 1),
    # tune and studies
    (["tune", "nosuch", "--target", "species", "--trials", "1"], 1),
    (["tune", "iris", "--target", "nosuch", "--trials", "1"], 1),
    (["tune", "iris", "--target", "species", "--trials", "0"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--workers", "0"], 1),
    (["tune", "iris", "--target", "species", "--timeout", "-1"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--estimators", "nosuch"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--metric", "nosuch"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--sampler", "nosuch"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--space", "bogus"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--cv", "1"], 1),
    (["tune", "--study", "nosuch", "--trials", "1"], 1),
    (["tune", "iris", "--target", "species", "--trials", "1", "--fix", "bogus"], 1),
    (["studies", "show", "nosuch"], 1),
    (["studies", "stop", "nosuch"], 1),
    (["studies", "export", "nosuch", "-o", "{root}/s.csv"], 1),
    (["studies", "plot", "nosuch", "-o", "{root}/s.svg"], 1),
    (["studies", "delete", "nosuch"], 1),
    (["studies", "best", "nosuch"], 1),
    (["studies", "best", "nosuch", "--register", "m"], 1),
    (["predict", "nosuch@1", "{root}/batch.csv", "-o", "{root}/out.csv"], 1),
    (["predict", "iris@1", "{root}/MISSING.csv", "-o", "{root}/out.csv"], 1),
    (["predict", "iris@1", "{root}/batch.csv", "-o", "{root}/MISSING_DIR/out.csv"], 1),
    (["studies", "list", "--bogus"], USAGE),
    # models
    (["models", "register", "999", "--name", "x"], 1),
    (["models", "register", "1", "--name", "a b/c"], 1),
    (["models", "register", "abc", "--name", "x"], USAGE),
    (["models", "register", "1", "--name", "x", "--tag", "oops"], 1),
    (["models", "import", "{root}/garbage.csv", "--name", "x"], 1),
    (["models", "import", "{root}/model.skops", "--name", "a@b"], 1),
    (["models", "list", "nosuch"], 1),
    (["models", "show", "nosuch@1"], 1),
    (["models", "show", "iris@99"], 1),
    (["models", "show", "iris@nosuchalias"], 1),
    (["models", "show", "@@"], 1),
    (["models", "alias", "iris", "champion", "99"], 1),
    (["models", "alias", "nosuch", "champion", "1"], 1),
    (["models", "alias", "iris", "bad alias!", "1"], 1),
    (["models", "unalias", "iris", "nosuch"], 1),
    (["models", "policy", "nosuch"], 1),
    (["models", "policy", "iris", "--metric", "nosuch"], 1),
    (["models", "policy", "iris", "--min-gain", "abc"], USAGE),
    (["models", "archive", "nosuch@1"], 1),
    (["models", "restore", "nosuch@1"], 1),
    (["models", "tag", "iris@1", "oops"], 1),
    (["models", "tag", "nosuch@1", "a=b"], 1),
    (["models", "lineage", "nosuch@1"], 1),
    (["models", "export", "nosuch@1", "-o", "{root}/m.skops"], 1),
    (["models", "export", "iris@1", "-o", M + "/m.skops"], 1),
    (["models", "export", "iris@1", "--format", "bogus", "-o", "{root}/m"], USAGE),
    (["models", "import", "{root}/nosuch.skops", "--name", "x"], 1),
    (["models", "import", "{root}/model.skops", "--name", "x"], 1),
    (["models", "import", "{root}/folder", "--name", "x"], 1),
    (["models", "card", "nosuch@1", "-o", "{root}/c.md"], 1),
    (["models", "card", "iris@1", "-o", M + "/c.md"], 1),
    (["models", "card", "iris@1", "-o", "{root}/folder"], 1),
    # audit
    (["audit", "log", "--limit", "-1"], 1),
    (["audit", "log", "--limit", "abc"], USAGE),
    (["audit", "verify", "--bogus"], USAGE),
    # package, deploy, deployments, serve (refs that fail before any Docker work)
    (["package", "nosuch@1"], 1),
    (["package", "iris@1", "--export-context", M + "/ctx"], 1),
    (["deploy", "nosuch@1"], 1),
    (["deploy", "nosuch@1", "--port", "99999"], 1),
    (["deploy", "nosuch@1", "--cpus", "-1"], 1),
    (["deployments", "logs", "999"], 1),
    (["deployments", "stop", "999"], 1),
    (["deployments", "rollback", "nosuch"], 1),
    (["deployments", "promote", "999"], 1),
    (["deployments", "abort", "999"], 1),
    (["deployments", "scale", "999", "2"], 1),
    (["deployments", "scale", "999", "many"], USAGE),
    (["deploy", "nosuch@1", "--canary", "nosuch@2", "--weight", "150"], 1),
    (["deployments", "list", "--bogus"], USAGE),
    (["serve", "nosuch@1"], 1),
    (["serve", "--run", "999"], 1),
    # monitor, retrain
    (["monitor", "nosuch@1", "--batch", "{root}/batch.csv"], 1),
    (["monitor", "iris@1", "--batch", "{root}/nosuch.csv"], 1),
    (["monitor", "iris@1", "--batch", "{root}/batch.csv"], 1),
    (["monitor", "iris@1", "--deployment", "999"], 1),
    (["monitor", "iris@1", "--dataset", "nosuch"], 1),
    (["monitor", "iris@1", "--window", "bogus"], USAGE),
    (["monitor", "iris@1", "--dataset", "iris", "--set", "bogus"], 1),
    (["monitor", "iris@1", "--dataset", "iris", "--html", M + "/m.html"], 1),
    (["retrain", "nosuch@1", "--data", "iris"], 1),
    (["retrain", "iris@1", "--data", "nosuch"], 1),
    # deployments export / token, replay, explain
    (["deployments", "export", "999", "--format", "compose", "-o", "{root}/folder"], 1),
    (["deployments", "export", "999", "--format", "kserve", "-o", M + "/k"], 1),
    (["deployments", "export", "999", "--format", "helm", "-o", "{root}/folder"], USAGE),
    (["deployments", "token", "999"], 1),
    (["deployments", "token", "999", "--rotate"], 1),
    (["replay", "nosuch@1", "--from-deployment", "999"], 1),
    (["replay", "iris@1", "--from-deployment", "999"], 1),
    (["replay", "iris@1", "--log", "{root}/folder"], 1),
    (["replay", "iris@1", "--log", "{root}/nosuch", "--production", "iris@1"], 1),
    (["replay", "iris@1"], 1),
    (["explain", "nosuch@1", "--rows", "{root}/batch.csv"], 1),
    (["explain", "iris@1", "--rows", "{root}/MISSING.csv"], 1),
    (["explain", "iris@1", "--rows", "{root}/batch.csv"], 1),
    (["explain", "iris@1", "--rows", "{root}/garbage.csv"], 1),
    # store copy
    (["store", "copy", "{root}/nosuch/modeldesk.db", "{root}/copy.db"], 1),
    (["store", "copy", "a.db", "b.db", "c.db"], 1),
    (["store", "copy"], USAGE),
    # the command itself
    (["datasets"], USAGE),
    (["datasets", "bogus"], USAGE),
]  # fmt: skip

#: cases that fail in a module another engineer owns: reported to them, marked xfail and not
#: run (some do slow work instead of refusing); remove an entry when the owner's fix lands
KNOWN: dict[str, str] = {}


def leaf_commands() -> list[str]:
    """'datasets add', 'train', … : every subcommand the parser knows."""
    out: list[str] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out.append(" ".join(prefix))
            return
        for name, child in subs[0].choices.items():
            walk(child, [*prefix, name])

    walk(build_command_parser(), [])
    return out


def command_of(argv: list[str]) -> str:
    leaves = leaf_commands()
    for n in (2, 1):
        if " ".join(argv[:n]) in leaves:
            return " ".join(argv[:n])
    return argv[0]


def _follow_stderr() -> None:
    """A library's log handler made in an earlier test holds that test's closed capture
    stream; point it at the current stderr, as it would be in a real process."""
    import logging

    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            stream = getattr(handler, "stream", None)
            if type(handler) is logging.StreamHandler and getattr(stream, "closed", False):
                handler.stream = sys.stderr  # setStream would flush the closed one


def invoke(capsys, argv: list[str], store: str) -> tuple[object, str, str]:
    """``main(argv)`` in-process: (exit code or the exception's traceback, stdout, stderr)."""
    _follow_stderr()
    try:
        code: object = main([*argv, "--store", store])
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # what the sweep looks for: anything main let escape
        code = "raised:\n" + traceback.format_exc()
    out, err = capsys.readouterr()
    return code, out, err


def check(code: object, out: str, err: str, expected: int | set[int]) -> None:
    wanted = expected if isinstance(expected, set) else {expected}
    assert code in wanted, f"exit {code!r}, wanted {sorted(wanted)}; stderr: {err}"
    if code == 0:
        return
    errors = [line for line in err.split("\n") if line.startswith("error:")]
    assert len(errors) == 1, f"wanted one error: line, got {len(errors)}:\n{err}"
    assert "Traceback" not in err and "Traceback" not in out
    assert GENERIC not in err, f"a generic catch answered instead of a specific error: {err}"
    if code == 1:
        assert len(errors[0]) > len("error: ") + 10, errors[0]


def _id(case: tuple[list[str], int]) -> str:
    return " ".join(case[0])[:80]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[_id(c) for c in CASES])
def test_bad_input_is_one_error_line(capsys, world, argv, expected) -> None:
    key = " ".join(argv)
    if key in KNOWN:
        pytest.xfail(KNOWN[key])
    argv = [a.format(root=world["root"]) for a in argv]
    code, out, err = invoke(capsys, argv, world["store"])
    check(code, out, err, expected)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["train", "iris", "-t", "species", "-e", "knn", "-p", "n_neighbors=500"], 1),
     (["models", "card", "iris@1", "-o", M + "/c.md"], 1),
     (["runs", "list", "--sort", "nosuch"], 1),
     (["datasets", "show", "nosuch"], 1)],
)  # fmt: skip
def test_with_json_the_error_object_is_the_only_stdout(capsys, world, argv, expected) -> None:
    import json

    argv = [a.format(root=world["root"]) for a in argv]
    code, out, err = invoke(capsys, [*argv, "--json"], world["store"])
    check(code, out, err, expected)
    error = json.loads(out)
    assert set(error) >= {"error", "message"} and error["message"]


def test_every_subcommand_has_cases() -> None:
    covered = {command_of(argv) for argv, _ in CASES}
    missing = [c for c in leaf_commands() if c not in covered]
    assert not missing, f"subcommands without a bad-input case: {missing}"


# -- hypothesis: values drawn for options that take text or numbers ---------------------------

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")),  # argv has no NUL; no newlines
    min_size=0,
    max_size=30,
)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(ref=TEXT.filter(lambda t: t.strip() not in ("iris", "iris@1")))
def test_any_dataset_ref_that_is_not_one(capsys, world, ref) -> None:
    check(*invoke(capsys, ["datasets", "show", ref], world["store"]), {1, USAGE})


@SETTINGS
@given(ref=TEXT.filter(lambda t: not t.strip().startswith("iris")))
def test_any_model_ref_that_is_not_one(capsys, world, ref) -> None:
    check(*invoke(capsys, ["models", "show", ref], world["store"]), {1, USAGE})


@SETTINGS
@given(text=TEXT)
def test_any_filter_text(capsys, world, text) -> None:
    check(*invoke(capsys, ["runs", "list", "--filter", text], world["store"]), {0, 1, USAGE})


@SETTINGS
@given(text=TEXT)
def test_any_sort_key(capsys, world, text) -> None:
    check(*invoke(capsys, ["runs", "list", "--sort", text], world["store"]), {0, 1, USAGE})


@SETTINGS
@given(columns=TEXT, search=TEXT)
def test_any_columns_and_model_search_on_the_stdlib_read_path(capsys, world, columns, search):
    check(*invoke(capsys, ["runs", "list", "--columns", columns], world["store"]), {0, 1, USAGE})
    check(*invoke(capsys, ["models", "list", "--search", search], world["store"]), {0, 1, USAGE})


NOT_A_NUMBER = TEXT.filter(lambda t: not t.strip().lstrip("+-").replace(".", "", 1).isdigit())
BAD_NUMBERS = {
    "--cv": st.one_of(st.integers(max_value=1), st.integers(min_value=101)).map(str),
    "--repeats": st.one_of(st.integers(max_value=0), st.integers(min_value=101)).map(str),
    "--seed": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**32)).map(str),
    "--test-size": st.one_of(
        st.floats(max_value=0, exclude_max=True), st.floats(min_value=0.9), st.just(float("nan"))
    ).map(repr),
}


@SETTINGS
@given(
    case=st.sampled_from(sorted(BAD_NUMBERS)).flatmap(
        lambda option: st.tuples(st.just(option), st.one_of(BAD_NUMBERS[option], NOT_A_NUMBER))
    )
)
def test_any_bad_training_number(capsys, world, case) -> None:
    option, value = case
    argv = ["train", "iris", "-t", "species", "--validation", "repeated", f"{option}={value}"]
    check(*invoke(capsys, argv, world["store"]), {1, USAGE})


@SETTINGS
@given(pair=TEXT.filter(lambda t: "=" not in t or not t.partition("=")[0].strip()))
def test_any_parameter_without_a_name(capsys, world, pair) -> None:
    argv = ["train", "iris", "-t", "species", "-p", pair]
    check(*invoke(capsys, argv, world["store"]), {1, USAGE})


# -- real processes: what could block in-process ------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["serve", "iris@1", "--port", "-1"], ["serve", "iris@1", "--port", "99999"],
     ["train", "iris", "-t", "species", "--cv", "100"], ["datasets", "show", "nosuch"]],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_real_processes(world, argv) -> None:
    key = " ".join(argv)
    if key in KNOWN:
        pytest.xfail(KNOWN[key])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())",
             *argv, "--store", world["store"]],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{key} did not refuse within 60 s: {exc.stderr}")
    check(done.returncode, done.stdout, done.stderr, 1)
