"""Do the two scan directions show the surface at the same contrast? (a caveat of the fidelity estimate)

The forward/backward estimate (:mod:`stmdenoise.metrics.fidelity`) counts every difference
between the looks as noise. On some scans the backward frame is the forward one *scaled*: at
large scales, where both directions see the same surface with a coherence of 1.000, its amplitude
is a few per cent lower or higher (a direction-dependent gain of the current amplifier or lock-in,
a tip that images differently in each direction). The estimate then charges a filter for keeping
the forward frame's contrast and rewards any filter that shrinks it towards the backward frame's:
on ``Au_mica_2023_Y_A_diPAMY_195.sxm`` Current the backward frame is 0.89x the forward one
below 1/32 cycles per pixel, and that accounts for about two thirds of the raw frame's estimated
error; the Createc step's Current (a feedback error, judged against its backward frame negated)
0.59x, 59 % of it (`python bench/direction_contrast.py`). :func:`contrast_mismatch` measures it;
the do-no-harm verdict names it when one factor explains most of the large-scale difference
(:data:`MISMATCH_LEFT`, :data:`MISMATCH_RATIO`, :data:`MISMATCH_SHARE`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> surface = np.cumsum(np.cumsum(rng.normal(size=(96, 96)), 0), 1)
>>> m = contrast_mismatch(surface + rng.normal(size=surface.shape), 0.9 * surface, (0.0, 0.0))
>>> round(m.ratio, 2), m.coherence > 0.99
(0.9, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.metrics.bands import radial_frequency
from stmdenoise.metrics.fidelity import prepare_looks
from stmdenoise.processing.spectrum import fft2

__all__ = [
    "CONTRAST_NOTICE",
    "ContrastMismatch",
    "LARGE_SCALE",
    "MISMATCH_LEFT",
    "MISMATCH_RATIO",
    "MISMATCH_SHARE",
    "at_contrast",
    "contrast_mismatch",
    "contrast_of",
]

#: Frequencies counted as large scales, cycles per pixel (0, LARGE_SCALE].
LARGE_SCALE = 1 / 32
#: A mismatch is named when one factor on the other look leaves at most this share of their
#: large-scale difference (the difference there is mostly one of contrast, not of shape or noise;
#: Au_mica Current 0.04, the Createc step's Current against its negated backward frame 0.14,
#: every other realdata channel 0.65 or more, `python bench/direction_contrast.py`) ...
MISMATCH_LEFT = 0.25
#: ... their amplitudes differ by at least this fraction ...
MISMATCH_RATIO = 0.05
#: ... and the large scales hold at least this share of the raw frame's estimated error.
MISMATCH_SHARE = 0.25
#: The notice of a second look that shows the surface at another contrast
#: (:func:`contrast_mismatch`; the do-no-harm verdict formats it).
CONTRAST_NOTICE = (
    "The {look} shows this scan's large-scale structure at {ratio:.2f}x its contrast "
    "(the same shape: coherence {coherence:.3f}). The estimate counts that difference as error "
    "({share:.0%} of the raw scan's), so it favours filters that shrink the contrast: the figures "
    "here overstate what keeping it costs."
)


@dataclass(frozen=True)
class ContrastMismatch:
    """Large-scale amplitude of the other look relative to the judged one.

    Attributes
    ----------
    ratio : float
        Amplitude of the other look over the judged one at large scales (1.0: same contrast).
    coherence : float
        Their coherence there (1.0: the same shape).
    share : float
        Share of the raw frame's estimated error (all frequencies) that lies at large scales.
    """

    ratio: float
    coherence: float
    share: float

    @property
    def left_after_scaling(self) -> float:
        """Share of the large-scale |F(raw) - F(other)|^2 that the best single factor on ``other``
        leaves (near 0: the difference there is a contrast mismatch, not noise). From the three
        sums behind ``ratio`` and ``coherence``: (1 - coherence^2) / (1 - 2 coherence ratio + ratio^2)."""
        apart = 1.0 - 2.0 * self.coherence * self.ratio + self.ratio**2
        return (1.0 - self.coherence**2) / apart if apart > 0 else 0.0

    @property
    def named(self) -> bool:
        """True when the mismatch is clear enough to tell the user (the thresholds above)."""
        return (
            self.left_after_scaling <= MISMATCH_LEFT
            and abs(self.ratio - 1.0) >= MISMATCH_RATIO
            and self.share >= MISMATCH_SHARE
        )


def at_contrast(other: Any, ratio: float) -> NDArray[np.float64]:
    """``other`` (a second look whose large scales are ``ratio`` times the judged frame's,
    :attr:`ContrastMismatch.ratio`) scaled about its mean by ``1 / ratio``, to the judged frame's
    contrast. Its noise scales with it. NaN pixels stay NaN.

    >>> import numpy as np
    >>> at_contrast(np.array([[1.0, 3.0]]), 0.5).tolist()
    [[0.0, 4.0]]
    """
    b = np.asarray(getattr(other, "data", other), dtype=np.float64)
    if not (math.isfinite(ratio) and ratio > 0):
        raise ValueError(f"ratio must be a positive number, got {ratio!r}")
    mean = float(np.nanmean(b))
    return np.asarray(mean + (b - mean) / ratio)


def contrast_mismatch(raw: Any, other: Any, offset: Sequence[float]) -> ContrastMismatch:
    """Compare the large scales of ``raw`` and ``other`` registered by ``offset`` (as
    :func:`~stmdenoise.metrics.fidelity.pair_fidelity` prepares them: common complete rows,
    plane levelled, Hann window, fractional shift as a phase ramp).

    Raises
    ------
    NotScorableError
        The looks share too few complete pixels (as ``pair_fidelity``).
    """
    x = np.asarray(getattr(raw, "data", raw), dtype=np.float64)
    b = np.asarray(getattr(other, "data", other), dtype=np.float64)
    prep = prepare_looks(x, [], [b], [(float(offset[0]), float(offset[1]))])
    return contrast_of(fft2(prep.target), prep.others_f[0])


def contrast_of(x_f: NDArray[np.complex128], r_f: NDArray[np.complex128]) -> ContrastMismatch:
    """:func:`contrast_mismatch` from the two looks' prepared transforms (as
    :meth:`stmdenoise.metrics.fidelity.PairedLooks.transforms` gives them: the judge prepares the
    pair once for the reports, the paired difference and this)."""
    k = radial_frequency(x_f.shape)
    large = (k > 0) & (k <= LARGE_SCALE)
    cross = float(np.real(x_f[large] * np.conj(r_f[large])).sum())
    px = float((np.abs(x_f[large]) ** 2).sum())
    pr = float((np.abs(r_f[large]) ** 2).sum())
    err = np.abs(x_f - r_f) ** 2 / 2  # the raw frame's estimated error per bin (noise subtracted)
    total = float(err[k > 0].sum())
    if px <= 0 or pr <= 0 or total <= 0:
        return ContrastMismatch(1.0, 0.0, 0.0)
    return ContrastMismatch(
        ratio=float(np.sqrt(pr / px)),
        coherence=cross / float(np.sqrt(px * pr)),
        share=float(err[large].sum()) / total,
    )
