"""Raw, denoised and difference views with physical axes, shared levels, a line profile and a scale bar."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QToolBar, QVBoxLayout, QWidget
from scipy.ndimage import map_coordinates

from stmdenoise.gui.capabilities import capability
from stmdenoise.gui.colormaps import (
    COLORMAP_NAMES,
    colormap,
    difference_colormap,
    robust_levels,
    symmetric_levels,
)
from stmdenoise.gui.session import Session
from stmdenoise.scan import Scan

__all__ = ["ImageViewsPanel", "nice_length", "format_value", "profile_along"]


def nice_length(span: float, *, fraction: float = 0.2) -> float:
    """A 1-2-5 length close to ``fraction`` of ``span`` (for the scale bar)."""
    if not span > 0:
        raise ValueError(f"span must be positive, got {span}")
    target = span * fraction
    exp = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**exp <= target:
            return m * 10.0**exp
    return 10.0**exp  # pragma: no cover - 1 * 10**exp <= target always


def format_value(value: float, unit: str) -> str:
    """A data value for the readout: heights in pm, other units with SI prefixes."""
    if not np.isfinite(value):
        return "not measured"
    if unit == "m":
        return f"{value * 1e12:.4g} pm"
    return pg.siFormat(value, precision=4, suffix=unit) if unit else f"{value:.4g}"


def profile_along(
    data: np.ndarray, pixel_size: tuple[float, float], p0: tuple[float, float], p1: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``data`` along the segment ``p0``-``p1`` (x, y in metres from the top-left corner).

    Returns ``(distance_m, values)`` sampled once per pixel by bilinear interpolation;
    NaN pixels give NaN.
    """
    dy, dx = pixel_size
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    n = max(2, int(math.ceil(length / min(dx, dy))) + 1)
    t = np.linspace(0.0, 1.0, n)
    cols = (x0 + t * (x1 - x0)) / dx - 0.5
    rows = (y0 + t * (y1 - y0)) / dy - 0.5
    vals = map_coordinates(
        np.asarray(data, dtype=np.float64), [rows, cols], order=1, mode="nearest", cval=np.nan
    )
    return t * length, vals


def denoised_title(scan: Scan, model: str) -> str:
    """Title of the denoised view: what is really shown (the do-no-harm verdict may have replaced
    the model's output by a classical filter or the raw scan)."""
    step = next((st for st in reversed(scan.steps) if st.name == "do_no_harm"), None)
    delivered = step.params.get("delivered", "model") if step is not None else "model"
    if delivered == "model":
        flag = " (harmful!)" if step is not None and step.params.get("harmful") else ""
        return f"Denoised — {model}{flag}" if model else f"Denoised{flag}"
    if delivered == "raw":
        return "Raw (not denoised)"
    return f"Fallback: {delivered}"


class _View:
    """One plot with an image in physical coordinates, its scale bar and a message overlay."""

    def __init__(self, plot: pg.PlotItem, title: str) -> None:
        self.plot = plot
        self.title = title
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        plot.setTitle(title)
        plot.setLabel("bottom", "x", units="m")
        plot.setLabel("left", "y", units="m")
        plot.invertY(True)
        plot.setAspectLocked(True)
        # fixed axis sizes: with a locked aspect, tick labels that change width would resize the
        # view, change the range and the labels again, and the layout could oscillate forever
        plot.getAxis("left").setWidth(52)
        plot.getAxis("bottom").setHeight(36)
        plot.hideButtons()
        self.scan: Scan | None = None
        self.data: np.ndarray | None = None
        self.scale_bar: pg.ScaleBar | None = None
        self.note = pg.TextItem("", color=(200, 200, 200), anchor=(0.5, 0.5))
        self.note.setTextWidth(200)
        plot.addItem(self.note, ignoreBounds=True)
        self._centre = (0.0, 0.0)

    def show(self, scan: Scan | None, data: np.ndarray | None = None, *, note: str = "") -> None:
        self.scan = scan
        self.data = None if scan is None else np.asarray(scan.data if data is None else data)
        if self.data is None:
            self.image.clear()
        else:
            h, w = scan.size if scan is not None else (1.0, 1.0)
            self.image.setImage(self.data, autoLevels=False)
            self.image.setRect(0.0, 0.0, w, h)
        self._set_scale_bar()
        self.set_note(note)

    def set_note(self, note: str, centre: tuple[float, float] | None = None) -> None:
        self.note.setText(note)
        if centre is None:
            centre = self._centre
        self._centre = centre
        width = self.plot.getViewBox().width()
        self.note.setTextWidth(max(120.0, min(260.0, 0.85 * width)) if width > 0 else 200.0)
        self.note.setPos(*centre)
        self.note.setVisible(bool(note))

    def _set_scale_bar(self) -> None:
        if self.scan is None:
            if self.scale_bar is not None:
                self.scale_bar.setVisible(False)
            return
        length = nice_length(self.scan.size[1])
        if self.scale_bar is None:
            self.scale_bar = pg.ScaleBar(
                length, width=4, brush=(255, 255, 255, 230), pen=(0, 0, 0, 160), suffix="m", offset=(-16, -16)
            )
            self.scale_bar.setParentItem(self.plot.getViewBox())
        bar = self.scale_bar
        bar.size = length
        bar.text.setText(pg.siFormat(length, suffix="m"))
        bar.updateBar()
        bar.setVisible(True)

    def value_at(self, x: float, y: float) -> tuple[int, int, float] | None:
        if self.scan is None or self.data is None:
            return None
        dy, dx = self.scan.pixel_size
        r, c = int(math.floor(y / dy)), int(math.floor(x / dx))
        if 0 <= r < self.data.shape[0] and 0 <= c < self.data.shape[1]:
            return r, c, float(self.data[r, c])
        return None


class ImageViewsPanel(QWidget):
    """The central widget: raw | denoised | raw − denoised, histogram, colour map, line profile."""

    cursor_text = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._syncing = False
        self._denoise_note = ""

        bar = QToolBar()  # overflows into a » menu on narrow windows
        bar.setMovable(False)
        bar.addWidget(QLabel("Colour map"))
        self.colormap_box = QComboBox()
        self.colormap_box.addItems(list(COLORMAP_NAMES))
        self.colormap_box.setToolTip(
            "Colour map of the raw and denoised views (the difference is blue-white-red)"
        )
        bar.addWidget(self.colormap_box)
        self.auto_levels_button = QPushButton("Auto levels")
        self.auto_levels_button.setToolTip("Levels from the 0.5–99.5 % percentiles of the raw image")
        bar.addWidget(self.auto_levels_button)
        bar.addSeparator()
        self.level_box = QCheckBox("Plane level")
        self.align_box = QCheckBox("Align rows")
        for box, key, tip in (
            (self.level_box, "level", "Subtract a least-squares plane before display and denoising"),
            (self.align_box, "align", "Remove per-row median offsets before display and denoising"),
        ):
            missing = capability(key).missing()
            box.setEnabled(missing is None)
            box.setToolTip(tip if missing is None else missing)
            bar.addWidget(box)
        self.profile_box = QCheckBox("Line profile")
        self.profile_box.setChecked(True)
        self.profile_box.setToolTip("Drag the line on any view; the profile shows raw and denoised")
        bar.addWidget(self.profile_box)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((25, 27, 31))
        g = self.graphics
        # 2 x 2: raw | denoised (+ shared histogram) over difference | line profile
        self.raw = _View(g.addPlot(row=0, col=0), "Raw")
        self.den = _View(g.addPlot(row=0, col=1), "Denoised")
        self.hist = pg.HistogramLUTItem()
        self.hist.setMaximumWidth(120)
        g.addItem(self.hist, row=0, col=2)
        self.diff = _View(g.addPlot(row=1, col=0), "Raw − denoised (what was removed)")
        # horizontal, under the difference image: a vertical bar would widen the plot into its neighbour
        self.diff_bar = pg.ColorBarItem(
            values=(-1.0, 1.0),
            colorMap=difference_colormap(),
            rounding=1e-15,
            width=10,
            interactive=True,
            orientation="horizontal",
        )
        self.diff_bar.setImageItem(self.diff.image, insert_in=self.diff.plot)
        self.profile_plot = g.addPlot(row=1, col=1, colspan=2)
        self.profile_plot.setTitle("Line profile")
        for col, stretch in ((0, 1), (1, 1), (2, 0)):
            g.ci.layout.setColumnStretchFactor(col, stretch)
        # equal preferred widths: the stretch factors only share what is left beyond them
        for view in (self.raw, self.den, self.diff):
            view.plot.setPreferredWidth(200)
        g.ci.layout.setRowStretchFactor(0, 3)
        g.ci.layout.setRowStretchFactor(1, 2)
        self.profile_plot.setLabel("bottom", "distance", units="m")
        self.profile_plot.getAxis("left").setWidth(60)
        self.profile_plot.addLegend(offset=(-10, 10), brush=(25, 27, 31, 210))
        self.profile_plot.showGrid(x=True, y=True, alpha=0.2)
        self.raw_curve = self.profile_plot.plot(pen=pg.mkPen((220, 220, 220), width=1.5), name="raw")
        self.den_curve = self.profile_plot.plot(pen=pg.mkPen((255, 150, 40), width=1.5), name="denoised")
        # pyqtgraph's setXLink aligns views by screen position (made for stacked plots); side by
        # side, aspect-locked views must share the same rectangle instead
        for view in (self.raw, self.den, self.diff):
            view.plot.getViewBox().sigRangeChangedManually.connect(self._view_moved)
        self.hist.setImageItem(self.raw.image)
        self.den.image.setLookupTable(self.hist.getLookupTable)

        self.rois: list[pg.LineSegmentROI] = []
        for view in (self.raw, self.den, self.diff):
            roi = pg.LineSegmentROI([[0, 0], [1, 0]], pen=pg.mkPen((80, 200, 255), width=2))
            roi.setZValue(10)
            roi.setVisible(False)
            view.plot.addItem(roi, ignoreBounds=True)
            roi.sigRegionChanged.connect(self._roi_moved)
            self.rois.append(roi)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(bar)
        lay.addWidget(self.graphics, 1)

        self.colormap_box.currentTextChanged.connect(self.set_colormap)
        self.auto_levels_button.clicked.connect(self.auto_levels)
        self.level_box.toggled.connect(self._processing_toggled)
        self.align_box.toggled.connect(self._processing_toggled)
        self.profile_box.toggled.connect(self._profile_toggled)
        self.hist.sigLevelsChanged.connect(self._levels_changed)
        self.hist.sigLevelChangeFinished.connect(self._levels_changed)
        self.hist.sigLookupTableChanged.connect(self._lut_changed)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        session.raw_changed.connect(self.show_raw)
        session.denoised_changed.connect(self.show_denoised)
        session.denoise_status.connect(self._denoise_status)
        self.set_colormap(COLORMAP_NAMES[0])
        self.raw.set_note("Drop .sxm files or folders here, or use File ▸ Open")

    # ------------------------------------------------------------------ data
    @Slot(object)
    def show_raw(self, scan: Scan | None) -> None:
        """Show a new raw scan (resets levels, range and the profile when the frame changed)."""
        old = self.raw.scan
        self.raw.show(scan)
        self.raw.plot.setTitle(f"Raw — {scan.channel} ({scan.direction})" if scan is not None else "Raw")
        if scan is None:
            self.raw.set_note("")
            self.den.show(None)
            self.diff.show(None)
            self._update_profile()
            return
        unit = scan.unit
        for view in (self.raw, self.den, self.diff):
            view.plot.setLabel("bottom", "x", units="m")
        self.hist.axis.setLabel(scan.channel, units=unit)
        self.diff_bar.axis.setLabel(units=unit)
        self.profile_plot.setLabel("left", scan.channel, units=unit)
        h, w = scan.size
        for view in (self.raw, self.den, self.diff):
            view.set_note(view.note.toPlainText() if view is not self.raw else "", (w / 2, h * 0.3))
        if old is None or old.size != scan.size or old.shape != scan.shape:
            self.set_view_rect(QRectF(0.0, 0.0, w, h), padding=0.02)
            self._reset_roi(scan)
        self.auto_levels()
        self._update_profile()

    def set_view_rect(self, rect: QRectF, *, padding: float = 0.0) -> None:
        """Show ``rect`` (metres) in all three views (pan/zoom stay linked)."""
        for view in (self.raw, self.den, self.diff):
            view.plot.getViewBox().setRange(rect, padding=padding)

    def view_rect(self) -> QRectF:
        """The rectangle the raw view shows (metres)."""
        return self.raw.plot.getViewBox().viewRect()

    @Slot(object)
    def _view_moved(self, _axes: object) -> None:
        vb = self.sender()
        if not isinstance(vb, pg.ViewBox):
            return
        rect = vb.viewRect()
        for view in (self.raw, self.den, self.diff):
            other = view.plot.getViewBox()
            if other is not vb:
                other.setRange(rect, padding=0.0)

    @Slot(object)
    def show_denoised(self, scan: Scan | None) -> None:
        """Show the denoised scan and the difference raw − denoised (or why there is none)."""
        raw = self.raw.scan
        if scan is None or raw is None or scan.shape != raw.shape:
            self.den.show(None, note=self._denoise_note if raw is not None else "")
            self.diff.show(
                None, note="raw − denoised appears here after denoising" if raw is not None else ""
            )
            self.diff_bar.setVisible(False)
            self.den.plot.setTitle("Denoised")
            self._update_profile()
            return
        self.den.show(scan)
        self.den.image.setLevels(self.hist.getLevels())
        self.den.plot.setTitle(denoised_title(scan, self.session.model.name if self.session.model else ""))
        diff = np.asarray(raw.data) - np.asarray(scan.data)
        self.diff.show(scan, diff)
        self.diff_bar.setVisible(True)
        self.diff_bar.setLevels(symmetric_levels(diff))
        self._update_profile()

    @Slot(str)
    def _denoise_status(self, text: str) -> None:
        # the Denoise panel shows the whole reason; the view only points there when it is long
        self._denoise_note = text if len(text) <= 70 else "No denoised image yet:\nsee the Denoise panel"
        if self.den.scan is None and self.raw.scan is not None:
            self.den.set_note(text)

    # ------------------------------------------------------------------ levels and colours
    @Slot(str)
    def set_colormap(self, name: str) -> None:
        """Use colour map ``name`` for the raw and denoised views."""
        if self.colormap_box.currentText() != name:
            self.colormap_box.setCurrentText(name)
        self.hist.gradient.setColorMap(colormap(name))

    @Slot()
    def auto_levels(self) -> None:
        """Percentile levels of the raw image for raw and denoised."""
        if self.raw.data is None:
            return
        lo, hi = robust_levels(self.raw.data)
        self.hist.setLevels(lo, hi)
        finite = self.raw.data[np.isfinite(self.raw.data)]
        if finite.size:
            span = hi - lo
            self.hist.setHistogramRange(
                max(float(finite.min()), lo - span), min(float(finite.max()), hi + span), padding=0.02
            )

    @Slot(object)
    def _levels_changed(self, _hist: object) -> None:
        if self.den.data is not None:
            self.den.image.setLevels(self.hist.getLevels())

    @Slot(object)
    def _lut_changed(self, _hist: object) -> None:
        self.den.image.setLookupTable(self.hist.getLookupTable)

    # ------------------------------------------------------------------ toggles
    @Slot(bool)
    def _processing_toggled(self, _checked: bool) -> None:
        self.session.set_processing(level=self.level_box.isChecked(), align=self.align_box.isChecked())

    @Slot(bool)
    def _profile_toggled(self, on: bool) -> None:
        for roi in self.rois:
            roi.setVisible(on and self.raw.scan is not None)
        self.profile_plot.setVisible(on)
        self._update_profile()

    # ------------------------------------------------------------------ line profile
    def _reset_roi(self, scan: Scan) -> None:
        h, w = scan.size
        pts = [QPointF(0.1 * w, 0.5 * h), QPointF(0.9 * w, 0.5 * h)]
        self._syncing = True
        try:
            for roi in self.rois:
                self._place(roi, pts)
                roi.setVisible(self.profile_box.isChecked())
        finally:
            self._syncing = False

    @staticmethod
    def _place(roi: pg.LineSegmentROI, pts: list[QPointF]) -> None:
        for handle, p in zip(roi.getHandles(), pts, strict=True):
            roi.movePoint(handle, p, finish=False, coords="parent")

    def profile_points(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """End points ``((x0, y0), (x1, y1))`` of the line profile in metres."""
        roi = self.rois[0]
        p0, p1 = (roi.mapToParent(h.pos()) for h in roi.getHandles())
        return (p0.x(), p0.y()), (p1.x(), p1.y())

    @Slot(object)
    def _roi_moved(self, roi: pg.LineSegmentROI) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            pts = [roi.mapToParent(h.pos()) for h in roi.getHandles()]
            for other in self.rois:
                if other is not roi:
                    self._place(other, pts)
        finally:
            self._syncing = False
        self._update_profile()

    def _update_profile(self) -> None:
        raw = self.raw.scan
        if raw is None or not self.profile_box.isChecked():
            self.raw_curve.setData([], [])
            self.den_curve.setData([], [])
            return
        p0, p1 = self.profile_points()
        d, v = profile_along(raw.data, raw.pixel_size, p0, p1)
        self.raw_curve.setData(d, v, connect="finite")
        if self.den.scan is not None:
            d2, v2 = profile_along(self.den.scan.data, raw.pixel_size, p0, p1)
            self.den_curve.setData(d2, v2, connect="finite")
        else:
            self.den_curve.setData([], [])

    # ------------------------------------------------------------------ cursor readout
    @Slot(object)
    def _mouse_moved(self, pos: QPointF) -> None:
        for view in (self.raw, self.den, self.diff):
            vb = view.plot.getViewBox()
            if not vb.sceneBoundingRect().contains(pos):
                continue
            p = vb.mapSceneToView(pos)
            hit = view.value_at(p.x(), p.y())
            if hit is None or view.scan is None:
                self.cursor_text.emit("")
                return
            r, c, value = hit
            self.cursor_text.emit(
                f"{view.title}: x {p.x() * 1e9:.3f} nm, y {p.y() * 1e9:.3f} nm (row {r}, col {c}) = "
                f"{format_value(value, view.scan.unit)}"
            )
            return
