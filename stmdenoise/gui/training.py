"""Training panel: data, variant, steps, crop, batch, device -> live losses, preview, speed and ETA."""

from __future__ import annotations

import datetime as _dt
import importlib.util
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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

from stmdenoise.gui.colormaps import colormap, robust_levels
from stmdenoise.gui.settings import AppSettings
from stmdenoise.gui.tasks import DeviceInfo, user_models_dir
from stmdenoise.gui.workers import WorkerPool
from stmdenoise.training.options import Option, options

if TYPE_CHECKING:  # stmdenoise.training pulls torch: imported when training starts, not at start-up
    from stmdenoise.training import TrainProgress, TrainResult

__all__ = ["TrainingPanel", "train_job", "option_widget"]


def training_missing() -> str | None:
    """Why training cannot run here (None when it can): the training loop needs torch.

    Looked up, not imported: the panel is filled while the window is built.
    """
    if importlib.util.find_spec("torch") is None:
        return "Training is not available in this installation: PyTorch (torch) is not installed"
    return None


_PALETTE = [(255, 150, 40), (80, 200, 255), (140, 220, 100), (230, 90, 200), (240, 220, 80), (200, 200, 200)]


def train_job(config: Any) -> Callable[[threading.Event], Generator[Any, None, Any]]:
    """Job factory running ``stmdenoise.training.train`` for ``config`` (returns its ``TrainResult``)."""

    def job(cancel: threading.Event) -> Generator[Any, None, Any]:
        from stmdenoise.training import train

        return (yield from train(config, cancel=cancel))

    return job


def option_widget(o: Option) -> QWidget:
    """An input for the setting ``o``, from its metadata (type, range, choices, default, help)."""
    w: QWidget
    if o.choices is not None:
        w = QComboBox()
        w.addItems([str(c) for c in o.choices])
        w.setCurrentText(str(o.default))
    elif o.type is bool:
        w = QCheckBox()
        w.setChecked(bool(o.default))
    elif o.type is int:
        w = QSpinBox()
        w.setRange(int(o.low if o.low is not None else 0) + int(o.low_open), int(o.high or 10_000_000))
        w.setSingleStep(o.multiple_of or 1)
        w.setValue(int(o.default))
    elif o.type is float:
        w = QDoubleSpinBox()
        w.setDecimals(4)
        w.setRange(o.low if o.low is not None else -1e9, o.high if o.high is not None else 1e9)
        w.setValue(float(o.default or 0.0))
    else:
        w = QLineEdit(str(o.default or ""))
    w.setToolTip(o.help + (f" ({o.range_text()})" if o.range_text() else ""))
    return w


def _value(w: QWidget, o: Option) -> Any:
    if isinstance(w, QComboBox):
        return next(c for c in o.choices or () if str(c) == w.currentText())
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    if isinstance(w, QLineEdit):
        return w.text().strip() or None
    raise TypeError(f"no value for {type(w).__name__}")


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
        #: one input per setting marked ``gui`` in stmdenoise.training.options, by its flat key
        self.fields: dict[str, tuple[Option, QWidget]] = {
            o.key: (o, option_widget(o)) for o in options() if o.gui
        }
        self.variant_box = self.fields["variant"][1]
        self.steps_box = self.fields["steps"][1]
        self.crop_box = self.fields["crop"][1]
        self.batch_box = self.fields["batch"][1]
        self.device_box = QComboBox()
        self.devices: list[DeviceInfo] = []
        self.device_box.addItem("Auto")  # until set_devices(): listing devices imports torch
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("model name (default: date and variant)")

        form = QFormLayout()
        form.addRow("Simulated data", self._with_browse(self.sim_edit, folder=False))
        form.addRow("Experimental", self._with_browse(self.real_edit, folder=True))
        for o, widget in self.fields.values():
            form.addRow(o.title, widget)
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
        self.records: list[TrainProgress] = []
        self.result: TrainResult | None = None  # the last run's result
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
        missing = training_missing()
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

    def request(self, **overrides: Any) -> Any:
        """The ``TrainConfig`` the controls describe; ``overrides`` are more settings by flat key.

        Raises ValueError naming the setting when a value is out of range.
        """
        from stmdenoise.training import TrainConfig

        settings: dict[str, Any] = {key: _value(w, o) for key, (o, w) in self.fields.items()}
        name = self.name_edit.text().strip() or (
            f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{settings['variant'].replace('+', '-')}"
        )
        j = self.device_box.currentIndex()
        real = _path_or_none(self.real_edit.text())
        sim = _path_or_none(self.sim_edit.text())
        settings.update(
            out=str(user_models_dir() / name),
            device=self.devices[j].device if 0 <= j < len(self.devices) else "auto",
            sim=None if sim is None else str(sim),
            real=() if real is None else (str(real),),
        )
        settings.update(overrides)
        return TrainConfig.from_dict(settings)

    @Slot()
    def _start_clicked(self) -> None:
        try:
            config = self.request()
        except ValueError as exc:  # bad settings are reported now, not from the thread
            self.status.setText(f"cannot train: {exc}")
            return
        self.start(config)

    def start(self, config: Any) -> bool:
        """Start training ``config`` (a ``TrainConfig``) in the background; False when one already runs."""
        if "train" in self.pool.names():
            return False
        self.out_dir = Path(config.run.out)
        self.result = None
        self.records.clear()
        self.history.clear()
        self.loss_plot.clear()
        self.curves.clear()
        self.progress.setRange(0, config.run.steps)
        self.progress.setValue(0)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"training {config.variant} → {config.run.out}")
        self.pool.start(
            train_job(config),
            name="train",
            on_record=self._record,
            on_returned=self._returned,
            on_failed=self._failed,
            on_finished=self._finished,
        )
        return True

    @Slot(object)
    def _record(self, rec: TrainProgress) -> None:
        self.records.append(rec)
        done = rec.done
        if rec.total:
            self.progress.setMaximum(rec.total)
        self.progress.setValue(done)
        for i, (name, value) in enumerate(sorted(rec.losses.items())):
            xs, ys = self.history.setdefault(name, ([], []))
            xs.append(done)
            ys.append(float(value))
            curve = self.curves.get(name)
            if curve is None:
                curve = self.loss_plot.plot(pen=pg.mkPen(_PALETTE[i % len(_PALETTE)], width=1.5), name=name)
                self.curves[name] = curve
            curve.setData(xs, ys)
        speed, eta = rec.images_per_s, rec.eta_s
        parts = []
        if speed:
            parts.append(f"{float(speed):.3g} images/s")
        if eta is not None and np.isfinite(eta):
            parts.append(f"ETA {_dt.timedelta(seconds=round(float(eta)))}")
        self.speed_label.setText(" · ".join(parts))
        if rec.preview:
            self.show_preview(rec.preview)
        if rec.message:
            self.status.setText(rec.message)

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

    @Slot(object)
    def _returned(self, result: Any) -> None:
        self.result = result
        if result.model_dir:
            self.out_dir = Path(result.model_dir)

    @Slot(str)
    def _failed(self, error: str) -> None:
        self.status.setText(f"training failed: {error}")

    @Slot()
    def _finished(self) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        out = self.out_dir
        if out is not None and (out / "config.json").is_file() and any(out.glob("*.safetensors")):
            last = self.records[-1] if self.records else None
            if last is not None and last.cancelled:
                self.status.setText(f"cancelled at step {last.done}; checkpoint and model saved to {out}")
            else:
                self.status.setText(f"model saved to {out}")
            self.model_registered.emit(str(out))

    @Slot()
    def cancel(self) -> None:
        """Ask the training to stop; it saves a checkpoint first."""
        if "train" in self.pool.names():
            self.status.setText("cancelling (saving a checkpoint)…")
            self.pool.cancel("train")
