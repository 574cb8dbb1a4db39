"""Settings persist in an isolated store; windows come back on screen after a monitor change."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication

from stmdenoise.gui.app import make_window
from stmdenoise.gui.settings import AppSettings, fit_on_screen


def test_settings_round_trip(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.ini"
    s = AppSettings(path)
    s.colormap = "afmhot"
    s.last_open_dir = str(tmp_path)
    s.add_recent(["/data/a.sxm"])
    s.add_recent(["/data/b.sxm", "/data/a.sxm"])
    s.sync()
    again = AppSettings(path)
    assert again.colormap == "afmhot"
    assert again.last_open_dir == str(tmp_path)
    assert again.recent_files == ["/data/b.sxm", "/data/a.sxm"]
    assert path.is_file()


def test_window_remembers_colormap_and_geometry(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.ini"
    first = make_window(path)
    qtbot.addWidget(first)
    first.views.colormap_box.setCurrentText("viridis")
    first.resize(700, 500)  # the offscreen screen is 800 x 600
    first.shutdown()
    second = make_window(path)
    qtbot.addWidget(second)
    assert second.views.colormap_box.currentText() == "viridis"
    assert (second.width(), second.height()) == (700, 500)
    second.shutdown()


def test_window_saved_on_a_vanished_monitor_opens_on_screen(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.ini"
    first = make_window(path)
    qtbot.addWidget(first)
    first.setGeometry(5000, 3000, 800, 600)  # e.g. on a second monitor that is now unplugged
    first.shutdown()
    second = make_window(path)
    qtbot.addWidget(second)
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.intersects(second.geometry())
    assert screen.contains(second.geometry().topLeft())
    second.shutdown()


def test_fit_on_screen_moves_and_shrinks() -> None:
    screens = [QRect(0, 0, 1920, 1080), QRect(1920, 0, 1280, 1024)]
    # on the second monitor: stays
    assert fit_on_screen(QRect(2000, 100, 800, 600), screens) == QRect(2000, 100, 800, 600)
    # second monitor gone: pulled onto the first
    assert fit_on_screen(QRect(2000, 100, 800, 600), screens[:1]) == QRect(1120, 100, 800, 600)
    # larger than the screen: shrunk to fit
    assert fit_on_screen(QRect(-50, -50, 4000, 3000), screens[:1]) == QRect(0, 0, 1920, 1080)
