"""One image view in physical coordinates (scale bar, message overlay) and its small helpers.

Used three times by :class:`stmdenoise.gui.image_views.ImageViewsPanel` (raw, denoised, difference).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from stmdenoise.io.render import format_quantity
from stmdenoise.scan import Scan

__all__ = [
    "ImageView",
    "nice_length",
    "format_value",
    "view_title",
    "denoised_title",
    "set_title",
    "view_pixel_size",
    "view_size",
    "length_unit",
]


def view_pixel_size(scan: Scan) -> tuple[float, float]:
    """``(dy, dx)`` of one pixel in view coordinates: metres, or 1 per pixel for a scan without a
    pixel size (its axes, profiles and spectra then count pixels; see :func:`length_unit`)."""
    return scan.pixel_size or (1.0, 1.0)


def view_size(scan: Scan) -> tuple[float, float]:
    """``(height, width)`` of ``scan`` in view coordinates (see :func:`view_pixel_size`)."""
    dy, dx = view_pixel_size(scan)
    return (scan.shape[0] * dy, scan.shape[1] * dx)


def length_unit(scan: Scan | None) -> str:
    """Unit of view coordinates: ``"m"``, or ``"px"`` for a scan without a pixel size."""
    return "px" if scan is not None and scan.pixel_size is None else "m"


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
    return format_quantity(value, unit)


def view_title(scan: Scan, prefix: str = "Raw") -> str:
    """Title of a view: channel and direction; a grid's slice and a rotated frame's angle below."""
    parts = []
    sweep = scan.header.get("sweep_value") if scan.header else None
    if sweep is not None:
        label = str(scan.header.get("Sweep Signal", "sweep")).partition(" (")[0] or "sweep"
        try:
            parts.append(f"{label} {format_quantity(float(sweep), 'V' if 'Bias' in label else '')}")
        except ValueError:
            parts.append(f"{label} {sweep}")
    if scan.angle:
        parts.append(f"scan angle {scan.angle:.4g}°")
    first = f"{prefix} — {scan.channel} ({scan.direction})"
    return first + (f"<br><span style='font-size:8pt'>{' · '.join(parts)}</span>" if parts else "")


def denoised_title(scan: Scan, model: str) -> str:
    """Title of the denoised view: what is really shown (the do-no-harm verdict may have replaced
    the model's output by a classical filter or the raw scan)."""
    from stmdenoise.quality_rows import verdict_of
    from stmdenoise.safety import SINGLE_FRAME  # not at import: the window paints first

    verdict = verdict_of(scan) or {}
    delivered = verdict.get("delivered", "model")
    if delivered == "model":
        flag = " (harmful!)" if verdict.get("harmful") else ""
        refined = (verdict.get("refined") or {}).get("name")  # total variation applied to it (EN)
        flag = (f" + {refined}" if refined else "") + flag
        return f"Denoised — {model}{flag}" if model else f"Denoised{flag}"
    if delivered == SINGLE_FRAME:  # the model's output from this frame alone (the judge chose it)
        return f"Denoised — {model} (single frame)" if model else "Denoised (single frame)"
    if delivered == "raw":
        return "Raw (not denoised)"
    return f"Fallback: {delivered}"


def set_title(plot: pg.PlotItem, text: str) -> None:
    """Set a plot title that never widens the plot: a long title is clipped, not laid out."""
    plot.setTitle(text)
    plot.titleLabel.setMinimumWidth(0)  # LabelItem asks for its text width; columns must stay equal


class ImageView:
    """One plot with an image in physical coordinates, its scale bar and a message overlay."""

    def __init__(self, plot: pg.PlotItem, title: str) -> None:
        self.plot = plot
        self.title = title
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        set_title(plot, title)
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
            h, w = view_size(scan) if scan is not None else (1.0, 1.0)
            unit = length_unit(scan)
            self.plot.setLabel("bottom", "x", units=unit)
            self.plot.setLabel("left", "y", units=unit)
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
        if self.scan is None or self.scan.size is None:  # no scan, or no length to show
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
        dy, dx = view_pixel_size(self.scan)
        r, c = int(math.floor(y / dy)), int(math.floor(x / dx))
        if 0 <= r < self.data.shape[0] and 0 <= c < self.data.shape[1]:
            return r, c, float(self.data[r, c])
        return None
