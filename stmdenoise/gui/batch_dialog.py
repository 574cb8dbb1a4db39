"""File > Batch denoise folder…: the batch job (:func:`stmdenoise.batch.denoise_batch`) in a dialog.

Inputs (files and folders), the output folder and the options; the defaults are the main
window's current view (background, line correction, colour map) and model. The job runs in the
window's worker pool, off the GUI thread; the dialog shows progress and the time left, cancels
(files finished so far are kept) and resumes (a rerun skips the finished scans), and opens
``report.html`` when done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.batch import (
    FORMATS,
    PANELS,
    BatchProgress,
    BatchRequest,
    BatchResult,
    DisplayOptions,
    denoise_batch,
)
from stmdenoise.gui.workers import GeneratorWorker, WorkerPool
from stmdenoise.io.render import COLORMAPS
from stmdenoise.processing.view import BACKGROUNDS, ROW_METHODS

__all__ = ["BatchDefaults", "BatchDialog", "batch_defaults", "format_eta"]


@dataclass(frozen=True)
class BatchDefaults:
    """What the dialog starts with (the main window's current settings)."""

    model: Path | None = None
    device: str = "auto"
    passes: int = 1
    policy: str = "fallback"
    level: str = "none"
    align: str = "none"
    colormap: str = "afmhot"
    start_dir: Path | None = None


def batch_defaults(window: Any) -> BatchDefaults:
    """The defaults of a :class:`~stmdenoise.gui.window.MainWindow`: its view's settings and model."""
    level, align = window.views.processing()
    session = window.session
    return BatchDefaults(
        model=session.model.path if session.model is not None else None,
        device=session.device,
        passes=session.passes,
        policy=session.policy,
        level="none" if level == "three_points" else level,  # points are clicked per scan
        align=align,
        colormap=window.views.colormap_box.currentText(),
        start_dir=Path(window.settings.last_open_dir) if window.settings.last_open_dir else None,
    )


def format_eta(seconds: float | None) -> str:
    """``"about 2 min 5 s left"`` (empty when unknown).

    Examples
    --------
    >>> format_eta(125.4)
    'about 2 min 5 s left'
    """
    if seconds is None:
        return ""
    s = int(round(seconds))
    return f"about {s // 60} min {s % 60} s left" if s >= 60 else f"about {s} s left"


def _combo(items: dict[str, str] | tuple[str, ...], current: str) -> QComboBox:
    box = QComboBox()
    pairs = items.items() if isinstance(items, dict) else ((i, i) for i in items)
    for key, label in pairs:
        box.addItem(label, key)
    index = box.findData(current)
    box.setCurrentIndex(max(0, index))
    return box


class BatchDialog(QDialog):
    """Batch denoise files and folders with a report; see the module docstring."""

    def __init__(self, pool: WorkerPool, defaults: BatchDefaults, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch denoise")
        self.setMinimumWidth(820)
        self.pool = pool
        self.defaults = defaults
        self.worker: GeneratorWorker | None = None
        self.batch_result: BatchResult | None = None
        self.last: BatchProgress | None = None

        self.inputs = QListWidget()
        self.inputs.setMinimumHeight(90)
        add_files = QPushButton("Add files…")
        add_folder = QPushButton("Add folder…")
        remove = QPushButton("Remove")
        add_files.clicked.connect(self._add_files)
        add_folder.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_selected)
        in_buttons = QHBoxLayout()
        for b in (add_files, add_folder, remove):
            in_buttons.addWidget(b)
        in_buttons.addStretch(1)

        self.output = QLineEdit()
        self.output.setPlaceholderText("output folder (created if needed)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)

        self.model = QLineEdit(str(defaults.model) if defaults.model else "")
        self.model.setPlaceholderText("the shipped default model")
        self.device = _combo(("auto", "cpu", "cuda", "mps"), defaults.device)
        self.passes = _combo(("1", "2", "4"), str(defaults.passes))
        self.policy = _combo({"fallback": "fallback", "warn": "warn", "refuse": "refuse", "off": "off"},
                             defaults.policy)  # fmt: skip
        self.policy.setToolTip(
            "Do no harm: when the model would be worse than the raw scan or a classical filter "
            "(measured against the other scan direction), deliver the fallback (fallback), deliver it "
            "flagged (warn), write nothing (refuse) or do not check (off)"
        )
        self.direction = _combo({"forward": "forward", "backward": "backward", "both": "both"}, "forward")
        self.channels = QLineEdit()
        self.channels.setPlaceholderText("each file's first channel (or e.g. Z, Current)")
        self.level = _combo({k: v for k, v in BACKGROUNDS.items() if k != "three_points"}, defaults.level)
        self.align = _combo(ROW_METHODS, defaults.align)
        self.colormap = _combo(COLORMAPS, defaults.colormap)
        self.scale_bar = QCheckBox("Scale bar")
        self.scale_bar.setChecked(True)
        self.colour_bar = QCheckBox("Colour bar")
        self.colour_bar.setChecked(True)
        labels = {"all": "Raw | denoised | difference", "denoised": "Denoised only"}
        self.panels = _combo({p: labels.get(p, p) for p in PANELS}, "all")
        self.formats = {f: QCheckBox(f) for f in FORMATS}
        fmt_row = QHBoxLayout()
        for box in self.formats.values():
            box.setChecked(True)
            fmt_row.addWidget(box)
        fmt_row.addStretch(1)
        bars = QHBoxLayout()
        bars.addWidget(self.scale_bar)
        bars.addWidget(self.colour_bar)
        bars.addStretch(1)

        den_box = QGroupBox("Denoising")
        den = QFormLayout(den_box)
        den.addRow("Model", self.model)
        den.addRow("Device", self.device)
        den.addRow("Passes", self.passes)
        den.addRow("Do no harm", self.policy)
        den.addRow("Channels", self.channels)
        den.addRow("Direction", self.direction)
        pic_box = QGroupBox("Pictures (as the app's view; also applied before denoising)")
        pic = QFormLayout(pic_box)
        pic.addRow("Background", self.level)
        pic.addRow("Lines", self.align)
        pic.addRow("Colour map", self.colormap)
        pic.addRow("Picture", self.panels)
        pic.addRow("", bars)
        pic.addRow("Write", fmt_row)
        boxes = QHBoxLayout()
        boxes.addWidget(den_box, 1)
        boxes.addWidget(pic_box, 1)
        out_form = QFormLayout()
        out_form.addRow("Output folder", out_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Add files or folders, choose the output folder, then Start.")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start; a rerun into the same folder skips the scans already finished")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.report_button = QPushButton("Open report")
        self.report_button.setEnabled(False)
        close = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.report_button.clicked.connect(self.open_report)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.cancel_button, self.report_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Scan files and folders (folders are searched recursively):"))
        layout.addWidget(self.inputs)
        layout.addLayout(in_buttons)
        layout.addLayout(out_form)
        layout.addLayout(boxes)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._opener: Callable[[QUrl], bool] = QDesktopServices.openUrl

    # ------------------------------------------------------------------ inputs
    def add_inputs(self, paths: list[str | Path]) -> None:
        """Add files or folders to the list (each once)."""
        have = {self.inputs.item(i).text() for i in range(self.inputs.count())}
        for p in paths:
            if str(p) not in have:
                self.inputs.addItem(str(p))
                have.add(str(p))

    def _start_dir(self) -> str:
        return str(self.defaults.start_dir or Path.home())

    @Slot()
    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add scan files", self._start_dir())
        self.add_inputs(list(files))

    @Slot()
    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of scans", self._start_dir())
        if folder:
            self.add_inputs([folder])

    @Slot()
    def _remove_selected(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))

    @Slot()
    def _browse_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self._start_dir())
        if folder:
            self.output.setText(folder)

    # ------------------------------------------------------------------ the job
    def request(self) -> BatchRequest:
        """The request the dialog's fields describe (raises ValueError naming what is missing)."""
        inputs = tuple(Path(self.inputs.item(i).text()) for i in range(self.inputs.count()))
        if not inputs:
            raise ValueError("add at least one scan file or folder")
        if not self.output.text().strip():
            raise ValueError("choose an output folder")
        direction = str(self.direction.currentData())
        return BatchRequest(
            inputs=inputs,
            out_dir=Path(self.output.text().strip()),
            channels=tuple(c.strip() for c in self.channels.text().split(",") if c.strip()),
            directions=("forward", "backward") if direction == "both" else (direction,),
            model=Path(self.model.text().strip()) if self.model.text().strip() else None,
            device=str(self.device.currentData()),
            passes=int(self.passes.currentData()),
            policy=str(self.policy.currentData()),
            display=DisplayOptions(
                level=str(self.level.currentData()),
                align=str(self.align.currentData()),
                colormap=str(self.colormap.currentData()),
                scale_bar=self.scale_bar.isChecked(),
                colour_bar=self.colour_bar.isChecked(),
                panels=str(self.panels.currentData()),
            ),  # fmt: skip
            formats=tuple(f for f, box in self.formats.items() if box.isChecked()),
        )

    @property
    def running(self) -> bool:
        """True while the batch job runs."""
        return self.worker is not None

    @Slot()
    def start(self) -> None:
        """Start (or resume) the batch in the window's worker pool."""
        if self.running:
            return
        try:
            req = self.request()
        except ValueError as exc:
            self.status.setText(f"Cannot start: {exc}")
            return

        def job(cancel: threading.Event) -> Generator[BatchProgress, None, BatchResult]:
            return (yield from denoise_batch(req, cancel))

        self.batch_result = None
        self.report_button.setEnabled(False)
        self.status.setText("Starting…")
        self.worker = self.pool.start(
            job,
            name="batch",
            on_record=self._record,
            on_returned=self._returned,
            on_failed=self._failed,
            on_finished=self._finished,
        )
        running = self.worker is not None
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    @Slot()
    def cancel(self) -> None:
        """Stop after the current scan (finished scans are kept; Start resumes)."""
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling after the current scan…")
            self.cancel_button.setEnabled(False)

    @Slot(object)
    def _returned(self, result: object) -> None:
        if isinstance(result, BatchResult):
            self.batch_result = result

    @Slot(object)
    def _record(self, rec: object) -> None:
        if not isinstance(rec, BatchProgress):
            return
        self.last = rec
        self.progress.setRange(0, max(1, rec.total or 1))
        self.progress.setValue(rec.done)
        eta = format_eta(rec.eta_s)
        self.status.setText(
            f"{rec.done} of {rec.total} file(s): {rec.message}" + (f" — {eta}" if eta else "")
        )

    @Slot(str)
    def _failed(self, text: str) -> None:
        self.status.setText(f"Batch failed: {text}")

    @Slot()
    def _finished(self) -> None:
        self.worker = None
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        res = self.batch_result
        if res is None:
            return
        counts = ", ".join(f"{n} {s}" for s, n in res.counts.items() if n)
        kept = f"; {res.resumed} file(s) kept from an earlier run" if res.resumed else ""
        head = "Cancelled — Start resumes" if res.cancelled else "Done"
        self.status.setText(f"{head}: {counts}{kept}. Report: {res.report_html}")
        self.start_button.setText("Resume" if res.cancelled else "Start")
        self.report_button.setEnabled(True)

    @Slot()
    def open_report(self) -> None:
        """Open ``report.html`` in the system's browser."""
        if self.batch_result is not None:
            self._opener(QUrl.fromLocalFile(str(self.batch_result.report_html)))

    def done(self, code: int) -> None:  # noqa: D401 - Qt override: closing cancels a running batch
        """Close; a running batch is cancelled (the window's pool joins its thread)."""
        if self.worker is not None:
            self.worker.cancel()
        super().done(code)
