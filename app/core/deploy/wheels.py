"""The local wheel cache that lets images build with the network off.

Wheels for the image's platform (manylinux x86-64, CPython of the run's minor version) are
fetched once with ``pip download --only-binary`` into a folder named by the hash of the
requirement set, so every later build on the same dependencies starts from the same files
(and Docker's layer cache keeps the installed environment). A download goes to a temporary
folder renamed when complete: a cancelled or failed download never looks like a cache hit.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.core.deploy.requirements import RequirementSet
from app.core.errors import Cancelled, InvalidInput
from app.core.progress import NullProgress, Progress

PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
MARKER = "cache.json"


def cache_key(reqs: RequirementSet) -> str:
    text = json.dumps(
        {
            "python": reqs.python,
            "platforms": PLATFORMS,
            "requirements": sorted(reqs.requirements),
            "constraints": sorted(reqs.constraints),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


class WheelCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder_for(self, reqs: RequirementSet) -> Path:
        return self.root / cache_key(reqs)[:24]

    def ensure(
        self,
        reqs: RequirementSet,
        *,
        progress: Progress | None = None,
        on_log: Callable[[str], None] | None = None,
    ) -> Path:
        """The folder holding every wheel of ``reqs``, downloading them on a miss."""
        progress = progress or NullProgress()
        folder = self.folder_for(reqs)
        if (folder / MARKER).is_file():
            if on_log:
                on_log(f"Wheels from the cache ({folder.name}).")
            return folder
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.part-", dir=self.root))
        try:
            (tmp / "requirements.txt").write_text(reqs.requirements_text(), encoding="utf-8")
            (tmp / "constraints.txt").write_text(reqs.constraints_text(), encoding="utf-8")
            self._download(tmp, reqs, progress, on_log)
            wheels = sorted(p.name for p in tmp.glob("*.whl"))
            (tmp / MARKER).write_text(
                json.dumps({"key": cache_key(reqs), "wheels": wheels, "at": time.time()}),
                encoding="utf-8",
            )
            try:
                tmp.rename(folder)
            except OSError:
                if not (folder / MARKER).is_file():  # another builder won the race: fine
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def _download(
        self,
        dest: Path,
        reqs: RequirementSet,
        progress: Progress,
        on_log: Callable[[str], None] | None,
    ) -> None:
        cmd = [sys.executable, "-m", "pip", "download", "--only-binary=:all:"]
        for platform in PLATFORMS:
            cmd += ["--platform", platform]
        cmd += [
            "--python-version",
            reqs.python,
            "--implementation",
            "cp",
            "--abi",
            "cp" + reqs.python.replace(".", ""),
            "--progress-bar",
            "off",
            "-d",
            str(dest),
            "-r",
            str(dest / "requirements.txt"),
            "-c",
            str(dest / "constraints.txt"),
        ]
        if on_log:
            on_log("Downloading wheels: " + " ".join(reqs.requirements))
        env = {**os.environ, "PIP_NO_INPUT": "1"}
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            bufsize=1,
        )
        lines: list[str] = []
        total = max(1, len(reqs.requirements))
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                line = raw.rstrip()
                lines.append(line)
                if on_log and line:
                    on_log(line)
                if line.startswith(("Saved ", "File was already downloaded")):
                    done = sum(1 for x in lines if x.startswith(("Saved ", "File was already")))
                    progress.update(min(0.95, done / (total * 2.5)), "Downloading wheels")
                try:
                    progress.check_cancelled()
                except Cancelled:
                    proc.kill()
                    raise
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code != 0:
            failing = [x for x in lines if "ERROR" in x or "error" in x.lower()][-6:] or lines[-8:]
            raise InvalidInput(
                "The wheels for the image could not be downloaded:\n  " + "\n  ".join(failing),
                hint="Check the network or the pip index settings (pip config list); the "
                "image needs binary wheels of these exact versions for manylinux x86-64, "
                f"CPython {reqs.python}.",
            )
