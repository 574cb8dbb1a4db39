"""One conversion from what a user scores (an STM scan in metres, a photo) to what a metric sees.

Every metric in :mod:`stmdenoise.metrics` accepts

* a :class:`~stmdenoise.scan.Scan` (its ``data`` is used), or
* a 2-D array: ``uint8`` arrays are taken as 8-bit grey levels unchanged; any other real dtype
  (STM heights in metres, currents in amperes, floats in [0, 1]) is min-max scaled per image to
  0-255 and rounded to ``uint8``, as MATLAB's ``im2uint8(mat2gray(x))`` does for the paper's numbers.

Before that, NaN rows (an aborted scan, a partial last line) are dropped: only the longest
contiguous run of *complete* rows (every pixel finite) is scored. Images (or that run) smaller
than 64x64 are refused, and so are constant images (no contrast: no meaningful quality value).
Both refusals raise :class:`NotScorableError`, a :class:`ValueError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.scan import Scan

__all__ = ["MIN_SIZE", "NotScorableError", "scored_rows", "joint_rows", "prepare", "to_uint8"]

#: Smallest image (rows and columns, after dropping incomplete rows) any metric scores.
MIN_SIZE = 64


class NotScorableError(ValueError):
    """The image cannot be scored: too small, too few complete rows, or constant.

    The message says which and with what numbers, e.g.
    ``"image: only 40 complete rows (NaN-free) of 128; metrics need at least 64x64"``.
    """


def _as_array(image: Any, name: str) -> NDArray[Any]:
    data = image.data if isinstance(image, Scan) else np.asarray(image)
    if data.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (rows, cols) array, got shape {data.shape}")
    if data.dtype == np.bool_ or not (
        np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)
    ):
        raise ValueError(f"{name} must hold real numbers, got dtype {data.dtype}")
    return data


def scored_rows(image: Any, *, name: str = "image") -> slice:
    """Slice of the longest contiguous run of rows whose every pixel is finite.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        The image; NaN (or inf) marks unmeasured pixels.
    name : str
        Argument name used in error messages.

    Returns
    -------
    slice
        Row slice to score (the first run wins a tie).

    Raises
    ------
    NotScorableError
        When no row is complete.
    """
    data = _as_array(image, name)
    if np.issubdtype(data.dtype, np.integer):
        return slice(0, data.shape[0])
    ok = np.isfinite(data).all(axis=1)
    if ok.all():
        return slice(0, data.shape[0])
    if not ok.any():
        raise NotScorableError(f"{name}: no complete (NaN-free) row among {data.shape[0]} rows")
    # run boundaries of True stretches in `ok`
    padded = np.concatenate(([False], ok, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[0::2], edges[1::2]
    best = int(np.argmax(stops - starts))
    return slice(int(starts[best]), int(stops[best]))


def joint_rows(a: NDArray[Any], b: NDArray[Any], *, names: tuple[str, str]) -> slice:
    """Longest run of rows complete in both ``a`` and ``b`` (same shape), at least 64 of them.

    Raises
    ------
    ValueError
        Shapes differ.
    NotScorableError
        Fewer than 64 rows are complete in both, or fewer than 64 columns.
    """
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}")
    finite = np.ones(a.shape, dtype=bool)
    for arr in (a, b):
        if not np.issubdtype(arr.dtype, np.integer):
            finite &= np.isfinite(arr)
    label = f"{names[0]}/{names[1]}"
    rows = scored_rows(np.where(finite, 0.0, np.nan), name=label)
    n, total, cols = rows.stop - rows.start, a.shape[0], a.shape[1]
    if n < total and (n < MIN_SIZE or cols < MIN_SIZE):
        raise NotScorableError(
            f"{label}: only {n} rows of {total} are complete in both images (x {cols} columns); "
            f"metrics need at least {MIN_SIZE}x{MIN_SIZE}"
        )
    return rows


def _check_size(shape: tuple[int, ...], total_rows: int, name: str) -> None:
    rows, cols = shape
    if rows < MIN_SIZE or cols < MIN_SIZE:
        if rows < total_rows:
            raise NotScorableError(
                f"{name}: only {rows} complete (NaN-free) rows of {total_rows} (x {cols} columns); "
                f"metrics need at least {MIN_SIZE}x{MIN_SIZE}"
            )
        raise NotScorableError(f"{name}: {rows}x{cols} pixels is smaller than {MIN_SIZE}x{MIN_SIZE}")


def prepare(image: Any, *, name: str = "image") -> NDArray[np.float64]:
    """Crop to complete rows and check size and contrast, keeping the image's units.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        Image in any units (metres for STM topography); NaN rows are dropped.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of float64, shape (rows', cols)
        The longest contiguous run of complete rows, in the input's units.

    Raises
    ------
    NotScorableError
        Fewer than 64 complete rows or columns, or a constant image.
    ValueError
        Not a 2-D real array.
    """
    data = _as_array(image, name)
    rows = scored_rows(data, name=name)
    out = np.asarray(data[rows], dtype=np.float64)
    _check_size(out.shape, data.shape[0], name)
    lo, hi = float(out.min()), float(out.max())
    if not hi > lo:
        raise NotScorableError(
            f"{name}: constant image (every complete pixel is {lo:g}); no contrast to score"
        )
    return out


def to_uint8(image: Any, *, name: str = "image") -> NDArray[np.uint8]:
    """Convert an image to the 8-bit grey levels the photographic metrics are defined on.

    ``uint8`` input is returned as is (after dropping incomplete rows and the checks); any
    other dtype is min-max scaled per image: ``round(255 * (x - min) / (max - min))``, with
    halves rounded up as MATLAB's ``im2uint8`` does.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        Image in any units; NaN rows are dropped (see :func:`prepare`).
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of uint8, shape (rows', cols)

    Raises
    ------
    NotScorableError
        Fewer than 64 complete rows or columns, or a constant image.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.linspace(0.0, 1e-10, 64 * 64).reshape(64, 64)   # a 0.1 nm ramp, in metres
    >>> g = to_uint8(z)
    >>> int(g.min()), int(g.max()), g.dtype.name
    (0, 255, 'uint8')
    """
    data = _as_array(image, name)
    if data.dtype == np.uint8:
        rows = scored_rows(data, name=name)
        out8 = np.ascontiguousarray(data[rows])
        _check_size(out8.shape, data.shape[0], name)
        if out8.min() == out8.max():
            raise NotScorableError(
                f"{name}: constant image (every pixel is {int(out8[0, 0])}); no contrast to score"
            )
        return out8
    out = prepare(data, name=name)
    lo, hi = out.min(), out.max()
    # in place, one temporary; (x - lo) / (hi - lo) <= 1 exactly (rounding is monotone), so no clip
    scaled = np.subtract(out, lo)
    scaled /= hi - lo
    scaled *= 255.0
    scaled += 0.5
    np.floor(scaled, out=scaled)
    return scaled.astype(np.uint8)
