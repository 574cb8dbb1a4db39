"""The do-no-harm fallback: the classical filter (or the raw scan) the judge may deliver instead of a model's.

:func:`stmdenoise.safety.judge` scores the model's output, a Gaussian of each width of
:data:`FALLBACK_SIGMAS` and a total variation of each weight of :data:`FALLBACK_TV_WEIGHTS`
(:data:`FALLBACKS`, in that order) against the scan's second look. A band *holds signal* where at least
:data:`SIGNAL_BAND_COHERENCE` of its raw power is common to the looks; an output is harmful in such
a band when its estimated error is above raw's by more than two standard errors
(:func:`harmful_bands`). A filter qualifies as the fallback only if it harms no band so, and none
by the error *predicted* from its transfer either (:func:`best_fallback`; a Gaussian's known one, a
total variation's as realised on the scan ring by ring; the measured estimate's SE is too wide
where a strong signal is, as on a moiré: docs/model-selection.md, candidates BX, BY and EM2), on the
raw scan's own bands (:func:`raw_bands`).

What the judge delivers, whatever it is, must not be further from the surface than the raw scan in
a band with signal beyond twice the *paired* standard error of the two (against the same look, the
noise estimate cancels: far narrower than either output's own SE), outside the shared column of
the spectrum, whose slow noise trace and retrace record alike and the estimate takes for surface
(:func:`~stmdenoise.metrics.bands.shared_column`). Where it is, the raw scan's content of that
band outside the column is put back (:func:`above_raw`, :func:`restore_bands`;
docs/model-selection.md, candidates DK and DL).

Where the model's output is what is delivered, it may be *refined* first (:mod:`stmdenoise.refine`).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from stmdenoise.metrics._input import scored_rows
from stmdenoise.metrics.bands import (
    SHARED_COLUMN,
    Band,
    default_bands,
    radial_frequency,
    radial_period,
    shared_column,
)
from stmdenoise.metrics.fidelity import (
    SIGNAL_COHERENCE,
    BandFidelity,
    ErrorDifference,
    FidelityReport,
    PairedLooks,
)
from stmdenoise.metrics.lattice import Lattice, peak_frequencies, strong_peaks
from stmdenoise.metrics.registration import levelled, windowed_power
from stmdenoise.processing.smoothing import GAUSSIAN_WIDTHS, gaussian_smooth, gaussian_transfer, tv_smooth
from stmdenoise.processing.spectrum import NOISE_FLOOR_FROM, band_passed, fft2, peaks_passed
from stmdenoise.scan import Scan

__all__ = [
    "FALLBACKS",
    "FALLBACK_SIGMAS",
    "FALLBACK_TV_WEIGHTS",
    "TV_MAX_PIXELS",
    "RESTORE_MARGIN",
    "SIGNAL_BAND_COHERENCE",
    "Restored",
    "above_raw",
    "restore_bands",
    "LATTICE_RADIUS",
    "LATTICE_REPAIR_BELOW",
    "restore_lattices",
    "SCALES_REMOVED",
    "LatticeScales",
    "keep_lattice_scales",
    "MEAN_OVER_MEDIAN",
    "floor_wiener",
    "restore_line_bands",
    "best_fallback",
    "fallbacks",
    "fallback_name",
    "band_reasons",
    "harmful_bands",
    "predicted_harm",
    "raw_bands",
    "plus_minus",
    "in_threads",
]

#: Widths (pixels of the scan's own grid) of the Gaussian fallback; 0 is the raw scan.
FALLBACK_SIGMAS = GAUSSIAN_WIDTHS
#: Weights of the total-variation fallback (:func:`~stmdenoise.processing.smoothing.tv_smooth`: times
#: the scan's own noise level, as the Total variation baseline's grid, whose 0.5 the constructed
#: cases never chose): on a flat terrace with a few lone defects, where the two-direction Wiener's
#: one gain per tile keeps the noise around them, it is the closer (docs/model-selection.md,
#: candidates EM and EM2).
FALLBACK_TV_WEIGHTS = (1.0, 2.0, 4.0)
#: Every fallback the judge weighs, in the order of :func:`fallbacks`: ``("gaussian", width px)``
#: (width 0: the raw scan) then ``("total variation", weight)``.
FALLBACKS: tuple[tuple[str, float], ...] = (
    *(("gaussian", s) for s in FALLBACK_SIGMAS),
    *(("total variation", w) for w in FALLBACK_TV_WEIGHTS),
)
#: Above this many pixels the judge weighs the Gaussians only: total variation's iterations take
#: about 1 s per weight and megapixel on 2 cores (measured up to 1024²: 3 s more there; about a
#: minute at 4096² by extrapolation) and several frame-sized arrays each.
TV_MAX_PIXELS = 1024 * 1024
#: Share of a band's raw power that must be common to the looks before the band counts as
#: holding signal (the fidelity module's rule, also used by ``FidelityReport.worst_band``).
SIGNAL_BAND_COHERENCE = SIGNAL_COHERENCE
#: Frequency bins (of the complete rows' shorter side) by which a restored band is widened on each
#: side: the fidelity estimate's Hann window spreads each frequency over its neighbouring bin, so
#: what the output still lacks just outside the band would leak into the band's measure. Each bin
#: more costs true error in the neighbouring band, which the output may have had nearly right
#: (docs/model-selection.md, candidate DK).
RESTORE_MARGIN = 1
#: Fourier bins around each peak of a lattice within which :func:`restore_lattices` puts the raw
#: scan's content back: a peak of a lattice that drifts or creeps a little spreads over its
#: neighbouring bins; 3 or 4 bins instead of 2 changed the constructed cases' true error within
#: ±0.03 (docs/model-selection.md, probes before candidate EE).
LATTICE_RADIUS = 2.0
#: Share of a lattice's power at its peaks (raw = 1) below which :func:`restore_lattices` puts them
#: back: under it the lattice's corrugation reads over 5 % low; above it, putting the raw scan's
#: noise back around the peaks costs about what it repairs (a constructed lattice 275x the noise:
#: an output keeping all of it goes from 0.199 to 0.209 rms error when repaired; docs/model-selection.md,
#: candidate EE).
LATTICE_REPAIR_BELOW = 0.9


def harmful_bands(rep: FidelityReport) -> list[BandFidelity]:
    """Bands with signal where ``rep`` is further from the surface than raw by more than 2 SE.

    The do-no-harm criterion of :func:`stmdenoise.safety.judge` per band (also the gate of
    docs/model-selection.md)."""
    return [
        b
        for b in rep.bands
        if b.coherent >= SIGNAL_BAND_COHERENCE and math.isfinite(b.error) and b.error > 1.0 + 2 * b.error_se
    ]


def band_reasons(rep: FidelityReport) -> list[str]:
    """:func:`harmful_bands` as the reasons a verdict gives."""
    out = []
    for b in harmful_bands(rep):
        kept = "" if not math.isfinite(b.kept) else f", keeping {b.kept:.0%} of the signal"
        out.append(f"in the {b.band.label} band it is {b.error:.2f}x further from the surface than raw{kept}")
    return out


def fallbacks(raw: Scan) -> list[Scan]:
    """Each fallback of :data:`FALLBACKS` made from ``raw``, in that order: the Gaussian of each
    width of :data:`FALLBACK_SIGMAS` (0: ``raw`` itself), then, on a scan of at most
    :data:`TV_MAX_PIXELS`, the total variation of each weight of :data:`FALLBACK_TV_WEIGHTS`."""
    out = [raw if p == 0 else gaussian_smooth(raw, p) for kind, p in FALLBACKS if kind == "gaussian"]
    if np.asarray(raw.data).size <= TV_MAX_PIXELS:
        weights = [p for kind, p in FALLBACKS if kind == "total variation"]
        out += in_threads(lambda w: tv_smooth(raw, w), weights)
    return out


def in_threads(fn: Callable[[float], Scan], params: Sequence[float]) -> list[Scan]:
    """``fn`` of each of ``params``, in order, on up to one thread per CPU core: total variation's
    iterations are numpy array arithmetic, which releases the GIL (six weights at 512² on 2 cores:
    3.7 s one after the other, 1.5 s so; each result the same to the bit)."""
    workers = min(len(params), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(p) for p in params]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, params))


def fallback_name(kind: str, param: float) -> str:
    """How the verdict names a fallback of :data:`FALLBACKS`: ``"raw"``, ``"gaussian 1.5 px"``,
    ``"total variation 4x noise"`` (its weight in units of the scan's noise level).

    >>> [fallback_name(*f) for f in (FALLBACKS[0], FALLBACKS[4], FALLBACKS[-1])]
    ['raw', 'gaussian 1.5 px', 'total variation 4x noise']
    """
    if kind == "gaussian":
        return "raw" if param == 0 else f"gaussian {param:g} px"
    return f"{kind} {param:g}x noise"


def raw_bands(raw: Scan) -> tuple[Band, ...] | None:
    """The bands the judge scores on: the raw scan's own (its complete rows' shape), not the
    registered pair's, whose crop of a pixel or two would drop the longest octave from the check
    (docs/model-selection.md, candidate BY). None without a pixel size (the pair then refuses)."""
    if raw.pixel_size is None:
        return None
    a = np.asarray(raw.data, dtype=np.float64)
    dy, dx = raw.pixel_size
    return default_bands(math.sqrt(dy * dx), (a[scored_rows(a)].shape[0], a.shape[1]))


def predicted_harm(
    paired: PairedLooks, rep: FidelityReport, transfer: Callable[[NDArray[np.float64]], NDArray[np.float64]]
) -> bool:
    """Whether a filter of radial ``transfer`` is further from the surface than raw in a band with
    signal by more than 2 SE of its *predicted* error (:meth:`PairedLooks.predicted`: from its
    transfer, a Gaussian's known one or the one a total variation realised on the scan,
    :meth:`PairedLooks.ring_transfer`; the measured estimate's SE is too wide where the signal is
    strong, as on a moiré; docs/model-selection.md, candidates BX and EM2)."""
    predicted = paired.predicted(transfer)
    return any(
        b.coherent >= SIGNAL_BAND_COHERENCE and math.isfinite(p.difference) and p.difference > 2 * p.se
        for b, p in zip(rep.bands, predicted[:-1], strict=True)
    )


def best_fallback(
    smoothed: Sequence[Scan], reps: Sequence[FidelityReport], paired: PairedLooks
) -> tuple[str, int]:
    """Name and index of the fallback (:data:`FALLBACKS`; index 0 = raw) of lowest estimated error
    among those harming no band, by the estimate or by the prediction from its transfer (a
    Gaussian's known one; for a total variation the one it realised on this scan, ring by ring:
    it flattens a strong long wave a little as a wide Gaussian does, candidate EM2);
    ``smoothed``: :func:`fallbacks`, ``reps`` their reports in that order, ``paired`` the prepared
    pair they were scored on."""
    best: tuple[str, int] | None = None
    for k, ((kind, p), rep) in enumerate(zip(FALLBACKS[: len(smoothed)], reps[: len(smoothed)], strict=True)):
        name = fallback_name(kind, p)
        transfer: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None
        if name == "raw":
            transfer = None
        elif rep.overall.error > 1.0 or band_reasons(rep):
            continue
        elif kind == "gaussian":
            transfer = functools.partial(gaussian_transfer, p)
        else:
            transfer = paired.ring_transfer(k)
        if transfer is not None and predicted_harm(paired, rep, transfer):
            continue
        if best is None or rep.overall.error < reps[best[1]].overall.error:
            best = (name, k)
    assert best is not None  # FALLBACKS starts with the raw scan, which is never skipped
    return best


def plus_minus(value: float, two_se: float, digits: int, *, sign: bool = False) -> tuple[str, str]:
    """``value`` (with its sign always shown where ``sign``) and ``two_se`` as the verdict writes
    them: ``digits`` decimals, one more where the magnitudes would read alike (never "0.08 ± 0.08"
    for a difference beyond twice its SE).

    >>> plus_minus(-0.0064, 0.0058, 3), plus_minus(0.081, 0.084, 2, sign=True)
    (('-0.0064', '0.0058'), ('+0.081', '0.084'))
    """
    if f"{abs(value):.{digits}f}" == f"{two_se:.{digits}f}":
        digits += 1
    return f"{value:{'+' if sign else ''}.{digits}f}", f"{two_se:.{digits}f}"


@dataclass(frozen=True)
class Restored:
    """Bands where what the judge would have delivered was further from the surface than the raw
    scan (by more than twice the paired SE), whose raw content was put back (:func:`restore_bands`).

    Attributes
    ----------
    bands : tuple of ErrorDifference
        Each band restored, with the output's estimated error minus the raw scan's there *before*
        (relative to raw's error) and the paired SE.
    report : FidelityReport
        The repaired output's fidelity against the same look: what was delivered.
    """

    bands: tuple[ErrorDifference, ...]
    report: FidelityReport

    def notice(self, what: str, look: str) -> str:
        """The verdict's words: which bands, by how much, against which look."""
        said = ", ".join(
            f"{d.band.label} (+{d.difference:.3f} ± {2 * d.se:.3f} of raw's error)" for d in self.bands
        )
        return (
            f"In {'these bands' if len(self.bands) > 1 else 'this band'} with signal, {what} was further "
            f"from the surface than the raw scan beyond twice the paired standard error (against the "
            f"{look}, leaving out the slow noise along the lines that both directions record alike): "
            f"{said}. The raw scan's content is delivered there instead (that slow noise excepted): "
            f"estimated error of what is delivered {self.report.overall.error:.2f}x raw."
        )


def above_raw(
    paired: PairedLooks,
    reps: Sequence[FidelityReport],
    i: int,
    raw_index: int,
    *,
    outside_column: bool = True,
) -> list[ErrorDifference]:
    """The bands with signal (raw's coherent share at least :data:`SIGNAL_BAND_COHERENCE`) where
    output ``i`` of ``paired`` is further from the surface than output ``raw_index`` (the raw scan)
    beyond twice the SE of their paired difference, both summed outside the shared column
    (:func:`~stmdenoise.metrics.bands.shared_column`; the judge's test) or, with
    ``outside_column=False``, over whole bands; ``reps``: the outputs' reports in order."""
    return [
        d
        for d, b in zip(
            paired.difference(i, raw_index, outside_column=outside_column)[:-1],
            reps[raw_index].bands,
            strict=True,
        )
        if b.coherent >= SIGNAL_BAND_COHERENCE and math.isfinite(d.difference) and d.difference > 2 * d.se
    ]


def _put_back(out: Scan, raw: Scan, part: Callable[[NDArray[np.float64]], NDArray[np.float64]]) -> Scan:
    """``out + part(raw - out)`` on the raw scan's complete rows
    (:func:`~stmdenoise.metrics._input.scored_rows`: where the judge measures and the lattice check
    looks), the residual's unmeasured pixels read as 0 and ``out``'s left unmeasured; other rows
    untouched."""
    r = np.asarray(raw.data, dtype=np.float64)
    o = np.array(out.data, dtype=np.float64)
    rows = scored_rows(r)
    residual = r[rows] - o[rows]
    residual = np.where(np.isfinite(residual), residual, 0.0)
    measured = np.isfinite(o[rows])
    o[rows] = np.where(measured, o[rows] + part(residual), o[rows])
    return out.with_data(o)


def restore_bands(out: Scan, raw: Scan, bands: Sequence[Band]) -> Scan:
    """``out`` with the raw scan's content at the periods of ``bands`` (widened by
    :data:`RESTORE_MARGIN` bins on each side), outside the shared column (|kx| within
    :data:`~stmdenoise.metrics.bands.SHARED_COLUMN` bins of the scan's columns, where ``out``
    keeps its own): ``out + P(raw - out)`` on the raw scan's complete rows (:func:`_put_back`).
    Periods are converted to the scan's grid with the geometric mean of its pixel sides, as the
    fidelity bands are."""
    if raw.pixel_size is None:
        raise ValueError(f"{raw.describe()}: restoring bands needs a pixel size")
    px = math.sqrt(raw.pixel_size[0] * raw.pixel_size[1])

    def part(residual: NDArray[np.float64]) -> NDArray[np.float64]:
        margin = RESTORE_MARGIN / min(residual.shape)
        ranges = [(px / b.long - margin, px / b.short + margin) for b in bands]
        return band_passed(residual, ranges, column=SHARED_COLUMN / residual.shape[1])

    return _put_back(out, raw, part)


def restore_lattices(out: Scan, raw: Scan, found: Sequence[Lattice]) -> Scan:
    """``out`` with the raw scan's content within :data:`LATTICE_RADIUS` Fourier bins of each peak
    of the lattices ``found`` (:func:`~stmdenoise.metrics.lattice.lattices` of ``raw``): ``out +
    P(raw - out)`` on the raw scan's complete rows, where the lattices were found (:func:`_put_back`,
    :func:`~stmdenoise.processing.spectrum.peaks_passed`).

    A lattice's peaks stand at least :data:`~stmdenoise.metrics.lattice.PERIODIC_PEAK_RATIO` times
    above the rings around them, so the raw scan is within a few per cent of the surface there;
    the single-frame gain keeps 0.6-0.8 of a moiré's amplitude (docs/model-selection.md, candidate
    EE). Where nothing was removed at the peaks, the output hardly changes."""
    if not found:
        return out

    def part(residual: NDArray[np.float64]) -> NDArray[np.float64]:
        peaks = [f for lat in found for f in peak_frequencies(lat, residual.shape)]
        return peaks_passed(residual, peaks, LATTICE_RADIUS)

    return _put_back(out, raw, part)


#: A band of the frame's default bands (:func:`~stmdenoise.metrics.bands.default_bands`) from which
#: an output removed more than this many times the noise floor's power (outside the shared column)
#: has lost structure, not only noise (:func:`keep_lattice_scales`): pixel noise's whole power is
#: 1.44x the floor (a median of exponentially scattered bins), so an output that removes all the
#: noise of a band and nothing else stays below 2.
SCALES_REMOVED = 2.0


@dataclass(frozen=True)
class LatticeScales:
    """What :func:`keep_lattice_scales` put back: the number of strong peaks, and the default bands
    in which everything is the raw scan's (shortest first; the last reaches to the longest periods;
    empty where no band was)."""

    scan: Scan
    peaks: int
    bands: tuple[Band, ...] = ()


def keep_lattice_scales(out: Scan, raw: Scan) -> LatticeScales:
    """``out`` with the raw scan's content (a) within :data:`LATTICE_RADIUS` bins of every strong
    peak of its spectrum (:func:`~stmdenoise.metrics.lattice.strong_peaks`: a superstructure's, a
    lattice's harmonics, whether or not they make a lattice together) and then (b) in every band
    (of the scan's default bands) from which the output so repaired still removed more than
    :data:`SCALES_REMOVED` times the noise floor's power (the median power at radial frequencies
    above :data:`~stmdenoise.processing.spectrum.NOISE_FLOOR_FROM`, where a frame holds noise
    only) outside the shared column, and, where there is one, in the broadest band, down to zero
    frequency (the 1/f noise and the output's levels); on the raw scan's complete rows
    (:func:`_put_back`). The single frame's repair where its output removed a lattice for sure: a
    7x7 reconstruction's corner holes and defects are not periodic, so its peaks alone are not
    enough (docs/model-selection.md, candidate EG). A band between them from which the output took
    no more than the noise's power keeps the output's content: the raw scan there is noise
    (candidate EJ; EG had put back every period from the shortest such band on). The bands the
    output took surface from get the raw scan through :func:`floor_wiener` (its own noise floor's
    Wiener gain: closer to the surface than the raw scan, candidate EK); the broadest the raw scan
    whole (1/f noise and line offsets, which the white floor does not describe). Periods are in
    the geometric mean of the pixel sides, as the fidelity bands'."""
    if raw.pixel_size is None:
        raise ValueError(f"{raw.describe()}: keeping a lattice's scales needs a pixel size")
    px = math.sqrt(raw.pixel_size[0] * raw.pixel_size[1])
    rows = scored_rows(np.asarray(raw.data, dtype=np.float64))
    peaks = strong_peaks(np.asarray(raw.data, dtype=np.float64)[rows], px)
    if peaks:
        out = _put_back(out, raw, lambda residual: peaks_passed(residual, peaks, LATTICE_RADIUS))
    r = np.asarray(raw.data, dtype=np.float64)[rows]
    o = np.asarray(out.data, dtype=np.float64)[rows]
    if not (np.isfinite(r).all() and np.isfinite(o).all()):
        return LatticeScales(out, len(peaks))

    p_raw, p_out = windowed_power(r), windowed_power(o)
    floor = _noise_floor(p_raw)
    period = radial_period(r.shape, px)
    outside = ~shared_column(r.shape)
    bands = default_bands(px, r.shape)
    lost = [
        b
        for b in bands
        if (m := (period >= b.short) & (period < b.long) & outside).any()
        and float(p_raw[m].sum() - p_out[m].sum()) > SCALES_REMOVED * floor * int(m.sum())
    ]
    if not lost or not floor > 0:
        return LatticeScales(out, len(peaks))
    broadest = max(bands, key=lambda b: b.long)
    chosen = tuple(sorted({*lost, broadest}, key=lambda b: b.short))
    slack = 1.0 / min(r.shape)  # a bin beyond each band's highest frequency: the window's spread
    narrow = [(px / b.long, px / b.short + slack) for b in chosen if b is not broadest]
    if narrow:  # candidate EK: the raw scan there through a Wiener gain against its own floor
        out = _put_back(out, _through_floor(raw), lambda residual: band_passed(residual, narrow))
    wide = [(0.0, px / broadest.short + slack)]
    return LatticeScales(
        _put_back(out, raw, lambda residual: band_passed(residual, wide)), len(peaks), chosen
    )


#: The mean of exponentially scattered power over its median (1 / ln 2): a spectrum's noise power
#: from the median of the bins that hold noise only (:func:`floor_wiener`).
MEAN_OVER_MEDIAN = 1.0 / math.log(2.0)


def floor_wiener(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """``z`` (finite) through the Wiener gain ``1 - N / P`` against its own white noise floor: N the
    median power at radial frequencies above
    :data:`~stmdenoise.processing.spectrum.NOISE_FLOOR_FROM` times :data:`MEAN_OVER_MEDIAN`, P each
    bin's power smoothed over 3 x 3 bins and at least its own (a sharp peak keeps its gain), gains
    clipped to [0, 1]; on the levelled frame's unwindowed transform, so a peak's leakage is power
    the gain keeps, the plane added back. Where the noise is coloured (1/f, line offsets) the floor
    under-reads it at longer periods and the gain keeps more than the Wiener optimum: between it
    and ``z``. Candidate EK's repair of the bands a frame alone's output took surface from.

    >>> rng = np.random.default_rng(0)
    >>> y, x = np.mgrid[0:128, 0:128]
    >>> wave = 4 * np.cos(2 * np.pi * x / 9.3)  # incommensurate with the frame: leakage kept
    >>> noisy = wave + rng.normal(size=wave.shape)
    >>> bool(np.std(floor_wiener(noisy) - wave) < 0.5 * np.std(noisy - wave))
    True
    """
    from scipy import ndimage

    lev = levelled(z)
    spectrum = fft2(lev)
    power = np.abs(spectrum) ** 2
    noise = MEAN_OVER_MEDIAN * _noise_floor(power)
    held = np.maximum(ndimage.uniform_filter(power, 3, mode="wrap"), power)
    gain = np.clip(1.0 - noise / np.maximum(held, np.finfo(np.float64).tiny), 0.0, 1.0)
    gain[0, 0] = 1.0
    return np.asarray(np.real(np.fft.ifft2(spectrum * gain)) + (z - lev), dtype=np.float64)


def _noise_floor(power: NDArray[np.float64]) -> float:
    """The median of an unshifted power spectrum at radial frequencies above
    :data:`~stmdenoise.processing.spectrum.NOISE_FLOOR_FROM`, where a frame holds noise only: the
    floor both single-frame repairs measure against (:func:`keep_lattice_scales`, :func:`floor_wiener`)."""
    return float(np.median(power[radial_frequency(power.shape) > NOISE_FLOOR_FROM]))


def _through_floor(raw: Scan) -> Scan:
    """``raw`` with its complete rows through :func:`floor_wiener` (as it is where they are not
    finite): what the single frame's repairs give back in the bands the output took surface from."""
    a = np.array(raw.data, dtype=np.float64)
    rows = scored_rows(a)
    if not np.isfinite(a[rows]).all():
        return raw
    a[rows] = floor_wiener(a[rows])
    return raw.with_data(a)


def restore_line_bands(out: Scan, raw: Scan, periods: Sequence[tuple[float, float]]) -> Scan:
    """``out`` with the raw scan's content, through its own noise floor's Wiener gain
    (:func:`floor_wiener`, candidate EL), at the periods along the scan lines ``periods``
    (``(short, long]`` in pixels of the fast axis, every slow-axis frequency), masked in the cosine
    transform along the rows (no edge where the transform wraps), on the raw scan's complete rows
    (:func:`_put_back`): the octaves of :func:`~stmdenoise.metrics.line_noise.line_bands` from
    which a filter removed surface (candidate EH; until 0.2.44 the raw scan whole, its noise
    with it)."""
    from scipy import fft as sfft

    if not periods:
        return out

    def part(residual: NDArray[np.float64]) -> NDArray[np.float64]:
        cols = residual.shape[1]
        k = np.arange(cols) / (2.0 * cols)  # cycles per pixel of the cosine transform's coefficients
        period = np.where(k > 0, 1.0 / np.where(k > 0, k, 1.0), np.inf)
        keep = np.zeros(cols, dtype=bool)
        for short, long in periods:
            keep |= (period > short) & (period <= long)
        spectrum = sfft.dct(residual, type=2, norm="ortho", axis=1) * keep[None, :]
        return np.asarray(sfft.idct(spectrum, type=2, norm="ortho", axis=1))

    return _put_back(out, _through_floor(raw), part)
