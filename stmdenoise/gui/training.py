"""Training panel: data, variant, steps, crop, batch, device -> live losses, preview, speed and ETA."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.gui.capabilities import capability
from stmdenoise.gui.colormaps import colormap, robust_levels
from stmdenoise.gui.settings import AppSettings
from stmdenoise.gui.tasks import DeviceInfo, user_models_dir
from stmdenoise.gui.workers import WorkerPool

__all__ = ["TrainingPanel", "TrainRequest", "build_config", "VARIANTS"]

VARIANTS: tuple[str, ...] = ("pdanet", "cyclegan+da+ws", "cyclegan+da", "cyclegan", "supervised")

_PALETTE = [(255, 150, 40), (80, 200, 255), (140, 220, 100), (230, 90, 200), (240, 220, 80), (200, 200, 200)]


@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """What the panel asks for, in GUI terms (mapped onto ``TrainConfig`` by :func:`build_config`)."""

    out: Path
    variant: str = "pdanet"
    steps: int = 1000
    crop: int = 128
    batch: int = 4
    device: str = "auto"
    sim: Path | None = None
    real: Path | None = None
    seed: int = 0
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)


def build_config(request: TrainRequest) -> Any:
    """The ``stmdenoise.training.TrainConfig`` for ``request`` (``overrides`` applied last)."""
    TrainConfig = capability("train").get("TrainConfig")  # noqa: N806 - a class
    kwargs: dict[str, Any] = {
        "variant": request.variant,
        "steps": request.steps,
        "crop": request.crop,
        "batch": request.batch,
        "device": request.device,
        "sim": None if request.sim is None else str(request.sim),
        "real": () if request.real is None else (str(request.real),),
        "out": str(request.out),
        "seed": request.seed,
    }
    kwargs.update(request.overrides)
    return TrainConfig(**kwargs)


def train_job(request: TrainRequest) -> Callable[[threading.Event, Callable[[Any], None]], Iterator[Any]]:
    """Job factory running ``stmdenoise.training.train`` for ``request``."""

    def job(cancel: threading.Event, report: Callable[[Any], None]) -> Iterator[Any]:
        train = capability("train").get("train")
        return iter(train(build_config(request), cancel=cancel))

    return job


def _path_or_none(text: str) -> Path | None:
    return Path(text) if text.strip() else None


class TrainingPanel(QWidget):
    """Start/cancel PDA-Net training in the background; the result lands in the user's models folder."""

    model_registered = Signal(str)

    def __init__(self, pool: WorkerPool, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.settings = settings
        self.sim_edit = QLineEdit()
        self.sim_edit.setPlaceholderText("empty: simulate pairs on the fly")
        self.real_edit = QLineEdit()
        self.real_edit.setPlaceholderText("folder of experimental scans")
        self.variant_box = QComboBox()
        self.variant_box.addItems(list(VARIANTS))
        self.steps_box = QSpinBox()
        self.steps_box.setRange(1, 10_000_000)
        self.steps_box.setValue(2000)
        self.crop_box = QSpinBox()
        self.crop_box.setRange(16, 1024)
        self.crop_box.setSingleStep(16)
        self.crop_box.setValue(128)
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 256)
        self.batch_box.setValue(4)
        self.device_box = QComboBox()
        self.devices: list[DeviceInfo] = []
        self.device_box.addItem("Auto")  # until set_devices(): listing devices imports torch
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("model name (default: date and variant)")

        form = QFormLayout()
        form.addRow("Simulated data", self._with_browse(self.sim_edit, folder=False))
        form.addRow("Experimental", self._with_browse(self.real_edit, folder=True))
        form.addRow("Variant", self.variant_box)
        form.addRow("Steps", self.steps_box)
        form.addRow("Crop", self.crop_box)
        form.addRow("Batch", self.batch_box)
        form.addRow("Device", self.device_box)
        form.addRow("Name", self.name_edit)

        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.speed_label = QLabel("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        # the legend (a dozen losses) sits in its own row under the plot, never over the curves
        self.loss_view = pg.GraphicsLayoutWidget()
        self.loss_view.setBackground((25, 27, 31))
        self.loss_plot = self.loss_view.addPlot(row=0, col=0)
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLabel("left", "loss")
        self.loss_legend = pg.LegendItem(colCount=3, labelTextSize="7pt", verSpacing=-6)
        self.loss_view.addItem(self.loss_legend, row=1, col=0)
        self.loss_plot.legend = self.loss_legend  # PlotItem.plot(name=...) adds its entries here
        self.loss_view.setMinimumHeight(140)
        self.preview_view = pg.GraphicsLayoutWidget()
        self.preview_view.setBackground((25, 27, 31))
        self.preview_view.setMinimumHeight(60)
        self.preview_items: list[pg.ImageItem] = []
        self.preview_labels: list[pg.LabelItem] = []
        for col in range(2):
            vb = self.preview_view.addViewBox(row=0, col=col, lockAspect=True, invertY=True)
            vb.setMouseEnabled(False, False)
            item = pg.ImageItem(axisOrder="row-major")
            item.setColorMap(colormap("afmhot"))
            vb.addItem(item)
            self.preview_items.append(item)
            self.preview_labels.append(self.preview_view.addLabel("", row=1, col=col, size="8pt"))

        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 1)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.speed_label)
        lay.addWidget(self.loss_view, 2)
        lay.addWidget(self.preview_view, 1)
        lay.addWidget(self.status)

        self.curves: dict[str, pg.PlotDataItem] = {}
        self.history: dict[str, tuple[list[int], list[float]]] = {}
        self.records: list[Any] = []
        self.out_dir: Path | None = None
        self.start_button.clicked.connect(self._start_clicked)
        self.cancel_button.clicked.connect(self.cancel)
        self.start_button.setEnabled(False)  # until populate()

    def populate(self, devices: list[DeviceInfo]) -> None:
        """Offer these devices and enable training when it is installed (both import torch: the
        window calls this after its first paint)."""
        self.devices = list(devices)
        self.device_box.clear()
        self.device_box.addItems([d.label for d in self.devices])
        missing = capability("train").missing()
        self.start_button.setEnabled(missing is None)
        if missing is not None:
            self.status.setText(missing)

    def _with_browse(self, edit: QLineEdit, *, folder: bool) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QToolButton()
        button.setText("…")
        button.setToolTip("Choose a folder" if folder else "Choose an HDF5 dataset")
        button.setProperty("folder", folder)
        button.setProperty("target", "real" if folder else "sim")
        button.clicked.connect(self._browse)
        row.addWidget(button)
        return w

    @Slot()
    def _browse(self) -> None:
        button = self.sender()
        folder = bool(button.property("folder")) if button is not None else False
        start = self.settings.last_dataset_dir
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Folder of experimental scans", start)
            edit = self.real_edit
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Simulated dataset", start, "HDF5 (*.h5 *.hdf5)")
            edit = self.sim_edit
        if path:
            edit.setText(path)
            self.settings.last_dataset_dir = str(Path(path).parent)

    def request(self, **overrides: Any) -> TrainRequest:
        """The training request the controls describe (``overrides`` go to TrainConfig as is)."""
        name = self.name_edit.text().strip() or (
            f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{self.variant_box.currentText().replace('+', '-')}"
        )
        j = self.device_box.currentIndex()
        return TrainRequest(
            out=user_models_dir() / name,
            variant=self.variant_box.currentText(),
            steps=self.steps_box.value(),
            crop=self.crop_box.value(),
            batch=self.batch_box.value(),
            device=self.devices[j].device if 0 <= j < len(self.devices) else "auto",
            sim=_path_or_none(self.sim_edit.text()),
            real=_path_or_none(self.real_edit.text()),
            overrides=dict(overrides),
        )

    @Slot()
    def _start_clicked(self) -> None:
        self.start(self.request())

    def start(self, request: TrainRequest) -> bool:
        """Start training ``request`` in the background; False when training is missing or running."""
        missing = capability("train").missing()
        if missing is not None:
            self.status.setText(missing)
            return False
        if "train" in self.pool.names():
            return False
        try:
            build_config(request)  # report bad settings now, not from the thread
        except (TypeError, ValueError) as exc:
            self.status.setText(f"cannot train: {exc}")
            return False
        self.out_dir = request.out
        self.records.clear()
        self.history.clear()
        self.loss_plot.clear()
        self.curves.clear()
        self.progress.setRange(0, request.steps)
        self.progress.setValue(0)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"training {request.variant} → {request.out}")
        self.pool.start(
            train_job(request),
            name="train",
            on_record=self._record,
            on_failed=self._failed,
            on_finished=self._finished,
        )
        return True

    @Slot(object)
    def _record(self, rec: Any) -> None:
        self.records.append(rec)
        done = int(getattr(rec, "done", 0))
        total = getattr(rec, "total", None)
        if total:
            self.progress.setMaximum(int(total))
        self.progress.setValue(done)
        losses = getattr(rec, "losses", None) or {}
        for i, (name, value) in enumerate(sorted(losses.items())):
            xs, ys = self.history.setdefault(name, ([], []))
            xs.append(done)
            ys.append(float(value))
            curve = self.curves.get(name)
            if curve is None:
                curve = self.loss_plot.plot(pen=pg.mkPen(_PALETTE[i % len(_PALETTE)], width=1.5), name=name)
                self.curves[name] = curve
            curve.setData(xs, ys)
        speed = getattr(rec, "images_per_s", None)
        eta = getattr(rec, "eta_s", None)
        parts = []
        if speed:
            parts.append(f"{float(speed):.3g} images/s")
        if eta is not None and np.isfinite(eta):
            parts.append(f"ETA {_dt.timedelta(seconds=round(float(eta)))}")
        self.speed_label.setText(" · ".join(parts))
        preview = getattr(rec, "preview", None)
        if preview:
            self.show_preview(preview)
        model_dir = getattr(rec, "model_dir", None)
        if model_dir:
            self.out_dir = Path(model_dir)
        message = getattr(rec, "message", "")
        if message:
            self.status.setText(str(message))

    def show_preview(self, preview: Any) -> None:
        """Show the experimental scan and G_DA's output (else the simulated pair) of a preview."""
        pairs = (("experimental", "denoised_experimental"), ("noisy_sim", "denoised_sim"))
        for keys in pairs:
            if all(k in preview for k in keys):
                for item, label, key in zip(self.preview_items, self.preview_labels, keys, strict=True):
                    arr = np.asarray(preview[key], dtype=np.float64)
                    item.setImage(arr, levels=robust_levels(arr))
                    label.setText(key.replace("_", " "))
                return

    @Slot(str)
    def _failed(self, error: str) -> None:
        self.status.setText(f"training failed: {error}")

    @Slot()
    def _finished(self) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        out = self.out_dir
        if out is not None and (out / "config.json").is_file() and any(out.glob("*.safetensors")):
            self.status.setText(f"model saved to {out}")
            self.model_registered.emit(str(out))

    @Slot()
    def cancel(self) -> None:
        """Ask the training to stop; it saves a checkpoint first."""
        if "train" in self.pool.names():
            self.status.setText("cancelling (saving a checkpoint)…")
            self.pool.cancel("train")
