"""Without a daemon (DOCKER_HOST at a dead socket) the CLI and the panel say so and how to
start one; plus the pieces that need no daemon: pins, Dockerfile, labels."""

from __future__ import annotations

import pytest

from app.cli import main
from app.core.deploy.context import image_labels, render_dockerfile
from app.core.deploy.requirements import requirement_set
from app.core.errors import InvalidInput


@pytest.fixture
def dead_docker(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-daemon.sock'}")


def test_cli_says_the_daemon_is_unreachable_and_how_to_start_it(
    dead_docker, store_url, capsys
) -> None:
    for argv in (["deployments", "list"], ["deploy", "churn@1"], ["deployments", "stop", "1"]):
        code = main([*argv, "--store", store_url])
        err = capsys.readouterr().err
        assert code == 1, argv
        if argv[0] == "deployments" and argv[1] == "stop":
            assert "no deployment 1" in err.lower()  # nothing to ask the daemon about
            continue
        assert err.startswith("error: The Docker daemon at unix://")
        assert "is unreachable" in err and "Start the Docker daemon" in err


def test_panel_says_the_daemon_is_unreachable(dead_docker, services, qtbot) -> None:
    from app.jobs.runner import JobRunner
    from app.ui.panels.deploy_panel import build_panel

    runner = JobRunner()
    try:
        panel = build_panel(services, runner)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: panel.docker_state()[0] is False, timeout=20_000)
        text = panel.docker_label.text()  # a fixed line, not a message that comes and goes
        assert "unreachable" in text and "start" in text and "ci/" not in text
        assert panel.status.text() == "Docker unreachable"
        panel.close()
    finally:
        runner.shutdown()


def test_pins_are_the_runs_versions_and_the_rest_constraints() -> None:
    packages = {
        "scikit-learn": "1.9.1",
        "numpy": "2.4.6",
        "scipy": "1.17.1",
        "pandas": "3.1.1",
        "skops": "0.16.0",
        "joblib": "1.6.0",
        "threadpoolctl": "3.8.0",
        "fastapi": "0.100.0",
        "pydantic": "2.1.0",
        "PySide6_Essentials": "6.11.0",
    }
    reqs = requirement_set(packages, "3.11.2")
    assert reqs.python == "3.11"
    assert "scikit-learn==1.9.1" in reqs.requirements and "fastapi==0.100.0" in reqs.requirements
    assert any(r.startswith("uvicorn==") for r in reqs.requirements)  # ours when unrecorded
    assert "pydantic==2.1.0" in reqs.constraints
    assert "pyside6-essentials==6.11.0" in reqs.constraints
    assert not any(c.startswith("scikit-learn") for c in reqs.constraints)
    with pytest.raises(InvalidInput, match="scikit-learn"):
        requirement_set({k: v for k, v in packages.items() if k != "scikit-learn"}, "3.11")


def test_dockerfile_is_multi_stage_offline_non_root_with_model_last() -> None:
    meta = {"name": "churn", "version": 3, "artifact_sha256": "ab" * 32, "run_id": 7}
    labels = image_labels(meta, "base:1")
    text = render_dockerfile(
        base_image="base:1", tag="modeldesk/churn:v3", labels=labels, model_ref="churn@3"
    )
    assert "{{" not in text
    assert text.count("FROM ${BASE_IMAGE}") == 2 and "ARG BASE_IMAGE=base:1" in text
    assert "--no-index --find-links" in text and "USER 10001:10001" in text
    assert "HEALTHCHECK" in text and "/v2/health/ready" in text and "EXPOSE 8080" in text
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith((" ", "#"))]
    assert lines[-2].startswith("COPY model/model.json model/model.skops")
    assert lines[-1].startswith("LABEL")
    assert '"io.modeldesk.sha256"="' + "ab" * 32 + '"' in text
    assert labels["io.modeldesk.run"] == "7" and labels["io.modeldesk.version"] == "3"


def test_startup_reconcile_is_quiet_without_a_daemon_and_keeps_the_rows(
    dead_docker, services
) -> None:
    """The main window's start-up job: never an error, never a guess about the rows."""
    from datetime import UTC, datetime

    from app.core.deploy import reconcile_at_startup
    from app.core.store.models_deploy import DeploymentRow

    assert reconcile_at_startup(services) == []  # nothing active: the daemon is not even asked

    def add(s):
        row = DeploymentRow(
            container_id="c0ffee",
            status="running",
            options={},
            smoke_test={"ok": True},
            owner="elsewhere:1",
            created_at=datetime.now(UTC),
        )
        s.add(row)
        s.flush()
        return row.id

    dep_id = services.store.write(add)
    assert reconcile_at_startup(services) == []
    assert services.deployments.deployment(dep_id).status == "running"
