"""File > Fine-tune on my scans...: a wizard over :func:`stmdenoise.training.finetune.finetune`
(the network) or :func:`stmdenoise.training.spectral_gain.train_gain_model` (the real-scan filter,
chosen on the Method page).

Pages: Scans (drop files or folders; each listed with why it is usable or not), Held-out,
Method (what is trained and what the anchor weight does), Settings (time budget and its
estimate for the chosen device), Training (live losses, before/after preview, ETA, cancel) and
Result (held-out table, images, save / make default / discard).

The run writes into a staging folder under the user data folder (``finetune-runs/NAME``), never
into the models folder: only **Save** moves a finished model there, so a cancelled or discarded
run is never offered in the model selector. The job runs in the window's :class:`WorkerPool`.
"""

from __future__ import annotations

import math
import shutil
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from stmdenoise.gui.colormaps import colormap, robust_levels
from stmdenoise.gui.finetune_pages import (
    SECONDS_PER_STEP,
    HoldoutPage,
    MethodPage,
    ScansPage,
    SettingsPage,
)
from stmdenoise.gui.settings import AppSettings
from stmdenoise.gui.tasks import user_models_dir
from stmdenoise.gui.workers import WorkerPool
from stmdenoise.jobs import JobCancelled
from stmdenoise.paths import user_data_dir
from stmdenoise.training.finetune_records import (
    FinetuneProgress,
    FinetuneRequest,
    FinetuneResult,
)
from stmdenoise.training.spectral_gain import GainRequest, GainResult

__all__ = ["FinetuneWizard", "SECONDS_PER_STEP", "runs_dir"]


def runs_dir() -> Path:
    """Staging folder of fine-tune runs (unfinished checkpoints, models not yet saved)."""
    return user_data_dir() / "finetune-runs"


class TrainingPage(QWizardPage):
    """Runs the job: live losses, before/after preview of a held-out scan, ETA, cancel."""

    def __init__(self, wizard: FinetuneWizard) -> None:
        super().__init__()
        self.setTitle("Training")
        self.wiz = wizard
        self.result: FinetuneResult | None = None
        self.failed = ""
        self.running = False
        self.history: dict[str, list[tuple[int, float]]] = {}
        self.last_preview: dict[str, np.ndarray] = {}
        self.progress = QProgressBar()
        self.eta = QLabel("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel (saves a resumable checkpoint)")
        self.cancel_button.clicked.connect(self.cancel)
        self.plot = pg.PlotWidget()
        self.plot.setBackground((25, 27, 31))
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.addLegend(labelTextSize="7pt")
        self.plot.setMinimumHeight(150)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.images = _ImageRow(("raw", "base", "finetuned"), ("raw (held out)", "base model", "fine-tuned"))
        lay = QVBoxLayout(self)
        lay.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.eta, 1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        lay.addWidget(self.plot, 2)
        lay.addWidget(self.images, 2)
        lay.addWidget(self.status)

    def initializePage(self) -> None:
        if self.running or self.result is not None:
            return
        self.start()

    def start(self) -> None:
        gain = self.wiz.method.adapts_gain()
        req: FinetuneRequest | GainRequest = self.wiz.gain_request() if gain else self.wiz.request()
        self.status.setText(f"training into {req.out}")
        self.running = True
        self.cancel_button.setEnabled(True)
        keeps = "nothing is kept" if gain else "saves a resumable checkpoint"
        self.cancel_button.setText(f"Cancel ({keeps})")
        self.images.setVisible(not gain)  # the gain's job has no preview

        def make_job(cancel: threading.Event) -> Generator[Any, None, Any]:
            if isinstance(req, GainRequest):
                return (yield from _gain_job(req, self.wiz.scans.checks, cancel))
            from stmdenoise.training.finetune import finetune

            return (yield from finetune(req, cancel))

        self.worker = self.wiz.pool.start(
            make_job,
            name="finetune",
            on_record=self._record,
            on_returned=self._returned,
            on_failed=self._failed,
            on_finished=self._finished,
        )

    @Slot()
    def cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.status.setText("cancelling after this step; a resumable checkpoint is saved")
        self.wiz.pool.cancel("finetune")

    @Slot(object)
    def _returned(self, result: Any) -> None:
        self.result = result

    @Slot(object)
    def _record(self, rec: Any) -> None:
        self._plain_record(rec)
        if not isinstance(rec, FinetuneProgress):
            return  # the gain's job: done, total and a message only
        if rec.eta_s is not None:
            self.eta.setText(f"step {rec.done}, about {rec.eta_s:.0f} s left")
        for k, v in rec.losses.items():
            if math.isfinite(v):
                self.history.setdefault(k, []).append((rec.done, v))
        for i, (k, pts) in enumerate(self.history.items()):
            if k not in self.curves:
                self.curves[k] = self.plot.plot(pen=pg.mkPen(pg.intColor(i, 6), width=1.5), name=k)
            xs, ys = zip(*pts, strict=True)
            self.curves[k].setData(list(xs), list(ys))
        if rec.preview:
            self.last_preview = {k: np.asarray(v) for k, v in rec.preview.items()}
            self.images.show_images(self.last_preview)

    def _plain_record(self, rec: Any) -> None:
        """What every job's record carries: the progress bar (done of total) and the message."""
        total = getattr(rec, "total", None)
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(min(int(rec.done), total))
        else:
            self.progress.setRange(0, 0)
        if getattr(rec, "message", ""):
            self.status.setText(rec.message)

    @Slot(str)
    def _failed(self, error: str) -> None:
        self.failed = error
        self.status.setText(f"fine-tuning failed: {error}")

    @Slot()
    def _finished(self) -> None:
        self.running = False
        self.cancel_button.setEnabled(False)
        res = self.result
        if res is not None and res.cancelled and res.checkpoint is None:
            self.status.setText("cancelled: nothing was kept (rerun to start over)")
        elif res is not None and res.cancelled:
            where = Path(res.checkpoint or "").parent.parent
            self.status.setText(
                f"cancelled at step {res.steps}: a resumable checkpoint is in {where} "
                "(not a model; it is not offered in the model selector)"
            )
        elif res is not None:
            self.status.setText(f"finished: {res.steps} steps" + (" — FLAGGED" if res.flagged else ""))
        self.completeChanged.emit()
        if res is not None and not res.cancelled:
            self.wizard().next()

    def isComplete(self) -> bool:
        return self.result is not None and not self.result.cancelled and not self.running


def _gain_job(req: GainRequest, checks: Any, cancel: threading.Event) -> Generator[Any, None, FinetuneResult]:
    """The gain's job, its result in the wizard's terms (the Result page reads a FinetuneResult)."""
    from stmdenoise.training.spectral_gain import train_gain_model

    usable = tuple(c for c in checks if c.usable)
    scans, held = tuple(req.inputs), tuple(req.holdout)
    try:
        res: GainResult = yield from train_gain_model(req, cancel)
    except JobCancelled:
        return FinetuneResult(None, None, True, 0, math.nan, usable, scans, held)
    new, old = res.summary.get("finetuned", math.nan), res.summary.get("base_where_both", math.nan)
    flagged = res.better is False
    reason = ""
    if flagged:
        reason = (
            f"on the held-out scans the new gain's estimated error ({new:.2f}x raw) is not below "
            f"the base's ({old:.2f}x) and raw's"
        )
    return FinetuneResult(
        res.out, None, False, req.steps, math.nan, usable, scans, held,
        rows=res.rows, summary=res.summary, flagged=flagged, flag_reason=reason, table=res.table,
        start="spectral gain", start_reason=f"trained on {len(res.real_pairs)} two-direction channel(s)",
    )  # fmt: skip


class _ImageRow(pg.GraphicsLayoutWidget):
    """A row of images with labels, each scaled by its own robust levels."""

    def __init__(self, keys: tuple[str, ...], labels: tuple[str, ...]) -> None:
        super().__init__()
        self.setBackground((25, 27, 31))
        self.setMinimumHeight(120)
        self.keys = keys
        self.items: dict[str, pg.ImageItem] = {}
        for col, (k, lab) in enumerate(zip(keys, labels, strict=True)):
            vb = self.addViewBox(row=0, col=col, lockAspect=True, invertY=True)
            vb.setMouseEnabled(False, False)
            item = pg.ImageItem(axisOrder="row-major")
            item.setColorMap(colormap("afmhot"))
            vb.addItem(item)
            self.items[k] = item
            self.addLabel(lab, row=1, col=col, size="8pt")

    def show_images(self, images: dict[str, np.ndarray]) -> None:
        for k, item in self.items.items():
            if k in images:
                a = np.asarray(images[k], dtype=np.float64)
                item.setImage(a, levels=robust_levels(a))


class ResultPage(QWizardPage):
    """Held-out table, images and difference, save under a name / make default / discard."""

    def __init__(self, wizard: FinetuneWizard) -> None:
        super().__init__()
        self.setTitle("Result")
        self.wiz = wizard
        self.saved: Path | None = None
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            ["held-out scan", "raw", "base model", "fine-tuned", "best classical"]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.images = _ImageRow(
            ("raw", "base", "finetuned", "difference"),
            ("raw", "base model", "fine-tuned", "fine-tuned − raw"),
        )
        self.name = QLineEdit()
        self.make_default = QCheckBox("Make it the default model")
        self.save_button = QPushButton("Save model")
        self.save_button.clicked.connect(self.save)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard)
        self.restore_button = QPushButton("Restore the shipped default")
        self.restore_button.clicked.connect(self.restore_shipped)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Name"))
        row.addWidget(self.name, 1)
        row.addWidget(self.make_default)
        row.addWidget(self.save_button)
        row.addWidget(self.discard_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.verdict)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.images, 1)
        lay.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.note, 1)
        row2.addWidget(self.restore_button)
        lay.addLayout(row2)

    def initializePage(self) -> None:
        res = self.wiz.training.result
        if res is None:
            return
        self.name.setText(self.wiz.settings_page.name.text().strip())
        s = res.summary
        if res.flagged:
            self.verdict.setText(
                f"<b style='color:#c62828'>Flagged</b>: {res.flag_reason}. "
                "It is not made the default unless you tick the box yourself."
            )
        else:
            self.verdict.setText("Better than the base model and the raw scan on the held-out scans.")
        self.make_default.setChecked(not res.flagged)
        self._fill_table(res)
        if s:
            self.note.setText(
                "Overall estimated error against the surface, raw = 1.00 (lower is better); the best "
                "classical filter is chosen per scan on the same figure (an optimistic bar). "
                f"Started from: {res.start} ({res.start_reason})."
            )
        prev = dict(self.wiz.training.last_preview)
        if "raw" in prev and "finetuned" in prev:
            prev["difference"] = prev["finetuned"] - prev["raw"]
        self.images.setVisible(bool(prev))  # the spectral gain's run has no preview
        self.images.show_images(prev)

    def _fill_table(self, res: FinetuneResult) -> None:
        from stmdenoise.training.real_fidelity import best_classical

        by_scan: dict[str, list[Any]] = {}
        for r in res.rows:
            by_scan.setdefault(r.scan, []).append(r)
        self.table.setRowCount(len(by_scan))
        for i, (scan, rows) in enumerate(by_scan.items()):
            best = best_classical(rows)

            def cell(pred: Callable[[Any], bool], rows: list[Any] = rows) -> str:
                r = next((x for x in rows if pred(x)), None)
                return "n/a" if r is None or not r.reports else f"{r.mean('all'):.2f}"

            vals = [
                scan,
                cell(lambda r: r.family == "raw"),
                cell(lambda r: r.method.startswith("base:")),
                cell(lambda r: r.method.startswith("fine-tuned:")),
                "n/a" if best is None else f"{best.mean('all'):.2f} ({best.method})",
            ]
            for j, v in enumerate(vals):
                self.table.setItem(i, j, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()

    @Slot()
    def save(self) -> Path | None:
        """Move the finished model into the user's models folder under the chosen name."""
        res = self.wiz.training.result
        if res is None or res.model_dir is None:
            return None
        name = self.name.text().strip()
        dest = user_models_dir() / name
        if not name or "/" in name or "\\" in name or name.startswith("."):
            QMessageBox.warning(self, "Save model", f"{name!r} is not a usable folder name")
            return None
        if dest.exists():
            QMessageBox.warning(self, "Save model", f"{dest} exists already; choose another name")
            return None
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(res.model_dir), str(dest))
        self.saved = dest
        if self.make_default.isChecked():
            self.wiz.app_settings.model = dest.name
        self.save_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        self.note.setText(
            f"saved to {dest}" + (" and made the default" if self.make_default.isChecked() else "")
        )
        self.wiz.model_registered.emit(str(dest))
        return dest

    @Slot()
    def discard(self) -> None:
        """Delete the staged model; nothing is registered."""
        res = self.wiz.training.result
        if res is not None and res.model_dir is not None and res.model_dir.is_dir():
            shutil.rmtree(res.model_dir, ignore_errors=True)
        self.save_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        self.note.setText("discarded")

    @Slot()
    def restore_shipped(self) -> None:
        """Make the shipped default model the default again."""
        from stmdenoise.denoise import default_model_dir

        try:
            self.wiz.app_settings.model = default_model_dir().name
        except FileNotFoundError as exc:
            QMessageBox.warning(self, "Restore", str(exc))
            return
        self.note.setText(f"the shipped model {self.wiz.app_settings.model} is the default again")


class FinetuneWizard(QWizard):
    """The fine-tune wizard; ``model_registered(path)`` when a model is saved."""

    model_registered = Signal(str)

    def __init__(self, pool: WorkerPool, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on my scans")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.pool = pool
        self.app_settings = settings
        self.scans = ScansPage()
        self.holdout = HoldoutPage(self.scans)
        self.method = MethodPage()
        self.settings_page = SettingsPage()
        self.training = TrainingPage(self)
        self.result_page = ResultPage(self)
        for page in (
            self.scans,
            self.holdout,
            self.method,
            self.settings_page,
            self.training,
            self.result_page,
        ):
            self.addPage(page)
        self.resize(900, 680)

    def request(self) -> FinetuneRequest:
        """The run the pages describe (output in the staging folder, never the models folder)."""
        sp = self.settings_page
        held = self.holdout.held()
        train = [str(c.path) for c in self.scans.checks if c.usable and c.path not in held]
        return FinetuneRequest(
            scans=tuple(train),
            holdout_scans=tuple(str(p) for p in held),
            holdout=0,
            base=str(sp.base.currentData()),
            out=str(runs_dir() / sp.name.text().strip()),
            minutes=float(sp.minutes.value()),
            steps=int(sp.steps.value()) or None,
            device=sp.device_name(),
            lambda_n2n=float(self.method.n2n.value()),
            lambda_blindspot=float(self.method.blindspot.value()),
            lambda_anchor=float(self.method.anchor.value()),
            start=str(self.method.start.currentData()),
            resume=(runs_dir() / sp.name.text().strip() / "INCOMPLETE").exists(),
        )

    def gain_request(self) -> GainRequest:
        """The spectral-gain run the pages describe (same scans, held-out scans and staging folder)."""
        sp = self.settings_page
        held = self.holdout.held()
        name = sp.name.text().strip()
        return GainRequest(
            inputs=tuple(c.path for c in self.scans.checks if c.usable and c.path not in held),
            base=Path(str(sp.base.currentData())),
            out=runs_dir() / name,
            steps=int(sp.steps.value()) or 400,
            holdout=tuple(held),
            name=name,
        )

    def reject(self) -> None:
        if self.training.running:
            self.training.cancel()
        super().reject()
