"""Denoising controls: model (shipped + user's folder), device, run/cancel, progress."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.gui.session import Session
from stmdenoise.gui.tasks import (
    DeviceInfo,
    ModelInfo,
    list_models,
    model_native_range,
    model_pixel_size,
    model_summary,
    user_models_dir,
)
from stmdenoise.paths import shipped_models_dir
from stmdenoise.scan import Scan

__all__ = ["DenoisePanel", "PASS_CHOICES", "POLICY_CHOICES", "no_model_message"]

#: The Passes box: network passes averaged over mirrored copies, and how each is shown.
PASS_CHOICES = ((1, "1 (fast)"), (2, "2 (mirrored, 2x time)"), (4, "4 (mirrored, smoother, 4x time)"))

#: The "If harmful" box: do-no-harm policies (stmdenoise.safety.POLICIES) the app offers.
POLICY_CHOICES = (
    ("fallback", "replace it (recommended)"),
    ("warn", "show it, flagged"),
    ("off", "do not check"),
)


def no_model_message() -> str:
    """What to tell the user when no model folder exists anywhere."""
    return (
        f"Denoising needs a model folder (config.json + weights.safetensors) in {shipped_models_dir()} "
        f"or {user_models_dir()} — none is there yet; train one in the Training panel"
    )


class DenoisePanel(QWidget):
    """Pick model and device, denoise the shown scan; results are cached per scan/channel/model."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.models: list[ModelInfo] = []
        self.devices: list[DeviceInfo] = []
        self.model_box = QComboBox()
        self.refresh_button = QPushButton("Rescan")
        self.refresh_button.setToolTip("Look for new model folders")
        self.device_box = QComboBox()
        self.passes_box = QComboBox()
        for n, text in PASS_CHOICES:
            self.passes_box.addItem(text, n)
        self.passes_box.setToolTip(
            "Average the network over mirrored copies of the scan (left-right, up-down, 180°; scan "
            "lines stay horizontal). 4 passes: closer to the truth on simulated scans, smoother "
            "(BRISQUE/PIQE rise), 4x the time. See the model card."
        )
        self.policy_box = QComboBox()
        for key, text in POLICY_CHOICES:
            self.policy_box.addItem(text, key)
        self.policy_box.setToolTip(
            "When the model's output is measured (against the other scan direction) to be further from "
            "the real surface than the raw scan or a classical filter, or the scan is outside what the "
            "model can serve: replace it by that filter (or the raw scan), show it flagged, or do not "
            "check at all."
        )
        self.auto_box = QCheckBox("Denoise each scan when selected")
        self.auto_box.setChecked(session.auto_denoise)
        self.run_button = QPushButton("Denoise")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.setRange(0, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        # before a run: at what pixel size the network works, how much the scan is resampled,
        # how long it takes, or why the model will not be run
        self.plan_label = QLabel("")
        self.plan_label.setWordWrap(True)
        self.plan_label.setObjectName("plan")
        # after a run: what was delivered (model, classical fallback, raw) and why, with figures
        self.verdict_label = QLabel("")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setObjectName("verdict")

        form = QFormLayout()
        mrow = QHBoxLayout()
        mrow.addWidget(self.model_box, 1)
        mrow.addWidget(self.refresh_button)
        form.addRow("Model", mrow)
        form.addRow("Device", self.device_box)
        form.addRow("Passes", self.passes_box)
        form.addRow("If harmful", self.policy_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(form)
        lay.addWidget(self.auto_box)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.plan_label)
        lay.addWidget(self.status)
        lay.addWidget(self.verdict_label)
        lay.addStretch(1)

        self.refresh_button.clicked.connect(self.refresh)
        self.model_box.currentIndexChanged.connect(self._choice_changed)
        self.device_box.currentIndexChanged.connect(self._choice_changed)
        self.passes_box.currentIndexChanged.connect(self._choice_changed)
        self.policy_box.currentIndexChanged.connect(self._choice_changed)
        self.auto_box.toggled.connect(self._auto_toggled)
        self.run_button.clicked.connect(self._run)
        self.cancel_button.clicked.connect(self._cancel)
        session.denoise_status.connect(self._status)
        session.denoise_progress.connect(self._progress)
        session.raw_changed.connect(self._raw_changed)
        session.denoised_changed.connect(self._denoised_changed)
        self.device_box.addItem("Auto")  # placeholder until populate(): listing devices imports torch
        self.setEnabled(False)

    def populate(self, devices: list[DeviceInfo]) -> None:
        """Offer these devices and the model folders (the window calls it, after its first paint)."""
        self.devices = list(devices)
        self.device_box.blockSignals(True)
        self.device_box.clear()
        self.device_box.addItems([d.label for d in self.devices])
        self.device_box.blockSignals(False)
        self.setEnabled(True)
        self.refresh()

    def refresh(self) -> None:
        """Re-scan the shipped and user model folders."""
        current = self.session.model
        self.models = list_models()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for i, m in enumerate(self.models):
            self.model_box.addItem(m.label)
            self.model_box.setItemData(i, model_summary(m), 3)  # Qt.ToolTipRole
        if current is not None:
            for i, m in enumerate(self.models):
                if m.path == current.path:
                    self.model_box.setCurrentIndex(i)
        self.model_box.blockSignals(False)
        usable = bool(self.models)
        for w in (self.model_box, self.device_box, self.passes_box, self.policy_box, self.run_button):
            w.setEnabled(usable)
        if not self.models:
            # the views show the same reason in place of the denoised image
            self.session.denoise_status.emit(no_model_message())
        else:
            self._status(f"{len(self.models)} model(s) available")
        self._choice_changed()

    @Slot()
    def _choice_changed(self) -> None:
        i = self.model_box.currentIndex()
        model = self.models[i] if 0 <= i < len(self.models) else None
        j = self.device_box.currentIndex()
        device = self.devices[j].device if 0 <= j < len(self.devices) else "auto"
        passes = int(self.passes_box.currentData() or 1)
        policy = str(self.policy_box.currentData() or "fallback")
        s = self.session
        if model != s.model or device != s.device or passes != s.passes or policy != s.policy:
            s.set_model(model, device, passes, policy)
        self._show_plan()

    @Slot(object)
    def _raw_changed(self, _scan: Scan | None) -> None:
        self._show_plan()

    def _show_plan(self) -> None:
        """The working grid of the shown scan for the chosen model, before anything runs."""
        from stmdenoise.safety import plan_denoise

        raw, model = self.session.raw, self.session.model
        px = model_pixel_size(model) if model is not None else None
        if raw is None or px is None:
            self.plan_label.setText("")
            return
        from stmdenoise.plan import ANY_PIXEL_SIZE

        native = model_native_range(model) if model is not None else None
        gain = native == ANY_PIXEL_SIZE  # the spectral gain: any grid, a plain picture included
        plan = plan_denoise(
            raw.shape,
            raw.pixel_size,
            px,
            passes=self.session.passes,
            device="cpu" if gain else self.session.device,
            native_range=native,
        )
        text = plan.describe()
        self.plan_label.setText(text[0].upper() + text[1:] + ".")
        self.plan_label.setProperty("refused", not plan.runs)
        self.plan_label.setToolTip(
            "This model's real-scan filter works on every scan's own grid: it only scales the scan's "
            "Fourier coefficients (never above 1), so it cannot add structure. With the scan's other "
            "direction it measures the noise from the two (two-direction Wiener), otherwise its "
            "learned spectral gain estimates it from the one frame; the check below says which."
            if gain
            else "The network was trained at one pixel size; every scan is resampled onto it and back. "
            "Enlarging or shrinking by more than 2x is refused (the classical filter or the raw scan "
            "is delivered instead)."
        )

    @Slot(object)
    def _denoised_changed(self, scan: Scan | None) -> None:
        """Say what the shown result is: the model's output, a fallback or the raw scan, and why."""
        from stmdenoise.quality_rows import verdict_of
        from stmdenoise.safety import SINGLE_FRAME  # not at import: the window paints first

        p = verdict_of(scan)
        if p is None:
            self.verdict_label.setText("")
            self.verdict_label.setToolTip("")
            return
        if (p.get("plan") or {}).get("refusal"):
            self.plan_label.setText("")  # the verdict below says why the model was not run
        harmful = p.get("harmful")
        refused = bool((p.get("plan") or {}).get("refusal"))
        if harmful is None:
            head = "Model not run. " if refused else "Not measured. "
        elif p.get("delivered") == SINGLE_FRAME:  # the model's own output from this frame alone
            head = "Checked. "
        else:
            # replaced because a classical filter measured better, though the model did no harm
            better = harmful and p.get("model_worse_than_raw") is False
            head = "Better filter found. " if better else "Harm found. " if harmful else "Checked. "
        lines = [head + str(p.get("summary", ""))]
        lines += [f"• {n}" for n in p.get("notices", [])]
        self.verdict_label.setText("\n".join(lines))
        self.verdict_label.setProperty("harmful", bool(harmful))
        self.verdict_label.setToolTip(
            "Do no harm: the output is compared with the other scan direction (a second noisy look at "
            "the same area), which estimates its error against the real surface without ground truth. "
            "Where the model would be worse than the raw scan or a classical filter, the filter (or the "
            "raw scan) is shown instead. See the Quality panel for the figures."
        )

    def select_model(self, name: str) -> bool:
        """Choose the model called ``name``; returns False when there is none."""
        for i, m in enumerate(self.models):
            if m.name == name or str(m.path) == name:
                self.model_box.setCurrentIndex(i)
                return True
        return False

    @Slot(bool)
    def _auto_toggled(self, on: bool) -> None:
        self.session.set_auto_denoise(on)

    @Slot()
    def _run(self) -> None:
        self.session.denoise()

    @Slot()
    def _cancel(self) -> None:
        self.session.cancel_denoise()

    @Slot(str)
    def _status(self, text: str) -> None:
        self.status.setText(text)

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        # the session's flag, not the pool: the pool drops a job only after its finished callback
        running = self.session.denoising or total > 0
        self.cancel_button.setEnabled(running)
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        elif running:
            self.progress.setRange(0, 0)  # busy indicator
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
