"""Raw, denoised and difference views with physical axes, shared levels, a line profile and a scale bar.

Toolbar: colour map (the core's list), auto levels, background (plane, polynomial 2/3, facet,
three points) and line correction (median, polynomial 0-3 per line), crop to the shown area,
line profile with its band width. The profile, its cursors and readout live in
:mod:`stmdenoise.gui.profile`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QPushButton,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.gui.colormaps import (
    COLORMAP_NAMES,
    colormap,
    difference_colormap,
    robust_levels,
    symmetric_levels,
)
from stmdenoise.gui.profile import ProfileTool, profile_along
from stmdenoise.gui.session import Session
from stmdenoise.gui.tasks import BACKGROUNDS, ROW_METHODS
from stmdenoise.gui.view_parts import (
    ImageView,
    denoised_title,
    format_value,
    nice_length,
    set_title,
    view_pixel_size,
    view_size,
    view_title,
)
from stmdenoise.io.render import canonical_colormap
from stmdenoise.scan import Scan

__all__ = ["ImageViewsPanel", "nice_length", "format_value", "profile_along", "view_title", "denoised_title"]


class ImageViewsPanel(QWidget):
    """The central widget: raw | denoised | raw − denoised, histogram, colour map, line profile."""

    cursor_text = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._syncing = False
        self._denoise_note = ""
        self._picking: list[tuple[float, float]] | None = None  # three-point clicks so far

        bar = QToolBar()  # display and corrections; tools in a second bar (see _arrange_bars)
        bar.setMovable(False)
        self.colormap_box = QComboBox()
        self.colormap_box.addItems(list(COLORMAP_NAMES))
        self.colormap_box.setToolTip(
            "Colour map of the raw and denoised views and of exported pictures "
            "(_r: reversed; the difference is blue-white-red)"
        )
        bar.addWidget(self.colormap_box)
        self.auto_levels_button = QPushButton("Auto")
        self.auto_levels_button.setToolTip("Levels from the 0.5–99.5 % percentiles of the raw image")
        bar.addWidget(self.auto_levels_button)
        bar.addSeparator()
        self.level_box = QCheckBox("Level")
        self.level_method = QComboBox()
        for key, label in BACKGROUNDS.items():
            if key != "none":
                self.level_method.addItem(label, key)
        self.align_box = QCheckBox("Lines")
        self.align_method = QComboBox()
        for key, label in ROW_METHODS.items():
            if key != "none":
                self.align_method.addItem(label, key)
        for box, combo, tip in (
            (self.level_box, self.level_method,
             "Subtract a background before display and denoising: plane, polynomial of order 2 or 3, "
             "facet level (terraces horizontal) or the plane through three points you click on the raw view"),
            (self.align_box, self.align_method,
             "Correct each scan line before display and denoising: median offset, median difference "
             "to the previous line, or a polynomial of order 0-3 per line"),
        ):  # fmt: skip
            box.setToolTip(tip)
            combo.setToolTip(tip)
            bar.addWidget(box)
            bar.addWidget(combo)
        self.bars = (bar, QToolBar())
        bar = self.bars[1]
        self.crop_button = QPushButton("Crop")
        self.crop_button.setToolTip(
            "Keep only the area shown in the views (zoom in first); click again to undo"
        )
        self.crop_button.setCheckable(True)
        bar.addWidget(self.crop_button)
        bar.addSeparator()
        self.profile_box = QCheckBox("Profile")
        self.profile_box.setChecked(True)
        self.profile_box.setToolTip(
            "Drag the line on any view; the profile shows raw and denoised. Drag the cursors A and B "
            "in the profile to read distance and height difference (step heights in pm)"
        )
        bar.addWidget(self.profile_box)
        self.width_box = QSpinBox()
        self.width_box.setRange(1, 99)
        self.width_box.setSuffix(" px")
        self.width_box.setToolTip("Profile width: the mean over a band of this many parallel lines")
        bar.addWidget(self.width_box)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((25, 27, 31))
        g = self.graphics
        # raw | denoised | histogram over difference (+ its colour bar) | line profile
        self.raw = ImageView(g.addPlot(row=0, col=0), "Raw")
        self.den = ImageView(g.addPlot(row=0, col=1), "Denoised")
        self.hist = pg.HistogramLUTItem()
        self.hist.setMaximumWidth(110)
        g.addItem(self.hist, row=0, col=2)
        self.diff = ImageView(g.addPlot(row=1, col=0), "Raw − denoised (removed)")
        # horizontal, in its own row under the difference only: inside the plot it widened the
        # plot into the profile and their tick labels overlapped
        self.diff_bar = pg.ColorBarItem(
            values=(-1.0, 1.0), colorMap=difference_colormap(), rounding=1e-15, width=10,
            interactive=True, orientation="horizontal",
        )  # fmt: skip
        self.diff_bar.setImageItem(self.diff.image)
        g.addItem(self.diff_bar, row=2, col=0)
        self.profile_plot = g.addPlot(row=1, col=1, colspan=2)
        for col, stretch in ((0, 1), (1, 1), (2, 0)):
            g.ci.layout.setColumnStretchFactor(col, stretch)
        # equal preferred widths: the stretch factors only share what is left beyond them
        for view in (self.raw, self.den, self.diff):
            view.plot.setPreferredWidth(200)
        g.ci.layout.setRowStretchFactor(0, 3)
        g.ci.layout.setRowStretchFactor(1, 2)
        g.ci.layout.setRowStretchFactor(2, 0)
        self.hist.layout.setContentsMargins(12, 0, 0, 0)  # its axis label clear of the denoised view
        self.profile = ProfileTool(self.profile_plot, self)
        self.raw_curve = self.profile.raw_curve
        self.den_curve = self.profile.den_curve
        # pyqtgraph's setXLink aligns views by screen position (made for stacked plots); side by
        # side, aspect-locked views must share the same rectangle instead
        for view in (self.raw, self.den, self.diff):
            view.plot.getViewBox().sigRangeChangedManually.connect(self._view_moved)
        self.hist.setImageItem(self.raw.image)
        self.den.image.setLookupTable(self.hist.getLookupTable)
        self.picks = pg.ScatterPlotItem(size=9, pen=pg.mkPen((80, 200, 255)), brush=None, symbol="o")
        self.raw.plot.addItem(self.picks, ignoreBounds=True)

        self.rois: list[pg.LineSegmentROI] = []
        for view in (self.raw, self.den, self.diff):
            roi = pg.LineSegmentROI([[0, 0], [1, 0]], pen=pg.mkPen((80, 200, 255), width=2))
            roi.setZValue(10)
            roi.setVisible(False)
            view.plot.addItem(roi, ignoreBounds=True)
            roi.sigRegionChanged.connect(self._roi_moved)
            self.rois.append(roi)

        for b in self.bars:
            b.setMovable(False)
        self._bar_grid = QGridLayout()
        self._bar_grid.setContentsMargins(0, 0, 0, 0)
        self._bars_wide: bool | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(self._bar_grid)
        lay.addWidget(self.graphics, 1)
        self._arrange_bars()

        self.colormap_box.currentTextChanged.connect(self.set_colormap)
        self.auto_levels_button.clicked.connect(self.auto_levels)
        self.level_box.toggled.connect(self._processing_toggled)
        self.align_box.toggled.connect(self._processing_toggled)
        self.level_method.currentIndexChanged.connect(self._processing_toggled)
        self.align_method.currentIndexChanged.connect(self._processing_toggled)
        self.crop_button.toggled.connect(self._crop_toggled)
        self.profile_box.toggled.connect(self._profile_toggled)
        self.width_box.valueChanged.connect(self._width_changed)
        self.hist.sigLevelsChanged.connect(self._levels_changed)
        self.hist.sigLevelChangeFinished.connect(self._levels_changed)
        self.hist.sigLookupTableChanged.connect(self._lut_changed)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self.graphics.scene().sigMouseClicked.connect(self._mouse_clicked)
        session.raw_changed.connect(self.show_raw)
        session.denoised_changed.connect(self.show_denoised)
        session.denoise_status.connect(self._denoise_status)
        session.current_changed.connect(self._frame_changed)
        self.set_colormap(COLORMAP_NAMES[0])
        self._set_axes(False)
        self.raw.set_note("Drop .sxm files or folders here, or use File ▸ Open")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange_bars()

    def _arrange_bars(self) -> None:
        """Both toolbars on one row when they fit, else the tools on a second row (no » overflow)."""
        need = sum(b.sizeHint().width() for b in self.bars) + 16
        wide = self.width() >= need
        if wide == self._bars_wide:
            return
        self._bars_wide = wide
        for b in self.bars:
            self._bar_grid.removeWidget(b)
        self._bar_grid.addWidget(self.bars[0], 0, 0)
        self._bar_grid.addWidget(self.bars[1], 0 if wide else 1, 1 if wide else 0)
        self._bar_grid.setColumnStretch(1 if wide else 0, 1)
        self._bar_grid.setColumnStretch(0 if wide else 1, 0)

    # ------------------------------------------------------------------ data
    def _set_axes(self, on: bool) -> None:
        """Physical axes only with a scan: empty views would label 0..1 m as "mm"."""
        for view in (self.raw, self.den, self.diff):
            for name in ("bottom", "left"):
                view.plot.showAxis(name, on)
        self.profile_plot.showAxis("bottom", on)
        self.profile_plot.showAxis("left", on)

    @Slot(object)
    def show_raw(self, scan: Scan | None) -> None:
        """Show a new raw scan (resets levels, range and the profile when the frame changed)."""
        old = self.raw.scan
        self.raw.show(scan)
        set_title(self.raw.plot, view_title(scan) if scan is not None else "Raw")
        self._set_axes(scan is not None)
        if scan is None:
            self.raw.set_note("")
            self.den.show(None)
            self.diff.show(None)
            self.diff_bar.setVisible(False)
            self.picks.setData([], [])
            self._update_profile()
            return
        unit = scan.unit
        self.hist.axis.setLabel(scan.channel, units=unit)
        self.diff_bar.axis.setLabel(units=unit)
        h, w = view_size(scan)
        for view in (self.raw, self.den, self.diff):
            view.set_note(
                view.note.toPlainText() if view is not self.raw else self._pick_note(), (w / 2, h * 0.3)
            )
        if old is None or old.size != scan.size or old.shape != scan.shape:
            self.set_view_rect(QRectF(0.0, 0.0, w, h))
            self._reset_roi(scan)
        self.auto_levels()
        self._show_picks()
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
            set_title(self.den.plot, "Denoised")
            self._update_profile()
            return
        self.den.show(scan)
        self.den.image.setLevels(self.hist.getLevels())
        set_title(self.den.plot, denoised_title(scan, self.session.model.name if self.session.model else ""))
        diff = np.asarray(raw.data) - np.asarray(scan.data)
        self.diff.show(scan, diff)
        self.diff_bar.setVisible(True)
        self.diff_bar.setLevels(symmetric_levels(diff))
        self._update_profile()

    @Slot(str)
    def _denoise_status(self, text: str) -> None:
        # the session derives this text from its state for the scan shown now; the Denoise
        # panel shows the whole reason, the view only points there when it is long
        self._denoise_note = text if len(text) <= 70 else "No denoised image yet:\nsee the Denoise panel"
        if self.den.scan is None and self.raw.scan is not None:
            self.den.set_note(self._denoise_note)

    # ------------------------------------------------------------------ levels and colours
    @Slot(str)
    def set_colormap(self, name: str) -> None:
        """Use colour map ``name`` for the raw and denoised views (unknown names: the first map)."""
        try:
            name = canonical_colormap(name)
        except ValueError:
            name = COLORMAP_NAMES[0]  # e.g. a name saved by another version
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
            bottom, top = max(float(finite.min()), lo - span), min(float(finite.max()), hi + span)
            if not top > bottom:  # a constant image: its window, not pyqtgraph's ±0.5 (metres!)
                bottom, top = lo, hi
            self.hist.setHistogramRange(bottom, top, padding=0.02)

    @Slot(object)
    def _levels_changed(self, _hist: object) -> None:
        if self.den.data is not None:
            self.den.image.setLevels(self.hist.getLevels())

    @Slot(object)
    def _lut_changed(self, _hist: object) -> None:
        self.den.image.setLookupTable(self.hist.getLookupTable)

    # ------------------------------------------------------------------ processing, crop
    def processing(self) -> tuple[str, str]:
        """The chosen (background, line correction) keys ("none" when unticked)."""
        level = str(self.level_method.currentData()) if self.level_box.isChecked() else "none"
        align = str(self.align_method.currentData()) if self.align_box.isChecked() else "none"
        return level, align

    @Slot()
    def _processing_toggled(self, *_args: object) -> None:
        level, align = self.processing()
        if level == "three_points" and len(self.session.points) != 3:
            self._picking = []
            self.picks.setData([], [])
            self.raw.set_note(self._pick_note())
        else:
            self._picking = None
            if self.raw.note.toPlainText().startswith("Click three"):
                self.raw.set_note("")
        self.session.set_processing(level=level, align=align)

    def _pick_note(self) -> str:
        if self._picking is None:
            return ""
        left = 3 - len(self._picking)
        if left == 3:
            return "Click three points on one terrace of the raw image"
        return f"Click {left} more point(s) on the same terrace"

    def pick_point(self, x: float, y: float) -> None:
        """Take one three-point levelling click at ``(x, y)`` metres on the raw view."""
        scan = self.session.raw
        if self._picking is None or scan is None:
            return
        dy, dx = view_pixel_size(scan)
        self._picking.append((y / dy - 0.5, x / dx - 0.5))
        self.picks.setData(
            [p[1] * dx + dx / 2 for p in self._picking], [p[0] * dy + dy / 2 for p in self._picking]
        )
        if len(self._picking) == 3:
            pts, self._picking = tuple(self._picking), None
            self.raw.set_note("")
            level, align = self.processing()
            self.session.set_processing(level=level, align=align, points=pts)
        else:
            self.raw.set_note(self._pick_note())

    def _show_picks(self) -> None:
        scan = self.session.raw
        if scan is None or self.processing()[0] != "three_points" or self._picking is not None:
            if self._picking is None:
                self.picks.setData([], [])
            return
        dy, dx = view_pixel_size(scan)
        pts = self.session.points
        self.picks.setData([(c + 0.5) * dx for _, c in pts], [(r + 0.5) * dy for r, _ in pts])

    @Slot(bool)
    def _crop_toggled(self, on: bool) -> None:
        scan = self.session.raw
        if self.processing()[0] == "three_points":  # the points belong to the other frame
            self._picking = []
            self.picks.setData([], [])
        if not on:
            self.session.set_crop(None)
            return
        if scan is None:
            self.crop_button.setChecked(False)
            return
        base = self.session.crop
        r_off, c_off = (base[0][0], base[1][0]) if base else (0, 0)
        rect = self.view_rect()
        dy, dx = view_pixel_size(scan)
        rows, cols = scan.shape
        c0 = max(0, int(math.floor(rect.left() / dx)))
        c1 = min(cols, int(math.ceil(rect.right() / dx)))
        r0 = max(0, int(math.floor(rect.top() / dy)))
        r1 = min(rows, int(math.ceil(rect.bottom() / dy)))
        if c1 - c0 < 4 or r1 - r0 < 4:
            self.crop_button.setChecked(False)
            self.session.message.emit("crop: zoom in on an area of at least 4 x 4 pixels first")
            return
        self.session.set_crop((r0 + r_off, r1 + r_off), (c0 + c_off, c1 + c_off))

    @Slot(int)
    def _frame_changed(self, _index: int) -> None:
        # another scan: no crop, no three-point clicks carried over
        for w in (self.crop_button,):
            w.blockSignals(True)
            w.setChecked(False)
            w.blockSignals(False)
        if self.processing()[0] == "three_points":
            self._picking = []
            self.raw.set_note(self._pick_note())

    # ------------------------------------------------------------------ line profile
    @Slot(bool)
    def _profile_toggled(self, on: bool) -> None:
        for roi in self.rois:
            roi.setVisible(on and self.raw.scan is not None)
        self.profile_plot.setVisible(on)
        self._update_profile()

    @Slot(int)
    def _width_changed(self, width: int) -> None:
        self.profile.set_width(width)
        self._update_profile()

    def _reset_roi(self, scan: Scan) -> None:
        h, w = view_size(scan)
        # across the middle of the measured rows (an aborted scan has NaN below them)
        finite_rows = np.flatnonzero(np.isfinite(scan.data).any(axis=1))
        mid = (finite_rows[0] + finite_rows[-1] + 1) / 2 if finite_rows.size else scan.shape[0] / 2
        y = mid * view_pixel_size(scan)[0]
        pts = [QPointF(0.1 * w, y), QPointF(0.9 * w, y)]
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

    def set_profile_points(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        """Put the profile line from ``p0`` to ``p1`` (x, y in metres)."""
        self._syncing = True
        try:
            for roi in self.rois:
                self._place(roi, [QPointF(*p0), QPointF(*p1)])
        finally:
            self._syncing = False
        self._update_profile()

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
            self.profile.update(None, None, (0, 0), (0, 0))
            return
        p0, p1 = self.profile_points()
        self.profile.update(raw, self.den.scan, p0, p1)

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
            where = (
                f"x {p.x() * 1e9:.3f} nm, y {p.y() * 1e9:.3f} nm "
                if view.scan.pixel_size is not None
                else ""  # no lengths: the row and column say it all
            )
            self.cursor_text.emit(
                f"{view.title}: {where}(row {r}, col {c}) = {format_value(value, view.scan.unit)}"
            )
            return

    @Slot(object)
    def _mouse_clicked(self, event: object) -> None:
        if self._picking is None or getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton:
            return
        vb = self.raw.plot.getViewBox()
        pos = event.scenePos()  # type: ignore[attr-defined]
        if vb.sceneBoundingRect().contains(pos):
            p = vb.mapSceneToView(pos)
            self.pick_point(p.x(), p.y())
