"""Entry point of the PyInstaller bundle: the ``modeldesk`` command, frozen.

What only a frozen program needs:

* ``multiprocessing.freeze_support()`` first: training and tuning run in spawned child
  processes, and in a bundle a child is this same executable started with
  ``--multiprocessing-fork``; without it the child would start ModelDesk all over again.
* ``faulthandler``: a crash in a native library prints the Python stack on stderr, which a
  bundle otherwise loses (PYTHONFAULTHANDLER is ignored by a frozen program).
* ``--self-test``: checks what a bundle can lose on the way (package metadata, resources,
  Alembic migrations, the serving sources, modules imported by name, native libraries,
  spawned children) and prints one JSON object; exit 0 when all is there. Support asks for
  it when a bundle misbehaves: ``./modeldesk --self-test``.
"""

from __future__ import annotations

import multiprocessing
import sys

#: Libraries ModelDesk imports lazily, inside the functions that use them: start-up never
#: loads them, so the self-test does.
LAZY_IMPORTS = (
    "numpy",
    "pandas",
    "pyarrow.csv",
    "pyarrow.json",
    "pyarrow.parquet",
    "pyarrow.feather",
    "openpyxl",
    "scipy.stats",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "matplotlib.figure",
    "matplotlib.backends.backend_qtagg",
    "optuna",
    "skops.io",
    "docker",
    "alembic.command",
)


def fit_sample_model() -> float:
    """Cross-validated accuracy of a small model on the iris sample (BLAS, sklearn, pandas)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from app.resources import sample

    frame = pd.read_csv(sample("iris.csv"))
    features, target = frame.drop(columns="species"), frame["species"]
    scores = cross_val_score(LogisticRegression(max_iter=500), features, target, cv=3)
    return float(scores.mean())


def migrate_store(url: str) -> str | None:
    from app.core.store import Store

    store = Store(url)
    try:
        return store.current_revision()
    finally:
        store.dispose()


def fit_in_child() -> float:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return round(pool.apply(fit_sample_model), 3)


def tune_sample_study(url: str) -> int:
    """Three Optuna trials in an RDB study at ``url`` (Optuna's own Alembic scripts run)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="self-test", storage=url)
    study.optimize(lambda trial: (trial.suggest_float("x", -2, 2) - 1) ** 2, n_trials=3)
    return len(study.trials)


def self_test() -> int:
    import importlib
    import json
    import pkgutil
    import tempfile
    from pathlib import Path

    import app
    import app.serving
    from app import resources

    checks: dict[str, object] = {}
    problems: list[str] = []

    checks["version"] = app.__version__
    checks["frozen"] = bool(getattr(sys, "frozen", False))
    checks["prefix"] = getattr(sys, "_MEIPASS", sys.prefix)  # where the libraries come from
    if app.__version__.startswith("0.0.0"):
        problems.append("package metadata of modeldesk is missing (version unknown)")

    icons = [resources.ICON_SVG, *(f"icons/modeldesk-{s}.png" for s in resources.ICON_SIZES)]
    missing = [name for name in icons if not resources.exists(name)]
    checks["samples"] = resources.samples()
    if missing or not checks["samples"]:
        problems.append(f"resources missing: {missing or 'samples'}")

    serving = Path(app.serving.__file__).parent
    checks["serving_sources"] = sorted(p.name for p in serving.glob("*.py"))
    if not (serving / "__init__.py").is_file():
        problems.append(f"the serving sources are not files under {serving}")

    modules = [
        info.name
        for info in pkgutil.walk_packages(app.__path__, "app.")
        # a __main__ module runs its command when imported (app.cli's would parse our argv)
        if not info.name.startswith("app.core.store.migrations")
        and not info.name.endswith(".__main__")
    ]
    failed = {}
    for name in [*modules, *LAZY_IMPORTS]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # report every one, not just the first
            failed[name] = f"{type(exc).__name__}: {exc}"
    checks["modules_imported"] = len(modules) + len(LAZY_IMPORTS) - len(failed)
    if failed:
        problems.append(f"modules that do not import: {failed}")

    def attempt(what: str, fn, *args):  # a failed step is reported, and the rest still run
        try:
            return fn(*args)
        except Exception as exc:
            problems.append(f"{what} failed: {type(exc).__name__}: {exc}")
            return None

    with tempfile.TemporaryDirectory(prefix="modeldesk-selftest-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'check.db'}"
        checks["schema"] = attempt("migrating a new store", migrate_store, url)
        checks["optuna_trials"] = attempt("an Optuna study in the store", tune_sample_study, url)

    # A spawned child, as training runs: it must start as a worker, not as a new ModelDesk.
    accuracy = attempt("fitting a model in a child process", fit_in_child)
    checks["child_process_accuracy"] = accuracy
    if accuracy is not None and accuracy < 0.8:
        problems.append(f"a model fitted in a child process scored only {accuracy}")

    checks["ok"] = not problems
    checks["problems"] = problems
    print(json.dumps(checks, indent=2))
    return 0 if not problems else 1


def main() -> int:
    multiprocessing.freeze_support()
    if sys.stderr is not None:  # a crash in native code (Qt, BLAS) still leaves a traceback
        import faulthandler

        faulthandler.enable()
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    from app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
