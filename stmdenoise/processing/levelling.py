"""Background levelling: plane and polynomial subtraction, row alignment.

All functions are NaN-aware: pixels that were never measured (NaN) are ignored by every fit
and stay NaN in the result; they never change a finite pixel.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.processing._common import FloatArray, as_image, check_mask, finish
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "fit_plane",
    "level_plane",
    "level_poly",
    "align_rows",
    "level_facet",
    "level_three_points",
    "level_rows",
]

RowMethod = Literal["median", "median_diff"]


def _legendre_basis(n: int, order: int) -> FloatArray:
    """Legendre polynomials of degree 0..order at ``n`` points spread over [-1, 1], shape (n, order + 1).

    A Legendre basis on [-1, 1] keeps the normal equations well conditioned up to order 8.
    """
    u = np.zeros(1) if n == 1 else np.linspace(-1.0, 1.0, n)
    basis: FloatArray = np.asarray(np.polynomial.legendre.legvander(u, order), dtype=np.float64)
    return basis


def _fit_surface(
    data: FloatArray, order: int, mask: NDArray[np.bool_] | None
) -> tuple[FloatArray, FloatArray]:
    """Least-squares polynomial surface of total degree ``order`` through the usable pixels.

    Returns ``(surface, coefficients)`` where ``coefficients[p, q]`` multiplies
    ``P_p(v) * P_q(u)`` (Legendre polynomials, ``v`` and ``u`` the row and column positions
    scaled to [-1, 1]; zero for ``p + q > order``).
    """
    use = np.isfinite(data)
    if mask is not None:
        use &= mask
    if not use.any():
        raise ValueError("data has no finite pixel inside mask to fit a background to")
    rows, cols = data.shape
    n = order + 1
    py = _legendre_basis(rows, order)
    px = _legendre_basis(cols, order)
    # Centre the values: a large offset (Z in metres far from 0) keeps full precision.
    ref = float(np.mean(data, where=use))
    values = np.where(use, data - ref, 0.0)
    # The design matrix is separable, so the normal equations come from thin products with
    # the basis instead of a (pixels x terms) matrix: memory stays at one image. einsum,
    # not BLAS: multithreaded BLAS on thin products stalls badly when the CPUs are busy
    # (measured 10x slower next to other jobs on a 2-core machine).
    rhs = np.einsum("ip,iq->pq", py, np.einsum("ij,jq->iq", values, px))  # (n, n)
    ty = (py[:, :, None] * py[:, None, :]).reshape(rows, n * n)
    tx = (px[:, :, None] * px[:, None, :]).reshape(cols, n * n)
    # Gram matrix sum_ij w_ij T_a(v_i) T_b(u_j): complete rows (w = 1) share one column sum,
    # only partly usable rows need their own product.
    row_count = use.sum(axis=1)
    full = row_count == cols
    partial = (row_count > 0) & ~full
    gram_flat = np.outer(ty[full].sum(axis=0), tx.sum(axis=0))
    if partial.any():
        gram_flat += np.einsum(
            "ia,ib->ab", ty[partial], np.einsum("ij,jb->ib", use[partial].astype(np.float64), tx)
        )
    gram4 = gram_flat.reshape(n, n, n, n)  # [p, p', q, q']
    terms = [(p, q) for p in range(n) for q in range(n - p)]
    tp = np.array([t[0] for t in terms])
    tq = np.array([t[1] for t in terms])
    gram = gram4[tp[:, None], tp[None, :], tq[:, None], tq[None, :]]
    b = rhs[tp, tq]
    sol, *_ = np.linalg.lstsq(gram, b, rcond=None)
    coef = np.zeros((n, n))
    coef[tp, tq] = sol
    surface: FloatArray = np.einsum("iq,jq->ij", np.einsum("ip,pq->iq", py, coef), px) + ref
    coef[0, 0] += ref
    return surface, coef


def fit_plane(data: ArrayLike | Scan, *, mask: ArrayLike | None = None) -> tuple[float, float, float]:
    """Least-squares plane through the finite pixels.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image; NaN pixels are ignored.
    mask : ndarray of bool, shape (rows, cols), optional
        True where a pixel may be used for the fit (e.g. False on adsorbates).

    Returns
    -------
    (c0, cy, cx) : tuple of float
        The plane is ``c0 + cy * row + cx * col`` in data units, with ``row`` and ``col`` in
        pixels (``cy``, ``cx`` are slopes per pixel).

    Raises
    ------
    ValueError
        If no finite pixel lies inside ``mask``.

    Examples
    --------
    >>> import numpy as np
    >>> rows, cols = np.mgrid[0:4, 0:5]
    >>> c0, cy, cx = fit_plane(2.0 + 0.5 * rows - 0.25 * cols)
    >>> round(c0, 12), round(cy, 12), round(cx, 12)
    (2.0, 0.5, -0.25)
    """
    arr, _ = as_image(data)
    _, coef = _fit_surface(arr, 1, check_mask(mask, arr.shape))
    return _plane_coefficients(coef, arr.shape)


def _plane_coefficients(coef: FloatArray, shape: tuple[int, ...]) -> tuple[float, float, float]:
    """Plane ``(c0, cy, cx)`` per pixel from the Legendre coefficients of an order-1 fit."""
    rows, cols = shape
    # Undo the [-1, 1] scaling: u = 2 * i / (n - 1) - 1.
    sy = 2.0 / (rows - 1) if rows > 1 else 0.0
    sx = 2.0 / (cols - 1) if cols > 1 else 0.0
    c0, ay, ax = float(coef[0, 0]), float(coef[1, 0]), float(coef[0, 1])
    cy, cx = ay * sy, ax * sx
    c0 = c0 - (ay if rows > 1 else 0.0) - (ax if cols > 1 else 0.0)
    return c0, cy, cx


@overload
def level_plane(data: Scan, *, mask: ArrayLike | None = ...) -> Scan: ...
@overload
def level_plane(data: ArrayLike, *, mask: ArrayLike | None = ...) -> FloatArray: ...
def level_plane(data: ArrayLike | Scan, *, mask: ArrayLike | None = None) -> FloatArray | Scan:
    """Subtract the least-squares plane through the finite pixels.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image in any unit; NaN pixels are ignored by the fit and stay NaN.
    mask : ndarray of bool, shape (rows, cols), optional
        True where a pixel may be used for the fit; the plane is subtracted everywhere.

    Returns
    -------
    ndarray of float64 or Scan
        Same kind as ``data``. A Scan gets a ``level_plane`` step recording the plane
        coefficients ``(c0, cy, cx)`` (data units, per pixel; see :func:`fit_plane`).

    Raises
    ------
    ValueError
        If no finite pixel lies inside ``mask``.

    Examples
    --------
    >>> import numpy as np
    >>> rows, cols = np.mgrid[0:4, 0:5]
    >>> float(np.abs(level_plane(1e-9 * (3 + rows - 2 * cols))).max()) < 1e-20
    True
    """
    arr, scan = as_image(data)
    surface, coef = _fit_surface(arr, 1, check_mask(mask, arr.shape))
    c0, cy, cx = _plane_coefficients(coef, arr.shape)
    result = arr - surface
    step = ProcessingStep("level_plane", {"c0": c0, "cy": cy, "cx": cx, "masked": mask is not None})
    return finish(result, scan, step)


@overload
def level_poly(data: Scan, *, order: int, mask: ArrayLike | None = ...) -> Scan: ...
@overload
def level_poly(data: ArrayLike, *, order: int, mask: ArrayLike | None = ...) -> FloatArray: ...
def level_poly(data: ArrayLike | Scan, *, order: int, mask: ArrayLike | None = None) -> FloatArray | Scan:
    """Subtract a least-squares 2-D polynomial background of total degree ``order``.

    ``order=0`` subtracts the mean, ``order=1`` a plane (same result as :func:`level_plane`),
    ``order=2`` a paraboloid (piezo bow), and so on.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image in any unit; NaN pixels are ignored by the fit and stay NaN.
    order : int
        Total degree of the polynomial, 0 to 8.
    mask : ndarray of bool, shape (rows, cols), optional
        True where a pixel may be used for the fit.

    Returns
    -------
    ndarray of float64 or Scan
        Same kind as ``data``; a Scan gets a ``level_poly`` step with the order.

    Raises
    ------
    ValueError
        If ``order`` is outside 0..8 or no finite pixel lies inside ``mask``.
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= 8:
        raise ValueError(f"order must be an int from 0 to 8, got {order!r}")
    arr, scan = as_image(data)
    surface, _ = _fit_surface(arr, int(order), check_mask(mask, arr.shape))
    step = ProcessingStep("level_poly", {"order": int(order), "masked": mask is not None})
    return finish(arr - surface, scan, step)


def _nanmedian_rows(arr: FloatArray) -> FloatArray:
    """Median of the finite values of each row; NaN for a row without any."""
    out = np.full(arr.shape[0], np.nan)
    finite = np.isfinite(arr)
    full = finite.all(axis=1)
    if full.any():
        out[full] = np.median(arr[full], axis=1)
    for i in np.nonzero(~full & finite.any(axis=1))[0]:
        out[i] = np.median(arr[i, finite[i]])
    return out


def _row_offsets_median_diff(arr: FloatArray) -> FloatArray:
    """Per-row offsets from the median difference to the previous measured row."""
    rows = arr.shape[0]
    finite = np.isfinite(arr)
    offsets = np.full(rows, np.nan)
    measured = np.nonzero(finite.any(axis=1))[0]
    if measured.size == 0:
        return offsets
    prev, cur = measured[:-1], measured[1:]
    steps = np.empty(prev.size)
    # Pairs of complete rows (the usual case) in one vectorised median...
    full = np.asarray(finite.all(axis=1), dtype=np.bool_)
    easy = full[prev] & full[cur]
    if easy.any():
        steps[easy] = np.median(arr[cur[easy]] - arr[prev[easy]], axis=1)
    # ...and the few pairs with NaN one by one.
    medians: FloatArray | None = None
    for k in np.nonzero(~easy)[0]:
        both = finite[prev[k]] & finite[cur[k]]
        if both.any():
            steps[k] = np.median(arr[cur[k], both] - arr[prev[k], both])
        else:  # the rows share no measured column: fall back to their medians
            medians = _nanmedian_rows(arr) if medians is None else medians
            steps[k] = medians[cur[k]] - medians[prev[k]]
    offsets[measured[0]] = 0.0
    offsets[cur] = np.cumsum(steps)
    # Subtracting the offsets should not shift the image as a whole.
    offsets[measured] -= np.median(offsets[measured])
    return offsets


@overload
def align_rows(data: Scan, *, method: RowMethod = ...) -> Scan: ...
@overload
def align_rows(data: ArrayLike, *, method: RowMethod = ...) -> FloatArray: ...
def align_rows(data: ArrayLike | Scan, *, method: RowMethod = "median") -> FloatArray | Scan:
    """Remove a constant offset from each scan line (feedback jumps, tip changes, drift).

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image with scan lines along rows; NaN pixels are ignored and stay NaN, rows with
        no finite pixel stay NaN.
    method : {"median", "median_diff"}
        ``"median"`` subtracts each row's median, so every row ends with median 0 (robust
        on flat terraces; it also removes real height differences between rows).
        ``"median_diff"`` shifts each row by the median of its difference to the previous
        measured row (columns measured in both), accumulated down the image and centred so
        the median offset is 0; it keeps slopes and features that span many rows.

    Returns
    -------
    ndarray of float64 or Scan
        Same kind as ``data``; a Scan gets an ``align_rows`` step with the method.

    Raises
    ------
    ValueError
        If ``method`` is not one of the above.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.tile(np.arange(4.0), (3, 1)) + np.array([[0.0], [5.0], [-2.0]])
    >>> align_rows(img, method="median_diff")[:, 0].tolist()
    [0.0, 0.0, 0.0]
    """
    arr, scan = as_image(data)
    if method == "median":
        offsets = _nanmedian_rows(arr)
    elif method == "median_diff":
        offsets = _row_offsets_median_diff(arr)
    else:
        raise ValueError(f"method must be 'median' or 'median_diff', got {method!r}")
    # Rows without any measured pixel have a NaN offset; they are NaN anyway.
    result = arr - np.nan_to_num(offsets, nan=0.0)[:, None]
    step = ProcessingStep("align_rows", {"method": method})
    return finish(result, scan, step)


def _local_slopes(arr: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-pixel slopes (per pixel) along rows and columns from forward differences; NaN where unknown."""
    gy = np.full(arr.shape, np.nan)
    gx = np.full(arr.shape, np.nan)
    gy[:-1, :] = arr[1:, :] - arr[:-1, :]
    gx[:, :-1] = arr[:, 1:] - arr[:, :-1]
    return gy, gx


@overload
def level_facet(data: Scan, *, iterations: int = ...) -> Scan: ...
@overload
def level_facet(data: ArrayLike, *, iterations: int = ...) -> FloatArray: ...
def level_facet(data: ArrayLike | Scan, *, iterations: int = 30) -> FloatArray | Scan:
    """Make the dominant facets (terraces) horizontal, as Gwyddion's *Facet Level* does.

    A plane fit is pulled by step edges and adsorbates: on a staircase it tilts the terraces.
    Facet levelling instead finds the most common local slope: it starts from the median
    slopes and re-estimates them as a Gaussian-weighted mean of the per-pixel slopes, the
    weight falling off with the distance from the current estimate (width: the robust spread
    of the slopes), so step edges and noise spikes hardly count. The plane of that slope is
    subtracted and the median set to zero.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image; NaN pixels are ignored and stay NaN. Needs at least 2 x 2 pixels.
    iterations : int
        Maximum number of re-weighting rounds (stops earlier when the slopes converge).

    Returns
    -------
    ndarray of float64 or Scan
        Same kind as ``data``; a Scan gets a ``level_facet`` step with the slopes (per pixel).

    Examples
    --------
    >>> import numpy as np
    >>> rows, cols = np.mgrid[0:40, 0:40]
    >>> terraces = 1.0 * (cols // 10)                 # four flat terraces, steps of 1
    >>> tilted = terraces + 0.01 * cols + 0.02 * rows
    >>> out = level_facet(tilted)
    >>> bool(np.abs(out[:, 2:8] - out[0, 2]).max() < 1e-9)  # a terrace is flat again
    True
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ValueError(f"iterations must be a positive int, got {iterations!r}")
    arr, scan = as_image(data)
    if min(arr.shape) < 2:
        raise ValueError(f"data must have at least 2 x 2 pixels for facet levelling, got {arr.shape}")
    gy, gx = _local_slopes(arr)
    ok = np.isfinite(gy) & np.isfinite(gx)
    if not ok.any():
        raise ValueError("data has no pair of neighbouring finite pixels to measure a slope")
    sy, sx = gy[ok], gx[ok]
    by, bx = float(np.median(sy)), float(np.median(sx))
    spread = float(np.median(np.hypot(sy - by, sx - bx))) or float(np.std(np.hypot(sy, sx))) or 1.0
    for _ in range(int(iterations)):
        d2 = (sy - by) ** 2 + (sx - bx) ** 2
        w = np.exp(-d2 / (2.0 * (1.5 * spread) ** 2))
        total = float(w.sum())
        if not total > 0:
            break
        ny, nx = float((w * sy).sum() / total), float((w * sx).sum() / total)
        converged = abs(ny - by) + abs(nx - bx) <= 1e-12 * (abs(by) + abs(bx) + spread)
        by, bx = ny, nx
        if converged:
            break
    rows, cols = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
    result = arr - (by * rows + bx * cols)
    result -= float(np.nanmedian(result))
    step = ProcessingStep("level_facet", {"cy": by, "cx": bx})
    return finish(result, scan, step)


@overload
def level_three_points(data: Scan, *, points: tuple[tuple[float, float], ...], radius: int = ...) -> Scan: ...
@overload
def level_three_points(
    data: ArrayLike, *, points: tuple[tuple[float, float], ...], radius: int = ...
) -> FloatArray: ...
def level_three_points(
    data: ArrayLike | Scan, *, points: tuple[tuple[float, float], ...], radius: int = 1
) -> FloatArray | Scan:
    """Subtract the plane through three chosen points (Gwyddion's *Three Point Level*).

    Pick three points on the same terrace: that terrace becomes horizontal and zero.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image; NaN pixels stay NaN.
    points : sequence of three (row, col)
        Pixel positions (may be fractional; rounded to the nearest pixel).
    radius : int
        Each point's height is the mean of the finite pixels within this many pixels
        (a square of side ``2 * radius + 1``; 0 uses the single pixel).

    Returns
    -------
    ndarray of float64 or Scan
        Same kind as ``data``; a Scan gets a ``level_three_points`` step with the points.

    Raises
    ------
    ValueError
        Not three points, a point outside the image or without finite pixels near it, or
        three points on one line.

    Examples
    --------
    >>> import numpy as np
    >>> rows, cols = np.mgrid[0:5, 0:6]
    >>> out = level_three_points(2.0 + 0.5 * rows - cols, points=((0, 0), (4, 0), (0, 5)), radius=0)
    >>> float(np.abs(out).max())
    0.0
    """
    arr, scan = as_image(data)
    pts = [tuple(float(v) for v in p) for p in points]
    if len(pts) != 3 or any(len(p) != 2 for p in pts):
        raise ValueError(f"points must be three (row, col) pairs, got {points!r}")
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
        raise ValueError(f"radius must be a non-negative int, got {radius!r}")
    zs = []
    idx = []
    for r, c in pts:
        ri, ci = int(round(r)), int(round(c))
        if not (0 <= ri < arr.shape[0] and 0 <= ci < arr.shape[1]):
            raise ValueError(f"points must lie inside the image {arr.shape}, got {(r, c)}")
        patch = arr[max(0, ri - radius) : ri + radius + 1, max(0, ci - radius) : ci + radius + 1]
        finite = patch[np.isfinite(patch)]
        if finite.size == 0:
            raise ValueError(f"points must have finite pixels nearby, got none at {(r, c)}")
        zs.append(float(finite.mean()))
        idx.append((float(ri), float(ci)))
    a = np.array([[1.0, r, c] for r, c in idx])
    if abs(float(np.linalg.det(a))) < 1e-9:
        raise ValueError(f"points must not lie on one line, got {points!r}")
    c0, cy, cx = (float(v) for v in np.linalg.solve(a, np.array(zs)))
    rows, cols = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
    result = arr - (c0 + cy * rows + cx * cols)
    step = ProcessingStep(
        "level_three_points", {"points": [list(p) for p in idx], "c0": c0, "cy": cy, "cx": cx}
    )
    return finish(result, scan, step)


@overload
def level_rows(data: Scan, *, order: int = ...) -> Scan: ...
@overload
def level_rows(data: ArrayLike, *, order: int = ...) -> FloatArray: ...
def level_rows(data: ArrayLike | Scan, *, order: int = 1) -> FloatArray | Scan:
    """Subtract a least-squares polynomial from each scan line (line-by-line levelling).

    ``order=0`` removes each row's mean, ``order=1`` its tilt, 2 and 3 its bow as well.
    Unlike :func:`align_rows` it also flattens features along a line, so use it on
    atomically flat areas or with a low order.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image with scan lines along rows; NaN pixels are ignored and stay NaN.
    order : int
        Degree of the polynomial, 0 to 3. A row with fewer finite pixels than ``order + 1``
        gets the highest degree it supports.

    Returns
    -------
    ndarray of float64 or Scan
        Same kind as ``data``; a Scan gets a ``level_rows`` step with the order.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(8.0)
    >>> img = np.stack([3 + 0.5 * x, -1 + 0.1 * x**2, x**3 / 50])
    >>> float(np.abs(level_rows(img, order=3)).max()) < 1e-12
    True
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= 3:
        raise ValueError(f"order must be an int from 0 to 3, got {order!r}")
    arr, scan = as_image(data)
    n = arr.shape[1]
    u = np.zeros(1) if n == 1 else np.linspace(-1.0, 1.0, n)
    basis = np.polynomial.legendre.legvander(u, int(order))  # (cols, order + 1)
    finite = np.isfinite(arr)
    full = finite.all(axis=1)
    fit = np.zeros_like(arr)
    if full.any():
        coef, *_ = np.linalg.lstsq(basis, arr[full].T, rcond=None)
        fit[full] = (basis @ coef).T
    for i in np.nonzero(~full & finite.any(axis=1))[0]:
        m = finite[i]
        k = min(int(order), int(m.sum()) - 1)
        b = basis[:, : k + 1]
        coef_i, *_ = np.linalg.lstsq(b[m], arr[i, m], rcond=None)
        fit[i] = b @ coef_i
    step = ProcessingStep("level_rows", {"order": int(order)})
    return finish(arr - fit, scan, step)
