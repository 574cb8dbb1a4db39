"""Radial frequency bands of the fidelity estimates (:mod:`stmdenoise.metrics.fidelity`), given by
the periods at their ends and labelled in Å or nm: the issue's Cu(111) bands
(:func:`bands_from_periods`) and octave bands from the pixel up (:func:`default_bands`); sums over
them (:class:`BandSums`) and the figures an estimate reports per band (:class:`BandFidelity`,
:class:`FidelityReport`); the shared column of a spectrum (:func:`shared_column`), which the paired
difference can leave out of every band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.processing.spectrum import SIGNAL_COHERENCE

__all__ = [
    "ALL",
    "SHARED_COLUMN",
    "SIGNAL_COHERENCE",
    "Band",
    "BandFidelity",
    "BandSums",
    "FidelityReport",
    "bands_from_periods",
    "default_bands",
    "radial_frequency",
    "radial_period",
    "shared_column",
]


@dataclass(frozen=True)
class Band:
    """A radial frequency band given by the periods at its ends.

    Parameters
    ----------
    long : float
        Longest period in the band, metres (``inf`` for "everything longer than ``short``").
    short : float
        Shortest period in the band, metres (0 for "down to the pixel").
    label : str
        Name for tables, e.g. ``"10-36 Å"``.
    """

    long: float
    short: float
    label: str = ""

    def __post_init__(self) -> None:
        if not (self.short >= 0 and self.long > self.short):
            raise ValueError(f"band needs long > short >= 0, got long={self.long!r}, short={self.short!r}")
        if not self.label:
            object.__setattr__(self, "label", _label(self.long, self.short))


def _fmt_len(m: float) -> str:
    if m >= 1e-7:
        return f"{m * 1e9:.3g} nm"
    return f"{m * 1e10:.3g} Å"


def _label(long: float, short: float) -> str:
    if math.isinf(long):
        return "all" if short == 0 else f"> {_fmt_len(short)}"
    # both ends in one unit
    if long >= 1e-7:
        return f"{short * 1e9:.3g}-{long * 1e9:.3g} nm"
    return f"{short * 1e10:.3g}-{long * 1e10:.3g} Å"


#: The whole spectrum except the zero frequency (the overall figure).
ALL = Band(math.inf, 0.0, "all")


def bands_from_periods(periods: Sequence[float]) -> tuple[Band, ...]:
    """Consecutive bands between the given periods (metres, longest first).

    Examples
    --------
    >>> [b.label for b in bands_from_periods([3.6e-9, 1.0e-9, 0.7e-9])]
    ['10-36 Å', '7-10 Å']
    """
    p = [float(v) for v in periods]
    if len(p) < 2 or any(not (a > b > 0) for a, b in zip(p, p[1:], strict=False)):
        raise ValueError(
            f"periods must be at least two positive, strictly decreasing lengths, got {periods!r}"
        )
    return tuple(Band(a, b) for a, b in zip(p, p[1:], strict=False))


def default_bands(pixel_size: float, shape: tuple[int, int]) -> tuple[Band, ...]:
    """Octave bands from the pixel (period 2 px) up to a quarter of the field, labelled in Å / nm.

    Periods of 2-4 px, 4-8 px, ... ; the longest band ends at a quarter of the shorter side
    (longer periods hold few frequencies and mostly drift and background).

    Examples
    --------
    >>> [b.label for b in default_bands(1e-10, (256, 256))]
    ['2-4 Å', '4-8 Å', '8-16 Å', '16-32 Å', '32-64 Å']
    """
    if not (pixel_size > 0 and math.isfinite(pixel_size)):
        raise ValueError(f"pixel_size must be a positive length in metres, got {pixel_size!r}")
    longest = min(shape) / 4
    edges = [2.0]
    while edges[-1] * 2 <= longest:
        edges.append(edges[-1] * 2)
    if len(edges) < 2:
        edges.append(max(longest, 3.0))
    return tuple(Band(b * pixel_size, a * pixel_size) for a, b in zip(edges, edges[1:], strict=False))


def radial_frequency(shape: tuple[int, int]) -> NDArray[np.float64]:
    """|k| in cycles per pixel of each bin of a 2-D FFT of ``shape`` (numpy's layout)."""
    return np.asarray(np.hypot(np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :]))


def radial_period(shape: tuple[int, int], pixel_size: float) -> NDArray[np.float64]:
    """The period (in the unit of ``pixel_size``) of each bin of a 2-D FFT of ``shape``; inf at k = 0."""
    k = radial_frequency(shape)
    return np.where(k > 0, pixel_size / np.where(k > 0, k, 1.0), np.inf)


#: Frequency bins on each side of kx = 0 (along the scan lines) that make up the *shared column*
#: of a spectrum: content constant or slow along each line (line offsets, 1/f noise slower than a
#: line, slow-axis vibration), which a line's trace and retrace record alike, so that the
#: forward/backward estimate counts it as surface; the Hann window spreads kx = 0 over the next
#: bin. On constructed scans with truth known, the paired test named bands above raw there that
#: the truth has below; outside it, far fewer and smaller (docs/metrics.md; docs/model-selection.md,
#: candidate DL).
SHARED_COLUMN = 1


def shared_column(shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Which coefficients of an FFT of ``shape`` lie in the shared column (:data:`SHARED_COLUMN`).

    >>> int(shared_column((4, 8)).sum())  # kx = 0 and +-1/8, every ky
    12
    """
    kx = np.abs(np.fft.fftfreq(shape[1]))[None, :]
    return np.asarray(np.broadcast_to(kx <= SHARED_COLUMN / shape[1] + 1e-12, shape))


class BandSums:
    """Sums of a per-frequency array (a 2-D FFT's layout) over each of ``bands``, then over every
    frequency but zero (:meth:`sums`): one ``bincount`` over band labels when the bands do not
    overlap, else one mask per band. ``counts``: frequencies per band, then in all."""

    def __init__(self, bands: Sequence[Band], shape: tuple[int, int], pixel_size: float) -> None:
        period = radial_period(shape, pixel_size)
        self.finite = np.isfinite(period)
        self.masks = [self.finite & (period <= b.long) & (period > b.short) for b in bands]
        self.counts = [int(m.sum()) for m in self.masks] + [int(self.finite.sum())]
        self.labels: NDArray[np.intp] | None = None
        if not self.masks or int(np.sum(self.masks, axis=0).max()) <= 1:
            labels = np.full(shape, len(self.masks), dtype=np.intp)
            for i, m in enumerate(self.masks):
                labels[m] = i
            self.labels = labels.ravel()

    def sums(self, a: NDArray[np.float64]) -> NDArray[np.float64]:
        whole = float(a[self.finite].sum())
        if self.labels is not None:
            per = np.bincount(self.labels, weights=a.ravel(), minlength=len(self.masks) + 1)
            return np.append(per[: len(self.masks)], whole)
        return np.array([float(a[m].sum()) for m in self.masks] + [whole])


@dataclass(frozen=True)
class BandFidelity:
    """Fidelity of one output in one band (see the module docstring for the meaning).

    Attributes
    ----------
    band : Band
    error : float
        Estimated error power relative to the raw frame's (raw = 1).
    error_se : float
        Standard error of ``error`` (frequency bins treated as independent up to the window's
        correlation).
    kept : float
        Signal cross-power relative to the raw frame's (raw = 1); NaN where the band holds no
        measurable signal.
    coherent : float
        Share of the raw frame's band power that is common to the looks (0-1).
    noise_rms : float
        RMS of one raw look's noise in this band, in the data's units.
    """

    band: Band
    error: float
    error_se: float
    kept: float
    coherent: float
    noise_rms: float

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-serialisable dict (band as its label and periods in metres)."""
        d = asdict(self)
        d["band"] = self.band.label
        d["period_long_m"] = None if math.isinf(self.band.long) else self.band.long
        d["period_short_m"] = self.band.short
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


@dataclass(frozen=True)
class FidelityReport:
    """Fidelity of one output against independent looks, per band and overall.

    Attributes
    ----------
    method : {"forward/backward", "frame stack"}
    looks : int
        Independent looks used (2 for forward/backward).
    bands : tuple of BandFidelity
    overall : BandFidelity
        Every frequency but zero.
    offsets : tuple of (float, float)
        ``(dy, dx)`` shift in pixels that registered each other look onto the judged one.
    shape : (int, int)
        Rows and columns compared (after registration and NaN cropping).
    pixel_size : float
        Metres per pixel (for the band periods).
    """

    method: str
    looks: int
    bands: tuple[BandFidelity, ...]
    overall: BandFidelity
    offsets: tuple[tuple[float, float], ...]
    shape: tuple[int, int]
    pixel_size: float

    def band(self, label: str) -> BandFidelity:
        """The entry of the band called ``label`` (``"all"`` for the overall figure)."""
        for b in (*self.bands, self.overall):
            if b.band.label == label:
                return b
        raise ValueError(
            f"label must be one of {[b.band.label for b in self.bands] + ['all']}, got {label!r}"
        )

    def worst_band(self) -> BandFidelity:
        """The band with the highest estimated error (only bands with signal in them)."""
        finite = [b for b in self.bands if math.isfinite(b.error)] or list(self.bands)
        with_signal = [b for b in finite if b.coherent >= SIGNAL_COHERENCE] or finite
        return max(with_signal, key=lambda b: b.error)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for provenance and ``--json``)."""
        return {
            "method": self.method,
            "looks": self.looks,
            "overall": self.overall.to_dict(),
            "bands": [b.to_dict() for b in self.bands],
            "offsets_px": [list(o) for o in self.offsets],
            "shape": list(self.shape),
            "pixel_size_m": self.pixel_size,
        }
