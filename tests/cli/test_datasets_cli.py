"""`modeldesk datasets …`: JSON on stdout only, one `error:` line on stderr, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_show_export_rm_restore(capsys, store_url, small_csv, tmp_path) -> None:
    code, out, err = run(capsys, "datasets", "add", str(small_csv), "--store", store_url, "--json")
    assert code == 0, err
    added = json.loads(out)
    assert (added["name"], added["version"], added["rows"], added["created"]) == (
        "iris_like",
        1,
        60,
        True,
    )

    code, out, _ = run(capsys, "datasets", "list", "--store", store_url, "--json")
    assert json.loads(out) == [
        {**json.loads(out)[0], "name": "iris_like", "versions": 1, "rows": 60, "cols": 6}
    ]

    code, out, _ = run(capsys, "datasets", "show", "iris_like@1", "--store", store_url)
    assert code == 0 and "iris_like@1" in out and "identifier" in out

    target = tmp_path / "out.parquet"
    code, out, _ = run(
        capsys, "datasets", "export", "iris_like", "-o", str(target), "--store", store_url, "--json"
    )
    assert code == 0 and json.loads(out)["path"] == str(target) and target.stat().st_size > 0

    assert run(capsys, "datasets", "rm", "iris_like", "--store", store_url)[0] == 0
    code, out, _ = run(capsys, "datasets", "list", "--store", store_url, "--json")
    assert json.loads(out) == []
    assert run(capsys, "datasets", "restore", "iris_like", "--store", store_url)[0] == 0
    code, out, _ = run(capsys, "datasets", "list", "--store", store_url, "--json")
    assert [d["name"] for d in json.loads(out)] == ["iris_like"]


def test_error_is_one_line_on_stderr_with_exit_1(capsys, store_url, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, out, err = run(capsys, "datasets", "add", str(empty), "--store", store_url)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "empty.csv" in lines[0]


def test_json_error_object(capsys, store_url) -> None:
    code, out, err = run(capsys, "datasets", "show", "nope", "--store", store_url, "--json")
    assert code == 1
    assert json.loads(out)["error"] == "NotFound"
    assert err.startswith("error: No dataset named 'nope'")


def test_usage_error_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["datasets", "frobnicate"])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_store_from_environment(capsys, monkeypatch, store_url, small_csv) -> None:
    monkeypatch.setenv("MODELDESK_STORE", store_url)
    assert run(capsys, "datasets", "add", str(small_csv), "--name", "envds")[0] == 0
    from app.bootstrap import build_services

    svc = build_services(store_url)
    assert [d.name for d in svc.datasets.list()] == ["envds"]


def test_console_script_prints_json_only(store_url, small_csv) -> None:
    exe = Path(sys.executable).with_name("modeldesk")
    proc = subprocess.run(
        [str(exe), "datasets", "add", str(small_csv), "--store", store_url, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] == 60


def test_killed_mid_ingest_leaves_nothing(store_url, tmp_path) -> None:
    """kill -9 during the read: no dataset row, no temporary or unreferenced file."""
    big = tmp_path / "big.csv"
    with open(big, "w") as fh:
        fh.write("a,b,c,d\n")
        for i in range(1_500_000):
            fh.write(f"{i},{i * 0.5},name{i % 1000},{i % 7}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "datasets", "add", str(big), "--store", store_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    from app.core.paths import artifacts_dir_for

    tmp_dir = artifacts_dir_for(store_url) / "tmp"
    deadline = time.monotonic() + 60
    while not (tmp_dir.exists() and any(tmp_dir.iterdir())):  # it is writing the snapshot
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    from app.bootstrap import build_services
    from tests.conftest import store_snapshot

    svc = build_services(store_url)  # start-up recovery runs here
    versions, artifacts, files = store_snapshot(svc)
    assert (versions, artifacts) == (0, 0)
    assert files == []
