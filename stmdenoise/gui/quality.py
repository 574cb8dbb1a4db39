"""Quality panel: BRISQUE, PIQE and STM-native measures of raw and denoised, computed in the background."""

from __future__ import annotations

import math

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from stmdenoise.gui.capabilities import capability
from stmdenoise.gui.image_views import format_value
from stmdenoise.gui.session import Session
from stmdenoise.gui.tasks import ScoreRecord, score_job
from stmdenoise.scan import Scan

__all__ = ["QualityPanel", "EXPLANATION"]

EXPLANATION = (
    "Lower is better for every measure. BRISQUE and PIQE are no-reference scores made for photographs "
    "(PIQE counts smooth regions as blur, and a clean scan can score worse than a noisy one, so read them "
    "as hints); the line-artefact index and noise floor are STM-native."
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
        self.explain = QLabel(EXPLANATION)
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
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.recompute)
        session.raw_changed.connect(self._changed)
        session.denoised_changed.connect(self._changed)
        missing = capability("metrics").missing()
        if missing is not None:
            self.status.setText(missing)

    @Slot(object)
    def _changed(self, _scan: Scan | None) -> None:
        self._timer.start()

    @Slot()
    def recompute(self) -> None:
        """Score the shown images again (cancels a scoring job still running)."""
        self.session.pool.cancel("scores")
        self.scores.clear()
        self.table.setRowCount(0)
        raw = self.session.raw
        if raw is None:
            self.status.setText("")
            return
        missing = capability("metrics").missing()
        if missing is not None:
            self.status.setText(missing)
            return
        self._unit = raw.unit
        self.status.setText("computing…")
        self.session.pool.start(
            score_job(raw, self.session.denoised),
            name="scores",
            on_record=self._record,
            on_failed=self._failed,
        )

    @Slot(object)
    def _record(self, rec: ScoreRecord) -> None:
        if self.session.raw is None:
            return
        self.scores[rec.name] = (rec.raw, rec.denoised, rec.note)
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
        if name in _IN_DATA_UNITS:
            if self._unit == "m":
                return f"{value * 1e12:.3g} pm"
            return format_value(value, self._unit)
        return f"{value:.3g}"

    @Slot(str)
    def _failed(self, error: str) -> None:
        self.status.setText(f"scoring failed: {error}")
