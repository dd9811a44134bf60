"""The status bar's Docker state and the Docker check behind it."""

from __future__ import annotations

import threading

from app.core.docker_status import DockerStatus, check_docker
from app.ui.status_bar import StatusBar, jobs_text


def test_check_docker_never_raises_and_says_what_to_do(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-daemon.sock'}")
    status = check_docker(timeout=1.0)
    assert status.ok is False
    assert status.message.startswith("Docker unreachable: ")
    assert "sudo systemctl start docker" in status.message and "DOCKER_HOST" in status.message
    assert status.label == "Docker unreachable"


def test_status_bar_shows_a_reachable_daemon_checked_off_the_gui_thread(qtbot, runner) -> None:
    threads: list[bool] = []

    def check() -> DockerStatus:
        threads.append(threading.current_thread() is threading.main_thread())
        return DockerStatus(True, "Docker 28.2.2")

    bar = StatusBar(store_display="sqlite:///x.db", runner=runner, check=check)
    qtbot.addWidget(bar)
    with qtbot.waitSignal(bar.docker_changed, timeout=10_000):
        bar.check_docker_now()
    assert bar.docker_label.text() == "Docker 28.2.2"
    assert threads == [False]
    bar.stop()


def test_jobs_text() -> None:
    assert [jobs_text(n) for n in (0, 1, 3)] == [
        "No jobs running",
        "1 job running",
        "3 jobs running",
    ]


def test_status_bar_names_the_artifact_location_and_the_cluster(qtbot, runner) -> None:
    bar = StatusBar(
        store_display="postgresql+psycopg://md:***@db:5432/team",
        artifacts_display="s3://team-bucket/modeldesk",
        cluster_display="tcp://10.0.0.5:8786",
        runner=runner,
        check=lambda: DockerStatus(True, "Docker 28.2.2"),
    )
    qtbot.addWidget(bar)
    assert "s3://team-bucket/modeldesk" in bar.store_label.text()
    assert bar.cluster_label.text() == "Cluster: tcp://10.0.0.5:8786"
    assert "Cluster: tcp://10.0.0.5:8786" in bar.store_label.toolTip()
    assert "Artifacts: s3://team-bucket/modeldesk" in bar.store_label.toolTip()
    alone = StatusBar(store_display="sqlite:///x.db", runner=runner, check=bar._check)
    qtbot.addWidget(alone)
    assert alone.store_label.text() == "Store: sqlite:///x.db"
    assert alone.cluster_label.isHidden() and "none (this machine)" in alone.store_label.toolTip()
    bar.stop()
    alone.stop()
