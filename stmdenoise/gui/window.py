"""The main window: only assembles the panels as docks, menus and the status bar."""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from stmdenoise import __version__
from stmdenoise.gui.denoise_panel import DenoisePanel
from stmdenoise.gui.fourier import FourierPanel
from stmdenoise.gui.image_views import ImageViewsPanel
from stmdenoise.gui.metadata import MetadataPanel
from stmdenoise.gui.quality import QualityPanel
from stmdenoise.gui.scan_list import ScanListPanel, paths_from_mime
from stmdenoise.gui.session import Session
from stmdenoise.gui.settings import AppSettings, restore_window
from stmdenoise.gui.simulation import SimulationPanel
from stmdenoise.gui.tasks import DeviceInfo, list_devices
from stmdenoise.gui.training import TrainingPanel
from stmdenoise.gui.wheel import route_wheel_to_scroll_area
from stmdenoise.io.formats import dialog_filter
from stmdenoise.jobs import Progress

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """STM Denoise main window: scan list, views, metadata, denoising, quality, simulation, training.

    ``start_after_paint``: list devices and models (which imports torch, seconds on a cold start)
    only once the window has painted, so the app shows at once; otherwise (tests, screenshots)
    during construction.
    """

    #: Emitted once, after the window's first paint has been flushed.
    first_painted = Signal()
    #: Emitted once the panels offer the devices and models (at once, or after the first paint).
    models_ready = Signal()

    def __init__(
        self, settings: AppSettings, *, log_file: Path | None = None, start_after_paint: bool = False
    ) -> None:
        super().__init__()
        self._painted = False
        self.settings = settings
        self.log_file = log_file
        self.setWindowTitle("STM Denoise")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.session = Session(self)

        self.views = ImageViewsPanel(self.session)
        self.setCentralWidget(self.views)
        self.scan_list = ScanListPanel(self.session)
        self.metadata = MetadataPanel(self.session)
        self.denoise_panel = DenoisePanel(self.session)
        self.quality = QualityPanel(self.session)
        self.fourier = FourierPanel(self.session)
        self.simulation = SimulationPanel(self.session.pool)
        self.training = TrainingPanel(self.session.pool, settings)

        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.docks: dict[str, QDockWidget] = {}
        self._dock("Scans", self.scan_list, left)
        self._dock("Metadata", self.metadata, left)
        self._dock("Denoise", self.denoise_panel, right, scroll=True)
        self._dock("Quality", self.quality, right)
        self._dock("FFT", self.fourier, right)
        self._dock("Simulation", self.simulation, right, scroll=True)
        self._dock("Training", self.training, right, scroll=True)
        self.tabifyDockWidget(self.docks["Quality"], self.docks["FFT"])
        self.tabifyDockWidget(self.docks["FFT"], self.docks["Simulation"])
        self.tabifyDockWidget(self.docks["Simulation"], self.docks["Training"])
        self.docks["Quality"].raise_()
        self.resizeDocks([self.docks["Scans"], self.docks["Denoise"]], [290, 420], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Scans"], self.docks["Metadata"]], [420, 300], Qt.Orientation.Vertical)
        # the Denoise panel says before and after each run what the network does (plan, verdict)
        self.resizeDocks([self.docks["Denoise"], self.docks["Quality"]], [390, 385], Qt.Orientation.Vertical)

        self.cursor_label = QLabel("")
        self.statusBar().addWidget(self.cursor_label, 1)
        self._build_menus()

        self.views.cursor_text.connect(self.cursor_label.setText)
        self.session.message.connect(self._show_message)
        self.views.colormap_box.currentTextChanged.connect(self._colormap_changed)
        self.training.model_registered.connect(self._model_registered)
        self.denoise_panel.model_box.currentTextChanged.connect(self._model_changed)

        self.views.set_colormap(settings.colormap)
        if start_after_paint:
            self.first_painted.connect(self._list_devices_in_background)
        else:
            self._start_models(list_devices())
        if not restore_window(self, settings):
            self.resize(1500, 900)
        state = settings.window_state()
        if state is not None:
            self.restoreState(state)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, *, scroll: bool = False) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        if scroll:  # tall forms scroll instead of forcing a large minimum window size
            area_widget = QScrollArea()
            area_widget.setWidget(widget)
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            route_wheel_to_scroll_area(area_widget)  # the wheel scrolls the form, Ctrl+wheel zooms
            dock.setWidget(area_widget)
        else:
            dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[title] = dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_files = QAction("&Open scans…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Open))
        open_files.triggered.connect(self.open_dialog)
        open_folder = QAction("Open &folder…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        open_folder.triggered.connect(self.open_folder_dialog)
        file_menu.addAction(open_files)
        file_menu.addAction(open_folder)
        self.recent_menu = QMenu("&Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        for which in ("denoised", "raw"):
            action = QAction(f"Export {which} image…", self)
            action.setData(which)
            action.triggered.connect(self._export_dialog)
            file_menu.addAction(action)
        batch = QAction("&Batch denoise folder…", self)
        batch.triggered.connect(self.batch_dialog)
        file_menu.addAction(batch)
        file_menu.addSeparator()
        finetune = QAction("Fine-&tune on my scans…", self)
        finetune.triggered.connect(self.open_finetune_wizard)
        file_menu.addAction(finetune)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        nxt = QAction("Next scan", self, shortcut=QKeySequence("Ctrl+Down"))
        nxt.triggered.connect(self.next_scan)
        prev = QAction("Previous scan", self, shortcut=QKeySequence("Ctrl+Up"))
        prev.triggered.connect(self.previous_scan)
        view_menu.addAction(nxt)
        view_menu.addAction(prev)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About STM Denoise", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)
        system = QAction("&System…", self)
        system.triggered.connect(self.show_system_check)
        help_menu.addAction(system)

    # ------------------------------------------------------------------ opening
    @Slot()
    def _list_devices_in_background(self) -> None:
        """List the devices in a worker thread: its ``import torch`` (seconds) leaves the GUI live."""

        def job(_cancel: threading.Event) -> Generator[Progress, None, list[DeviceInfo]]:
            yield Progress(0, 1, "listing devices")
            try:  # torch and the model code, imported off the GUI thread
                import stmdenoise.denoise  # noqa: F401
            except ImportError:
                pass  # the Denoise panel says what is missing
            return list_devices()

        self.session.pool.start(job, name="devices", on_returned=self._start_models)

    @Slot(object)
    def _start_models(self, devices: list[DeviceInfo]) -> None:
        """Devices and model folders into the panels, and the last session's model."""
        self.denoise_panel.populate(devices)
        self.training.populate(devices)
        if self.settings.model:
            self.denoise_panel.select_model(self.settings.model)
        self.models_ready.emit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._emit_first_painted)  # after this paint has reached the screen

    @Slot()
    def _emit_first_painted(self) -> None:
        self.first_painted.emit()

    def open_paths(self, paths: list[str] | list[Path]) -> int:
        """Open files/folders (as a drop would) and remember them in the recent list."""
        strs = [str(p) for p in paths]
        if strs:
            self.settings.add_recent(strs)
        return self.session.open_paths(strs)

    @Slot()
    def open_dialog(self) -> None:
        """File ▸ Open: choose several scans."""
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Open scans",
            self.settings.last_open_dir,
            dialog_filter(),
        )
        if files:
            self.settings.last_open_dir = str(Path(files[0]).parent)
            self.open_paths(files)

    @Slot()
    def open_folder_dialog(self) -> None:
        """File ▸ Open folder: every scan below a folder."""
        folder = QFileDialog.getExistingDirectory(self, "Open folder of scans", self.settings.last_open_dir)
        if folder:
            self.settings.last_open_dir = folder
            self.open_paths([folder])

    @Slot()
    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_paths([str(action.data())])

    @Slot()
    def batch_dialog(self) -> QDialog:
        """File > Batch denoise folder…: the batch dialog, with this window's view settings and model."""
        from stmdenoise.gui.batch_dialog import BatchDialog, batch_defaults

        dialog = BatchDialog(self.session.pool, batch_defaults(self), self)
        dialog.show()
        return dialog

    @Slot()
    def _export_dialog(self) -> None:
        action = self.sender()
        which = str(action.data()) if isinstance(action, QAction) else "denoised"
        scan = self.session.denoised if which == "denoised" else self.session.raw
        if scan is None:
            self.statusBar().showMessage(f"no {which} image to export", 8000)
            return
        stem = (scan.source.stem if scan.source else "scan") + ("_denoised" if which == "denoised" else "")
        start = str(Path(self.settings.last_open_dir) / f"{stem}.png")
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export {which} image",
            start,
            "Colour-mapped PNG (*.png);;Calibrated float TIFF (*.tiff);;HDF5 with metadata (*.h5);;"
            "Nanonis SXM (*.sxm);;NumPy (*.npy)",
        )
        if not path:
            return
        try:
            out = self.session.export(Path(path), which=which, colormap=self.views.colormap_box.currentText())
        except (OSError, ValueError, ImportError) as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        self.statusBar().showMessage(f"wrote {out}", 8000)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if paths_from_mime(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = paths_from_mime(event.mimeData())
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    # ------------------------------------------------------------------ navigation
    @Slot()
    def next_scan(self) -> None:
        """Select the next scan in the list."""
        if self.session.current + 1 < len(self.session.entries):
            self.session.select(self.session.current + 1)

    @Slot()
    def previous_scan(self) -> None:
        """Select the previous scan in the list."""
        if self.session.current > 0:
            self.session.select(self.session.current - 1)

    # ------------------------------------------------------------------ small reactions
    @Slot(str)
    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    @Slot(str)
    def _colormap_changed(self, name: str) -> None:
        self.settings.colormap = name

    @Slot(str)
    def _model_changed(self, _label: str) -> None:
        if self.session.model is not None:
            self.settings.model = self.session.model.name

    @Slot(str)
    def _model_registered(self, path: str) -> None:
        self.denoise_panel.refresh()
        self.statusBar().showMessage(f"new model registered: {path}", 10000)

    @Slot()
    def open_finetune_wizard(self) -> None:
        """File > Fine-tune on my scans...: the wizard, modeless, on the window's worker pool."""
        from stmdenoise.gui.finetune_wizard import FinetuneWizard

        self.finetune_wizard = FinetuneWizard(self.session.pool, self.settings, self)
        self.finetune_wizard.model_registered.connect(self._model_registered)
        self.finetune_wizard.show()

    @Slot()
    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About STM Denoise",
            f"<b>STM Denoise</b> {__version__}<br>Physics-augmented denoising (PDA-Net) of STM images."
            f"<br>Log file: {self.log_file or 'none'}",
        )

    @Slot()
    def show_system_check(self) -> QDialog:
        """Help ▸ System: versions, CUDA or why not, GPUs, the device used (non-modal)."""
        from stmdenoise.gui.system_check import SystemCheckDialog

        dialog = SystemCheckDialog(parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ------------------------------------------------------------------ shutdown
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save settings and join every worker thread (idempotent)."""
        state: QByteArray = self.saveState()
        self.settings.save_window(self, state)
        self.settings.sync()
        self.training.cancel()
        if not self.session.shutdown():
            log.error("some worker threads did not stop")
