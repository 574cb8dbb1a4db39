"""Persistent settings (QSettings): last folders, recent files, colour map, window geometry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

__all__ = ["AppSettings", "fit_on_screen"]

MAX_RECENT = 12


class AppSettings:
    """Typed access to the application's QSettings.

    Parameters
    ----------
    path : Path, optional
        INI file to use instead of the platform's native store (tests pass one in ``tmp_path``).
    """

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self.qsettings = QSettings("stmdenoise", "STM Denoise")
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)

    def _get(self, key: str, default: Any) -> Any:
        value = self.qsettings.value(key, default)
        return default if value is None else value

    @property
    def last_open_dir(self) -> str:
        """Folder of the last File ▸ Open."""
        return str(self._get("paths/last_open_dir", str(Path.home())))

    @last_open_dir.setter
    def last_open_dir(self, value: str) -> None:
        self.qsettings.setValue("paths/last_open_dir", str(value))

    @property
    def last_dataset_dir(self) -> str:
        """Folder of the last simulated dataset or experimental folder."""
        return str(self._get("paths/last_dataset_dir", str(Path.home())))

    @last_dataset_dir.setter
    def last_dataset_dir(self, value: str) -> None:
        self.qsettings.setValue("paths/last_dataset_dir", str(value))

    @property
    def colormap(self) -> str:
        """Colour map of the image views."""
        return str(self._get("view/colormap", "grey"))

    @colormap.setter
    def colormap(self, value: str) -> None:
        self.qsettings.setValue("view/colormap", value)

    @property
    def model(self) -> str:
        """Name of the last chosen model."""
        return str(self._get("denoise/model", ""))

    @model.setter
    def model(self, value: str) -> None:
        self.qsettings.setValue("denoise/model", value)

    @property
    def first_run_done(self) -> bool:
        """True once the example scan was shown on a first start."""
        return str(self._get("app/first_run_done", "false")).lower() == "true"

    @first_run_done.setter
    def first_run_done(self, value: bool) -> None:
        self.qsettings.setValue("app/first_run_done", "true" if value else "false")

    @property
    def recent_files(self) -> list[str]:
        """Most recently opened files and folders, newest first."""
        value = self._get("paths/recent", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value][:MAX_RECENT]

    def add_recent(self, paths: list[str]) -> None:
        """Put ``paths`` at the front of the recent list."""
        recent = [str(p) for p in paths] + [p for p in self.recent_files if p not in paths]
        self.qsettings.setValue("paths/recent", recent[:MAX_RECENT])

    def save_window(self, window: QWidget, state: QByteArray | None = None) -> None:
        """Remember the window's geometry (and dock layout when given)."""
        self.qsettings.setValue("window/geometry", window.saveGeometry())
        if state is not None:
            self.qsettings.setValue("window/state", state)

    def window_geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.qsettings.sync()


def fit_on_screen(rect: QRect, screens: list[QRect]) -> QRect:
    """Move/shrink ``rect`` so that it lies on one of ``screens`` (available geometries).

    A window saved on a monitor that is gone (or a resolution that shrank) would otherwise open
    off-screen. The screen holding most of the window is kept; when none overlaps, the first.
    """
    if not screens:
        return rect
    best = max(screens, key=lambda s: _area(s.intersected(rect)))
    if _area(best.intersected(rect)) == 0:
        best = screens[0]
    w, h = min(rect.width(), best.width()), min(rect.height(), best.height())
    x = min(max(rect.x(), best.x()), best.x() + best.width() - w)
    y = min(max(rect.y(), best.y()), best.y() + best.height() - h)
    return QRect(x, y, w, h)


def _area(r: QRect) -> int:
    return max(0, r.width()) * max(0, r.height()) if r.isValid() else 0


def restore_window(window: QWidget, settings: AppSettings) -> bool:
    """Restore geometry from ``settings`` and pull the window back on screen; False if none saved."""
    geometry = settings.window_geometry()
    if geometry is None:
        return False
    window.restoreGeometry(geometry)
    screens = [s.availableGeometry() for s in QGuiApplication.screens()]
    fitted = fit_on_screen(window.geometry(), screens)
    if fitted != window.geometry():
        window.setGeometry(fitted)
    return True
