"""FFT panel: log power spectrum of the shown scan, its radial profile and the ring radius readout.

Standing waves of a surface state make a ring in the power spectrum; its radius ``q`` gives
the period, ``k_F = q / 2`` and ``λ_F`` (see :mod:`stmdenoise.processing.spectrum`). The
spectrum is computed in a worker thread for the current :class:`~stmdenoise.gui.session.ViewKey`
and dropped if the view has moved on meanwhile.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from stmdenoise.gui.colormaps import colormap
from stmdenoise.gui.session import Session
from stmdenoise.gui.view_parts import view_pixel_size, view_size
from stmdenoise.gui.workers import Tagged
from stmdenoise.jobs import Progress
from stmdenoise.scan import Scan

__all__ = ["FourierPanel", "SpectrumRecord", "spectrum_job"]

_PER_A = 1e-10  # 1/m -> 1/Angstrom


@dataclass(frozen=True)
class SpectrumRecord:
    """The power spectrum of one scan: log10 PSD, axes (q in 1/m), radial profile and found ring."""

    log_psd: np.ndarray
    qy: np.ndarray
    qx: np.ndarray
    q_profile: np.ndarray
    profile: np.ndarray
    ring_f: float | None


def spectrum_job(scan: Scan) -> Callable[[threading.Event], Generator[Progress, None, SpectrumRecord]]:
    """Job factory: the power spectrum of ``scan`` and the ring found in it (returned)."""

    def job(cancel: threading.Event) -> Generator[Progress, None, SpectrumRecord]:
        yield Progress(0, 1, "computing the power spectrum")
        import stmdenoise.processing.spectrum as sp  # loaded with the first spectrum

        psd, fy, fx = sp.power_spectrum(scan, pixel_size=view_pixel_size(scan))

        f, prof = sp.radial_profile(psd, fy, fx)
        h, w = view_size(scan)
        try:  # ignore the centre: periods longer than a quarter of the field are background
            ring: float | None = sp.find_ring(psd, fy, fx, f_min=4.0 / max(h, w))
        except ValueError:
            ring = None
        floor = float(np.percentile(psd[psd > 0], 1)) if (psd > 0).any() else 1e-300
        log_psd = np.log10(np.maximum(psd, floor))
        return SpectrumRecord(log_psd, 2 * math.pi * fy, 2 * math.pi * fx, 2 * math.pi * f, f * prof, ring)

    return job


class FourierPanel(QWidget):
    """Power spectrum view with a ring cursor (drag it, or Find ring) and its k / λ readout."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.source_box = QComboBox()
        self.source_box.addItems(["raw", "denoised"])
        self.source_box.setToolTip("Which image's power spectrum to show")
        self.find_button = QPushButton("Find ring")
        self.find_button.setToolTip(
            "Put the ring cursor on the strongest ring (periods shorter than a quarter of the field)"
        )
        self.readout = QLabel("")
        self.readout.setWordWrap(True)
        self.readout.setTextInteractionFlags(
            self.readout.textInteractionFlags() | pg.QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((25, 27, 31))
        self.image_plot = self.graphics.addPlot(row=0, col=0)
        self.image_plot.setAspectLocked(True)
        self.image_plot.setLabel("bottom", "q<sub>x</sub> (Å⁻¹)")
        self.image_plot.setLabel("left", "q<sub>y</sub> (Å⁻¹)")
        self.image_plot.setTitle("log₁₀ power spectrum", size="9pt")
        self.image_plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(colormap("inferno").getLookupTable(nPts=256))
        self.image_plot.addItem(self.image)
        self.circle = pg.QtWidgets.QGraphicsEllipseItem()
        self.circle.setPen(pg.mkPen((80, 200, 255), width=0))
        self.image_plot.addItem(self.circle, ignoreBounds=True)
        self.profile_plot = self.graphics.addPlot(row=1, col=0)
        self.profile_plot.setLabel("bottom", "q (Å⁻¹)")
        self.profile_plot.setLabel("left", "q × radial mean")
        self.profile_plot.setTitle("Radial profile (drag the ring cursor)", size="9pt")
        self.profile_plot.setLogMode(y=True)
        self.profile_plot.getAxis("left").setStyle(showValues=False)
        self.profile_curve = self.profile_plot.plot(pen=pg.mkPen((255, 150, 40), width=1.5))
        self.ring_line = pg.InfiniteLine(
            pos=0.1, angle=90, movable=True, pen=pg.mkPen((80, 200, 255), width=1.5)
        )
        self.profile_plot.addItem(self.ring_line)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Image"))
        row.addWidget(self.source_box)
        row.addStretch(1)
        row.addWidget(self.find_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.graphics, 1)
        lay.addWidget(self.readout)

        self.record: SpectrumRecord | None = None
        self._stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.recompute)
        self.source_box.currentTextChanged.connect(self._changed)
        self.find_button.clicked.connect(self.find_ring)
        self.ring_line.sigPositionChanged.connect(self._ring_moved)
        session.raw_changed.connect(self._changed)
        session.denoised_changed.connect(self._changed)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    @Slot(object)
    def _changed(self, *_args: object) -> None:
        self._stale = True
        self.record = None
        if self.isVisible():
            self._timer.start()

    def _source(self) -> Scan | None:
        return self.session.denoised if self.source_box.currentText() == "denoised" else self.session.raw

    @Slot()
    def recompute(self) -> None:
        """Compute the spectrum of the chosen image for the current view (in a worker)."""
        scan = self._source()
        self._stale = False
        if scan is None:
            self.image.clear()
            self.profile_curve.setData([], [])
            self.circle.setVisible(False)
            self.readout.setText("")
            return
        self.readout.setText("computing the power spectrum…")
        self.session.start_view_job(
            spectrum_job(scan), name="spectrum", on_returned=self._record, on_failed=self._failed
        )

    @Slot(object)
    def _record(self, t: Tagged) -> None:
        if not self.session.is_current(t.tag) or not isinstance(t.value, SpectrumRecord):
            return  # computed for a scan or generation no longer shown
        rec: SpectrumRecord = t.value
        self.record = rec
        qy, qx = rec.qy * _PER_A, rec.qx * _PER_A
        dqy = float(qy[1] - qy[0]) if qy.size > 1 else 1.0
        dqx = float(qx[1] - qx[0]) if qx.size > 1 else 1.0
        lo, hi = (float(v) for v in np.percentile(rec.log_psd, [5, 99.9]))
        self.image.setImage(rec.log_psd, autoLevels=False, levels=(lo, max(hi, lo + 1e-6)))
        rect = pg.QtCore.QRectF(float(qx[0]) - dqx / 2, float(qy[0]) - dqy / 2, dqx * qx.size, dqy * qy.size)
        self.image.setRect(rect)
        self.image_plot.getViewBox().setRange(rect, padding=0.0)
        positive = np.where(rec.profile > 0, rec.profile, np.nan)  # log axis
        self.profile_curve.setData(rec.q_profile * _PER_A, positive, connect="finite")
        self.ring_line.setBounds((0.0, float(rec.q_profile[-1]) * _PER_A))
        if rec.ring_f is not None:
            self.set_ring(2 * math.pi * rec.ring_f * _PER_A)
        else:
            self._ring_moved()

    @Slot(object)
    def _failed(self, t: Tagged) -> None:
        if self.session.is_current(t.tag):
            self.readout.setText(f"power spectrum failed: {t.value}")

    @Slot()
    def find_ring(self) -> None:
        """Move the ring cursor to the ring found in the spectrum."""
        if self.record is not None and self.record.ring_f is not None:
            self.set_ring(2 * math.pi * self.record.ring_f * _PER_A)

    def set_ring(self, q_per_angstrom: float) -> None:
        """Put the ring cursor at ``q`` (Å⁻¹)."""
        self.ring_line.setValue(q_per_angstrom)
        self._ring_moved()

    @Slot()
    def _ring_moved(self, *_args: object) -> None:
        q = float(self.ring_line.value())
        if self.record is None or not q > 0:
            self.circle.setVisible(False)
            return
        self.circle.setRect(-q, -q, 2 * q, 2 * q)
        self.circle.setVisible(True)
        from stmdenoise.processing.spectrum import describe_ring

        f = q / _PER_A / (2 * math.pi)
        self.readout.setText("Ring: " + describe_ring(f))
