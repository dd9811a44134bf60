"""The CLI's last line of defence, in real processes: a bug is one ``error:`` line and a log.

The unexpected exceptions come from real code: a command group registered through the real
parser whose handler parses a broken JSON file (``json.JSONDecodeError``), and artifact
shard folders that are files (``NotADirectoryError`` from the artifact store today).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import app

REPO = Path(app.__file__).resolve().parents[1]
LINE = re.compile(
    r"^error: ModelDesk hit an unexpected problem: (?P<type>\w+): .+\. "
    r"The details are in (?P<log>\S+); please include it when you report this\.$"
)

CRASH_GROUP = """
import json, signal, time
from app.cli import add_common

def register(commands):
    p = commands.add_parser("crash")
    p.add_argument("file")
    p.add_argument("--interrupt", action="store_true")
    add_common(p)
    p.set_defaults(handler=handle)

def handle(services, args):
    if args.interrupt:  # as Ctrl+C does; raise() targets this thread, and the handler may
        signal.raise_signal(signal.SIGINT)  # still run a moment later on a loaded machine
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.01)
    with open(args.file) as f:
        return json.load(f), "never"
"""

LAUNCH = """
import sys
import app.cli
app.cli.GROUPS["crash"] = "crash_group"
sys.exit(app.cli.main(sys.argv[1:]))
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A process environment whose user log folder is under tmp_path (XDG_STATE_HOME)."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "crash_group.py").write_text(textwrap.dedent(CRASH_GROUP))
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(plugins)]),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


def modeldesk(env: dict[str, str], *argv: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        **kwargs,
    )


def crash(env: dict[str, str], tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    broken = tmp_path / "broken.json"
    broken.write_text('{"not": json')
    store = tmp_path / "store" / "md.db"
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, "crash", str(broken), "--store", str(store), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        # as from a terminal: a background job (CI's) inherits SIGINT ignored, and Python then
        # installs no Ctrl+C handler at all
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_an_unexpected_exception_is_one_line_and_a_traceback_in_the_log(env, tmp_path) -> None:
    done = crash(env, tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    match = LINE.match(lines[0])
    assert match, lines[0]
    assert match["type"] == "JSONDecodeError"
    log = Path(match["log"])
    assert log == tmp_path / "state" / "ModelDesk" / "log" / "cli.log"
    logged = log.read_text()
    assert "Traceback (most recent call last)" in logged
    assert "crash_group.py" in logged and "json.decoder.JSONDecodeError" in logged


def test_with_json_the_error_object_is_on_stdout(env, tmp_path) -> None:
    done = crash(env, tmp_path, "--json")
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["error"] == "UnexpectedError"
    assert payload["exception"] == "JSONDecodeError"
    assert payload["message"].startswith("ModelDesk hit an unexpected problem: JSONDecodeError")
    assert Path(payload["log_file"]).is_file()
    assert len(done.stderr.splitlines()) == 1 and LINE.match(done.stderr.strip())


def test_the_log_rotates_and_keeps_earlier_reports(env, tmp_path) -> None:
    folder = tmp_path / "state" / "ModelDesk" / "log"
    folder.mkdir(parents=True)
    (folder / "cli.log").write_text("x" * 1_000_100)
    assert crash(env, tmp_path).returncode == 1
    assert (folder / "cli.log.1").read_text().startswith("xxx")
    assert "JSONDecodeError" in (folder / "cli.log").read_text()


def test_an_unwritable_log_folder_falls_back_to_a_temporary_file(env, tmp_path) -> None:
    (tmp_path / "state").write_text("a file where the folder should be")  # fails even as root
    done = crash(env, tmp_path)
    assert done.returncode == 1
    match = LINE.match(done.stderr.strip())
    assert match, done.stderr
    assert "JSONDecodeError" in Path(match["log"]).read_text()
    Path(match["log"]).unlink()


def test_ctrl_c_is_still_interrupted(env, tmp_path) -> None:
    done = crash(env, tmp_path, "--interrupt")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: Interrupted."


@pytest.mark.parametrize("as_json", [False, True])
def test_a_reader_that_went_away_ends_quietly(env, tmp_path, as_json) -> None:
    """``modeldesk datasets list --json | head``: the pipe is closed before anything is read."""
    store = tmp_path / "store" / "md.db"
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader at all: the first write fails with EPIPE, deterministically
    try:
        flags = ["--json"] if as_json else []
        done = modeldesk(env, "datasets", "list", "--store", str(store), *flags, stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


def test_a_shell_pipe_into_head_ends_quietly(env, tmp_path) -> None:
    """A real ``| head -c 1`` on output larger than the pipe buffer."""
    store = tmp_path / "store" / "md.db"
    (tmp_path / "wide.csv").write_text(
        ",".join(f"column_{i}" for i in range(3000)) + "\n" + ",".join("1" * 3000) + "\n"
    )
    add = modeldesk(env, "datasets", "add", str(tmp_path / "wide.csv"), "--store", str(store))
    assert add.returncode == 0, add.stderr
    script = (
        f"set -o pipefail; '{sys.executable}' -m app datasets show wide@1 --json "
        f"--store '{store}' | head -c 1 >/dev/null"
    )
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stderr == ""
    assert done.returncode == 141


def test_a_real_os_error_inside_the_store_is_one_line(env, tmp_path) -> None:
    """Artifact shard folders that are files: whatever the artifact store raises, one line."""
    store = tmp_path / "store" / "md.db"
    first = modeldesk(env, "datasets", "list", "--store", str(store))
    assert first.returncode == 0, first.stderr
    for i in range(256):
        (store.parent / "artifacts" / f"{i:02x}").write_text("")
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    done = modeldesk(env, "datasets", "add", str(data), "--store", str(store))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
