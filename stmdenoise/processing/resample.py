"""Resampling a scan to a given pixel size (the network was trained at one nm-per-pixel).

Standing waves on Cu(111) have a physical wavelength, so a scan is brought to the pixel
size of the training data before it is cropped, denoised or compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from stmdenoise.processing.nan import fill_nan_nearest
from stmdenoise.scan import ProcessingStep, Scan

__all__ = ["resample_onto", "resample_to_pixel_size", "resampled_shape", "same_pixel_size"]


def _pixel_pair(pixel_size: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(pixel_size, (int, float, np.floating, np.integer)) and not isinstance(pixel_size, bool):
        pair: Any = (pixel_size, pixel_size)
    else:
        pair = pixel_size
    try:
        dy, dx = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(
            f"pixel_size must be a number or a (dy, dx) pair in metres, got {pixel_size!r}"
        ) from None
    if not (np.isfinite(dy) and np.isfinite(dx) and dy > 0 and dx > 0):
        raise ValueError(f"pixel_size must be positive and finite (metres), got {pixel_size!r}")
    return dy, dx


def resampled_shape(
    shape: tuple[int, int], old_pixel_size: tuple[float, float], new_pixel_size: tuple[float, float]
) -> tuple[int, int]:
    """Pixels ``(rows, cols)`` that cover the same field of view at ``new_pixel_size`` (rounded, >= 1)."""
    return (
        max(1, int(round(shape[0] * old_pixel_size[0] / new_pixel_size[0]))),
        max(1, int(round(shape[1] * old_pixel_size[1] / new_pixel_size[1]))),
    )


def _source_map(n_old: int, d_old: float, n_new: int, d_new: float) -> tuple[float, float]:
    """``(scale, offset)`` with old index = scale * new index + offset; the grids share their centre."""
    scale = d_new / d_old
    return scale, (0.5 - n_new / 2) * scale + n_old / 2 - 0.5


def resample_to_pixel_size(
    scan: Scan, pixel_size: float | tuple[float, float], *, order: int = 1, antialias: bool = True
) -> Scan:
    """Resample a scan onto a grid with the requested pixel size, keeping its field of view.

    Parameters
    ----------
    scan : Scan
        Scan to resample; NaN marks unmeasured pixels.
    pixel_size : float or (float, float)
        New ``(dy, dx)`` in metres (one number for square pixels).
    order : int
        Spline order, 0 (nearest) to 5; 1 (bilinear) by default.
    antialias : bool
        When shrinking an axis, smooth it first with a Gaussian of sigma
        ``(factor - 1) / 2`` old pixels (as :func:`skimage.transform.resize` does) so
        that detail finer than the new pixels does not alias into false patterns.

    Returns
    -------
    Scan
        Shape ``round(old_size / new_pixel_size)`` per axis (at least 1) with exactly the
        requested pixel size; the new grid is centred on the old one, so the field of view
        changes by less than half a new pixel per side and ``offset`` is unchanged. A new
        pixel is NaN exactly when the old pixel nearest to its centre is NaN: NaN regions
        keep their physical extent and never smear into measured pixels. A
        ``resample_to_pixel_size`` step records the old and new pixel sizes and shapes.
        When the pixel size is already the requested one, the scan is returned unchanged.

    Raises
    ------
    ValueError
        For a non-positive pixel size, an order outside 0..5, a scan without a pixel size of
        its own, or a scan without finite pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from stmdenoise.scan import Scan
    >>> scan = Scan(np.ones((100, 80)), pixel_size=(1e-10, 1e-10))
    >>> out = resample_to_pixel_size(scan, 2e-10)
    >>> out.shape, out.pixel_size, out.steps[-1].name
    ((50, 40), (2e-10, 2e-10), 'resample_to_pixel_size')
    """
    if not isinstance(scan, Scan):
        raise ValueError(f"scan must be a Scan (it carries the pixel size), got {type(scan).__name__}")
    new = _pixel_pair(pixel_size)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= 5:
        raise ValueError(f"order must be an int from 0 to 5, got {order!r}")
    old = scan.pixel_size
    if old is None:
        raise ValueError(
            f"{scan.describe()}: the scan carries no pixel size, so it cannot be resampled to one"
        )
    if old == new:
        return scan
    data = scan.data
    finite = np.isfinite(data)
    if not finite.any():
        raise ValueError("scan has no finite pixel: nothing to resample")
    shape = resampled_shape(scan.shape, old, new)
    # Nearest-value filling keeps splines from ringing at NaN borders; NaN is put back below.
    filled = data if finite.all() else fill_nan_nearest(data)
    if antialias:
        factors = (new[0] / old[0], new[1] / old[1])
        sigma = tuple(max(0.0, (f - 1.0) / 2.0) for f in factors)
        if any(s > 0 for s in sigma):
            filled = ndimage.gaussian_filter(filled, sigma=sigma, mode="nearest")
    sy, oy = _source_map(scan.shape[0], old[0], shape[0], new[0])
    sx, ox = _source_map(scan.shape[1], old[1], shape[1], new[1])
    # A diagonal affine map samples the tensor grid without building coordinate arrays.
    result = ndimage.affine_transform(
        filled, [sy, sx], offset=[oy, ox], output_shape=shape, order=int(order), mode="nearest"
    )
    if not finite.all():
        ry = sy * np.arange(shape[0]) + oy
        rx = sx * np.arange(shape[1]) + ox
        near_r = np.clip(np.rint(ry).astype(np.intp), 0, scan.shape[0] - 1)
        near_c = np.clip(np.rint(rx).astype(np.intp), 0, scan.shape[1] - 1)
        result[~finite[np.ix_(near_r, near_c)]] = np.nan
    step = ProcessingStep(
        "resample_to_pixel_size",
        {
            "pixel_size": [new[0], new[1]],
            "from_pixel_size": [old[0], old[1]],
            "shape": [shape[0], shape[1]],
            "from_shape": [scan.shape[0], scan.shape[1]],
            "order": int(order),
            "antialias": bool(antialias),
        },
    )
    return scan.with_data(result, step, pixel_size=new)


def same_pixel_size(pixel_size: tuple[float, float], target: float) -> bool:
    """True when both sides of ``pixel_size`` equal ``target`` to 1 part in a million (no resampling)."""
    return all(abs(float(p) - target) <= 1e-6 * target for p in pixel_size)


def resample_onto(
    data: NDArray[np.float64],
    src_pixel: tuple[float, float],
    dst_shape: tuple[int, int],
    dst_pixel: tuple[float, float],
) -> NDArray[np.float64]:
    """Bilinear resampling of ``data`` onto a grid of ``dst_shape`` x ``dst_pixel`` sharing its centre.

    The inverse of :func:`resample_to_pixel_size` (same centred-grid convention) onto an exact
    target shape: a network's output on the model's grid goes back onto the scan's own grid.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
        Image on a grid of ``src_pixel`` (metres, ``(dy, dx)``); finite values.
    src_pixel, dst_pixel : (float, float)
        Pixel sizes of the source and destination grids, metres.
    dst_shape : (int, int)
        Shape of the destination grid.

    Returns
    -------
    ndarray of float64, shape ``dst_shape``

    Examples
    --------
    >>> import numpy as np
    >>> back = resample_onto(np.ones((50, 40)), (2e-10, 2e-10), (100, 80), (1e-10, 1e-10))
    >>> back.shape, float(back.min()), float(back.max())
    ((100, 80), 1.0, 1.0)
    """
    src_shape = data.shape
    sigma = [max(0.0, (dst_pixel[i] / src_pixel[i] - 1.0) / 2.0) for i in range(2)]
    if any(s > 0 for s in sigma):
        data = ndimage.gaussian_filter(data, sigma=sigma, mode="nearest")
    coords = []
    for i in range(2):
        j = np.arange(dst_shape[i])
        centre = src_shape[i] * src_pixel[i] / 2
        pos = centre + (j + 0.5 - dst_shape[i] / 2) * dst_pixel[i]
        coords.append(pos / src_pixel[i] - 0.5)
    grid = np.meshgrid(coords[0], coords[1], indexing="ij")
    return np.asarray(ndimage.map_coordinates(data, grid, order=1, mode="nearest"), dtype=np.float64)
