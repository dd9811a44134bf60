"""MonitorService over a registered version: reference = its training data; stored reports."""

from __future__ import annotations

import json

import pyarrow.csv as pacsv
import pytest

from app.core.errors import InvalidInput
from app.core.store.models_monitoring import DriftReportRow

from .conftest import world, write_log

pytestmark = pytest.mark.both_stores


def test_a_shifted_dataset_version_alerts_and_the_report_is_stored(services, model):
    services.datasets.add_table(world(2000, 1, shift=1.5), name="new", source_kind="test")
    [report] = services.monitoring.check(model, dataset="new@1")
    assert report.id is not None and report.model["name"] == "churn"
    assert report.reference["label"] == "train@1" and report.reference["rows"] == 1500
    assert report.feature("x1").status == "alert" and report.feature("x2").status == "ok"
    assert report.prediction is not None and report.prediction.kind == "categorical"
    assert report.prediction.status == "alert"  # many more 'yes' with x1 moved up
    assert report.status == "alert"
    # labelled batch: metrics against training
    assert {r["metric"] for r in report.metrics["rows"]} >= {"accuracy"}
    again = services.monitoring.report(report.id)
    assert again == report
    stored = services.monitoring.reports("churn")
    assert stored[0]["id"] == report.id and stored[0]["status"] == "alert"
    assert stored[0]["features"]["x1"]["status"] == "alert"
    audit = services.registry.audit_log("churn")
    assert audit[-1].action == "monitor.alert" and audit[-1].details["drifted"][0] == "x1"


def test_reports_build_a_trend(services, model):
    for seed, shift in ((1, 0.0), (2, 0.5), (3, 1.5)):
        services.datasets.add_table(
            world(1200, seed, shift=shift), name=f"b{seed}", source_kind="t"
        )
        services.monitoring.check(model, dataset=f"b{seed}")
    trend = services.monitoring.trend("churn")
    assert [t["features"]["x1"]["value"] for t in trend] == sorted(
        t["features"]["x1"]["value"] for t in trend
    )
    assert trend[0]["status"] != "alert" and trend[-1]["status"] == "alert"


def test_a_batch_file_is_ingested_and_bad_batches_are_refused(services, model, tmp_path):
    path = tmp_path / "batch.csv"
    pacsv.write_csv(world(800, 4, label=False), path)
    [report] = services.monitoring.check(model, batch=path, store=False)
    assert report.current["label"].startswith("churn-batches@")
    assert report.metrics is None and report.status in ("ok", "warning")
    bad = tmp_path / "bad.csv"
    pacsv.write_csv(world(50, 4).drop(["x2"]), bad)
    with pytest.raises(InvalidInput, match="lacks the model's column\\(s\\) 'x2'"):
        services.monitoring.check(model, batch=bad)
    text = tmp_path / "text.csv"
    text.write_text("x1,x2,city\nabc,1.0,paris\ndef,2.0,lyon\n")
    with pytest.raises(InvalidInput, match=r"Column 'x1' of text.csv .*'abc' in row 1"):
        services.monitoring.check(model, batch=text)
    with services.store.session() as s:
        assert s.query(DriftReportRow).count() == 0


def test_prediction_log_windows_and_an_empty_log(services, model, tmp_path):
    from datetime import UTC, datetime

    from app.core.store.models_deploy import DeploymentRow

    folder = tmp_path / "log"
    write_log(folder, world(600, 5, shift=1.5), step_s=300, rotate_every=200)  # 50 h of rows
    (folder / "predictions-current.jsonl").open("a").write('{"ts": "2026-11-2')  # torn line
    version = services.registry.resolve(model)
    with services.store.session(write=True) as s:
        s.add(
            DeploymentRow(
                id=7,
                model_version_id=version.id,
                status="running",
                options={"log_dir": str(folder)},
                created_at=datetime.now(UTC),
            )
        )
        s.add(
            DeploymentRow(
                id=8,
                model_version_id=version.id,
                status="running",
                options={"log_dir": str(tmp_path / "empty")},
                created_at=datetime.now(UTC),
            )
        )
    reports = services.monitoring.check(model, deployment=7, window="day")
    assert [r.window["start"][:10] for r in reports] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert sum(r.current["rows"] for r in reports) == 600
    assert all(r.feature("x1").status == "alert" for r in reports)
    [whole] = services.monitoring.check(model, deployment=7)
    assert whole.current["rows"] == 600 and whole.current["deployment_id"] == 7
    assert services.monitoring.reports(deployment=7)[0]["id"] == whole.id
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match=r"prediction log in .* is empty"):
        services.monitoring.check(model, deployment=8)


def test_export_html_and_json(services, model, tmp_path):
    services.datasets.add_table(world(900, 9, shift=1.0), name="new", source_kind="test")
    [report] = services.monitoring.check(model, dataset="new")
    html = services.monitoring.export(report, tmp_path / "r.html").read_text()
    assert "<svg" in html and "churn@1" in html and "<script" not in html
    data = json.loads(services.monitoring.export(report, tmp_path / "r.json").read_text())
    assert data["id"] == report.id and data["features"][0]["name"] == "x1"


def test_a_refused_batch_leaves_no_dataset_version(services, model, tmp_path):
    bad = tmp_path / "bad.csv"
    pacsv.write_csv(world(50, 4).drop(["city"]), bad)
    before = [d.name for d in services.datasets.list()]
    with pytest.raises(InvalidInput, match="'city'"):
        services.monitoring.check(model, batch=bad)
    assert [d.name for d in services.datasets.list()] == before
