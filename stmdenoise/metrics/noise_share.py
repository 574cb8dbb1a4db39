"""Is one scan direction noisier than the other? Each frame's own share of their difference.

The two-direction Wiener (:mod:`stmdenoise.model.two_direction`) measures the noise from forward
minus backward, which holds both frames' noise, and gives each frame half of it. On most scans the
two directions are about equally noisy (their powers in the finest octave, 2-4 px periods, within
15 % of each other on every realdata channel but three); on some one direction is clearly louder:
A151216 Current's backward frame holds 2.7x the forward one's power there, the Createc step's
Current forward frame 2.35x its backward one's (`python bench/direction_contrast.py`, last
column). Half of the difference then under-filters the louder frame and over-filters the quieter.

:func:`fine_power_ratio` measures the frame's power over its second look's in that octave;
:func:`noise_share` turns a clear excess (above :data:`UNEQUAL_NOISE`) into the louder frame's
share of the difference, ``2 r / (1 + r)`` (its own noise, if that octave holds noise only; signal
there pulls r, and so the share, towards even), and returns 1 otherwise, for a quieter frame too
(see there). Ours, not the paper's (docs/model-selection.md, candidates BJ, BK, BL).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> surface = np.add.outer(np.sin(np.arange(128) / 9.0), np.cos(np.arange(128) / 7.0))
>>> loud = surface + rng.normal(0, 0.2 * np.sqrt(3.0), surface.shape)
>>> quiet = surface + rng.normal(0, 0.2, surface.shape)
>>> round(fine_power_ratio(loud, quiet), 1), round(noise_share(loud, quiet), 2)
(3.0, 1.5)
>>> noise_share(quiet, loud), noise_share(quiet, quiet + rng.normal(0, 0.01, surface.shape))
(1.0, 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stmdenoise.metrics.registration import hann_window, levelled
from stmdenoise.processing.spectrum import FINE_OCTAVE, FINE_SECTORS, UNEQUAL_NOISE, fine_octave, fine_sectors

__all__ = [
    "FINE_OCTAVE",
    "UNEQUAL_LOOKS_MARK",
    "UNEQUAL_LOOKS_NOTICE",
    "UNEQUAL_NOISE",
    "fine_power_ratio",
    "louder_shares",
    "noise_share",
    "sector_power_ratios",
    "sector_shares",
]

#: The do-no-harm verdict's caveat where the judged frame and its second look are unequally noisy
#: (:func:`fine_power_ratio` outside [1 / UNEQUAL_NOISE, UNEQUAL_NOISE]): the forward/backward
#: estimate subtracts half their difference as the look's noise, which is then too much (a quieter
#: look: every estimated error reads lower than it is, below 0 possible) or too little (a louder
#: look: higher, closer to 1). The same amount is subtracted from every result's error, so their
#: ranking and paired differences hold. The Quality table's note on a figure below 0 looks for
#: ``UNEQUAL_LOOKS_MARK`` among the verdict's notices.
UNEQUAL_LOOKS_MARK = "the estimate takes the two as equally noisy"
UNEQUAL_LOOKS_NOTICE = (
    "This frame holds {ratio:.2g}x the power of the {look} at periods of 2-4 px, where scans hold "
    "mostly noise: " + UNEQUAL_LOOKS_MARK + ", so every estimated error here "
    "reads {way} than it is{below}. The same amount is taken from every result, so which result "
    "is closer to the surface still holds."
)


def fine_power_ratio(z: Any, look: Any) -> float:
    """``z``'s power over ``look``'s in :data:`~stmdenoise.processing.spectrum.FINE_OCTAVE`, on the
    rows both measured completely (each levelled by its plane, Hann-windowed; NaN when there are
    none or ``look`` has no power there). Registration does not change a power spectrum, so the
    two need not be aligned."""
    powers = _powers(z, look)
    return float("nan") if powers is None else _ratios(powers, [fine_octave(powers[0].shape)])[0]


def sector_power_ratios(z: Any, look: Any) -> tuple[float, ...]:
    """:func:`fine_power_ratio` in each angular sector of the finest octave
    (:data:`~stmdenoise.processing.spectrum.FINE_SECTORS`, from the fast axis to the slow one):
    a direction can be the noisier along one axis of the spectrum only."""
    powers = _powers(z, look)
    if powers is None:
        return (float("nan"),) * _SECTORS
    return tuple(_ratios(powers, fine_sectors(powers[0].shape)))


#: How many sectors :data:`~stmdenoise.processing.spectrum.FINE_SECTORS` makes.
_SECTORS = len(FINE_SECTORS) - 1


def _powers(z: Any, look: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The two frames' power spectra on the rows both measured completely (levelled, Hann
    window); None where fewer than two rows or columns are left."""
    x, b = np.asarray(z, dtype=np.float64), np.asarray(look, dtype=np.float64)
    if x.ndim != 2 or x.shape != b.shape:
        raise ValueError(f"the two frames must be 2-D images of one shape, got {x.shape} and {b.shape}")
    rows = np.isfinite(x).all(axis=1) & np.isfinite(b).all(axis=1)
    if rows.sum() < 2 or x.shape[1] < 2:
        return None
    x, b = x[rows], b[rows]
    w = hann_window(x.shape)
    return np.abs(np.fft.fft2(levelled(x) * w)) ** 2, np.abs(np.fft.fft2(levelled(b) * w)) ** 2


def _ratios(powers: tuple[np.ndarray, np.ndarray], masks: list[np.ndarray]) -> list[float]:
    """The first spectrum's power over the second's in each of ``masks`` (NaN where the second
    holds none)."""
    px, pb = powers
    out = []
    for mask in masks:
        num, den = float(px[mask].sum()), float(pb[mask].sum())
        out.append(num / den if den > 0 else float("nan"))
    return out


def _share(r: float) -> float:
    """The louder frame's share ``2 r / (1 + r)`` for a power ratio r above
    :data:`~stmdenoise.processing.spectrum.UNEQUAL_NOISE`, else 1 (and 1 where r is NaN)."""
    if not np.isfinite(r) or r <= UNEQUAL_NOISE:
        return 1.0
    return float(2.0 * r / (1.0 + r))


def louder_shares(z: Any, look: Any) -> tuple[float, tuple[float, ...]]:
    """:func:`noise_share` and :func:`sector_shares` from one pair of spectra (what the
    two-direction filter's pairing reads)."""
    powers = _powers(z, look)
    if powers is None:
        return 1.0, (1.0,) * _SECTORS
    shape = powers[0].shape
    whole, *sectors = (_share(r) for r in _ratios(powers, [fine_octave(shape), *fine_sectors(shape)]))
    return whole, tuple(sectors)


def sector_shares(z: Any, look: Any) -> tuple[float, ...]:
    """:func:`noise_share` in each sector of :func:`sector_power_ratios`: where ``z`` is clearly
    the louder frame along that direction of the spectrum, its share ``2 r / (1 + r)``; else 1.
    Never below 1, as :func:`noise_share` (docs/model-selection.md, candidate DA)."""
    return tuple(_share(r) for r in sector_power_ratios(z, look))


def noise_share(z: Any, look: Any) -> float:
    """The factor on half of ``z`` minus ``look`` that is ``z``'s own noise, where ``z`` is the
    clearly louder frame: ``2 r / (1 + r)`` (r = :func:`fine_power_ratio`) for r above
    :data:`UNEQUAL_NOISE`, else 1 (and 1 where r cannot be measured).

    Never below 1: a quieter frame keeps half the difference. Its own smaller share is the right
    noise spectrum, but a plug-in Wiener gain ``1 - N / P`` computed from it lets through the
    scatter of the power estimate P where the surface holds nothing, which the larger estimate
    shuts: on constructed pairs with the truth known, the quieter frame's error rose 15 % with
    its own share while the louder frame's fell 71 % (docs/model-selection.md, candidates BK, BL).

    The octave is taken for noise. Where it holds real structure (a lattice sampled at 2-4 px)
    that one direction shows at a lower contrast, that difference reads as an excess of noise;
    the threshold tolerates a look at down to 0.82x the frame's amplitude there.
    """
    return _share(fine_power_ratio(z, look))
