"""Pictures of scans: colour maps (from ``cmap``), physical aspect, colour bar and scale bar.

This module is the one place that names the colour maps: the PNG writer, the CLI and the GUI
all take :data:`COLORMAPS` and :func:`colormap_lut` from here. The tables come from the
`cmap <https://cmap-docs.readthedocs.io>`_ package (the dependency-free catalogue napari
uses); only ``gold``, a Gwyddion-like black-brown-gold-white ramp, is defined here, as a
four-stop ``cmap.Colormap``.

A rendered picture has square pixels whatever the scan's pixel size (a 512 x 60 px scan of
200 x 200 nm becomes a square picture), so distances read off it are right in both
directions; the optional scale bar is drawn to the picture's pixel size, and the optional
colour bar on the right maps colours back to values in the channel's unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from stmdenoise.scan import Scan

__all__ = [
    "COLORMAPS",
    "DIFFERENCE_COLORMAP",
    "canonical_colormap",
    "colormap_lut",
    "colorize",
    "nice_scale_bar",
    "format_quantity",
    "square_pixels",
    "Picture",
    "render_scan",
]

#: cmap catalogue name of each base map offered (the reversed ``*_r`` variants are derived).
_SOURCES: dict[str, Any] = {
    "grey": "matlab:gray",
    "afmhot": "gnuplot:afmhot",
    # Gwyddion-like default: black -> brown -> gold -> white (our own four stops)
    "gold": [(0.0, "#000000"), (0.35, "#7a3f12"), (0.7, "#e3a537"), (1.0, "#ffffff")],
    "viridis": "bids:viridis",
    "inferno": "bids:inferno",
    "cividis": "cividis:cividis",
}
_BASE: tuple[str, ...] = tuple(_SOURCES)

#: Every colour-map name accepted by the writers and offered by the GUI, base maps first.
COLORMAPS: tuple[str, ...] = _BASE + tuple(f"{n}_r" for n in _BASE)

#: The diverging (blue - white - red) map of difference pictures, raw - denoised: the map of the
#: app's difference view (colorcet CET-D1). Accepted by the renderers, not offered as a view map.
DIFFERENCE_COLORMAP = "difference"
_SOURCES[DIFFERENCE_COLORMAP] = "colorcet:CET_D1"

_ALIASES = {"greyscale": "grey", "gray": "grey", "greyscale_r": "grey_r", "gray_r": "grey_r"}


def canonical_colormap(name: str) -> str:
    """The :data:`COLORMAPS` name of ``name`` (``"greyscale"``/``"gray"`` mean ``"grey"``).

    Raises ``ValueError`` naming ``colormap`` for unknown names.

    Examples
    --------
    >>> canonical_colormap("greyscale")
    'grey'
    """
    canon = _ALIASES.get(name, name)
    if canon not in COLORMAPS and canon != DIFFERENCE_COLORMAP:
        raise ValueError(f"colormap must be one of {COLORMAPS}, got {name!r}")
    return canon


@lru_cache(maxsize=64)
def _lut_cached(name: str, n: int) -> NDArray[np.uint8]:
    from cmap import Colormap  # imported on first use: `stmdenoise info` stays light

    if name.endswith("_r"):  # exactly the base table backwards
        lut = np.ascontiguousarray(_lut_cached(name[:-2], n)[::-1])
    else:
        rgba = np.asarray(Colormap(_SOURCES[name], name=name).lut(n), dtype=np.float64)
        lut = np.asarray(np.round(np.clip(rgba[:, :3], 0.0, 1.0) * 255), dtype=np.uint8)
    lut.setflags(write=False)
    return lut


def colormap_lut(name: str, *, n: int = 256) -> NDArray[np.uint8]:
    """RGB lookup table of colour map ``name``.

    Parameters
    ----------
    name : str
        One of :data:`COLORMAPS` (``"greyscale"`` and ``"gray"`` are accepted for ``"grey"``).
    n : int
        Number of entries (at least 2).

    Returns
    -------
    ndarray of uint8, shape (n, 3)
        Read-only; entry 0 is the colour of the lowest value.

    Examples
    --------
    >>> lut = colormap_lut("grey")
    >>> lut[0].tolist(), lut[-1].tolist()
    ([0, 0, 0], [255, 255, 255])
    >>> colormap_lut("grey_r")[0].tolist()
    [255, 255, 255]
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    return _lut_cached(canonical_colormap(name), int(n))


def _display_range(data: NDArray[np.float64], low_pct: float, high_pct: float) -> tuple[float, float]:
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [low_pct, high_pct]))
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        hi = lo + 1.0
    return lo, hi


def colorize(
    data: NDArray[np.floating[Any]],
    *,
    colormap: str = "afmhot",
    vmin: float | None = None,
    vmax: float | None = None,
    low_pct: float = 0.5,
    high_pct: float = 99.5,
    nan_color: tuple[int, int, int] = (0, 0, 0),
) -> NDArray[np.uint8]:
    """Map a 2-D array to RGB through a colour map.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
        Values; NaN pixels get ``nan_color``.
    colormap : str
        One of :data:`COLORMAPS`.
    vmin, vmax : float, optional
        Display range; default the ``low_pct`` / ``high_pct`` percentiles of the finite values.

    Returns
    -------
    ndarray of uint8, shape (rows, cols, 3)

    Examples
    --------
    >>> colorize(np.array([[0.0, 1.0]]), colormap="grey", vmin=0, vmax=1).tolist()
    [[[0, 0, 0], [255, 255, 255]]]
    """
    lut = colormap_lut(colormap)
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"data must be 2-D, got shape {arr.shape}")
    lo, hi = _display_range(arr, low_pct, high_pct)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    if not hi > lo:
        raise ValueError(f"vmax must exceed vmin, got vmin={lo}, vmax={hi}")
    finite = np.isfinite(arr)
    idx = np.zeros(arr.shape, dtype=np.intp)
    idx[finite] = np.clip(np.round((arr[finite] - lo) / (hi - lo) * 255), 0, 255).astype(np.intp)
    rgb = lut[idx]
    rgb[~finite] = nan_color
    return rgb


def nice_scale_bar(width_m: float) -> tuple[float, str]:
    """A round scale-bar length (1, 2 or 5 x 10**n m) near a fifth of ``width_m`` and its label.

    Examples
    --------
    >>> nice_scale_bar(1e-7)
    (2e-08, '20 nm')
    """
    if not (math.isfinite(width_m) and width_m > 0):
        raise ValueError(f"width_m must be positive and finite, got {width_m!r}")
    target = width_m / 5
    exp = math.floor(math.log10(target))
    length = max(m * 10.0**exp for m in (1, 2, 5) if m * 10.0**exp <= target * 1.0000001)
    for factor, unit in ((1e-12, "pm"), (1e-9, "nm"), (1e-6, "\u00b5m"), (1e-3, "mm"), (1.0, "m")):
        value = round(length / factor, 9)
        if value < 1000:
            return length, f"{value:g} {unit}"
    return length, f"{length:g} m"


_PREFIXES = ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "\u00b5"), (1e-3, "m"), (1.0, ""), (1e3, "k"))


def format_quantity(value: float, unit: str, *, digits: int = 4) -> str:
    """``value`` with an SI prefix; heights (``unit == "m"``) always in pm, as STM users read them.

    Examples
    --------
    >>> format_quantity(1.5e-10, "m")
    '150 pm'
    >>> format_quantity(4.4e-10, "A")
    '440 pA'
    >>> format_quantity(0.5, "")
    '0.5'
    """
    if not math.isfinite(value):
        return "not measured"
    if unit == "m":
        return f"{value * 1e12:.{digits}g} pm"
    if not unit:
        return f"{value:.{digits}g}"
    mag = abs(value)
    factor, prefix = 1.0, ""
    for f, p in _PREFIXES:
        if mag >= f * 0.9995:
            factor, prefix = f, p
    if mag == 0:
        factor, prefix = 1.0, ""
    return f"{value / factor:.{digits}g} {prefix}{unit}"


def square_pixels(
    data: NDArray[np.floating[Any]], pixel_size: tuple[float, float], *, max_side: int = 4096
) -> tuple[NDArray[np.float64], float]:
    """Resample ``data`` (nearest neighbour) to square pixels of the finer pixel size.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
    pixel_size : tuple of float
        ``(dy, dx)`` in metres.
    max_side : int
        Largest side of the result; the pixel grows when the field would need more.

    Returns
    -------
    (ndarray, float)
        The resampled array, shape ``(round(h / p), round(w / p))``, and ``p`` in metres.

    Examples
    --------
    >>> out, p = square_pixels(np.zeros((60, 512)), (200e-9 / 60, 200e-9 / 512))
    >>> out.shape, round(p * 1e12, 1)
    ((512, 512), 390.6)
    """
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"data must be 2-D, got shape {arr.shape}")
    dy, dx = (float(v) for v in pixel_size)
    if not (dy > 0 and dx > 0 and math.isfinite(dy) and math.isfinite(dx)):
        raise ValueError(f"pixel_size must be two positive lengths, got {pixel_size!r}")
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    h, w = arr.shape[0] * dy, arr.shape[1] * dx
    p = max(min(dy, dx), max(h, w) / max_side)
    rows = max(1, int(round(h / p)))
    cols = max(1, int(round(w / p)))
    if (rows, cols) == arr.shape:
        return arr, p
    ri = np.minimum((np.arange(rows) + 0.5) * arr.shape[0] / rows, arr.shape[0] - 1).astype(np.intp)
    ci = np.minimum((np.arange(cols) + 0.5) * arr.shape[1] / cols, arr.shape[1] - 1).astype(np.intp)
    return arr[np.ix_(ri, ci)], p


@dataclass(frozen=True)
class Picture:
    """A rendered scan: RGB pixels plus where the image and the bars lie in them.

    Attributes
    ----------
    rgb : ndarray of uint8, shape (rows, cols, 3)
    pixel_size : float or None
        Side of one (square) picture pixel inside the image area, in metres; None for a scan
        without a pixel size.
    image_box : tuple of int
        ``(top, left, rows, cols)`` of the scan image inside ``rgb``.
    vmin, vmax : float
        Values of the first and last colour.
    scale_bar_px : int
        Length of the scale bar in picture pixels (0 without one).
    scale_bar_m : float
        Length the scale bar stands for, in metres (0 without one).
    colour_bar_box : tuple of int or None
        ``(top, left, rows, cols)`` of the colour-bar gradient (top = ``vmax``).
    """

    rgb: NDArray[np.uint8]
    pixel_size: float | None
    image_box: tuple[int, int, int, int]
    vmin: float
    vmax: float
    scale_bar_px: int = 0
    scale_bar_m: float = 0.0
    colour_bar_box: tuple[int, int, int, int] | None = None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _draw_scale_bar(
    img: Image.Image, box: tuple[int, int, int, int], p: float, width_m: float
) -> tuple[int, float]:
    top, left, rows, cols = box
    length, label = nice_scale_bar(width_m)
    n = max(1, int(round(length / p)))
    thick = max(3, rows // 80)
    margin = max(4, cols // 32)
    draw = ImageDraw.Draw(img)
    x0 = left + margin
    y1 = top + rows - margin
    draw.rectangle([x0 - 1, y1 - thick - 1, x0 + n, y1 + 1], fill=(0, 0, 0))
    draw.rectangle([x0, y1 - thick, x0 + n - 1, y1], fill=(255, 255, 255))
    font = _font(max(10, cols // 30))
    tb = draw.textbbox((0, 0), label, font=font, stroke_width=1)
    tw, th = tb[2] - tb[0], tb[3] - tb[1]
    ty = y1 - thick - 4 - th - tb[1]
    if tw <= max(n, cols // 2) and ty >= top:  # only when the label fits the image
        draw.text((x0, ty), label, font=font, fill=(255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0))
    return n, length


def render_scan(
    scan: Scan,
    *,
    colormap: str = "afmhot",
    vmin: float | None = None,
    vmax: float | None = None,
    scale_bar: bool = False,
    colour_bar: bool = False,
    physical_aspect: bool = True,
    min_width: int = 512,
    max_side: int = 4096,
) -> Picture:
    """Render ``scan`` as a colour picture with square pixels, optionally with scale and colour bars.

    Parameters
    ----------
    scan : Scan
        What to draw.
    colormap : str
        One of :data:`COLORMAPS`.
    vmin, vmax : float, optional
        Display range (default the 0.5-99.5 % percentiles of the finite values).
    scale_bar : bool
        Draw a 1-2-5 scale bar (about a fifth of the width) into the image; a scan without a
        pixel size has no length to show and gets none.
    colour_bar : bool
        Add a colour bar with its value range and the channel's unit to the right.
    physical_aspect : bool
        Resample to square pixels so that the picture has the scan's physical aspect ratio.
    min_width : int
        With a scale or colour bar, small images are enlarged (nearest neighbour) to at
        least this width so labels are legible and the bar length is exact to < 1 %.
    max_side : int
        Largest side of the image area.

    Returns
    -------
    Picture
    """
    data = np.asarray(scan.data, dtype=np.float64)
    lo, hi = _display_range(data, 0.5, 99.5)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    p: float | None
    if scan.pixel_size is None:  # no physical aspect to restore: the stored pixels are drawn square
        img_data, p = data, None
    elif physical_aspect:
        img_data, p = square_pixels(data, scan.pixel_size, max_side=max_side)
    else:
        img_data, p = data, scan.pixel_size[1]
    if (scale_bar or colour_bar) and img_data.shape[1] < min_width:
        factor = int(math.ceil(min_width / img_data.shape[1]))
        factor = max(1, min(factor, max_side // max(img_data.shape)))
        img_data = np.repeat(np.repeat(img_data, factor, axis=0), factor, axis=1)
        p = None if p is None else p / factor
    rgb = colorize(img_data, colormap=colormap, vmin=lo, vmax=hi)
    rows, cols = rgb.shape[:2]
    box = (0, 0, rows, cols)
    cbox: tuple[int, int, int, int] | None = None
    if colour_bar:
        font = _font(max(11, rows // 40))
        labels = [format_quantity(hi, scan.unit), format_quantity(lo, scan.unit), scan.channel]
        if scan.angle:  # a rotated frame says so on the picture, not only in its metadata
            labels.append(f"angle {scan.angle:.4g}°")
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        text_w = max(probe.textbbox((0, 0), t, font=font)[2] for t in labels)
        bar_w = max(12, cols // 28)
        gap = max(8, cols // 60)
        pad_v = max(6, rows // 40)
        canvas = Image.new("RGB", (cols + gap + bar_w + gap + text_w + gap, rows), (255, 255, 255))
        canvas.paste(Image.fromarray(rgb), (0, 0))
        bar_rows = rows - 2 * pad_v
        ramp = colormap_lut(colormap)[np.linspace(255, 0, bar_rows).round().astype(np.intp)]
        strip = np.repeat(ramp[:, None, :], bar_w, axis=1)
        bx = cols + gap
        canvas.paste(Image.fromarray(np.ascontiguousarray(strip)), (bx, pad_v))
        draw = ImageDraw.Draw(canvas)
        draw.rectangle([bx - 1, pad_v - 1, bx + bar_w, pad_v + bar_rows], outline=(0, 0, 0))
        tx = bx + bar_w + gap
        draw.text((tx, pad_v), labels[0], font=font, fill=(0, 0, 0))
        draw.text((tx, pad_v + bar_rows), labels[1], font=font, fill=(0, 0, 0), anchor="ld")
        draw.text((tx, rows // 2), labels[2], font=font, fill=(0, 0, 0), anchor="lm")
        if len(labels) > 3:
            draw.text(
                (tx, rows // 2 + int(getattr(font, "size", 11) * 1.6)),
                labels[3],
                font=font,
                fill=(0, 0, 0),
                anchor="lm",
            )
        img = canvas
        cbox = (pad_v, bx, bar_rows, bar_w)
    else:
        img = Image.fromarray(rgb)
    n_px, length = 0, 0.0
    if scale_bar and p is not None and scan.size is not None:
        n_px, length = _draw_scale_bar(img, box, p, scan.size[1])
    return Picture(
        rgb=np.asarray(img),
        pixel_size=p,
        image_box=box,
        vmin=lo,
        vmax=hi,
        scale_bar_px=n_px,
        scale_bar_m=length,
        colour_bar_box=cbox,
    )
