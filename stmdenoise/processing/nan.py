"""Unmeasured pixels: find complete rows and crop to the largest NaN-free block.

Aborted scans leave NaN rows (and often one partly measured row) at the end of the slow
scan; the network and most metrics want a complete rectangle. Pixels marked as not the surface
(a scar's) are filled along the slow axis by :func:`fill_along_columns`.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from stmdenoise.processing._common import FloatArray, as_image
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "complete_rows",
    "complete_row_span",
    "largest_complete_block",
    "crop_nan",
    "fill_along_columns",
    "fill_nan_nearest",
]


def complete_rows(data: ArrayLike | Scan) -> NDArray[np.bool_]:
    """Which rows are completely measured.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan

    Returns
    -------
    ndarray of bool, shape (rows,)
        True for rows without any NaN (or infinite) pixel.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.ones((4, 3)); a[2, 1] = np.nan; a[3] = np.nan
    >>> complete_rows(a).tolist()
    [True, True, False, False]
    """
    arr, _ = as_image(data)
    ok: NDArray[np.bool_] = np.asarray(np.isfinite(arr).all(axis=1), dtype=np.bool_)
    return ok


def complete_row_span(data: ArrayLike | Scan) -> slice:
    """The longest run of consecutive complete rows, as a slice (the first one on ties).

    Returns ``slice(0, 0)`` when no row is complete.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.ones((6, 2)); a[1] = np.nan; a[5, 0] = np.nan
    >>> complete_row_span(a)
    slice(2, 5, None)
    """
    ok = complete_rows(data)
    best = (0, 0)
    start = None
    for i, good in enumerate([*ok.tolist(), False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return slice(*best)


def _largest_in_histogram(heights: NDArray[np.intp]) -> tuple[int, int, int, int]:
    """Largest rectangle under a histogram: ``(area, height, left, right)`` (right exclusive).

    Works on runs of equal height so that the common case (a few NaN pixels in long rows)
    costs a handful of steps instead of one per column.
    """
    change = np.flatnonzero(np.diff(heights)) + 1
    starts = np.concatenate(([0], change)).tolist()
    run_heights = heights[starts].tolist()
    best = (0, 0, 0, 0)
    stack: list[tuple[int, int]] = []  # (left edge, height), heights strictly increasing
    for left, h in [*zip(starts, run_heights, strict=True), (len(heights), 0)]:
        edge = left
        while stack and stack[-1][1] >= h:
            edge, sh = stack.pop()
            area = sh * (left - edge)
            if area > best[0]:
                best = (area, sh, edge, left)
        if h > 0 and (not stack or stack[-1][1] < h):
            stack.append((edge, h))
    return best


def largest_complete_block(data: ArrayLike | Scan) -> tuple[slice, slice]:
    """The largest axis-aligned rectangle without NaN, as ``(row_slice, col_slice)``.

    "Largest" is by pixel count; among equally large blocks the choice is deterministic
    (the first found scanning down the rows).

    Raises
    ------
    ValueError
        If ``data`` has no finite pixel.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.ones((5, 4)); a[3, 2:] = np.nan; a[4] = np.nan
    >>> largest_complete_block(a)
    (slice(0, 3, None), slice(0, 4, None))
    """
    arr, _ = as_image(data)
    finite = np.isfinite(arr)
    if finite.all():
        return slice(0, arr.shape[0]), slice(0, arr.shape[1])
    if not finite.any():
        raise ValueError("data has no finite pixel: nothing to crop to")
    heights = np.zeros(arr.shape[1], dtype=np.intp)
    best = (0, 0, 0, 0, 0)  # area, bottom (exclusive), height, left, right
    rows = arr.shape[0]
    for r in range(rows):
        heights = np.where(finite[r], heights + 1, 0)
        # A block ending on row r can grow downwards when row r + 1 is complete, so only
        # rows followed by an incomplete row (or the last row) can end the largest block.
        if r + 1 < rows and finite[r + 1].all():
            continue
        if not heights.any():
            continue
        area, h, left, right = _largest_in_histogram(heights)
        if area > best[0]:
            best = (area, r + 1, h, left, right)
    _, bottom, h, left, right = best
    return slice(bottom - h, bottom), slice(left, right)


def _cropped_offset(scan: Scan, rows: slice, cols: slice) -> tuple[float, float]:
    """Centre ``(y, x)`` in metres of the cropped block, in the instrument's frame.

    The scan's ``offset`` is the frame centre and ``angle`` its rotation in degrees, positive
    clockwise (the Nanonis convention); row 0 is the top of the image, so moving down the
    rows moves towards negative y in the unrotated frame.
    """
    n_rows, n_cols = scan.shape
    if scan.pixel_size is None:  # no lengths: the reported centre cannot move
        return (scan.offset[0], scan.offset[1])
    dy, dx = scan.pixel_size
    # Displacement of the block centre from the frame centre, in the frame (u right, v up).
    du = ((cols.start + cols.stop) / 2 - n_cols / 2) * dx
    dv = -((rows.start + rows.stop) / 2 - n_rows / 2) * dy
    theta = math.radians(scan.angle)
    c, s = math.cos(theta), math.sin(theta)
    # Clockwise rotation of the frame by theta carries (u, v) to (u c + v s, -u s + v c).
    ddx = du * c + dv * s
    ddy = -du * s + dv * c
    return scan.offset[0] + ddy, scan.offset[1] + ddx


@overload
def crop_nan(data: Scan) -> Scan: ...
@overload
def crop_nan(data: ArrayLike) -> FloatArray: ...
def crop_nan(data: ArrayLike | Scan) -> FloatArray | Scan:
    """Crop to the largest complete (NaN-free) axis-aligned rectangle.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image with NaN where nothing was measured.

    Returns
    -------
    ndarray of float64 or Scan
        The block found by :func:`largest_complete_block` (a copy; the input is returned
        unchanged in content when it has no NaN). A Scan keeps its pixel size; its
        ``offset`` (frame centre) moves to the centre of the block, taking the scan angle
        into account, and a ``crop_nan`` step records ``rows`` and ``cols`` as
        ``[start, stop)`` pixel ranges of the original.

    Raises
    ------
    ValueError
        If ``data`` has no finite pixel.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(12.0).reshape(4, 3); a[3] = np.nan
    >>> crop_nan(a).shape
    (3, 3)
    """
    arr, scan = as_image(data)
    rows, cols = largest_complete_block(arr)
    result = arr[rows, cols].copy()
    if scan is None:
        return result
    step = ProcessingStep("crop_nan", {"rows": [rows.start, rows.stop], "cols": [cols.start, cols.stop]})
    return scan.with_data(result, step, offset=_cropped_offset(scan, rows, cols))


def fill_nan_nearest(data: ArrayLike) -> FloatArray:
    """Replace every NaN pixel by the value of the nearest measured pixel.

    For feeding a network or a spline that cannot take NaN: the caller puts NaN back on
    the same pixels afterwards (``out[np.isnan(data)] = np.nan``), so filled values never
    reach the user. Copying the nearest value (rather than zeros or the mean) adds no new
    edge at the NaN border for convolutions to ring on.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
        Image with NaN where nothing was measured (infinities count as unmeasured too).

    Returns
    -------
    ndarray of float64, shape (rows, cols)
        A copy without NaN; measured pixels are unchanged.

    Raises
    ------
    ValueError
        If ``data`` has no finite pixel.

    Examples
    --------
    >>> import numpy as np
    >>> fill_nan_nearest(np.array([[1.0, np.nan, np.nan, 4.0]])).tolist()
    [[1.0, 1.0, 4.0, 4.0]]
    """
    arr, _ = as_image(data)
    finite = np.isfinite(arr)
    if finite.all():
        return arr.copy()
    if not finite.any():
        raise ValueError("data has no finite pixel: nothing to fill NaN from")
    idx = ndimage.distance_transform_edt(~finite, return_distances=False, return_indices=True)
    filled: FloatArray = arr[tuple(idx)]
    return filled


def fill_along_columns(data: ArrayLike, marked: ArrayLike) -> FloatArray:
    """``data`` with each ``marked`` pixel replaced by linear interpolation along its column
    (the slow scan axis) between the nearest measured, unmarked pixels above and below it (the
    nearer one's value beyond the first or last): what a scar's few lines are filled with,
    from the lines recorded just before and after it (Gwyddion's "Remove Scars" fills the
    same way). NaN pixels stay NaN; a column without an unmarked measured pixel is left as it is.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
        The image.
    marked : ndarray of bool, shape (rows, cols)
        The pixels to replace.

    Returns
    -------
    ndarray of float64, shape (rows, cols)
        A copy; unmarked pixels unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0, 1.0], [9.0, 9.0], [2.0, 3.0]])
    >>> fill_along_columns(z, np.array([[False, False], [True, False], [False, False]])).tolist()
    [[0.0, 1.0], [1.0, 9.0], [2.0, 3.0]]
    """
    arr, _ = as_image(data)
    mask = np.asarray(marked, dtype=bool)
    if mask.shape != arr.shape:
        raise ValueError(f"marked has shape {mask.shape}, the image {arr.shape}")
    out = arr.copy()
    rows = np.arange(arr.shape[0])
    for c in np.flatnonzero(mask.any(axis=0)):
        col = arr[:, c]
        anchors = ~mask[:, c] & np.isfinite(col)
        if not anchors.any():
            continue
        fill = mask[:, c] & np.isfinite(col)
        out[fill, c] = np.interp(rows[fill], rows[anchors], col[anchors])
    return out
