"""Screenshots of every panel in light and dark, made from the current code.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screens.py [--out docs/screens]

It builds a throwaway store the way a person would with the CLI (the iris sample and
scikit-learn's breast-cancer data ingested, two runs trained, the best registered as
``breast_cancer@1`` with the alias ``champion``, a short study), opens the main window on it,
selects something in each panel and grabs it at 1400×900 in both themes. Not a test: the
README shows what it writes, and a person looks at the pictures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent


def cli(store: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", *args, "--store", store, "--json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def build_store(folder: Path) -> tuple[str, dict]:
    from sklearn.datasets import load_breast_cancer

    store = f"sqlite:///{folder / 'store.db'}"
    frame = load_breast_cancer(as_frame=True).frame
    csv = folder / "breast_cancer.csv"
    frame.to_csv(csv, index=False)
    cli(store, "datasets", "add", str(csv), str(ROOT / "app/resources/samples/iris.csv"))
    runs = [
        cli(store, "train", "breast_cancer", "-t", "target", "-e", name)
        for name in ("logistic", "hist_gradient_boosting")
    ]
    first = runs[0].get("run_id") or runs[0].get("id")
    cli(store, "models", "register", str(first), "--name", "breast_cancer")
    cli(store, "models", "alias", "breast_cancer", "champion", "1")
    study = cli(
        store, "tune", "breast_cancer", "-t", "target", "-e", "random_forest", "--trials", "6"
    )
    return store, {"run": first, "study": study.get("study") or study.get("name")}


def items(made: dict) -> dict:
    """What each panel shows in its picture (the person's last pick there)."""
    from app.ui.items import DatasetItem, ModelVersionItem, RunItem, StudyItem

    dataset = DatasetItem("breast_cancer", 1, "target")
    model = ModelVersionItem("breast_cancer", 1)
    return {
        "data": dataset,
        "explore": dataset,
        "prepare": dataset,
        "runs": RunItem(int(made["run"])),
        "tuning": StudyItem(str(made["study"])) if made.get("study") else None,
        "registry": model,
        "deploy": model,
        "monitor": model,
    }


def grab_all(store: str, made: dict, out: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import build_services
    from app.jobs.runner import JobRunner
    from app.ui.main_window import MainWindow
    from app.ui.panels import PANELS

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("ModelDesk-screens")
    services = build_services(store)
    runner = JobRunner()
    window = MainWindow(services=services, runner=runner)
    window.resize(1400, 900)
    window.show()
    written = []
    try:
        for theme in ("light", "dark"):
            window.set_theme(theme)
            for spec in PANELS:
                window.open_in_panel(spec.key, items(made)[spec.key])
                settle(app, 6.0)
                path = out / f"{spec.key}-{theme}.png"
                window.grab().save(str(path))
                written.append(path)
    finally:
        window.close()
        runner.shutdown(timeout=10)
        services.close()
    return written


def settle(app, seconds: float) -> None:
    """Let the panel's jobs (listings, profiles, plots) finish and paint."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    args.out = args.out.resolve()  # relative to where it is run, printed relative to the repo
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="modeldesk-screens-") as folder:
        os.environ["XDG_CONFIG_HOME"] = folder  # the screenshots' settings, not yours
        store, made = build_store(Path(folder))
        for path in grab_all(store, made, args.out):
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
