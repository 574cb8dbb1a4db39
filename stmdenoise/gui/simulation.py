"""Simulation panel: physics parameters -> clean/noisy preview; "Generate dataset…" with progress/cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.gui.colormaps import colormap, robust_levels
from stmdenoise.gui.workers import WorkerPool
from stmdenoise.jobs import Progress

if TYPE_CHECKING:
    from stmdenoise.physics import DatasetProgress, DatasetResult

__all__ = [
    "SimulationPanel",
    "PreviewResult",
    "preview_job",
    "dataset_outcome",
    "EXTRA_PARAMETERS",
]


@dataclass(frozen=True)
class PreviewResult:
    """A simulated pair for display, with the time the simulation took."""

    done: int
    total: int
    clean: np.ndarray
    noisy: np.ndarray
    pixel_size: float
    seconds: float
    message: str = ""


#: Numeric keyword arguments of :func:`stmdenoise.physics.sample_pair` offered in the panel:
#: name -> (label, unit shown, scale to SI, minimum, maximum, default, decimals). A density of 0
#: means "use the impurity count".
EXTRA_PARAMETERS: dict[str, tuple[str, str, float, float, float, float, int]] = {
    "n_impurities": ("Impurities", "", 1.0, 0, 500, 20, 0),
    "density": ("Density", "nm⁻²", 1e18, 0.0, 1.0, 0.0, 4),
    "bias": ("Bias", "mV", 1e-3, -2000.0, 2000.0, 20.0, 1),
    "broadening": ("Broadening", "meV", 1e-3, 0.0, 200.0, 0.0, 1),
}


def preview_job(
    *, seed: int, pixels: int, size: float, preset: str, extra: dict[str, Any]
) -> Callable[[threading.Event], Generator[Progress, None, PreviewResult]]:
    """Job factory simulating one clean/noisy pair with ``sample_pair`` (returns a :class:`PreviewResult`)."""

    def job(cancel: threading.Event) -> Generator[Progress, None, PreviewResult]:
        yield Progress(0, 1, "simulating")
        from stmdenoise.physics import sample_pair

        t0 = time.perf_counter()
        pair = sample_pair(np.random.default_rng(seed), pixels=pixels, size=size, preset=preset, **extra)
        dt = time.perf_counter() - t0
        return PreviewResult(1, 1, np.asarray(pair.clean), np.asarray(pair.noisy), float(pair.pixel_size), dt)

    return job


class SimulationPanel(QWidget):
    """Parameters of the Cu(111) simulator with a live preview and dataset generation."""

    dataset_written = Signal(str)

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.size_box = QDoubleSpinBox()
        self.size_box.setRange(2.0, 500.0)
        self.size_box.setValue(36.0)
        self.size_box.setSuffix(" nm")
        self.pixels_box = QSpinBox()
        self.pixels_box.setRange(64, 1024)
        self.pixels_box.setSingleStep(64)
        self.pixels_box.setValue(256)
        from stmdenoise.physics import PHASE_SHIFT_NAMES, PRESETS  # torch-free, unlike denoise/training

        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.setCurrentText("typical")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setValue(1)
        fields: list[tuple[str, QWidget]] = [("Field", self.size_box), ("Pixels", self.pixels_box)]
        self.extra_boxes: dict[str, QDoubleSpinBox] = {}
        for name, (label, unit, _scale, lo, hi, default, decimals) in EXTRA_PARAMETERS.items():
            box = QDoubleSpinBox()
            box.setRange(lo, hi)
            box.setDecimals(decimals)
            box.setValue(default)
            if unit:
                box.setSuffix(f" {unit}")
            if name == "density":
                box.setToolTip("Impurities per nm² (Poisson numbers); 0 uses the impurity count instead")
            if name == "broadening":
                box.setToolTip("Lorentzian broadening η of the surface state")
            self.extra_boxes[name] = box
            fields.append((label, box))
        self.phase_box = QComboBox()
        self.phase_box.addItems(list(PHASE_SHIFT_NAMES))
        self.phase_box.setToolTip("mixed: 60 % black dots (δ = i∞), the rest partly absorbing")
        fields.append(("Phase shift", self.phase_box))
        fields += [("Artefacts", self.preset_box), ("Seed", self.seed_box)]
        form = QGridLayout()  # two label/field pairs per row keeps the panel short
        for i, (label, widget) in enumerate(fields):
            row, col = divmod(i, 2)
            form.addWidget(QLabel(label), row, 2 * col)
            form.addWidget(widget, row, 2 * col + 1)
            widget.setMinimumWidth(60)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)

        self.preview_button = QPushButton("Preview")
        self.dataset_count = QSpinBox()
        self.dataset_count.setRange(1, 1_000_000)
        self.dataset_count.setValue(1000)
        self.dataset_count.setPrefix("N = ")
        self.dataset_button = QPushButton("Generate dataset…")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((25, 27, 31))
        self.graphics.setMinimumHeight(150)
        self.clean_item = pg.ImageItem(axisOrder="row-major")
        self.noisy_item = pg.ImageItem(axisOrder="row-major")
        for col, (title, item) in enumerate((("clean", self.clean_item), ("noisy", self.noisy_item))):
            vb = self.graphics.addViewBox(row=0, col=col, lockAspect=True, invertY=True)
            vb.addItem(item)
            vb.setMouseEnabled(False, False)
            self.graphics.addLabel(title, row=1, col=col)
            item.setColorMap(colormap("afmhot"))

        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        ds = QHBoxLayout()
        ds.addWidget(self.dataset_count)
        ds.addWidget(self.dataset_button, 1)
        ds.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.graphics, 1)
        lay.addLayout(ds)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.preview)
        self.pixels_box.valueChanged.connect(self._params_changed)
        self.seed_box.valueChanged.connect(self._params_changed)
        for spin in (self.size_box, *self.extra_boxes.values()):
            spin.valueChanged.connect(self._params_changed)
        self.preset_box.currentTextChanged.connect(self._params_changed)
        self.phase_box.currentTextChanged.connect(self._params_changed)
        self.preview_button.clicked.connect(self.preview)
        self.dataset_button.clicked.connect(self._choose_dataset_path)
        self.cancel_button.clicked.connect(self.cancel_dataset)
        self.last_preview: PreviewResult | None = None
        self._preview_running = False
        self._preview_again = False

    # ------------------------------------------------------------------ preview
    def parameters(self) -> dict[str, Any]:
        """The keyword arguments of ``sample_pair`` the controls describe (SI units)."""
        extra: dict[str, Any] = {}
        for name, box in self.extra_boxes.items():
            scale = EXTRA_PARAMETERS[name][2]
            if name == "density" and box.value() == 0:
                continue
            extra[name] = int(box.value()) if EXTRA_PARAMETERS[name][6] == 0 else box.value() * scale
        extra["phase_shift"] = self.phase_box.currentText()
        return {
            "seed": self.seed_box.value(),
            "pixels": self.pixels_box.value(),
            "size": self.size_box.value() * 1e-9,
            "preset": self.preset_box.currentText(),
            "extra": extra,
        }

    @Slot()
    def _params_changed(self) -> None:
        if self.preview_button.isEnabled() and self.isVisible():
            self._debounce.start()

    @Slot()
    def preview(self) -> None:
        """Simulate one pair with the current parameters in the background."""
        if self._preview_running:
            self._preview_again = True
            return
        self._preview_running = True
        self.status.setText("simulating…")
        self.pool.start(
            preview_job(**self.parameters()),
            name="sim-preview",
            on_returned=self._preview_done,
            on_failed=self._failed,
            on_finished=self._preview_finished,
        )

    @Slot(object)
    def _preview_done(self, res: PreviewResult) -> None:
        self.last_preview = res
        lo, hi = robust_levels(res.clean)
        self.clean_item.setImage(res.clean, levels=(lo, hi))
        self.noisy_item.setImage(res.noisy, levels=robust_levels(res.noisy))
        n = res.clean.shape[0]
        self.status.setText(f"{n}×{n} px, {n * res.pixel_size * 1e9:.3g} nm simulated in {res.seconds:.2f} s")

    @Slot()
    def _preview_finished(self) -> None:
        self._preview_running = False
        if self._preview_again:
            self._preview_again = False
            self.preview()

    @Slot(str)
    def _failed(self, error: str) -> None:
        self.status.setText(f"simulation failed: {error}")

    # ------------------------------------------------------------------ dataset
    @Slot()
    def _choose_dataset_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write simulated dataset", "simulated.h5", "HDF5 (*.h5)")
        if path:
            self.generate_dataset(Path(path))

    def generate_dataset(self, path: Path) -> None:
        """Write an HDF5 training set of ``dataset_count`` pairs to ``path`` in the background."""
        from stmdenoise.physics import simulate_dataset

        p = self.parameters()
        count = self.dataset_count.value()

        def job(cancel: threading.Event) -> Iterator[Any]:
            return simulate_dataset(
                path,
                count=count,
                pixels=p["pixels"],
                size=p["size"],
                preset=p["preset"],
                seed=p["seed"],
                cancel=cancel,
            )

        self._dataset_path = path
        self._dataset_last: DatasetProgress | None = None
        self._dataset_result: DatasetResult | None = None
        self._dataset_error: str | None = None
        self._dataset_cancelled = False
        self.progress.setRange(0, count)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.dataset_button.setEnabled(False)
        self.pool.start(
            job,
            name="dataset",
            on_record=self._dataset_record,
            on_returned=self._dataset_returned,
            on_failed=self._dataset_failed,
            on_finished=self._dataset_done,
        )

    @Slot(object)
    def _dataset_record(self, rec: DatasetProgress) -> None:
        self._dataset_last = rec
        if rec.total:
            self.progress.setRange(0, rec.total)
        self.progress.setValue(rec.done)
        self.status.setText(rec.message)

    @Slot(object)
    def _dataset_returned(self, result: Any) -> None:
        self._dataset_result = result

    @Slot(str)
    def _dataset_failed(self, error: str) -> None:
        self._dataset_error = error

    @Slot()
    def _dataset_done(self) -> None:
        self.cancel_button.setEnabled(False)
        self.dataset_button.setEnabled(True)
        self.progress.setVisible(False)
        self.status.setText(
            dataset_outcome(
                self._dataset_path,
                self._dataset_last,
                self._dataset_result,
                cancelled=self._dataset_cancelled,
                error=self._dataset_error,
            )
        )
        if self._dataset_path.is_file():
            self.dataset_written.emit(str(self._dataset_path))

    @Slot()
    def cancel_dataset(self) -> None:
        """Stop dataset generation (pairs written so far are kept in the ``.part`` file)."""
        self._dataset_cancelled = True
        self.pool.cancel("dataset")


def dataset_outcome(
    path: Path,
    last: DatasetProgress | None,
    result: DatasetResult | None,
    *,
    cancelled: bool,
    error: str | None,
) -> str:
    """What a finished dataset job left behind, from its last record, its result and the files on disk.

    ``result`` is what ``simulate_dataset`` returned (None when it failed).

    Only a complete file is called written; a cancelled or failed run names its ``.part``
    file and how many pairs it holds (a rerun with the same settings resumes it).
    """
    done = 0 if last is None else last.done
    total = None if last is None else last.total
    of = f" of {int(total)}" if total else ""
    part = path.with_name(path.name + ".part")
    if error is not None:
        where = f"; {done}{of} pair(s) kept in {part.name}" if part.is_file() else ""
        return f"dataset failed: {error}{where}"
    if result is not None and result.complete and path.is_file():
        return f"{path}: {result.done} pair(s) written"
    if part.is_file():
        how = "cancelled" if cancelled else "stopped"
        resume = "unfinished; generate again with the same settings to resume"
        return f"{how}: {done}{of} pair(s) in {part} ({resume})"
    return "cancelled: nothing written" if cancelled else f"{path}: not written"
