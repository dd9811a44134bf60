"""Is the model at risk: one drifted feature that matters to it is an alert (issue 15, item 1).

A real model on scikit-learn's breast-cancer data (569 rows, 30 features); its permutation
importance is stored with its run at training, and the monitor weighs each drifted feature
by its share. Every command goes through ``app.cli.main`` on a real SQLite store, and the
prediction log is written by a real ``modeldesk serve --log-dir`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from app.cli import main
from app.core.training import TrainRequest
from app.core.training.importance import NAME as IMPORTANCE
from tests.serving.conftest import ROOT, Server, free_port, wait_ready


@pytest.fixture(scope="module")
def bc(tmp_path_factory):
    """``bc@champion``: a 60-tree forest on breast-cancer, its training frame, its shares."""
    from sklearn.datasets import load_breast_cancer

    from app.bootstrap import build_services

    root = tmp_path_factory.mktemp("bc")
    url = f"sqlite:///{root / 'store' / 'modeldesk.db'}"
    services = build_services(url)
    frame = load_breast_cancer(as_frame=True).frame
    frame["target"] = np.where(frame["target"] == 1, "benign", "malignant")
    services.datasets.add_table(
        pa.Table.from_pandas(frame, preserve_index=False), name="bc", source_kind="test"
    )
    run = services.training.train_inline(
        TrainRequest(
            "bc@1", "target", "random_forest", params={"n_estimators": 60}, folds=3, plots=False
        )
    )
    art = services.tracking.get(run.id).artifact(IMPORTANCE)
    doc = json.loads(services.artifacts.open_verified(art.sha256).read_bytes())
    shares = {k: v["share"] for k, v in doc["features"].items()}
    version = services.registry.register(run.id, "bc")
    services.registry.set_alias("bc", "champion", version.version)
    services.close()
    return {"url": url, "root": root, "frame": frame, "shares": shares, "run_id": run.id}


def _ranked(bc) -> list[str]:
    return sorted(bc["shares"], key=lambda k: -bc["shares"][k])


def _shifted(bc, feature: str, *, label: bool = False) -> pd.DataFrame:
    """The training rows with ``feature`` moved up by one standard deviation."""
    frame = bc["frame"] if label else bc["frame"].drop(columns=["target"])
    out = frame.copy()
    out[feature] = out[feature] + out[feature].std()
    return out


def _monitor(bc, capsys, *args: str) -> tuple[int, dict]:
    code = main(["monitor", "bc@champion", *args, "--store", bc["url"], "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_importance_is_stored_with_the_run_and_sums_to_one(bc):
    shares = bc["shares"]
    assert set(shares) == set(bc["frame"].columns) - {"target"}
    assert sum(shares.values()) == pytest.approx(1.0)
    top, bottom = _ranked(bc)[0], _ranked(bc)[-1]
    assert shares[top] > 0.05 and shares[bottom] < 0.01


def test_one_important_feature_moved_by_one_sd_is_an_alert(bc, tmp_path, capsys):
    feature = _ranked(bc)[0]
    batch = tmp_path / "shifted.csv"
    _shifted(bc, feature).to_csv(batch, index=False)
    html = tmp_path / "r.html"
    code, out = _monitor(bc, capsys, "--batch", str(batch), "--html", str(html))
    assert code == 3 and out["error"] == "DriftAlert"
    [report] = out["reports"]
    assert report["status"] == "alert" and report["rules"] == ["importance"]
    assert report["dataset_drift"] is False and report["n_drifted"] == 1  # 1 of 30: no share
    assert "importance rule" in report["verdict"] and feature in report["verdict"]
    assert "importance rule" in out["message"]
    assert report["importance"]["run_id"] == bc["run_id"]
    drifted = next(f for f in report["features"] if f["name"] == feature)
    assert drifted["importance"] == pytest.approx(bc["shares"][feature])
    assert "importance rule" in html.read_text()
    # the stored report keeps the rule, and the CLI text names it too
    code = main(["monitor", "bc@champion", "--batch", str(batch), "--store", bc["url"]])
    text = capsys.readouterr().out
    assert code == 3 and "alert by the importance rule" in text and "IMPORTANCE" in text
    from app.bootstrap import build_services

    services = build_services(bc["url"])
    try:
        stored = services.monitoring.report(services.monitoring.reports("bc")[0]["id"])
        assert stored.rules == ("importance",) and "importance rule" in stored.verdict
        assert services.registry.audit_log("bc")[-1].details["rules"] == ["importance"]
    finally:
        services.close()


def test_the_same_shift_on_a_feature_without_importance_is_only_a_warning(bc, tmp_path, capsys):
    feature = _ranked(bc)[-1]
    batch = tmp_path / "shifted.csv"
    _shifted(bc, feature).to_csv(batch, index=False)
    code, out = _monitor(bc, capsys, "--batch", str(batch), "--no-store")
    [report] = out["reports"]
    drifted = next(f for f in report["features"] if f["name"] == feature)
    assert drifted["status"] == "alert"  # the feature did drift...
    assert "importance" not in report["rules"]  # ...but the model does not care
    assert report["status"] == "warning" and code == 0
    assert "5%" in report["verdict"]
    # --fail-on warning: the cautious script stops on it
    code, out = _monitor(bc, capsys, "--batch", str(batch), "--no-store", "--fail-on", "warning")
    assert code == 3 and out["status"] == "warning" and out["error"] == "DriftAlert"


def test_a_model_without_stored_importance_falls_back_to_the_share_rule(bc, tmp_path, capsys):
    """A run trained before importance was stored: the share rule alone, and the report says so."""
    from sqlalchemy import delete

    from app.bootstrap import build_services
    from app.core.store.models import RunArtifactRow

    url = f"sqlite:///{tmp_path / 'old' / 'modeldesk.db'}"
    services = build_services(url)
    services.datasets.add_table(
        pa.Table.from_pandas(bc["frame"], preserve_index=False), name="bc", source_kind="test"
    )
    run = services.training.train_inline(
        TrainRequest(
            "bc@1", "target", "random_forest", params={"n_estimators": 20}, folds=2, plots=False
        )
    )
    services.store.write(
        lambda s: s.execute(
            delete(RunArtifactRow).where(
                RunArtifactRow.run_id == run.id, RunArtifactRow.name == IMPORTANCE
            )
        )
    )
    services.registry.register(run.id, "bc")
    services.close()
    batch = tmp_path / "shifted.csv"
    _shifted(bc, _ranked(bc)[0]).to_csv(batch, index=False)
    code = main(["monitor", "bc@1", "--batch", str(batch), "--store", url, "--json"])
    [report] = json.loads(capsys.readouterr().out)["reports"]
    assert code == 0 and report["status"] == "warning" and report["importance"] is None
    assert any("only the share rule" in n for n in report["notes"])
    assert all(f["importance"] is None for f in report["features"])


def _serve(bc, logs: Path, tmp_path: Path) -> Server:
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "bc@champion", "--port", str(port),
         "--store", bc["url"], "--log-dir", str(logs)],
        cwd=ROOT, stdout=out.open("w"), stderr=err.open("w"), env=dict(os.environ), text=True,
    )  # fmt: skip
    return Server(f"http://127.0.0.1:{port}", proc, out, err)


def test_the_log_of_modeldesk_serve_is_monitored_from_the_cli(bc, tmp_path, capsys):
    feature = _ranked(bc)[0]
    logs = tmp_path / "predictions"
    server = _serve(bc, logs, tmp_path)
    try:
        wait_ready(server)
        shifted = _shifted(bc, feature)
        with server.client() as client:
            for start in range(0, len(shifted), 200):  # three requests, as a client would
                part = shifted.iloc[start : start + 200]
                body = {"dataframe_split": json.loads(part.to_json(orient="split", index=False))}
                r = client.post("/invocations", json=body)
                assert r.status_code == 200, r.text
    finally:
        assert server.stop(timeout=60) == 0, server.stderr()
    assert any(logs.glob("predictions-*.jsonl"))
    code, out = _monitor(bc, capsys, "--log", str(logs), "--window", "day")
    assert code == 3 and out["status"] == "alert"
    [report] = out["reports"]  # every row was logged within one day (the test takes seconds)
    assert report["current"]["source"] == "log" and report["current"]["rows"] == len(shifted)
    assert report["rules"] == ["importance"] and report["window"]["unit"] == "day"
    assert report["prediction"] is not None
    missing = tmp_path / "nowhere"
    code = main(["monitor", "bc@champion", "--log", str(missing), "--store", bc["url"]])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error:") and str(missing) in err
    a_file = next(logs.glob("predictions-*.jsonl"))
    code = main(["monitor", "bc@champion", "--log", str(a_file), "--store", bc["url"]])
    err = capsys.readouterr().err
    assert code == 1 and "is a file" in err and str(logs) in err and "Traceback" not in err


def test_retrain_names_the_rule_that_fired(bc, capsys):
    from app.bootstrap import build_services

    services = build_services(bc["url"])
    try:
        shifted = _shifted(bc, _ranked(bc)[0], label=True)
        services.datasets.add_table(
            pa.Table.from_pandas(shifted, preserve_index=False), name="bc-new", source_kind="test"
        )
    finally:
        services.close()
    code = main(["retrain", "bc@champion", "--data", "bc-new", "--store", bc["url"]])
    text = capsys.readouterr().out
    assert code == 0
    line = next(x for x in text.splitlines() if x.startswith("drift of the new data"))
    assert "alert by the importance rule" in line and "0 % of features" not in line
    assert "(0% of features)" not in text
