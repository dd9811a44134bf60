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


# -- the arrows of DESIGN.md's layer diagram ---------------------------------------------------

GROUND = ("app.core.errors", "app.core.progress", "app.core.paths", "app.core.fsutil")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__")


def _absolute(path: Path, name: str) -> str:
    """A relative import ``..x`` made absolute, for the package ``path`` is in."""
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    rest = name.lstrip(".")
    return ".".join([*base, rest] if rest else base)


def _all_imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at the top, inside functions (lazily), or by
    ``importlib.import_module("...")`` with a literal name. ``from a import b`` counts as
    ``a`` and ``a.b`` (b may be a module)."""
    names = [_absolute(path, n) for n in _imports(path)]
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):  # ``from app import ui`` imports app.ui
            base = _absolute(path, "." * node.level + (node.module or ""))
            names += [f"{base}.{a.name}" for a in node.names if a.name != "*"]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _offenders(folder: Path, allowed, *, files=None) -> list[str]:
    paths = files if files is not None else sorted(folder.rglob("*.py"))
    return [
        f"{p.relative_to(APP)}: {name}"
        for p in paths
        if "migrations" not in p.parts
        for name in _all_imports(p)
        if (name == "app" or name.startswith("app.")) and not allowed(name)
    ]


def test_core_never_imports_ui_cli_or_bootstrap_not_even_lazily() -> None:
    forbidden = ("app.ui", "app.cli", "app.bootstrap")
    assert _offenders(APP / "core", lambda n: not _within(n, forbidden)) == []
    assert _offenders(APP / "jobs", lambda n: not _within(n, forbidden)) == []


def test_the_ground_imports_only_the_ground() -> None:
    files = [APP.parent / (m.replace(".", "/") + ".py") for m in GROUND]
    assert all(f.exists() for f in files)
    assert _offenders(APP, lambda n: _within(n, GROUND), files=files) == []


def test_the_store_imports_only_itself_and_the_ground() -> None:
    allowed = (*GROUND, "app.core.store")
    assert _offenders(APP / "core" / "store", lambda n: _within(n, allowed)) == []


def test_readers_know_files_and_urls_not_the_store() -> None:
    allowed = (*GROUND, "app.core.readers")
    assert _offenders(APP / "core" / "readers", lambda n: _within(n, allowed)) == []


def test_recipes_never_import_training() -> None:
    """Training builds on recipes (a recipe is the first step of a model), not the reverse."""
    assert (
        _offenders(APP / "core" / "recipes", lambda n: not _within(n, ("app.core.training",))) == []
    )


def test_registry_helpers_take_what_they_need_not_the_service() -> None:
    """``card`` and ``lineage`` get the store and the version; they never reach into
    ``RegistryService`` (nor call its private ``_insert_version``)."""
    offenders = []
    for name in ("card.py", "lineage.py"):
        path = APP / "core" / "registry" / name
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "_insert_version":
                offenders.append(f"{name}: ._insert_version")
            if isinstance(node, ast.Name | ast.alias) and "RegistryService" in (
                getattr(node, "id", None),
                getattr(node, "name", None),
            ):
                offenders.append(f"{name}: RegistryService")
        service = "app.core.registry.service"
        offenders += [f"{name}: {n}" for n in _all_imports(path) if n == service]
    assert offenders == []
