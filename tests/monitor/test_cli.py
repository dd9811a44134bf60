"""``modeldesk monitor`` and ``modeldesk retrain`` through app.cli.main on a real store."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.csv as pacsv

from app.cli import main

from .conftest import world


def test_monitor_exits_3_on_alert_runs_the_hook_and_writes_html(
    services, model, store_url, tmp_path, capsys
):
    batch = tmp_path / "shifted.csv"
    t = world(1200, 21, shift=2.0)
    t = t.set_column(1, "x2", pa.array(t.column("x2").to_numpy() * 3 + 2))  # 2 of 3 features move
    pacsv.write_csv(t, batch)
    marker = tmp_path / "hook.txt"
    html = tmp_path / "r.html"
    code = main(
        [
            "monitor",
            model,
            "--batch",
            str(batch),
            "--store",
            store_url,
            "--json",
            "--html",
            str(html),
            "--on-alert",
            f'echo "$MODELDESK_STATUS $MODELDESK_MODEL" > {marker}',
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 3
    assert out["status"] == "alert" and out["error"] == "DriftAlert"
    assert out["reports"][0]["dataset_drift"] is True
    assert marker.read_text().strip() == "alert churn@1"
    assert "<svg" in html.read_text()


def test_monitor_exits_0_without_alert_and_prints_a_table(
    services, model, store_url, tmp_path, capsys
):
    batch = tmp_path / "same.csv"
    pacsv.write_csv(world(1200, 22, label=False), batch)
    code = main(["monitor", model, "--batch", str(batch), "--store", store_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "churn@1" in out and "x1" in out and "wasserstein" in out
    assert services.monitoring.reports("churn")[0]["source"] == "batch"


def test_monitor_refuses_a_bad_setting_and_a_missing_source(services, model, store_url, capsys):
    assert (
        main(["monitor", model, "--dataset", "train", "--set", "psi=1", "--store", store_url]) == 1
    )
    assert "Unknown drift setting" in capsys.readouterr().err
    try:
        main(["monitor", model, "--store", store_url])
    except SystemExit as exc:
        assert exc.code == 2


def test_retrain_cli_reports_the_comparison(services, model, store_url, capsys):
    services.datasets.add_table(world(700, 23), name="more", source_kind="test")
    code = main(["retrain", model, "--data", "more", "--store", store_url, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["challenger"] == "churn@2" and out["decision"] == "not asked"
    assert out["comparison"]["metric"] == "roc_auc"
    assert services.registry.resolve("churn@challenger").version == 2
    assert services.registry.resolve("churn@champion").version == 1
