"""``stmdenoise-gui``: start the desktop app (or render a screenshot with ``--screenshot OUT.png``)."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from stmdenoise import __version__
from stmdenoise.paths import example_scans, install_root, user_data_dir

if TYPE_CHECKING:
    from stmdenoise.gui.settings import AppSettings
    from stmdenoise.gui.window import MainWindow

__all__ = [
    "main",
    "build_parser",
    "setup_logging",
    "make_window",
    "wait_until_idle",
    "save_screenshot",
    "startup_files",
]

log = logging.getLogger(__name__)


def resources_dir() -> Path:
    """Folder of the style sheet and icons."""
    return install_root() / "resources"


def setup_logging(*, verbose: bool = False) -> Path:
    """Log to ``<user data>/logs/stmdenoise-gui.log`` (a gui-script has no console on Windows)."""
    folder = user_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stmdenoise-gui.log"
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return path


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``stmdenoise-gui``."""
    from stmdenoise.io.render import COLORMAPS  # the colour maps' one list

    p = argparse.ArgumentParser(prog="stmdenoise-gui", description="STM Denoise desktop application")
    p.add_argument("files", nargs="*", help="scans or folders to open")
    p.add_argument(
        "--screenshot", metavar="OUT.png", help="open FILES, denoise the first, save a screenshot, exit"
    )
    p.add_argument("--size", default="1600x960", help="window size for --screenshot (WxH, default 1600x960)")
    p.add_argument("--model", help="model folder name to select")
    p.add_argument("--colormap", choices=COLORMAPS, help="colour map of the views")
    p.add_argument(
        "--panel",
        choices=["quality", "simulation", "training"],
        help="bring this tabbed panel to the front (simulation: also run a preview)",
    )
    p.add_argument("--level", action="store_true", help="plane-level the views")
    p.add_argument("--align", action="store_true", help="align rows (median) in the views")
    p.add_argument("--settings", metavar="FILE.ini", help="use this settings file instead of the user's")
    p.add_argument("--no-example", action="store_true", help="do not open the example scan on first run")
    p.add_argument(
        "--example",
        action="store_true",
        help="open the bundled example scan when no files are given, also after the first run "
        "(what `python bootstrap.py app` does)",
    )
    p.add_argument("--version", action="version", version=f"stmdenoise {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log debugging details")
    return p


def _application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("STM Denoise")
    app.setOrganizationName("stmdenoise")
    app.setApplicationVersion(__version__)
    icon = resources_dir() / "icons" / "stmdenoise.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    qss = resources_dir() / "style.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    return app


def make_window(settings_path: Path | None = None, *, log_file: Path | None = None) -> MainWindow:
    """Create the main window (with the app's style) using the given settings store."""
    from stmdenoise.gui.settings import AppSettings
    from stmdenoise.gui.window import MainWindow

    _application()
    return MainWindow(AppSettings(settings_path), log_file=log_file)


def wait_until_idle(window: MainWindow, *, timeout_s: float = 300.0, settle_s: float = 0.8) -> bool:
    """Process events until no worker has run for ``settle_s`` (debounced jobs included)."""
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("wait_until_idle needs a running QApplication")
    pool = window.session.pool
    deadline = time.monotonic() + timeout_s
    idle_since: float | None = None
    while time.monotonic() < deadline:
        app.processEvents()
        now = time.monotonic()
        if pool.busy:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= settle_s:
            return True
        time.sleep(0.02)
    return False


def startup_files(args: argparse.Namespace, settings: AppSettings) -> list[str]:
    """Files to open at start: those given, else the bundled example on a first run (or with --example)."""
    files = [str(f) for f in args.files]
    if files or args.no_example:
        return files
    if args.example or not settings.first_run_done:
        settings.first_run_done = True
        return [str(p) for p in example_scans()]
    return files


def save_screenshot(window: MainWindow, out: Path) -> bool:
    """Render the window into ``out`` (PNG)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pixmap = window.grab()
    return bool(pixmap.save(str(out)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GUI; returns the process exit code."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    log_file = setup_logging(verbose=args.verbose)
    log.info("stmdenoise-gui %s starting", __version__)
    app = _application()
    window = make_window(Path(args.settings) if args.settings else None, log_file=log_file)
    if args.colormap:
        window.views.set_colormap(args.colormap)
    if args.level:
        window.views.level_box.setChecked(True)
    if args.align:
        window.views.align_box.setChecked(True)
    if args.panel:
        window.docks[args.panel.capitalize()].raise_()
        if args.panel == "simulation" and window.simulation.preview_button.isEnabled():
            window.simulation.preview()
    if args.model and not window.denoise_panel.select_model(args.model):
        log.warning("model %s not found", args.model)
    files = startup_files(args, window.settings)
    if args.screenshot:
        w, h = (int(v) for v in args.size.lower().split("x"))
        window.resize(w, h)
        window.show()
        if files:
            window.session.open_paths(files)
        ok = wait_until_idle(window)
        if not ok:
            log.error("screenshot: jobs still running after the timeout")
        saved = save_screenshot(window, Path(args.screenshot))
        window.shutdown()
        window.deleteLater()
        return 0 if saved else 1
    window.show()
    if files:
        QTimer.singleShot(0, lambda: window.open_paths(files))
    code = int(app.exec())
    log.info("stmdenoise-gui exits with %d", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
