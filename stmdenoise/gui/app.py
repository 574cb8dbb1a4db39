"""``stmdenoise-gui``: start the desktop app (or render a screenshot with ``--screenshot OUT.png``).

One instance per user: a start while the app runs hands its files to the running window
(:mod:`stmdenoise.gui.single_instance`). ``--smoke-test OUT_DIR`` checks an installation end to
end: it opens the example scan, denoises it, writes the result and exits 0 (1 on failure). On
Linux the system libraries of Qt's platform plugin are checked before Qt starts (exit code 3).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from stmdenoise import __version__
from stmdenoise.gui.single_instance import InstanceServer, send_to_running
from stmdenoise.paths import example_scans, install_root, user_data_dir
from stmdenoise.system import check_qt_platform, format_report, gather_report

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
    "smoke_test",
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
    p.add_argument(
        "--smoke-test",
        metavar="OUT_DIR",
        help="check the installation: open FILES (default: the example scan), denoise the first, write "
        "the denoised scan, a screenshot and the system report to OUT_DIR, exit 0 (1 on failure)",
    )
    p.add_argument(
        "--new-instance",
        action="store_true",
        help="start a second window instead of handing FILES to the running one",
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


def make_window(
    settings_path: Path | None = None, *, log_file: Path | None = None, start_after_paint: bool = False
) -> MainWindow:
    """Create the main window (with the app's style) using the given settings store.

    ``start_after_paint``: models and devices (torch) are loaded after the window's first paint.
    """
    from stmdenoise.gui.settings import AppSettings
    from stmdenoise.gui.window import MainWindow

    _application()
    return MainWindow(AppSettings(settings_path), log_file=log_file, start_after_paint=start_after_paint)


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


def smoke_test(window: MainWindow, files: list[str], out_dir: Path, *, timeout_s: float = 600.0) -> bool:
    """Open ``files``, denoise the first, write it (TIFF), a screenshot and the system report to ``out_dir``.

    True when every step worked; each step is logged (to stderr as well in this mode).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    report = format_report(gather_report())
    (out_dir / "system.txt").write_text(report + "\n", encoding="utf-8")
    log.info("smoke test: system\n%s", report)
    if not files:
        log.error("smoke test: no scan to open (no example scan installed in %s)", resources_dir())
        return False
    window.resize(1400, 900)
    window.show()
    if window.session.open_paths(files) < 1:
        log.error("smoke test: could not open %s", files[0])
        return False
    if not wait_until_idle(window, timeout_s=timeout_s):
        log.error("smoke test: reading/denoising still running after %.0f s", timeout_s)
        return False
    if window.session.denoised is None:  # auto-denoise is off in these settings
        window.session.denoise()
        wait_until_idle(window, timeout_s=timeout_s)
    if window.session.denoised is None:
        log.error("smoke test: %s was not denoised (see the log above)", files[0])
        return False
    stem = Path(files[0]).stem
    try:
        out = window.session.export(out_dir / f"{stem}_denoised.tiff", which="denoised")
    except (OSError, ValueError, ImportError) as exc:
        log.error("smoke test: writing the denoised scan failed: %s", exc)
        return False
    shot = out_dir / "smoke_test.png"
    if not save_screenshot(window, shot):
        log.error("smoke test: could not save %s", shot)
        return False
    model = window.session.model.name if window.session.model is not None else "?"
    log.info("smoke test passed: %s denoised with %s, wrote %s and %s", files[0], model, out, shot)
    return True


def _log_to_stderr() -> logging.Handler | None:
    if sys.stderr is None:  # a windowed (no console) bundle on Windows
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GUI; returns the process exit code."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    log_file = setup_logging(verbose=args.verbose)
    log.info("stmdenoise-gui %s starting", __version__)
    qt = check_qt_platform()
    if qt is not None and not qt.ok:  # Qt would abort with a message that names the wrong library
        log.error("%s", qt.message())
        if sys.stderr is not None:
            sys.stderr.write(qt.message() + "\n")
        return 3
    interactive = not (args.screenshot or args.smoke_test)
    if interactive and not args.new_instance:
        if send_to_running([str(f) for f in args.files]):
            log.info("handed %d file(s) to the running STM Denoise", len(args.files))
            return 0
    app = _application()
    server = None
    if interactive and not args.new_instance:
        server = InstanceServer(app)
        if not server.listen() and send_to_running([str(f) for f in args.files]):
            log.info("another STM Denoise started meanwhile; handed the files to it")
            return 0
    settings_file = args.settings
    if args.smoke_test and not settings_file:  # leave the user's settings alone
        settings_file = str(Path(args.smoke_test) / "smoke-settings.ini")
    # the interactive window paints first; models, devices (torch) and the files come after
    window = make_window(
        Path(settings_file) if settings_file else None, log_file=log_file, start_after_paint=interactive
    )
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

    def select_model() -> None:
        if not window.denoise_panel.select_model(args.model):
            log.warning("model %s not found", args.model)

    if args.model and interactive:
        window.models_ready.connect(select_model)
    elif args.model:
        select_model()
    first_run = not window.settings.first_run_done
    files = startup_files(args, window.settings)
    if args.smoke_test:
        console = _log_to_stderr()
        try:
            ok = smoke_test(window, files or [str(p) for p in example_scans()], Path(args.smoke_test))
        finally:
            window.shutdown()
            window.deleteLater()
            if console is not None:
                logging.getLogger().removeHandler(console)
        return 0 if ok else 1
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
    if server is not None:
        server.attach(window)
    window.show()
    if files:  # after the models: the example is denoised once the window shows
        window.models_ready.connect(lambda: window.open_paths(files))
    if first_run:  # the first-run system check: what runs where, and why not on the GPU (torch)
        window.models_ready.connect(window.show_system_check)
    code = int(app.exec())
    if server is not None:
        server.close()
    log.info("stmdenoise-gui exits with %d", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
