"""Sub-pixel registration of two looks at one area (trace/retrace, frames of a stack).

Used by :mod:`stmdenoise.metrics.fidelity`; the integer search is bounded so that the period
of an atomic lattice cannot alias the shift, the sub-pixel part is scikit-image's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.metrics._input import NotScorableError, _as_array, scored_rows
from stmdenoise.processing.spectrum import (
    fft2,
    hann_window,  # re-exported: one window for every estimate
)

__all__ = [
    "HALVES_APART",
    "MIN_REGISTRATION_SIZE",
    "REGISTRATION_NOTICE",
    "HalvesOffsets",
    "halves_offsets",
    "hann_window",
    "levelled",
    "overlap",
    "register_frames",
    "trace_retrace_max_shift",
    "windowed_power",
]

Array = NDArray[np.float64]

#: Fewest rows and columns two looks must share to be registered.
MIN_REGISTRATION_SIZE = 32
#: The top and bottom halves of a pair registering at least this far apart (pixels, along either
#: axis) do not share one offset (:class:`HalvesOffsets`). On the shared real scans the halves of
#: most channels agree within 0.45 px; Au_mica Current's lie 1.2 rows apart, img_0071 Current's 3
#: columns (`python bench/direction_contrast.py`).
HALVES_APART = 1.0
#: The notice of a pair whose halves register apart (:func:`halves_offsets`; the do-no-harm
#: verdict formats it).
REGISTRATION_NOTICE = (
    "The top and bottom halves of this scan register onto the {look} at offsets {apart_rows:.1f} rows "
    "and {apart_cols:.1f} columns apart (top {top}, bottom {bottom}, whole frame {whole}; rows, "
    "columns): the second look does not sit at one offset (drift or creep between the directions, "
    "or too little structure to register on). Part of every estimated error here is that "
    "misregistration, not the result's: the figures are uncertain, and they favour smoother results."
)


def levelled(z: Array) -> Array:
    """``z`` minus its least-squares plane (and mean).

    On a full grid the mean and the two centred coordinates are orthogonal, so the least-squares
    plane is three projections (O(pixels); a general solver took 40 ms per megapixel, six
    times per do-no-harm check).
    """
    rows, cols = z.shape
    ref = float(z.mean())
    d = z - ref
    v = np.linspace(-1.0, 1.0, rows)
    u = np.linspace(-1.0, 1.0, cols)
    # a single row or column has no slope across it (its coordinate is constant)
    cv = float(d.sum(axis=1) @ v) / (cols * float(v @ v)) if rows > 1 else 0.0
    cu = float(d.sum(axis=0) @ u) / (rows * float(u @ u)) if cols > 1 else 0.0
    return np.asarray(d - cv * v[:, None] - cu * u[None, :], dtype=np.float64)


def windowed_power(z: Array, window: Array | None = None) -> Array:
    """The power spectrum ``|F(levelled(z) * Hann)|^2`` every spectral check reads (unshifted,
    the zero frequency at ``[0, 0]``): the plane taken out and the edges tapered, so that neither
    a slope nor the frame's borders spread power over the spectrum. ``window``: the Hann window
    of ``z.shape`` already made (one window for several frames of one shape).

    >>> p = windowed_power(np.outer(np.ones(32), np.cos(2 * np.pi * np.arange(32) / 8)))
    >>> [int(i) for i in np.unravel_index(np.argmax(p), p.shape)] in ([0, 4], [0, 28])
    True
    """
    w = hann_window(z.shape) if window is None else window
    return np.asarray(np.abs(fft2(levelled(z) * w)) ** 2, dtype=np.float64)


def register_frames(
    reference: Any, moving: Any, *, max_shift: float | None = None, upsample: int = 20
) -> tuple[float, float]:
    """Shift ``(dy, dx)`` in pixels that moves ``moving`` onto ``reference``.

    ``moving`` shifted by ``(dy, dx)`` (content moves down by ``dy`` rows and right by ``dx``
    columns) lines up with ``reference``. The integer part is the cross-correlation peak of the
    levelled, windowed frames within ``max_shift`` pixels (so the period of an atomic lattice
    cannot alias it); the sub-pixel part comes from
    :func:`skimage.registration.phase_cross_correlation` on the integer-aligned overlap.

    Parameters
    ----------
    reference, moving : Scan or array_like, shape (rows, cols)
        Two looks at one area (same shape); NaN rows are ignored.
    max_shift : float, optional
        Largest shift searched, pixels (default: a quarter of the shorter side).
    upsample : int
        Sub-pixel precision is ``1 / upsample`` px.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import ndimage
    >>> rng = np.random.default_rng(1)
    >>> a = ndimage.gaussian_filter(rng.normal(size=(128, 128)), 2)
    >>> b = ndimage.shift(a, (0.0, -3.4), mode="reflect")   # b's content sits 3.4 px left
    >>> dy, dx = register_frames(a, b)
    >>> round(dy, 1) + 0.0, round(dx, 1)
    (0.0, 3.4)
    """
    ref = np.asarray(_as_array(reference, "reference"), dtype=np.float64)
    mov = np.asarray(_as_array(moving, "moving"), dtype=np.float64)
    if ref.shape != mov.shape:
        raise ValueError(f"reference and moving must have the same shape, got {ref.shape} and {mov.shape}")
    if isinstance(upsample, bool) or not isinstance(upsample, int) or upsample < 1:
        raise ValueError(f"upsample must be a positive integer, got {upsample!r}")
    both = np.asarray(np.isfinite(ref).all(axis=1) & np.isfinite(mov).all(axis=1), dtype=bool)
    block = scored_rows(np.where(both[:, None], 0.0, np.nan), name="reference/moving")
    r, m = ref[block], mov[block]
    if min(r.shape) < MIN_REGISTRATION_SIZE:
        raise NotScorableError(
            f"reference/moving: only {r.shape[0]} x {r.shape[1]} complete pixels in common; "
            f"registration needs {MIN_REGISTRATION_SIZE} x {MIN_REGISTRATION_SIZE}"
        )
    limit = min(r.shape) / 4 if max_shift is None else float(max_shift)
    if not (limit >= 0 and math.isfinite(limit)):
        raise ValueError(f"max_shift must be a non-negative number of pixels, got {max_shift!r}")
    w = hann_window(r.shape)
    fr, fm = levelled(r) * w, levelled(m) * w
    for name, a in (("reference", fr), ("moving", fm)):
        if not np.ptp(a) > 0:
            raise NotScorableError(f"{name}: no contrast after plane levelling (a constant or tilted plane)")
    size = (2 * r.shape[0], 2 * r.shape[1])  # zero-padded: linear, not circular, correlation
    xc = np.fft.irfft2(np.fft.rfft2(fr, size) * np.conj(np.fft.rfft2(fm, size)), size)
    dy = np.fft.fftfreq(size[0], 1.0 / size[0])[:, None]
    dx = np.fft.fftfreq(size[1], 1.0 / size[1])[None, :]
    xc = np.where((np.abs(dy) <= limit) & (np.abs(dx) <= limit), xc, -np.inf)
    iy, ix = np.unravel_index(int(np.argmax(xc)), xc.shape)
    sy, sx = int(dy[iy, 0]), int(dx[0, ix])
    a, b = overlap(r, m, sy, sx)
    if upsample > 1 and min(a.shape) >= 8:
        from skimage.registration import phase_cross_correlation

        wa = hann_window(a.shape)
        sub, _, _ = phase_cross_correlation(
            levelled(a) * wa, levelled(b) * wa, upsample_factor=upsample, normalization=None
        )
        fy, fx = (float(v) for v in sub)
        if abs(fy) <= 1.0 and abs(fx) <= 1.0:  # a refinement, not a new peak
            return (sy + fy, sx + fx)
    return (float(sy), float(sx))


def overlap(ref: Array, mov: Array, sy: int, sx: int) -> tuple[Array, Array]:
    """The parts of ``ref`` and of ``mov`` shifted by integer ``(sy, sx)`` that overlap."""
    rows, cols = ref.shape
    r0, r1 = max(0, sy), min(rows, rows + sy)
    c0, c1 = max(0, sx), min(cols, cols + sx)
    return ref[r0:r1, c0:c1], mov[r0 - sy : r1 - sy, c0 - sx : c1 - sx]


def trace_retrace_max_shift(shape: tuple[int, int]) -> float:
    """Largest offset searched between a forward and a backward frame: 1/16 of the shorter side, >= 4 px.

    Trace and retrace are recorded within milliseconds of each other; their offset (piezo
    hysteresis, feedback lag) is a few pixels. Searching wider lets a noise-dominated channel
    lock on a random peak (seen: 29 px on a 512 px Createc current map).
    """
    return max(4.0, min(shape) / 16)


@dataclass(frozen=True)
class HalvesOffsets:
    """The offsets registering a second look onto a frame: the whole frame's and each half's.

    Attributes
    ----------
    whole, top, bottom : (float, float)
        ``(dy, dx)`` in pixels (:func:`register_frames`) of the whole frame (as given), the first
        half of the rows both looks measured and the second half.
    """

    whole: tuple[float, float]
    top: tuple[float, float]
    bottom: tuple[float, float]

    @property
    def apart(self) -> tuple[float, float]:
        """How far apart the halves' offsets lie, ``(rows, columns)``."""
        return (abs(self.top[0] - self.bottom[0]), abs(self.top[1] - self.bottom[1]))

    @property
    def named(self) -> bool:
        """True when the halves lie :data:`HALVES_APART` or more apart along either axis."""
        return max(self.apart) >= HALVES_APART

    def notice(self, look: str) -> str:
        """:data:`REGISTRATION_NOTICE` for this pair, the second look called ``look``."""

        def pair(v: tuple[float, float]) -> str:
            return f"({v[0]:+.2f}, {v[1]:+.2f})"

        rows, cols = self.apart
        return REGISTRATION_NOTICE.format(
            look=look, apart_rows=rows, apart_cols=cols, top=pair(self.top), bottom=pair(self.bottom),
            whole=pair(self.whole),
        )  # fmt: skip


def halves_offsets(
    reference: Any, moving: Any, whole: tuple[float, float], *, max_shift: float | None = None
) -> HalvesOffsets | None:
    """The offsets registering the top and the bottom half of the rows both looks measured, each
    on its own (:func:`register_frames` with ``max_shift``, default
    :func:`trace_retrace_max_shift` of the whole frame), beside ``whole``, the whole frame's. None
    where a half has fewer than :data:`MIN_REGISTRATION_SIZE` rows or cannot be registered (no
    contrast, too few complete pixels).

    >>> import numpy as np
    >>> from scipy import ndimage
    >>> rng = np.random.default_rng(2)
    >>> a = ndimage.gaussian_filter(rng.normal(size=(128, 96)), 2)
    >>> b = a.copy()
    >>> b[64:] = np.roll(a, -3, axis=1)[64:]   # the bottom half drifted 3 px to the left
    >>> h = halves_offsets(a, b, register_frames(a, b))
    >>> h.apart[1] >= 2.5, h.named
    (True, True)
    """
    ref = np.asarray(_as_array(reference, "reference"), dtype=np.float64)
    mov = np.asarray(_as_array(moving, "moving"), dtype=np.float64)
    if ref.shape != mov.shape:
        raise ValueError(f"reference and moving must have the same shape, got {ref.shape} and {mov.shape}")
    rows = np.flatnonzero(np.isfinite(ref).all(axis=1) & np.isfinite(mov).all(axis=1))
    if rows.size < 2 * MIN_REGISTRATION_SIZE:
        return None
    first, last = int(rows[0]), int(rows[-1]) + 1
    mid = first + (last - first) // 2
    limit = trace_retrace_max_shift(ref.shape) if max_shift is None else max_shift
    try:
        top = register_frames(ref[first:mid], mov[first:mid], max_shift=limit)
        bottom = register_frames(ref[mid:last], mov[mid:last], max_shift=limit)
    except NotScorableError:
        return None
    return HalvesOffsets((float(whole[0]), float(whole[1])), top, bottom)
