"""installer/linux/install.sh and uninstall.sh on a stand-in bundle, into a prefix of the test's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "installer" / "linux"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("bash") is None, reason="Linux desktop integration"
)


def _fake_bundle(folder: Path) -> Path:
    """What build.py produces, minus Python: two executables, icons, the linux/ scripts."""
    bundle = folder / "STM-Denoise"
    for exe in ("stmdenoise-gui", "stmdenoise"):
        path = bundle / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\necho bundle\n")
        path.chmod(0o755)
    for size in ("48x48", "256x256"):
        icon = bundle / "_internal" / "resources" / "icons" / "hicolor" / size / "apps" / "stmdenoise.png"
        icon.parent.mkdir(parents=True)
        icon.write_bytes(b"\x89PNG\r\n\x1a\n")
    shutil.copytree(LINUX, bundle / "linux")
    return bundle


def _run(script: Path, prefix: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STMDENOISE_PREFIX=str(prefix), HOME=str(home))
    env.pop("XDG_DATA_HOME", None)
    return subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=120)


def test_install_points_the_menu_at_the_installed_copy_and_uninstall_removes_it(tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path / "dist")
    prefix, home = tmp_path / "prefix", tmp_path / "home"
    user_data = home / ".local" / "share" / "stmdenoise"
    user_data.mkdir(parents=True)
    (user_data / "settings-kept.txt").write_text("mine")
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "stmdenoise").write_text("somebody else's\n")  # not ours: never replaced

    res = _run(bundle / "linux" / "install.sh", prefix, home)  # from inside the bundle, no argument
    assert res.returncode == 0, res.stdout + res.stderr
    app = prefix / "lib" / "stm-denoise"
    assert (app / "stmdenoise-gui").is_file()
    desktop = (prefix / "share" / "applications" / "stmdenoise.desktop").read_text()
    assert f"Exec={app}/stmdenoise-gui %F" in desktop
    assert str(ROOT) not in desktop and str(bundle) not in desktop  # not the checkout, not the build
    assert (prefix / "share" / "icons" / "hicolor" / "256x256" / "apps" / "stmdenoise.png").is_file()
    assert (prefix / "share" / "mime" / "packages" / "stmdenoise.xml").is_file()
    if shutil.which("update-mime-database"):
        assert (prefix / "share" / "mime" / "application" / "x-nanonis-sxm.xml").is_file()
    assert os.readlink(prefix / "bin" / "stmdenoise-gui") == str(app / "stmdenoise-gui")
    assert (prefix / "bin" / "stmdenoise").read_text() == "somebody else's\n"
    assert "not ours; left alone" in res.stdout

    again = _run(bundle / "linux" / "install.sh", prefix, home, str(bundle))  # reinstall over it
    assert again.returncode == 0, again.stderr

    res = _run(LINUX / "uninstall.sh", prefix, home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not app.exists()
    assert not (prefix / "share" / "applications" / "stmdenoise.desktop").exists()
    assert not (prefix / "share" / "mime" / "packages" / "stmdenoise.xml").exists()
    assert not list((prefix / "share" / "icons").rglob("stmdenoise.*"))
    assert not (prefix / "bin" / "stmdenoise-gui").exists()
    assert (prefix / "bin" / "stmdenoise").read_text() == "somebody else's\n"
    assert (user_data / "settings-kept.txt").read_text() == "mine"


def test_install_refuses_a_folder_without_a_bundle(tmp_path: Path) -> None:
    res = _run(LINUX / "install.sh", tmp_path / "prefix", tmp_path / "home", str(tmp_path))
    assert res.returncode == 1
    assert "no STM Denoise bundle" in res.stderr
    assert not (tmp_path / "prefix").exists()


def test_icons_are_rendered_from_the_svg(tmp_path: Path) -> None:
    pytest.importorskip("PySide6.QtSvg")
    # a process of its own: the renderer needs a QGuiApplication, the GUI tests a QApplication
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    res = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "icons.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    from PIL import Image

    for n in (16, 48, 256, 512):
        with Image.open(tmp_path / "hicolor" / f"{n}x{n}" / "apps" / "stmdenoise.png") as im:
            assert im.size == (n, n)
            assert im.convert("RGBA").getpixel((n // 2, n // 2))[3] == 255  # drawn, not an empty canvas
    with Image.open(tmp_path / "stmdenoise.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    assert (tmp_path / "hicolor" / "scalable" / "apps" / "stmdenoise.svg").is_file()
