"""Radial frequency bands of the fidelity estimates (:mod:`stmdenoise.metrics.fidelity`), given by
the periods at their ends and labelled in Å or nm: the issue's Cu(111) bands
(:func:`bands_from_periods`) and octave bands from the pixel up (:func:`default_bands`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ALL", "Band", "BandSums", "bands_from_periods", "default_bands"]


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


def _radial_period(shape: tuple[int, int], pixel_size: float) -> NDArray[np.float64]:
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    k = np.hypot(ky, kx)  # cycles per pixel
    with np.errstate(divide="ignore"):
        return np.where(k > 0, pixel_size / np.where(k > 0, k, 1.0), np.inf)


class BandSums:
    """Sums of a per-frequency array (a 2-D FFT's layout) over each of ``bands``, then over every
    frequency but zero (:meth:`sums`): one ``bincount`` over band labels when the bands do not
    overlap, else one mask per band. ``counts``: frequencies per band, then in all."""

    def __init__(self, bands: Sequence[Band], shape: tuple[int, int], pixel_size: float) -> None:
        period = _radial_period(shape, pixel_size)
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
