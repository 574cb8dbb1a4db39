"""The first four pages of the fine-tune wizard: Scans, Held-out, Method, Settings.

Part of :mod:`stmdenoise.gui.finetune_wizard` (split for size); they only collect choices, the
wizard turns them into a :class:`~stmdenoise.training.finetune.FinetuneRequest`.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from stmdenoise.gui.tasks import list_devices, list_models
from stmdenoise.training.finetune_scans import ScanCheck, check_scans, pick_holdout

__all__ = ["HoldoutPage", "METHOD_TEXT", "MethodPage", "SECONDS_PER_STEP", "ScansPage", "SettingsPage"]

#: Rough seconds per fine-tune step (batch 4, 64 px crops, three terms) by device type, for
#: the Settings page's estimate before anything has run (measured on a shared 2-core CPU).
SECONDS_PER_STEP = {"cpu": 1.5, "cuda": 0.05, "mps": 0.3}

METHOD_TEXT = (
    "<b>How the model learns from your scans</b> (ours, not the paper's method; no clean image needed)<ul>"
    "<li><b>Forward vs backward (Noise2Noise)</b>: the backward frame is a second noisy look at the same "
    "area. After aligning it for the trace/retrace offset, the network learns to predict one direction from "
    "the other; only what both share (the surface) can be predicted, not the noise.</li>"
    "<li><b>Blind spot</b>: random pixels are hidden and predicted from their neighbours (scans without a "
    "backward frame contribute only this).</li>"
    "<li><b>Anchor</b>: simulated Cu(111) pairs with known clean images, the base model's training data, at "
    "your scans' pixel size. A high anchor weight keeps the new model close to the base model; 0 trusts your "
    "scans alone (risky with few scans: the model may learn your scans' artefacts as signal).</li></ul>"
    "<b>Start from</b>: the base model as it is, or <i>identity</i> (its last layer zeroed: it starts as the "
    "lightly blurred input, a near do-nothing denoiser). <i>Automatic</i> starts from identity when your "
    "scans' pixel size is more than 2x from the base model's or the base model makes your training scans "
    "worse than raw. "
    "Scans are trained on their own grid when their pixel sizes are within 2x of each other; the new "
    "model then denoises any scan from 1.5x below the finest to 1.5x above the coarsest without "
    "resampling it (otherwise it works at the median pixel size). Held-out scans are never trained "
    "on; the result is judged there.<br><br>"
    "<b>Or adapt the real-scan filter</b>: the shipped model denoises real scans with a <i>spectral "
    "gain</i> (a learned Wiener filter that only scales Fourier coefficients, never above 1). It can be "
    "retrained on your two-direction scans instead (Noise2Noise between the two directions, plus "
    "simulated pairs; a few minutes on the CPU; the weights above do not apply)."
)
#: What the wizard adapts: the network (fine-tune) or the spectral gain (train-gain).
ADAPT_CHOICES = (
    ("The network (fine-tune; a GPU helps)", "network"),
    ("The real-scan filter (spectral gain; CPU, a few minutes)", "gain"),
)


class _DropList(QListWidget):
    """A list that accepts files and folders dropped on it."""

    dropped = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.drop_mime(event.mimeData()):
            event.acceptProposedAction()

    def drop_mime(self, mime: QMimeData) -> bool:
        """Take the local files and folders of a drag (what a drop delivers); False when there are none."""
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if paths:
            self.dropped.emit(paths)
        return bool(paths)


class ScansPage(QWizardPage):
    """Drop files or folders; each is checked and listed with why it is usable or not."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Scans")
        self.setSubTitle("Drop your scans or folders here (or add them). Each is checked for fine-tuning.")
        self.checks: list[ScanCheck] = []
        self.list = _DropList()
        self.list.dropped.connect(self.add_paths)
        add_files = QPushButton("Add files…")
        add_files.clicked.connect(self._add_files)
        add_folder = QPushButton("Add folder…")
        add_folder.clicked.connect(self._add_folder)
        clear = QPushButton("Clear")
        clear.clicked.connect(self._clear)
        self.summary = QLabel("")
        row = QHBoxLayout()
        for b in (add_files, add_folder, clear):
            row.addWidget(b)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addLayout(row)
        lay.addWidget(self.summary)

    @Slot(list)
    def add_paths(self, paths: list[str]) -> None:
        """Check ``paths`` (files or folders) and list every file with its verdict."""
        known = {c.path.resolve() for c in self.checks}
        try:
            new = [c for c in check_scans(paths) if c.path.resolve() not in known]
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Fine-tune", str(exc))
            return
        self.checks += new
        for c in new:
            item = QListWidgetItem(c.line())
            item.setForeground(QColor("#2e7d32") if c.usable else QColor("#c62828"))
            item.setToolTip(f"{c.path}\nSHA-256 {c.sha256}")
            self.list.addItem(item)
        n = sum(c.usable for c in self.checks)
        self.summary.setText(f"{n} usable of {len(self.checks)} file(s)")
        self.completeChanged.emit()

    @Slot()
    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Scans to fine-tune on")
        if files:
            self.add_paths(files)

    @Slot()
    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of scans")
        if folder:
            self.add_paths([folder])

    @Slot()
    def _clear(self) -> None:
        self.checks = []
        self.list.clear()
        self.summary.setText("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return any(c.usable for c in self.checks)


class HoldoutPage(QWizardPage):
    """Tick the scans kept out of training (judged there); picked automatically, changeable."""

    def __init__(self, scans: ScansPage) -> None:
        super().__init__()
        self.setTitle("Held-out scans")
        self.setSubTitle(
            "Ticked scans are never trained on: the fine-tuned model is judged on them (forward vs backward "
            "frame). Only scans with a backward frame can be judged; keep at least one scan for training."
        )
        self.scans = scans
        self.list = QListWidget()
        self.list.itemChanged.connect(self._changed)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.note)

    def initializePage(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        auto = set(pick_holdout(self.scans.checks, 1))
        for c in self.scans.checks:
            if not (c.usable and c.has_backward):
                continue
            item = QListWidgetItem(c.path.name)
            item.setData(Qt.ItemDataRole.UserRole, str(c.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c.path in auto else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._changed()

    def held(self) -> list[Path]:
        return [
            Path(self.list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    @Slot()
    def _changed(self, *_: Any) -> None:
        held = self.held()
        train = [c for c in self.scans.checks if c.usable and c.path not in held]
        self.note.setText(
            f"{len(train)} scan(s) for training, {len(held)} held out"
            + ("" if held else " (nothing to judge the result on)")
        )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        held = self.held()
        return any(c.usable and c.path not in held for c in self.scans.checks)


class MethodPage(QWizardPage):
    """What is trained, and the weights of the three terms (the anchor explained)."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Method")
        self.text = text = QLabel(METHOD_TEXT)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.adapt = QComboBox()
        for label, value in ADAPT_CHOICES:
            self.adapt.addItem(label, value)
        self.adapt.setToolTip("stmdenoise finetune (the network) or stmdenoise train-gain (spectral gain)")
        self.adapt.currentIndexChanged.connect(self._adapt_changed)
        self.n2n = _spin(1.0, "forward/backward Noise2Noise weight")
        self.blindspot = _spin(0.5, "blind-spot weight")
        self.anchor = _spin(1.0, "higher: stays closer to the base model; 0: your scans alone")
        form = QFormLayout()
        form.addRow("Adapt", self.adapt)
        form.addRow("Noise2Noise weight", self.n2n)
        form.addRow("Blind-spot weight", self.blindspot)
        form.addRow("Anchor weight", self.anchor)
        self.start = QComboBox()
        for label, value in (
            ("Automatic", "auto"),
            ("Base model", "base"),
            ("Identity (blurred input)", "identity"),
        ):
            self.start.addItem(label, value)
        self.start.setToolTip("the starting weights (stmdenoise finetune --start)")
        form.addRow("Start from", self.start)
        lay = QVBoxLayout(self)
        lay.addWidget(text)
        lay.addLayout(form)
        lay.addStretch(1)

    def adapts_gain(self) -> bool:
        """True when the spectral gain is retrained instead of the network fine-tuned."""
        return self.adapt.currentData() == "gain"

    @Slot(int)
    def _adapt_changed(self, _index: int) -> None:
        network = not self.adapts_gain()
        for w in (self.n2n, self.blindspot, self.anchor, self.start):
            w.setEnabled(network)


def _spin(value: float, tip: str) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(0.0, 100.0)
    s.setDecimals(2)
    s.setSingleStep(0.1)
    s.setValue(value)
    s.setToolTip(tip)
    return s


class SettingsPage(QWizardPage):
    """Base model, name, device, time budget (with its estimate)."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Settings")
        self.setSubTitle("The defaults work; the estimate is for the chosen device.")
        # training starts on the next page: no way back to change what runs
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Start training")
        self.base = QComboBox()
        self.models = list_models()
        for m in self.models:
            self.base.addItem(m.label, str(m.path))
        self.name = QLineEdit(f"finetuned-{_dt.datetime.now():%Y%m%d-%H%M}")
        self.device = QComboBox()
        for d in list_devices():
            self.device.addItem(d.label, d.device)
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 24 * 60)
        self.minutes.setValue(5.0)
        self.minutes.setSuffix(" min")
        self.steps = QSpinBox()
        self.steps.setRange(0, 10_000_000)
        self.steps.setSpecialValueText("use the time budget")
        self.steps.setToolTip("a fixed number of steps instead of the time budget (0 = the budget)")
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        for w in (self.minutes, self.steps):
            w.valueChanged.connect(self._estimate)
        self.device.currentIndexChanged.connect(self._estimate)
        self.name.textChanged.connect(self.completeChanged)
        form = QFormLayout(self)
        form.addRow("Base model", self.base)
        form.addRow("New model name", self.name)
        form.addRow("Device", self.device)
        form.addRow("Training time", self.minutes)
        form.addRow("Steps", self.steps)
        form.addRow(self.estimate)
        self._estimate()

    def device_name(self) -> str:
        return str(self.device.currentData() or "auto")

    def _device_type(self) -> str:
        d = self.device_name()
        if d == "auto":
            d = "cuda" if any(x.device.startswith("cuda") for x in list_devices()) else "cpu"
        return d.split(":")[0]

    @Slot()
    def _estimate(self, *_: Any) -> None:
        rate = SECONDS_PER_STEP.get(self._device_type(), SECONDS_PER_STEP["cpu"])
        if self.steps.value():
            minutes = self.steps.value() * rate / 60
            self.estimate.setText(
                f"About {minutes:.1f} min for {self.steps.value()} steps on {self._device_type()}"
            )
        else:
            n = int(self.minutes.value() * 60 / rate)
            self.estimate.setText(
                f"About {n} steps in {self.minutes.value():g} min on {self._device_type()} "
                f"(~{rate:g} s/step), plus about a minute to judge the result on the held-out scans."
            )

    def isComplete(self) -> bool:
        n = self.name.text().strip()
        return bool(self.models) and bool(n) and "/" not in n and "\\" not in n and not n.startswith(".")
