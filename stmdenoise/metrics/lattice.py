"""Hexagonal, square and rectangular lattices a scan shows, and how much of each a denoised scan keeps.

Without a second look (a scan saved without its other direction) the error of a denoised scan
cannot be estimated. One kind of harm can still be seen for sure: a periodic lattice removed. A
lattice shows in the power spectrum as sharp peaks far above their surroundings, which pixel
noise cannot make; a hexagonal one (the (111) faces of fcc metals, Si(111)-7x7, graphite and
graphene, most moirés and many molecular layers) as six of them at one spatial frequency, 60°
apart; a square one (the (100) faces, rock-salt crystals, many molecular layers) as four, 90°
apart, with the (1,1) harmonics k1 ± k2 that atoms (not two unrelated waves) make; a rectangular
one (Si(100)-2x1 dimer rows, the missing rows of (110) faces, molecular layers) as the same at two
|k|, with the next combinations too. Periodic interference (mains, vibration) makes peaks too, but
in pairs along one direction; on the Ko group's Cu(111) frames and every frame of
``../shared/realdata`` but one no lattice is found at periods the tip resolves, while the
interference peaks on the former are many (two of them 90° apart by chance, their harmonics at
most 9x their rings at one |k|, 20x at two; the one found is the ordered molecular network of
``STM_nanonis_generic_4_5``, which the gain keeps). So a lattice is taken for surface
structure, and an output that is further from the surface than the raw scan at its peaks
(:func:`removes`: it took away more of the lattice than the noise there amounts to) has changed
real signal (:func:`stmdenoise.safety.judge` then says so and, by default, delivers the raw scan).

Found as: the levelled, Hann-windowed power spectrum smoothed over 3 x 3 bins; its local maxima
(5 x 5) on the half plane, at periods of at least 3 px and :data:`~stmdenoise.processing.spectrum.RESOLUTION`
(2 Å: no tip resolves finer) and at least 3 rings from zero, that stand :data:`PERIODIC_PEAK_RATIO`
times above the :data:`FIND_PERCENTILE`-th percentile of the rings around theirs (noise: under
10x); three of them (with their mirror images, six)
within 4 % of one another in |k| and 60° ± 4° apart (or within one Fourier bin of that, at low
|k|) are a hexagonal lattice; two of them 90° apart, whose harmonics (within a bin of k1 ± k2)
stand as high, a square one (one |k|) or a rectangular one (two |k|, and two of 2k1 ± k2, k1 ± 2k2
at :data:`HARMONIC_RATIO`). Ours (docs/metrics.md). A tip-blurred lattice whose next combinations
fade (``python bench/other_surfaces.py --surfaces si100``) and oblique lattices without a pair
90° apart are not found.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y, x = np.mgrid[0:256, 0:256].astype(float)
>>> k = 2 * np.pi / 8.0  # adatom rows 8 px apart
>>> turns = (0.3, 0.3 + np.pi / 3, 0.3 + 2 * np.pi / 3)
>>> hexagon = sum(np.cos(k * (x * np.cos(a) + y * np.sin(a))) for a in turns)
>>> noisy = hexagon + rng.normal(0, 1.0, hexagon.shape)
>>> [round(v.period_px, 1) for v in lattices(noisy, 1e-10)]
[8.0]
>>> lattices(rng.normal(size=(256, 256)), 1e-10)
[]
>>> from scipy.ndimage import gaussian_filter
>>> [round(kept, 2) for _, kept in lattice_kept(noisy, gaussian_filter(noisy, 3.0), 1e-10)]  # blurred away
[0.0]
>>> [round(kept, 1) for _, kept in lattice_kept(noisy, hexagon, 1e-10)]  # the noise removed
[1.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.metrics._input import NotScorableError, scored_rows
from stmdenoise.metrics.registration import windowed_power
from stmdenoise.processing.spectrum import PERIODIC_PEAK_RATIO, RESOLUTION

__all__ = [
    "LATTICE_NOTICE",
    "PERIODIC_PEAK_RATIO",
    "Lattice",
    "lattices",
    "lattice_kept",
    "lost_notice",
    "peak_frequencies",
    "removes",
    "strong_peaks",
]

#: Percentile of the power of the rings around a peak that it is compared with to be found: low,
#: so that a lattice's own six peaks (and the strong 1/f noise at low |k|) do not raise it.
FIND_PERCENTILE = 20.0
#: A rectangle's next combinations of its two peaks (2k1 ± k2, k1 ± 2k2; a square needs none): at least
#: :data:`HIGHER_ORDERS` of the four must stand this many times above their rings, the most pixel
#: noise reaches (:data:`PERIODIC_PEAK_RATIO`'s note: 5-8 on 256² images). Atoms make them (14-43x
#: for a lattice 0.3x the noise); chance pairs of interference peaks do not.
HARMONIC_RATIO = 10.0
HIGHER_ORDERS = 2
#: At most this many of :func:`strong_peaks` (the strongest): a 7x7 reconstruction shows 20-30.
MAX_STRONG_PEAKS = 80
#: Standard deviations of the noise's scatter of ``kept`` a loss must exceed (:func:`removes`).
KEPT_MARGIN = 3.0
#: Shortest period (pixels) looked at: finer peaks sit at the spectrum's corners, where the window
#: and interpolation of the readers make peaks of their own.
MIN_PERIOD_PX = 3.0
#: Tolerances of one lattice: relative spread of the six peaks' |k|, and of their angles from 60°
#: (or one Fourier bin's worth of either, where that is more: at low |k|).
K_TOLERANCE = 0.04
ANGLE_TOLERANCE = 4.0
#: What the do-no-harm verdict says when an output removed a lattice (formatted there).
LATTICE_NOTICE = (
    "the model's output keeps {kept:.0%} of the power of the {kind} lattice this scan shows at "
    "{period} ({peaks} peaks, {snr:.0f}x the noise around them: periodic structure pixel noise "
    "cannot make): at those peaks it is further from the surface than the raw scan"
)


@dataclass(frozen=True)
class Lattice:
    """One lattice: its period (pixels, and metres when the pixel size is known), how far
    its weakest peak stands above its surroundings (:data:`FIND_PERCENTILE`), the spectrum bins of
    its peaks (half plane) and their power over the noise's there (the median of the rings
    around them)."""

    period_px: float
    period_m: float | None
    ratio: float
    bins: tuple[tuple[int, int], ...]
    snr: float
    #: ``"hexagonal"`` (six peaks 60° apart), ``"square"`` (four 90° apart, and their harmonics) or
    #: ``"rectangular"`` (the same with two periods: ``period_px`` the longer, ``short_px`` the shorter).
    kind: str = "hexagonal"
    short_px: float | None = None
    #: False for a rectangle found without its next combinations (``lattices(..., repair=True)``):
    #: enough to put its peaks back, not to refuse an output (the module's note).
    sure: bool = True

    def describe(self) -> str:
        """``'6.6 Å'`` (or ``'6.6 px'`` without a pixel size); ``'7.68 x 3.84 Å'`` for a rectangle."""
        scale, unit = (1.0, "px") if self.period_m is None else (self.period_m * 1e10 / self.period_px, "Å")
        sides = (self.period_px,) if self.short_px is None else (self.period_px, self.short_px)
        return " x ".join(f"{v * scale:.3g}" for v in sides) + f" {unit}"


def _power(z: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy import ndimage

    return np.asarray(ndimage.uniform_filter(windowed_power(z), 3, mode="wrap"))


def _background(
    power: NDArray[np.float64], ring: NDArray[np.intp], last: int, qs: tuple[float, ...]
) -> NDArray[np.float64]:
    """Per ring up to ``last`` (array ``(len(qs), last + 1)``), the ``qs``-th percentiles of the
    power of the rings within max(3, 15 %) of it. One sort by ring; computed at every ring up to
    20 and at 64 rings spaced evenly in log beyond (the background changes slowly there),
    interpolated in between."""
    top = last + max(3, int(0.15 * last)) + 1
    keep = ring <= top
    r_flat, p_flat = ring[keep], power[keep]
    # a stable sort of 16-bit integers is a radix sort in numpy: 5x faster than on intp, same order
    small = r_flat.astype(np.int16) if top <= np.iinfo(np.int16).max else r_flat
    p_sorted = p_flat[np.argsort(small, kind="stable")]
    start = np.concatenate([[0], np.cumsum(np.bincount(r_flat, minlength=top + 1))])
    beyond = np.geomspace(20, last, 64).astype(int) if last > 20 else np.array([], dtype=int)
    at = sorted({*range(min(last, 20) + 1), *beyond.tolist(), last})
    got = np.empty((len(qs), len(at)))
    for i, r in enumerate(at):
        w = max(3, int(0.15 * r))
        got[:, i] = np.percentile(p_sorted[start[max(0, r - w)] : start[min(top, r + w) + 1]], qs)
    rings = np.arange(last + 1)
    return np.stack([np.interp(rings, at, g) for g in got])


def _block(data: ArrayLike) -> tuple[NDArray[np.float64], slice] | None:
    """The complete rows of ``data`` (:func:`~stmdenoise.metrics._input.scored_rows`) and their
    slice; None where they cannot be scored (no complete row, under 32 px a side, no contrast)."""
    a = np.asarray(data, dtype=np.float64)
    try:
        rows = scored_rows(a)
    except NotScorableError:
        return None
    z = a[rows]
    return (z, rows) if min(z.shape) >= 32 and np.ptp(z) > 0 else None


@dataclass(frozen=True)
class _Peaks:
    """The spectrum's strong peaks (half plane) and what locates and rates them."""

    k: NDArray[np.float64]  # |k| of each bin, cycles per pixel
    ky: NDArray[np.float64]  # (rows, 1)
    kx: NDArray[np.float64]  # (1, cols)
    rel: NDArray[np.float64]  # power over the FIND_PERCENTILE-th percentile of the rings around
    noise: NDArray[np.float64]  # the median of the rings around
    found: NDArray[np.intp]  # (n, 2): the bins of the peaks


def _peak_field(
    z: NDArray[np.float64], power: NDArray[np.float64], pixel_size: float | None
) -> _Peaks | None:
    """The local maxima (5 x 5) of ``power`` on the half plane, at periods of at least 3 px and 2 Å
    and 3 rings from zero, standing :data:`PERIODIC_PEAK_RATIO` times above their rings; None where
    no bin is searched."""
    ky = np.asarray(np.fft.fftfreq(z.shape[0])[:, None], dtype=np.float64)
    kx = np.asarray(np.fft.fftfreq(z.shape[1])[None, :], dtype=np.float64)
    k = np.hypot(ky, kx)
    ring = np.round(k * min(z.shape)).astype(np.intp)
    shortest = MIN_PERIOD_PX if pixel_size is None else max(MIN_PERIOD_PX, RESOLUTION / pixel_size)
    searched = (k <= 1 / shortest) & (ring >= 3)
    if not searched.any():
        return None
    last = int(ring[searched].max())
    find, median = _background(power, ring, last, (FIND_PERCENTILE, 50.0))
    at = np.minimum(ring, last)
    rel = power / np.maximum(find[at], 1e-300)
    half = (ky > 0) | ((ky == 0) & (kx > 0))
    found = np.argwhere(half & searched & (rel >= PERIODIC_PEAK_RATIO))
    return _Peaks(k, ky, kx, rel, median[at], found[_local_maxima(power, found)])


def _local_maxima(power: NDArray[np.float64], at: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Which bins ``at`` (n, 2) hold the largest power of the 5 x 5 bins around them (the spectrum
    wraps): ``power == maximum_filter(power, 5, mode="wrap")`` read at those bins only (the
    candidates are the few bins standing far above their rings: a filter over the whole spectrum
    took a fifth of the lattice check's time)."""
    if not len(at):
        return np.zeros(0, dtype=bool)
    d = np.arange(-2, 3)
    rows = (at[:, 0, None, None] + d[None, :, None]) % power.shape[0]
    cols = (at[:, 1, None, None] + d[None, None, :]) % power.shape[1]
    return np.asarray(power[at[:, 0], at[:, 1]] >= power[rows, cols].max(axis=(1, 2)))


def _lattices(
    z: NDArray[np.float64], power: NDArray[np.float64], pixel_size: float | None, repair: bool = False
) -> list[Lattice]:
    field = _peak_field(z, power, pixel_size)
    if field is None:
        return []
    k, ky, kx, rel, noise, found = field.k, field.ky, field.kx, field.rel, field.noise, field.found
    peaks = [
        (float(k[i, j]), math.degrees(math.atan2(float(ky[i, 0]), float(kx[0, j]))) % 180.0, (int(i), int(j)))
        for i, j in found
    ]
    out: dict[frozenset[tuple[int, int]], Lattice] = {}
    side = min(z.shape)
    for k0, a0, _ in peaks:
        tol_k, tol_a = _tolerances(k0, side)
        near = [
            (kk, a, b)
            for kk, a, b in peaks
            if abs(kk - k0) <= tol_k and min((a - a0) % 60.0, 60.0 - (a - a0) % 60.0) <= tol_a
        ]
        if len({round(((a - a0) % 180.0) / 60.0) % 3 for _, a, _ in near}) < 3:
            continue  # not all three directions of a hexagon
        bins = frozenset(b for _, _, b in near)
        if bins in out:
            continue
        period = 1.0 / float(np.mean([kk for kk, _, _ in near]))
        out[bins] = _lattice(bins, period, "hexagonal", power, rel, noise, pixel_size)
    for lat in _rectangles(peaks, power, rel, noise, side, pixel_size):
        out.setdefault(frozenset(lat.bins), lat)
    merged: list[Lattice] = []
    for lat in sorted(out.values(), key=lambda v: -v.ratio):  # one per period: the strongest set
        if all(abs(lat.period_px - m.period_px) > K_TOLERANCE * m.period_px for m in merged):
            merged.append(lat)
    if repair:  # rectangles without their next combinations, at periods no sure lattice holds
        weak = _rectangles(peaks, power, rel, noise, side, pixel_size, next_orders=False)
        for lat in sorted(weak, key=lambda v: -v.ratio):
            if all(abs(lat.period_px - m.period_px) > K_TOLERANCE * m.period_px for m in merged):
                merged.append(replace(lat, sure=False))
    return sorted(merged, key=lambda v: v.period_px)


def _rectangles(
    peaks: Sequence[tuple[float, float, tuple[int, int]]],
    power: NDArray[np.float64],
    rel: NDArray[np.float64],
    noise: NDArray[np.float64],
    side: int,
    pixel_size: float | None,
    next_orders: bool = True,
) -> list[Lattice]:
    """Square and rectangular lattices among ``peaks`` (|k|, angle, bin): two peaks 90° apart whose
    (1,1) harmonics k1 + k2 and k1 - k2 stand :data:`PERIODIC_PEAK_RATIO` times above their rings
    too: square where the two |k| agree (:func:`_tolerances`); rectangular (Si(100)-2x1 dimer rows,
    the missing rows of (110) faces, many molecular layers) where they do not and at least
    :data:`HIGHER_ORDERS` of the four next combinations (2k1 ± k2, k1 ± 2k2) stand
    :data:`HARMONIC_RATIO` times above their rings as well (not asked with ``next_orders=False``:
    a tip-blurred Si(100)-2x1's fade to 2-3x; such rectangles are for the repair of a frame
    alone only, docs/model-selection.md, candidate EF).

    Interference makes pairs of peaks along one direction; among the 90 or so of a Ko frame two
    are 90° apart by chance: at one |k| with (1,1) harmonics at most 9x their rings, at two with
    (1,1) harmonics up to 20x, but never with the next combinations too (the smaller of the two
    ratios over their thresholds at most 0.25, where a faint lattice of atoms, 0.3x the noise,
    reaches 1.4-2.0): atoms make the harmonics, chance does not (docs/metrics.md)."""
    rows, cols = power.shape

    def at(i: int, j: int) -> float:
        """``rel`` near the signed bin (i, j); 0 off the spectrum (no wrapping) or near zero."""
        if abs(i) >= rows // 2 or abs(j) >= cols // 2 or math.hypot(i / rows, j / cols) * side < 3:
            return 0.0
        return _near_peak(rel, i % rows, j % cols)

    def signed(b: tuple[int, int]) -> tuple[int, int]:
        return (b[0] - rows if b[0] > rows // 2 else b[0], b[1] - cols if b[1] > cols // 2 else b[1])

    out = []
    for a, (k1, a1, b1) in enumerate(peaks):
        tol_k1, tol_a1 = _tolerances(k1, side)
        (y1, x1) = signed(b1)
        for k2, a2, b2 in peaks[a + 1 :]:
            tol_k2, tol_a2 = _tolerances(k2, side)
            if abs((a2 - a1) % 180.0 - 90.0) > max(tol_a1, tol_a2):
                continue
            (y2, x2) = signed(b2)
            if min(at(y1 + y2, x1 + x2), at(y1 - y2, x1 - x2)) < PERIODIC_PEAK_RATIO:
                continue
            if abs(k2 - k1) <= max(tol_k1, tol_k2):
                out.append(_lattice((b1, b2), 2.0 / (k1 + k2), "square", power, rel, noise, pixel_size))
            else:  # one condition fewer than a square (equal |k|): one more piece of evidence
                higher = [at(m * y1 + n * y2, m * x1 + n * x2) for m, n in ((2, 1), (2, -1), (1, 2), (1, -2))]
                if next_orders and sum(v >= HARMONIC_RATIO for v in higher) < HIGHER_ORDERS:
                    continue
                sides = (1.0 / min(k1, k2), 1.0 / max(k1, k2))
                out.append(
                    _lattice((b1, b2), sides[0], "rectangular", power, rel, noise, pixel_size, short=sides[1])
                )
    return out


def _tolerances(k0: float, side: int) -> tuple[float, float]:
    """How far in |k| and in angle (degrees) a peak may sit from ``k0``'s lattice partners: a
    peak's position is known to a Fourier bin, which at low |k| is more than the tolerances."""
    return (
        max(K_TOLERANCE * k0, 1.0 / side),
        max(ANGLE_TOLERANCE, math.degrees(math.atan(1.0 / (k0 * side)))),
    )


def _lattice(
    bins: Iterable[tuple[int, int]],
    period: float,
    kind: str,
    power: NDArray[np.float64],
    rel: NDArray[np.float64],
    noise: NDArray[np.float64],
    pixel_size: float | None,
    short: float | None = None,
) -> Lattice:
    """The :class:`Lattice` of peaks ``bins`` (half plane) and ``period`` (px; ``short``: a
    rectangle's shorter side)."""
    found = tuple(sorted(bins))
    return Lattice(
        period_px=period,
        period_m=None if pixel_size is None else period * pixel_size,
        ratio=float(min(rel[b] for b in found)),
        bins=found,
        snr=float(sum(power[b] for b in found) / sum(noise[b] for b in found)),
        kind=kind,
        short_px=short,
    )


def _near_peak(rel: NDArray[np.float64], i: int, j: int) -> float:
    """The largest of ``rel`` within one bin of ``(i, j)`` (a harmonic's position is known to a bin)."""
    rows, cols = rel.shape
    return float(max(rel[(i + di) % rows, (j + dj) % cols] for di in (-1, 0, 1) for dj in (-1, 0, 1)))


def lattices(data: ArrayLike, pixel_size: float | None = None, *, repair: bool = False) -> list[Lattice]:
    """The hexagonal and square lattices ``data`` shows (see the module), shortest period first; [] when none
    or when the image cannot be scored (too few complete rows, no contrast).

    Parameters
    ----------
    data : array_like, shape (rows, cols)
        The scan (NaN rows at its start or end are left out).
    pixel_size : float, optional
        Metres per pixel: no period under 2 Å is looked at.
    repair : bool
        Also the rectangles whose next combinations do not show (``Lattice.sure`` False), at periods
        no sure lattice holds: for putting peaks back, not for refusing an output.
    """
    block = _block(data)
    return [] if block is None else _lattices(block[0], _power(block[0]), pixel_size, repair)


def strong_peaks(data: ArrayLike, pixel_size: float | None = None) -> list[tuple[float, float]]:
    """Every peak of ``data``'s spectrum that stands as a lattice's must (local maxima over 5 x 5
    bins, :data:`PERIODIC_PEAK_RATIO` times above their rings, at periods of at least 3 px and
    2 Å), whether or not peaks make a lattice together: a superstructure's, a lattice's harmonics,
    a moiré's, interference's, and maxima of the line noise in the column kx = 0 (per-line offsets:
    the constructed terraces of ``bench/other_surfaces.py`` show 5-7 there and none elsewhere,
    ``/tmp/exp/s42/tpk.py``). As ``(ky, kx)`` in cycles per pixel on the spectrum of the scan's
    complete rows (one of each mirror pair, strongest first, at most :data:`MAX_STRONG_PEAKS`); []
    where the scan cannot be scored.

    >>> rng = np.random.default_rng(1)
    >>> y, x = np.mgrid[0:128, 0:128].astype(float)
    >>> wave = 3 * np.cos(2 * np.pi * (x / 8.0 + y / 16.0))  # one wave: no lattice, one peak
    >>> [(round(a, 4), round(b, 4)) for a, b in strong_peaks(wave + rng.normal(size=wave.shape))]
    [(0.0625, 0.125)]
    >>> strong_peaks(rng.normal(size=(128, 128)))
    []
    """
    block = _block(data)
    if block is None:
        return []
    z = block[0]
    power = _power(z)
    field = _peak_field(z, power, pixel_size)
    if field is None or not len(field.found):
        return []
    order = np.argsort(-field.rel[tuple(field.found.T)], kind="stable")[:MAX_STRONG_PEAKS]
    return [_frequency(int(i), int(j), z.shape) for i, j in field.found[order]]


def removes(lattice: Lattice, kept: float) -> bool:
    """Whether an output keeping ``kept`` of ``lattice``'s power is further from the surface than
    the raw scan at its peaks, beyond what the noise lets ``kept`` itself scatter.

    At a peak of power P over noise N (``lattice.snr`` = P / N) an output that scales the raw
    coefficient by g (``kept`` = g²) errs by (1 - g)² (P - N) + g² N against the raw scan's N:
    more when (1 - g) (P / N - 1) > 1 + g. An output at the surface itself (the noise removed)
    reads ``kept`` ≠ 1 too: the noise's cross term with the lattice makes the raw power scatter,
    1 - g by about 1 / sqrt(2 m P / N) over its m peaks (half plane: 3 of a hexagon, 2 of a
    square); so 1 - g must also exceed
    :data:`KEPT_MARGIN` times that.

    >>> lat = Lattice(8.0, None, 100.0, ((0, 8), (7, 4), (7, 252)), snr=40.0)  # a hexagon
    >>> removes(lat, 0.5), removes(lat, 0.8), removes(lat, 1.0)
    (True, False, False)
    """
    g = math.sqrt(max(kept, 0.0))
    scatter = 1.0 / math.sqrt(2.0 * len(lattice.bins) * max(lattice.snr, 1e-12))
    return g < 1.0 and (1.0 - g) * (lattice.snr - 1.0) > 1.0 + g and 1.0 - g > KEPT_MARGIN * scatter


def lattice_kept(
    raw: ArrayLike,
    out: ArrayLike,
    pixel_size: float | None = None,
    given: Sequence[Lattice] | None = None,
    *,
    repair: bool = False,
) -> list[tuple[Lattice, float]]:
    """Each lattice of ``raw`` (:func:`lattices`, or those ``given``) and the share of its
    power ``out`` keeps (its peaks' bins, raw = 1); ``out`` is read on the same rows as ``raw``;
    ``repair``: as :func:`lattices`."""
    block = _block(raw)
    if block is None:
        return []
    z, rows = block
    o = np.asarray(out, dtype=np.float64)[rows]
    if o.shape != z.shape or not np.isfinite(o).all():
        return []
    p_raw = _power(z)
    found = list(given) if given is not None else _lattices(z, p_raw, pixel_size, repair)
    if not found:  # the common case: no lattice, and the output's spectrum is not needed
        return []
    p_out = _power(o)
    result = []
    for lat in found:
        idx = tuple(np.array(lat.bins).T)
        result.append((lat, float(p_out[idx].sum() / p_raw[idx].sum())))
    return result


def peak_frequencies(lattice: Lattice, shape: tuple[int, int]) -> list[tuple[float, float]]:
    """``lattice``'s peaks (half plane, one of each mirror pair) as ``(ky, kx)`` in cycles per
    pixel, on the spectrum of a block of ``shape`` (the raw scan's complete rows, where it was found)."""
    return [_frequency(int(i), int(j), shape) for i, j in lattice.bins]


def _frequency(i: int, j: int, shape: tuple[int, int]) -> tuple[float, float]:
    """Bin ``(i, j)`` of a spectrum of ``shape`` (numpy's layout) as ``(ky, kx)`` in cycles per pixel."""
    rows, cols = shape
    return ((i - rows if i > rows // 2 else i) / rows, (j - cols if j > cols // 2 else j) / cols)


def lost_notice(kept: Sequence[tuple[Lattice, float]]) -> str | None:
    """:data:`LATTICE_NOTICE` for the least kept of the lattices in ``kept`` (:func:`lattice_kept`)
    found for sure (``Lattice.sure``) that the output removes (:func:`removes`), else None: what
    :func:`stmdenoise.safety.judge` says without a second look."""
    lost = [(lat, share) for lat, share in kept if lat.sure and removes(lat, share)]
    if not lost:
        return None
    lat, share = min(lost, key=lambda t: t[1])
    return LATTICE_NOTICE.format(
        kind=lat.kind, kept=share, period=lat.describe(), peaks=2 * len(lat.bins), snr=lat.snr
    )
