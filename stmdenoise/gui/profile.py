"""The line profile: a band of chosen width across the views, two cursors with distance and height readout.

Gwyddion's *Extract Profiles* tool averages a band of parallel lines (the *thickness*) and
measures step heights between two cursors; this module does the same on the raw and denoised
images. :func:`profile_along` and :func:`cursor_readout` are Qt-free (unit-tested); the
:class:`ProfileTool` owns the plot items.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal, Slot
from scipy.ndimage import map_coordinates

from stmdenoise.gui.view_parts import length_unit, view_pixel_size
from stmdenoise.io.render import format_quantity
from stmdenoise.scan import Scan

__all__ = ["profile_along", "cursor_readout", "ProfileTool"]

RAW_PEN = (220, 220, 220)
DEN_PEN = (255, 150, 40)


def profile_along(
    data: np.ndarray,
    pixel_size: tuple[float, float],
    p0: tuple[float, float],
    p1: tuple[float, float],
    *,
    width_px: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``data`` along the segment ``p0``-``p1`` (x, y in metres from the top-left corner).

    Returns ``(distance_m, values)`` sampled once per pixel by bilinear interpolation; with
    ``width_px > 1`` each value is the mean over ``width_px`` parallel lines one pixel apart
    (a band centred on the segment, as Gwyddion's profile *thickness*). NaN pixels give NaN.
    """
    if width_px < 1:
        raise ValueError(f"width_px must be >= 1, got {width_px}")
    dy, dx = pixel_size
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    step = min(dx, dy)
    n = max(2, int(math.ceil(length / step)) + 1)
    t = np.linspace(0.0, 1.0, n)
    # unit normal of the segment (metres), one pixel per parallel line
    nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length > 0 else (0.0, 1.0)
    offsets = (np.arange(width_px) - (width_px - 1) / 2.0) * step
    arr = np.asarray(data, dtype=np.float64)
    total = np.zeros(n)
    for o in offsets:
        cols = (x0 + t * (x1 - x0) + o * nx) / dx - 0.5
        rows = (y0 + t * (y1 - y0) + o * ny) / dy - 0.5
        total += map_coordinates(arr, [rows, cols], order=1, mode="nearest", cval=np.nan)
    return t * length, total / len(offsets)


def cursor_readout(
    distance: np.ndarray,
    values: np.ndarray,
    a: float,
    b: float,
    unit: str,
    *,
    average: int = 3,
    length_unit: str = "m",
) -> str:
    """Distance and value difference between cursors at ``a`` and ``b`` (``length_unit`` along the profile).

    Each cursor's value is the mean of the finite profile points within ``average`` samples of
    it (steadier than one pixel on noisy terraces); heights come in pm.
    """
    if distance.size == 0:
        return ""

    def at(x: float) -> float:
        i = int(np.clip(np.searchsorted(distance, x), 0, distance.size - 1))
        window = values[max(0, i - average) : i + average + 1]
        finite = window[np.isfinite(window)]
        return float(finite.mean()) if finite.size else math.nan

    za, zb = at(a), at(b)
    dz = zb - za
    dist = pg.siFormat(abs(b - a), precision=4, suffix=length_unit)
    return f"Δd = {dist}, Δ = {format_quantity(dz, unit)}"


class ProfileTool(QObject):
    """Profile plot with raw/denoised curves, band width, and two cursors A, B with a readout."""

    readout_changed = Signal(str)

    def __init__(self, plot: pg.PlotItem, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self.width_px = 1
        self.unit = ""
        self.length_unit = "m"
        plot.setLabel("bottom", "distance", units="m")
        plot.getAxis("left").setWidth(60)
        plot.showGrid(x=True, y=True, alpha=0.2)
        self.raw_curve = plot.plot(pen=pg.mkPen(RAW_PEN, width=1.5))
        self.den_curve = plot.plot(pen=pg.mkPen(DEN_PEN, width=1.5))
        self.cursors = []
        for name, pos in (("A", 0.0), ("B", 1.0)):
            pen = pg.mkPen((120, 220, 120), width=1, style=Qt.PenStyle.DashLine)
            line = pg.InfiniteLine(
                pos=pos, angle=90, movable=True, pen=pen, label=name,
                labelOpts={"position": 0.92, "color": (120, 220, 120)},
            )  # fmt: skip
            line.sigPositionChanged.connect(self._cursor_moved)
            plot.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
        self._distance = np.zeros(0)
        self._values = np.zeros(0)
        self._has_den = False
        self._set_title("")

    def _set_title(self, readout: str) -> None:
        # the curve names as coloured words in the title: a legend box would hide the curve
        raw = "<span style='color:#dcdcdc'>raw</span>"
        den = "<span style='color:#ff9628'>denoised</span>" if self._has_den else ""
        width = f" · {self.width_px} px band" if self.width_px > 1 else ""
        text = f"Line profile: {raw}{' / ' + den if den else ''}{width}"
        if readout:
            text += f"<br><span style='color:#78dc78'>A→B {readout}</span>"
        self.plot.setTitle(text, size="9pt")

    def set_width(self, width_px: int) -> None:
        """Average a band of ``width_px`` parallel lines (1 = a single line)."""
        if width_px < 1:
            raise ValueError(f"width_px must be >= 1, got {width_px}")
        self.width_px = int(width_px)

    def update(
        self, raw: Scan | None, den: Scan | None, p0: tuple[float, float], p1: tuple[float, float]
    ) -> None:
        """Recompute both curves along ``p0``-``p1`` (cursors keep their relative place)."""
        if raw is None:
            self.raw_curve.setData([], [])
            self.den_curve.setData([], [])
            self._distance = np.zeros(0)
            self._values = np.zeros(0)
            self._has_den = False
            for line in self.cursors:
                line.setVisible(False)
            self._set_title("")
            self.readout_changed.emit("")
            return
        for line in self.cursors:
            line.setVisible(True)
        self.unit = raw.unit
        self.length_unit = length_unit(raw)
        self.plot.setLabel("left", raw.channel, units=raw.unit)
        self.plot.setLabel("bottom", "distance", units=self.length_unit)
        old_len = float(self._distance[-1]) if self._distance.size else 0.0
        d, v = profile_along(raw.data, view_pixel_size(raw), p0, p1, width_px=self.width_px)
        self.raw_curve.setData(d, v, connect="finite")
        self._has_den = den is not None and den.shape == raw.shape
        if self._has_den and den is not None:
            d2, v2 = profile_along(den.data, view_pixel_size(raw), p0, p1, width_px=self.width_px)
            self.den_curve.setData(d2, v2, connect="finite")
            self._values = v2  # step heights are read on the denoised curve when there is one
        else:
            self.den_curve.setData([], [])
            self._values = v
        self._distance = d
        length = float(d[-1]) if d.size else 0.0
        for line, default in zip(self.cursors, (0.25, 0.75), strict=True):
            frac = line.value() / old_len if old_len > 0 else default
            line.blockSignals(True)
            line.setBounds((0.0, length))
            line.setValue(min(max(frac, 0.0), 1.0) * length)
            line.blockSignals(False)
        self._cursor_moved()

    def readout(self) -> str:
        """``"Δd = …, Δ = …"`` between the cursors, or "" without a profile."""
        if self._distance.size == 0:
            return ""
        a, b = (float(c.value()) for c in self.cursors)
        curve = "denoised" if self._has_den else "raw"
        got = cursor_readout(self._distance, self._values, a, b, self.unit, length_unit=self.length_unit)
        return f"{got} ({curve})"

    def set_cursors(self, a: float, b: float) -> None:
        """Put cursor A at ``a`` and B at ``b`` metres along the profile."""
        for line, x in zip(self.cursors, (a, b), strict=True):
            line.blockSignals(True)
            line.setValue(x)
            line.blockSignals(False)
        self._cursor_moved()

    @Slot()
    def _cursor_moved(self, *_args: object) -> None:
        text = self.readout()
        self._set_title(text)
        self.readout_changed.emit(text)
