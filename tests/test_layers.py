"""The layering rules of DESIGN.md, enforced: no Qt below the UI, serving stands alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).parents[1] / "app"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "matplotlib.backends.backend_qt")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.append("." * node.level + (node.module or ""))
    return names


def test_core_jobs_serving_never_import_qt() -> None:
    offenders = [
        f"{p.relative_to(APP)}: {name}"
        for layer in ("core", "jobs", "serving")
        for p in (APP / layer).rglob("*.py")
        for name in _imports(p)
        if name.startswith(QT)
    ]
    assert offenders == []


def test_serving_imports_nothing_else_from_app() -> None:
    """Serving is copied into images as it is: its own modules are imported relatively, and
    nothing of ``app`` is imported by name, not even ``app.serving``."""
    offenders = [
        f"{p.relative_to(APP)}: {name}"
        for p in (APP / "serving").rglob("*.py")
        for name in _imports(p)
        if name == "app" or name.startswith("app.") or name.startswith("..")
    ]
    assert offenders == []


def test_core_and_jobs_import_with_qt_unimportable(tmp_path: Path) -> None:
    """Import every module under core, jobs and serving with PySide6 blocked."""
    modules = sorted(
        ".".join(p.relative_to(APP.parent).with_suffix("").parts)
        for layer in ("core", "jobs", "serving")
        for p in (APP / layer).rglob("*.py")
        if "migrations" not in p.parts
    )
    code = (
        "import sys, importlib\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'):\n"
        "            raise ImportError('Qt is not allowed here: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print('ok', len(sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=APP.parent, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok")
