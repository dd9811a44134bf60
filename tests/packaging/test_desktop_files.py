"""Linux desktop integration: the .desktop entry, AppStream metainfo, MIME types, icons, and
install-desktop.sh putting them in place for one user. Fast: no build involved."""

from __future__ import annotations

import configparser
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app import resources
from tests.packaging.conftest import APP_ID, LINUX, REPO, VERSION, need_tool, run

DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME_XML = LINUX / f"{APP_ID}.mime.xml"
INSTALLER = LINUX / "install-desktop.sh"
OPENS = {  # what the issue asks the file manager to offer ModelDesk for
    "text/csv",
    "application/vnd.apache.parquet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
}


def desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


# -- the files as shipped --------------------------------------------------------------------


def test_desktop_entry_is_valid() -> None:
    tool = need_tool("desktop-file-validate", "desktop-file-utils")
    done = run([tool, DESKTOP], timeout=30)
    assert "error" not in done.stdout.lower(), done.stdout


def test_metainfo_is_valid() -> None:
    tool = need_tool("appstreamcli", "appstream")
    run([tool, "validate", "--no-net", METAINFO], timeout=60)


def test_desktop_entry_opens_files_and_names_our_icon() -> None:
    entry = desktop_entry()
    assert entry["Exec"].split()[-1] == "%F"  # paths, which the CLI ingests
    assert entry["Exec"].split()[0] == entry["TryExec"] == "modeldesk"
    assert entry["Icon"] == APP_ID == resources.APP_ID
    assert set(entry["MimeType"].rstrip(";").split(";")) >= OPENS


def test_metainfo_matches_the_desktop_entry_and_the_version() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == APP_ID
    mediatypes = {m.text for m in root.iter("mediatype")}
    assert mediatypes == set(desktop_entry()["MimeType"].rstrip(";").split(";"))
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == VERSION  # newest first, and it is this version


def test_mime_xml_defines_parquet_by_magic_and_glob(tmp_path: Path) -> None:
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    types = ET.parse(MIME_XML).getroot().findall("m:mime-type", ns)
    parquet = next(t for t in types if t.get("type") == "application/vnd.apache.parquet")
    assert {g.get("pattern") for g in parquet.findall("m:glob", ns)} >= {"*.parquet"}
    assert parquet.find("m:magic/m:match", ns).get("value") == "PAR1"

    tool = need_tool("update-mime-database", "shared-mime-info")
    (tmp_path / "mime" / "packages").mkdir(parents=True)
    (tmp_path / "mime" / "packages" / MIME_XML.name).write_bytes(MIME_XML.read_bytes())
    done = run([tool, "-V", tmp_path / "mime"], timeout=60)
    assert "error" not in done.stderr.lower(), done.stderr
    globs = (tmp_path / "mime" / "globs2").read_text()
    assert "application/vnd.apache.parquet:*.parquet" in globs


# -- icons -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", resources.ICON_SIZES)
def test_png_icons_are_square_at_their_size(qapp, size: int) -> None:
    from PySide6.QtGui import QImage

    image = QImage(str(resources.icon_path(size)))
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()


def test_png_icons_are_renderings_of_the_svg(qapp, tmp_path: Path) -> None:
    """Edit the SVG, then run `python packaging/build.py icons`: this fails until then."""
    import importlib.util

    from PySide6.QtGui import QImage

    spec = importlib.util.spec_from_file_location("build", REPO / "packaging" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rendered = build.render_icons(resources.icon_path(), tmp_path, sizes=(64,))[0]
    fresh, shipped = QImage(str(rendered)), QImage(str(resources.icon_path(64)))
    diff = sum(
        abs(fresh.pixelColor(x, y).value() - shipped.pixelColor(x, y).value())
        + abs(fresh.pixelColor(x, y).alpha() - shipped.pixelColor(x, y).alpha())
        for x in range(64)
        for y in range(64)
    ) / (64 * 64)
    assert diff < 4.0, f"the PNGs are stale: mean difference {diff:.1f}/255"


# -- install-desktop.sh ----------------------------------------------------------------------


def install(data_home: Path, *args: str, script: Path = INSTALLER, path: str | None = None):
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    if path is not None:
        env["PATH"] = path
    return run(["sh", script, *args], env=env, timeout=120)


def test_install_desktop_puts_every_file_in_place_and_uninstall_removes_them(
    tmp_path: Path,
) -> None:
    need_tool("update-desktop-database", "desktop-file-utils")
    validate = need_tool("desktop-file-validate", "desktop-file-utils")
    appstream = need_tool("appstreamcli", "appstream")
    weird = tmp_path / "my apps" / "model$desk"  # a space and a $ to quote
    weird.parent.mkdir()
    weird.write_text("#!/bin/sh\nexit 0\n")
    weird.chmod(0o755)
    root = tmp_path / "root"
    data_home = root / "usr" / "share"

    install(data_home, "--exec", str(weird))

    desktop = data_home / "applications" / f"{APP_ID}.desktop"
    run([validate, desktop], timeout=30)
    entry = desktop_entry(desktop)
    assert entry["TryExec"] == str(weird)
    # Desktop Entry quoting: "…" around the path, \$ inside, and the backslash escaped again.
    assert entry["Exec"] == f'"{tmp_path}/my apps/model\\\\$desk" %F'
    for size in resources.ICON_SIZES:
        assert (data_home / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file()
    assert (data_home / f"icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    assert (data_home / f"mime/packages/{APP_ID}.xml").is_file()
    cache = (data_home / "applications" / "mimeinfo.cache").read_text()
    for mime in OPENS:
        assert f"{mime}={APP_ID}.desktop;" in cache
    # The installed tree as AppStream sees it: metainfo, its desktop entry and its icons.
    run([appstream, "validate-tree", "--no-net", root], timeout=60)

    install(data_home, "--uninstall")
    left = [p.name for p in data_home.rglob(f"{APP_ID}*")]
    assert left == []


def test_install_desktop_uses_modeldesk_on_path_by_default(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "modeldesk"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    data_home = tmp_path / "share"
    install(data_home, path=f"{bin_dir}:/usr/bin:/bin")
    assert desktop_entry(data_home / "applications" / f"{APP_ID}.desktop")["Exec"] == (f"{exe} %F")


def test_install_desktop_without_an_executable_says_what_to_do(tmp_path: Path) -> None:
    import subprocess

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["sh", INSTALLER], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "--exec" in done.stderr
    assert not (tmp_path / "applications").exists()
