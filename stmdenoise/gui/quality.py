"""Quality panel: BRISQUE, PIQE and STM-native measures of raw and denoised, computed in the background."""

from __future__ import annotations

import math

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from stmdenoise.gui.image_views import format_value
from stmdenoise.gui.session import Session
from stmdenoise.gui.tasks import ScoreRecord, score_job
from stmdenoise.gui.workers import Tagged
from stmdenoise.scan import Scan

__all__ = ["QualityPanel", "EXPLANATION", "SHORT_EXPLANATION"]

#: What stays visible under the table (the whole EXPLANATION is its tooltip).
SHORT_EXPLANATION = (
    "Est. error: distance to the real surface estimated from the other scan direction, raw = 1.00, "
    "lower is better. BRISQUE/PIQE are hints made for photographs: they reward smoothness. "
    "Hover for details."
)

EXPLANATION = (
    "Est. error: the shown result's error against the real surface, estimated from the other scan "
    "direction (two noisy looks at one area; no ground truth needed), relative to the raw scan (1.00); "
    "below 1 is closer to the surface, above 1 further away. Noise shared by trace and retrace counts as "
    "signal there; a band left with almost nothing can come out slightly below 0 (an estimate). Signal "
    "kept: share of the real signal that survives. Heights kept: share of the tall, broad features "
    "(Fourier components over 300x the noise) the result keeps; removing noise alone keeps 1.000, "
    "below 0.99 heights measured on it read low (one frame is enough: no second look needed). "
    "Lower is better for the rest. "
    "BRISQUE and PIQE are no-reference scores made for photographs: they reward smoothness, so a result "
    "that erased real structure can score better; read them as hints. The line-artefact index and noise "
    "floor are STM-native."
)

_IN_DATA_UNITS = ("Noise floor", "Residual RMS (raw − denoised)")


class QualityPanel(QWidget):
    """Table of quality measures for the shown raw and denoised images."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Raw", "Denoised"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.explain = QLabel(SHORT_EXPLANATION)
        self.explain.setToolTip(EXPLANATION)
        self.explain.setWordWrap(True)
        self.explain.setObjectName("hint")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        lay.addWidget(self.explain)
        self.scores: dict[str, tuple[float, float, str]] = {}
        self._unit = ""
        self._generation = 0  # bumped by every recompute; records of older requests are dropped
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.recompute)
        session.raw_changed.connect(self._changed)
        session.denoised_changed.connect(self._changed)

    @Slot(object)
    def _changed(self, _scan: Scan | None) -> None:
        self._timer.start()

    @Slot()
    def recompute(self) -> None:
        """Score the shown images again (cancels a scoring job still running)."""
        self.session.pool.cancel("scores")
        self._generation += 1
        self.scores.clear()
        self.table.setRowCount(0)
        raw = self.session.raw
        if raw is None:
            self.status.setText("")
            return
        self._unit = raw.unit
        self.status.setText("computing…")
        # tagged with the view's key (session.start_view_job); the records also carry this
        # panel's request number, for a recompute of the same view
        self.session.start_view_job(
            score_job(raw, self.session.denoised, self._generation),
            name="scores",
            on_record=self._record,
            on_failed=self._failed,
        )

    @Slot(object)
    def _record(self, tagged: Tagged) -> None:
        rec: ScoreRecord = tagged.value
        # a job cancelled for another view or a newer request may still deliver a measure: drop it
        if not self.session.is_current(tagged.tag) or rec.generation != self._generation:
            return
        known = list(self.scores)
        self.scores[rec.name] = (rec.raw, rec.denoised, rec.note)
        if rec.name in known:
            row = known.index(rec.name)
        else:
            row = self.table.rowCount()
            self.table.insertRow(row)
        self.table.setVerticalHeaderItem(row, QTableWidgetItem(rec.name))
        for col, value in enumerate((rec.raw, rec.denoised)):
            item = QTableWidgetItem(self._format(rec.name, value, rec.note if col == 0 else ""))
            if rec.note:
                item.setToolTip(rec.note)
            self.table.setItem(row, col, item)
        self.status.setText("" if rec.done == rec.total else f"computing… {rec.done}/{rec.total}")

    def _format(self, name: str, value: float, note: str) -> str:
        if math.isnan(value):
            return "n/a" if note else "—"
        if name.startswith(("Est. error", "Signal kept")):
            return f"{value:.2f}"
        if name.startswith("Heights kept"):  # 0.993 and 1.000 differ by what a height measure reads
            return f"{value:.3f}"
        if name in _IN_DATA_UNITS:
            if self._unit == "m":
                return f"{value * 1e12:.3g} pm"
            return format_value(value, self._unit)
        return f"{value:.3g}"

    @Slot(object)
    def _failed(self, tagged: Tagged) -> None:
        if self.session.is_current(tagged.tag):
            self.status.setText(f"scoring failed: {tagged.value}")
