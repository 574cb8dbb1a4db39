"""Strong spectral lines taken out before the two-direction Wiener and put back after it (version 2.37).

A moiré, a reconstruction or an atomic lattice puts a few sharp peaks into a scan's spectrum that
stand hundreds to thousands of times above the noise around them. Every Fourier filter of the
two-direction Wiener (:mod:`stmdenoise.model.two_direction`) reads its power under a window and
multiplies a transform of a frame that is not periodic: a strong peak leaks over neighbouring bins,
holds the gain up there and keeps the noise in them (the frame-grid filter's ``1 - N / P`` beside a
moiré's fundamentals, docs/model-selection.md, candidate "daw" and the s37 probes), and the tiles'
gain takes part of the peak's own leakage, which is surface. Here such lines are fitted as
sinusoids (frequency off the grid, amplitude and phase by least squares under the sine window),
subtracted from the frame (and from its second look, each look its own fit) before the filter
runs, and added back to its output whole: the filter then sees a frame without them, and the
lines keep their own shape.

Only lines both looks share are taken (:data:`LINE_COHERENCE`: forward minus backward holds little
of them), so a stripe of interference in one direction stays noise for the filter to remove; only
periods of :data:`~stmdenoise.processing.spectrum.RESOLUTION` and more (finer than a tip resolves,
a peak is noise); only peaks :data:`LINE_OVER_NOISE` times the noise density around them (the
median of forward minus backward's, each frame's half), so the few coefficients of the fit carry
under a per cent of noise; and only peaks that stand alone, :data:`ISOLATION` times everything 2
to 2.5 bins around them: a ring of standing waves, the streak of a step or a row of line noise both
directions share pass the threshold and the gate as easily, and fitting their points as sinusoids
changed real scans (candidate EA; the isolation is candidate EB's). Each look then loses its own
least-squares fit of those lines (same frequencies, its own coefficients), so forward minus
backward, whence every noise spectrum comes, loses only what the two draw a little apart at them
(the noise spectra read the backward frame's rows through two numbers per line, as the gates do);
and a line is kept only where what that difference still holds round it is under
:data:`LOOKS_APART` times the noise: where a piezo hysteresis draws a lattice differently in each
direction the noise spectrum holds the difference, and with the line out of the frame the gain
there would take the rest of the lattice with it (candidate EB took such lines on quiet scans and
came out up to 3x the raw scan's error; the own fits and this gate are candidate EC's). Ours
(docs/model-selection.md, candidates EA, EB and EC); the removal of line components before a
spectral estimate is Thomson's (Proc. IEEE 70, 1982).

>>> import numpy as np
>>> yy, xx = np.mgrid[0:96, 0:128]
>>> wave = np.cos(2 * np.pi * (yy / 37.3 + xx / 51.7))
>>> rng = np.random.default_rng(1)
>>> fwd, bwd = wave + rng.normal(0, 0.05, wave.shape), wave + rng.normal(0, 0.05, wave.shape)
>>> found = shared_lines(fwd, bwd, 2.0)
>>> len(found.freqs), bool(np.std(evaluate(found, fwd.shape) - wave) < 0.01)
(1, True)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import fft
from scipy.ndimage import maximum_filter

from stmdenoise.model.fine_levels import sine
from stmdenoise.processing import level_plane
from stmdenoise.processing.spectrum import PERIODIC_PEAK_RATIO, RESOLUTION

__all__ = [
    "LINE_COHERENCE",
    "ISOLATION",
    "LINE_OVER_NOISE",
    "LOOKS_APART",
    "MAX_LINES",
    "SEARCH_SIDE",
    "Lines",
    "Taken",
    "evaluate",
    "fit",
    "lines_both_share",
    "search_window",
    "shared_lines",
]

Array = NDArray[np.float64]

#: A line's power (sine-windowed periodogram of the frame, at its peak) over the noise density
#: around it (the median of forward minus backward's over :data:`BACKGROUND` bins each way, halved:
#: the frame's own share). Chosen on constructed scenes (docs/model-selection.md, candidate EA).
LINE_OVER_NOISE = 300.0
#: Most ``|c_d| / |2 c_f - c_d|`` of a line taken, ``c_f`` its coefficient in the frame and ``c_d``
#: in forward minus backward: the two looks' coefficients differ by under 0.3 of their mean.
LINE_COHERENCE = 0.3
#: Most power forward minus backward may hold within 2 bins of the frame's grid round a line once
#: each look's own fit of the lines is out of it, over the noise expected there: where the two
#: looks draw a lattice differently (a piezo hysteresis moves it differently in each direction),
#: the noise spectrum holds that difference and, with the line out of the frame, would take the rest
#: of the lattice with it (candidate EC).
LOOKS_APART = 4.0
#: Most lines taken per frame, the strongest first.
MAX_LINES = 24
#: Zero padding of the detection spectrum (a peak between two bins is still found).
PAD = 2
#: Width, in bins of the frame's grid, of the noise median around a line.
BACKGROUND = 5
#: A line stands this many times above the highest power 2 to 2.5 bins of the frame's grid around
#: it (the square ring of 4-5 padded bins): a sinusoid under the sine window reaches 225, a point of
#: a ring of standing waves, a streak from a step or a row of line noise a few. The periodic-detail
#: ratio of :data:`~stmdenoise.processing.spectrum.PERIODIC_PEAK_RATIO` (candidate EB).
ISOLATION = PERIODIC_PEAK_RATIO
#: Lines are found on at most this many rows and columns of the block both frames cover (its
#: centre), so that the 2x zero-padded transforms of the search stay within about 100 MB whatever
#: the scan's size (a 4096² scan would need 8192² of them, 1 GB each); they are fitted on the whole
#: frame. Every scan measured for the rule was smaller (docs/model-selection.md, candidate EC).
SEARCH_SIDE = 1024
#: Lines nearer the origin than this many bins of the frame's grid are left to the filter (a tilt,
#: a bow: not periodic).
NEAR_ORIGIN = 1.5


class Lines(NamedTuple):
    """Fitted lines: ``freqs`` (K, 2) in cycles per pixel (slow axis, fast axis), ``coefs`` (K,)
    complex, each line ``Re(c exp(2 pi i (fy y + fx x)))`` with y, x counted from the grid's first
    pixel."""

    freqs: Array
    coefs: NDArray[np.complex128]


class Taken(NamedTuple):
    """What :func:`lines_both_share` takes out: the lines fitted on the frame's rows (``frame``, to
    subtract there and add to the output) and the second look's own fit of them on its block
    (``look``), and how many (``number``)."""

    frame: Array
    look: Array
    number: int


def _window(shape: tuple[int, int]) -> tuple[Array, Array]:
    return sine(shape[0]), sine(shape[1])


def _centred(a: Array, wy: Array, wx: Array) -> Array:
    """``a`` less its mean under the window."""
    w = np.outer(wy, wx)
    return np.asarray(a - float(np.sum(a * w) / np.sum(w)))


def _neighbours(
    w: Array, rows: NDArray[np.intp], cols: NDArray[np.intp], low: int, high: int, inner: int = 0
) -> Array:
    """The values of ``w`` (wrapped) at offsets ``low`` to ``high`` along both axes from each (row,
    col) whose Chebyshev distance is at least ``inner``: one row per point, the offsets row-major."""
    off = np.arange(low, high + 1)
    dy, dx = np.meshgrid(off, off, indexing="ij")
    keep = np.maximum(np.abs(dy), np.abs(dx)) >= inner
    r = (rows[:, None] + dy[keep][None, :]) % w.shape[0]
    c = (cols[:, None] + dx[keep][None, :]) % w.shape[1]
    return np.asarray(w[r, c])


def _parabolic(m: float, z: float, p: float) -> float:
    """The offset (bins) of a parabola's vertex through (-1, m), (0, z), (1, p)."""
    d = m - 2.0 * z + p
    offset = 0.5 * (m - p) / d if d != 0.0 else 0.0
    return offset if np.isfinite(offset) and abs(offset) <= 1.0 else 0.0  # a bin of zero power


def _peaks(a: Array, difference: Array, min_period: float) -> tuple[Array, Array]:
    """Frequencies (K, 2) of the strong peaks of ``a`` (see the module), strongest first, and the
    difference's windowed power expected around each (its local median over ln 2)."""
    h, w = a.shape
    wy, wx = _window((h, w))
    win = np.outer(wy, wx)
    spec = np.abs(fft.fft2(_centred(a, wy, wx) * win, s=(PAD * h, PAD * w))) ** 2
    noise = np.abs(fft.fft2(_centred(difference, wy, wx) * win, s=(PAD * h, PAD * w))) ** 2 / 2.0
    fy = np.fft.fftfreq(PAD * h)[:, None]
    fx = np.fft.fftfreq(PAD * w)[None, :]
    half = (fx > 0) | ((fx == 0) & (fy > 0))
    far = np.hypot(fy * h, fx * w) >= NEAR_ORIGIN
    resolved = np.hypot(fy, fx) * min_period <= 1.0
    size = PAD * BACKGROUND * 2
    # candidates: local maxima above the threshold over a floor no local median lies under (the
    # noise's 1st percentile); the local median is then read at those points only
    peak = (spec == maximum_filter(spec, size=2 * PAD + 1, mode="wrap")) & half & far & resolved
    peak &= spec > LINE_OVER_NOISE * float(np.quantile(noise, 0.01))
    rows, cols = np.nonzero(peak)
    level = np.zeros(0)
    if rows.size:
        # the window of scipy.ndimage.median_filter with that size, read only where asked
        level = np.median(_neighbours(noise, rows, cols, -(size // 2), size - 1 - size // 2), axis=1)
        keep = spec[rows, cols] > LINE_OVER_NOISE * level
        rows, cols, level = rows[keep], cols[keep], level[keep]
    if rows.size:  # isolated: no ring, streak or row of noise (candidate EB)
        ring = _neighbours(spec, rows, cols, -2 * PAD - PAD // 2, 2 * PAD + PAD // 2, inner=2 * PAD)
        keep = spec[rows, cols] > ISOLATION * ring.max(axis=1)
        rows, cols, level = rows[keep], cols[keep], level[keep]
    order = np.argsort(spec[rows, cols])[::-1][:MAX_LINES]
    out = []
    for r, c in zip(rows[order], cols[order], strict=True):
        with np.errstate(divide="ignore"):  # log 0 = -inf: _parabolic then keeps the bin
            z = np.log(spec[r, c])
            dy = _parabolic(np.log(spec[(r - 1) % (PAD * h), c]), z, np.log(spec[(r + 1) % (PAD * h), c]))
            dx = _parabolic(np.log(spec[r, (c - 1) % (PAD * w)]), z, np.log(spec[r, (c + 1) % (PAD * w)]))
        out.append((float(fy[r, 0]) + dy / (PAD * h), float(fx[0, c]) + dx / (PAD * w)))
    # the median of an exponential variable is ln 2 of its mean; the noise was halved (one frame)
    expected = 2.0 * level[order] / np.log(2.0)
    return np.asarray(out, dtype=np.float64).reshape(-1, 2), np.asarray(expected, dtype=np.float64)


def fit(a: Array, freqs: Array) -> NDArray[np.complex128]:
    """Complex coefficients of the lines at ``freqs`` in ``a``: least squares under the sine window,
    jointly (the window is separable, so the normal equations are sums along each axis)."""
    h, w = a.shape
    k = len(freqs)
    if k == 0:
        return np.zeros(0, dtype=np.complex128)
    wy, wx = _window((h, w))
    x = _centred(np.asarray(a, dtype=np.float64), wy, wx)
    y_idx, x_idx = np.arange(h), np.arange(w)
    # the basis e^{+i phi_k} and e^{-i phi_k}: 2K complex columns, each an outer product
    f_all = np.concatenate([freqs, -freqs])
    ey = np.exp(2j * np.pi * f_all[:, 0, None] * y_idx[None, :])  # (2K, h)
    ex = np.exp(2j * np.pi * f_all[:, 1, None] * x_idx[None, :])  # (2K, w)
    gy = (ey.conj() * wy) @ ey.T  # sum_y w e^{-i phi_j} e^{i phi_l}
    gx = (ex.conj() * wx) @ ex.T
    gram = gy * gx
    along = x @ (ex.conj() * wx).T  # (h, 2K): each row's sum along the fast axis
    rhs = np.sum((ey.conj() * wy).T * along, axis=0)
    coef = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    # a real image: the e^{-i phi} coefficient is the conjugate of the e^{+i phi} one; their sum
    # gives Re(c e^{i phi}) with c = 2 a_+
    return np.asarray(coef[:k] + coef[k:].conj(), dtype=np.complex128)


def evaluate(lines: Lines, shape: tuple[int, int], at: tuple[float, float] = (0.0, 0.0)) -> Array:
    """The lines on a grid of ``shape`` whose first pixel lies at ``at`` (rows, columns) of the grid
    they were fitted on (a subpixel shift is exact: each line is a sinusoid)."""
    out = np.zeros(shape, dtype=np.float64)
    y = np.arange(shape[0]) + at[0]
    x = np.arange(shape[1]) + at[1]
    for (fy, fx), c in zip(lines.freqs, lines.coefs, strict=True):
        out += np.real(np.outer(c * np.exp(2j * np.pi * fy * y), np.exp(2j * np.pi * fx * x)))
    return out


def search_window(shape: tuple[int, int]) -> tuple[slice, slice]:
    """The centre of a block of ``shape``, at most :data:`SEARCH_SIDE` on each side.

    >>> search_window((300, 5000))
    (slice(0, 300, None), slice(1988, 3012, None))
    """

    def centre(n: int) -> slice:
        low = max(0, (n - SEARCH_SIDE) // 2)
        return slice(low, low + min(n, SEARCH_SIDE))

    return centre(shape[0]), centre(shape[1])


def _around(w: Array, freqs: Array) -> Array:
    """The mean of ``w`` (a padded periodogram) over the square of 2 bins of the frame's grid each
    way round each frequency's nearest bin."""
    rows = np.rint(freqs[:, 0] * w.shape[0]).astype(np.intp)
    cols = np.rint(freqs[:, 1] * w.shape[1]).astype(np.intp)
    return np.asarray(_neighbours(w, rows, cols, -2 * PAD, 2 * PAD).mean(axis=1))


def shared_lines(frame: Array, look: Array, min_period: float) -> Lines:
    """The strong lines of ``frame`` that its second look (registered onto it, same shape) shares,
    with periods of ``min_period`` px or more, fitted on ``frame``: see the module."""
    a = np.asarray(frame, dtype=np.float64)
    freqs = _shared_freqs(a, look, min_period)
    return Lines(freqs, fit(a, freqs))


def _shared_freqs(a: Array, look: Array, min_period: float) -> Array:
    """The frequencies (K, 2) of :func:`shared_lines`, strongest first, without its fit."""
    b = np.asarray(look, dtype=np.float64)
    d = a - b
    freqs, expected = _peaks(a, d, min_period)
    if len(freqs):
        cf, cb = fit(a, freqs), fit(b, freqs)
        cd = cf - cb  # the difference's coefficients (the fit is linear)
        incoherence = np.abs(cd) / np.maximum(np.abs(cf + cb), 1e-300)
        # what forward minus backward holds round each line once each look's own fit of the lines
        # is out of it, over the noise expected there (candidate EC)
        wy, wx = _window(a.shape)
        rest = (_centred(d, wy, wx) - evaluate(Lines(freqs, cd), a.shape)) * np.outer(wy, wx)
        around = _around(np.abs(fft.fft2(rest, s=(PAD * a.shape[0], PAD * a.shape[1]))) ** 2, freqs)
        # no noise measured (two identical looks): nothing to judge the looks by, no line
        apart = around < LOOKS_APART * expected
        freqs = freqs[(incoherence < LINE_COHERENCE) & apart & (expected > 0.0)]
    return freqs


def lines_both_share(
    common: Array, look: Array, rows: Array, look_block: Array, pixel_size: tuple[float, float]
) -> Taken | None:
    """The lines both looks share, for :func:`stmdenoise.model.two_direction.two_direction_wiener`:
    found (:func:`shared_lines`) on the levelled forward block ``common`` and the levelled ``look``
    registered onto it, at most their central :data:`SEARCH_SIDE` rows and columns
    (:func:`search_window`: memory bounded on a large scan), at periods of
    :data:`~stmdenoise.processing.spectrum.RESOLUTION` and more on a grid of ``pixel_size``; fitted
    on the frame's complete ``rows`` (levelled here) and on the levelled second look's block
    ``look_block`` (its own coefficients: where it draws them a little apart, forward minus
    backward loses that too, candidate EC). None where no line is found."""
    part = search_window((common.shape[0], common.shape[1]))
    # the frequencies only: the fit on the search block would be thrown away for the two below
    freqs = _shared_freqs(
        np.asarray(common[part], dtype=np.float64), look[part], RESOLUTION / min(pixel_size)
    )
    if not len(freqs):
        return None
    own_rows = Lines(freqs, fit(level_plane(rows), freqs))
    own_look = Lines(freqs, fit(look_block, freqs))
    return Taken(evaluate(own_rows, rows.shape), evaluate(own_look, look_block.shape), len(freqs))
