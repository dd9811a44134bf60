#!/usr/bin/env python3
"""Build what ModelDesk ships: wheel and sdist, the desktop bundle, icons and samples.

    python packaging/build.py dist      # dist/modeldesk-X.whl and dist/modeldesk-X.tar.gz
    python packaging/build.py bundle    # dist/modeldesk/ (PyInstaller, one folder) + .tar.gz
    python packaging/build.py icons     # PNGs of app/resources/icons/modeldesk.svg
    python packaging/build.py samples   # app/resources/samples/*

``dist`` needs the ``build`` package, ``bundle`` the ``bundle`` extra (PyInstaller) installed
in the environment that runs it, next to ModelDesk itself; ``icons`` needs PySide6. The Makefile
targets ``dist`` and ``bundle`` install those first. Each command prints what it made and how big
it is; the last line of ``bundle`` is ``bundle: PATH SIZE_MB MB``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
SPEC = PACKAGING / "modeldesk.spec"
RESOURCES = REPO / "app" / "resources"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def folder_size(path: Path) -> int:
    """Bytes used by the files under ``path`` (symlinks counted once, as links)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def mb(size: int) -> str:
    return f"{size / 1e6:.1f}"


# -- dist ----------------------------------------------------------------------------------


def build_dist(outdir: Path, source: Path = REPO) -> list[Path]:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    outdir.mkdir(parents=True, exist_ok=True)
    # setuptools adds every file a stale egg-info/SOURCES.txt lists to the sdist (even
    # __pycache__ files that are long gone from the package data): start from a fresh list.
    for stale in source.glob("*.egg-info/SOURCES.txt"):
        stale.unlink()
    before = set(outdir.iterdir())
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(source)], check=True
    )
    made = sorted(set(outdir.iterdir()) - before) or sorted(outdir.glob("modeldesk-*"))
    for path in made:
        print(f"dist: {path} {mb(path.stat().st_size)} MB")
    return made


# -- bundle --------------------------------------------------------------------------------


def build_bundle(distpath: Path, workpath: Path, *, archive: bool) -> Path:
    """PyInstaller one-folder bundle of the ModelDesk installed in this environment."""
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(distpath),
            "--workpath",
            str(workpath),
            str(SPEC),
        ],
        check=True,
    )
    bundle = distpath / "modeldesk"
    print(f"built in {time.monotonic() - started:.0f} s")
    if archive:
        import platform
        from importlib.metadata import version

        name = f"modeldesk-{version('modeldesk')}-linux-{platform.machine()}"
        target = distpath / f"{name}.tar.gz"
        with tarfile.open(target, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=name)
        print(f"archive: {target} {mb(target.stat().st_size)} MB")
    print(f"bundle: {bundle} {mb(folder_size(bundle))} MB")
    return bundle


# -- icons ---------------------------------------------------------------------------------


def render_icons(svg: Path, outdir: Path, sizes: tuple[int, ...] = ICON_SIZES) -> list[Path]:
    """Render ``svg`` to ``modeldesk-<size>.png`` for each size (Qt's SVG renderer)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not an SVG Qt can render")
    made = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        target = outdir / f"modeldesk-{size}.png"
        if not image.save(str(target), "PNG"):
            raise SystemExit(f"error: could not write {target}")
        made.append(target)
        print(f"icon: {target}")
    return made


# -- samples -------------------------------------------------------------------------------

IRIS_SPECIES = ("setosa", "versicolor", "virginica")


def write_iris(target: Path) -> None:
    """Fisher's iris data (public domain), from the copy scikit-learn ships."""
    from importlib import resources

    raw = resources.files("sklearn.datasets") / "data" / "iris.csv"
    lines = raw.read_text(encoding="utf-8").splitlines()[1:]
    out = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    for line in lines:
        *measures, label = line.split(",")
        out.append(",".join([*measures, IRIS_SPECIES[int(label)]]))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"sample: {target} ({len(out) - 1} rows)")


def write_apartments(target: Path, rows: int = 240, seed: int = 7) -> None:
    """A made-up regression table (apartment prices) as an Excel workbook with two sheets."""
    import numpy as np
    from openpyxl import Workbook

    rng = np.random.default_rng(seed)
    districts = ["Centre", "Riverside", "Old Town", "Harbour", "Hills"]
    premium = {"Centre": 1.35, "Riverside": 1.15, "Old Town": 1.25, "Harbour": 1.05, "Hills": 0.9}
    wb = Workbook()
    sheet = wb.active
    sheet.title = "apartments"
    sheet.append(
        ["area_m2", "rooms", "floor", "district", "year_built", "balcony", "listed", "price_eur"]
    )
    for i in range(rows):
        area = float(np.round(rng.uniform(28, 140), 1))
        rooms = int(max(1, min(6, round(area / 28 + rng.normal(0, 0.6)))))
        floor = int(rng.integers(0, 12))
        district = districts[int(rng.integers(0, len(districts)))]
        year = int(rng.integers(1905, 2024))
        balcony = bool(rng.random() < 0.55)
        listed = f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        age_factor = 1.0 - min(0.25, (2024 - year) / 500)
        price = (
            area * 3100 * premium[district] * age_factor
            + rooms * 4000
            + floor * 900
            + (6500 if balcony else 0)
            + rng.normal(0, 12000)
        )
        row = [area, rooms, floor, district, year, balcony, listed, round(price, -2)]
        if i % 23 == 5:  # a few missing values, as real data has
            row[4] = None
        sheet.append(row)
    notes = wb.create_sheet("about")
    notes.append(["A made-up sample: apartment prices for a regression on price_eur."])
    notes.append(["Generated by packaging/build.py samples; not real listings."])
    wb.properties.creator = "ModelDesk"
    wb.save(target)
    print(f"sample: {target} ({rows} rows)")


def write_samples(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    write_iris(outdir / "iris.csv")
    write_apartments(outdir / "apartments.xlsx")


# -- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("dist", help="wheel and sdist with python -m build")
    p.add_argument("--outdir", type=Path, default=REPO / "dist")
    p.add_argument("--source", type=Path, default=REPO, help="project folder (default: this)")
    p = sub.add_parser("bundle", help="one-folder desktop bundle with PyInstaller")
    p.add_argument("--distpath", type=Path, default=REPO / "dist")
    p.add_argument("--workpath", type=Path, default=REPO / "build" / "pyinstaller")
    p.add_argument("--no-archive", action="store_true", help="skip the .tar.gz")
    sub.add_parser("icons", help="render the PNG icons from the SVG")
    sub.add_parser("samples", help="write the sample datasets")
    args = parser.parse_args(argv)

    if args.command == "dist":
        build_dist(args.outdir, args.source)
    elif args.command == "bundle":
        if shutil.which("objdump") is None and sys.platform.startswith("linux"):
            print("warning: objdump (binutils) is missing; PyInstaller may need it")
        build_bundle(args.distpath, args.workpath, archive=not args.no_archive)
    elif args.command == "icons":
        render_icons(RESOURCES / "icons" / "modeldesk.svg", RESOURCES / "icons")
    elif args.command == "samples":
        write_samples(RESOURCES / "samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
