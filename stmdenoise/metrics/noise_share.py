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
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from stmdenoise.metrics.registration import hann_window, windowed_power
from stmdenoise.processing.spectrum import FINE_OCTAVE, UNEQUAL_NOISE, fine_octave

__all__ = [
    "FINE_OCTAVE",
    "UNEQUAL_LOOKS_MARK",
    "UNEQUAL_LOOKS_NOTICE",
    "UNEQUAL_NOISE",
    "fine_power_ratio",
    "SHARE_SMOOTH",
    "louder_shares",
    "noise_share",
    "own_share",
    "share_surface",
]

#: Width (cycles per pixel) of the Gaussian that smooths each frame's power spectrum before
#: :func:`share_surface` takes their ratio: on a 112-px frame about 7 bins, so each ratio averages
#: a few hundred coefficients (docs/model-selection.md, candidate DD).
SHARE_SMOOTH = 1.0 / 16.0

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
    return float("nan") if powers is None else _octave_ratio(powers)


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
    return windowed_power(x, w), windowed_power(b, w)


def _octave_ratio(powers: tuple[np.ndarray, np.ndarray]) -> float:
    """The first spectrum's power over the second's in the finest octave (NaN where the second
    holds none)."""
    px, pb = powers
    band = fine_octave(px.shape)
    num, den = float(px[band].sum()), float(pb[band].sum())
    return num / den if den > 0 else float("nan")


def own_share(r: Any) -> Any:
    """A frame's own share of the noise of its difference with a second look, times two, from its
    noise power over the look's r: ``2 r / (1 + r)`` (1 for equal looks, towards 2 for a far
    louder frame, towards 0 for a far quieter one); 1 where r is not finite. Elementwise on an
    array; the one formula behind :func:`noise_share`, :func:`share_surface` and the per-strip
    shares (:func:`stmdenoise.metrics.uneven.own_shares`).

    >>> float(own_share(3.0)), own_share(np.array([1.0, np.nan])).tolist()
    (1.5, [1.0, 1.0])
    """
    r = np.asarray(r, dtype=np.float64)
    r = np.where(np.isfinite(r), r, 1.0)  # an equal look: share 1
    return 2.0 * r / (1.0 + r)


def _share(r: float) -> float:
    """The louder frame's share :func:`own_share` for a power ratio r above
    :data:`~stmdenoise.processing.spectrum.UNEQUAL_NOISE`, else 1 (and 1 where r is NaN)."""
    if not np.isfinite(r) or r <= UNEQUAL_NOISE:
        return 1.0
    return float(own_share(r))


def share_surface(z: Any, look: Any, shape: tuple[int, int]) -> NDArray[np.float64] | None:
    """``z``'s share of the noise on the spectrum of a tile of ``shape`` (FFT order), frequency by
    frequency: the two frames' power spectra (the rows both measured completely, levelled, Hann
    window: :func:`fine_power_ratio`'s) each smoothed by a Gaussian of :data:`SHARE_SMOOTH` cycles
    per pixel, their ratio r read at each coefficient of period under 4 px (the finest octave with
    the spectrum's corners), ``2 r / (1 + r)`` where r exceeds :data:`UNEQUAL_NOISE`, else 1; 1 at
    longer periods. A direction can be the noisier along one axis, or at the highest slow-axis
    frequencies only (a burst of row noise in one frame, docs/model-selection.md, candidate DD).
    Never below 1, as :func:`noise_share`. None where nothing can be measured.

    >>> rng = np.random.default_rng(0)
    >>> base = [rng.normal(0, 0.1, (128, 128)) for _ in range(2)]
    >>> rows = np.cumsum(rng.normal(0, 0.3, (128, 1)), axis=0)  # noise that differs row to row
    >>> rows = rows - np.convolve(rows[:, 0], np.ones(5) / 5, mode="same")[:, None]
    >>> m = share_surface(base[0] + rows, base[1], (64, 64))
    >>> bool(m[32, 0] > 1.3), float(m[0, 32]), float(m[4, 4])  # slow axis raised; fast axis, long periods 1
    (True, 1.0, 1.0)
    """
    powers = _powers(z, look)
    return None if powers is None else _surface(powers, shape)


def _surface(powers: tuple[np.ndarray, np.ndarray], shape: tuple[int, int]) -> NDArray[np.float64]:
    """:func:`share_surface` from the two frames' power spectra."""
    rows, cols = powers[0].shape
    ky, kx = np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1])
    iy = np.rint(ky * rows).astype(int) % rows  # the frame's nearest bin to each tile's
    ix = np.rint(kx * cols).astype(int) % cols
    # each spectrum smoothed (a Gaussian of SHARE_SMOOTH in each axis's bins, wrapped) read at
    # those bins only: the smoothing's rows and columns for them, not the whole grid smoothed
    near_y, near_x = (
        _smoothing_at(rows, SHARE_SMOOTH * rows, iy),
        _smoothing_at(cols, SHARE_SMOOTH * cols, ix),
    )
    num, den = (near_y.T @ p @ near_x for p in powers)
    r = np.divide(num, den, out=np.ones_like(num), where=den > 0)
    share = np.where(np.isfinite(r) & (r > UNEQUAL_NOISE), own_share(r), 1.0)
    fine = np.hypot(ky[:, None], kx[None, :]) >= FINE_OCTAVE[0]
    return np.asarray(np.where(fine, share, 1.0))


def _smoothing_at(n: int, sigma: float, at: NDArray[np.intp]) -> NDArray[np.float64]:
    """The weights (``n`` x ``len(at)``) by which a wrapped Gaussian of ``sigma`` bins
    (``scipy.ndimage.gaussian_filter1d``, mode "wrap") makes its output at the bins ``at`` from an
    axis of ``n``: its response to each of those bins alone (the kernel is symmetric)."""
    picked = np.zeros((n, len(at)))
    picked[at, np.arange(len(at))] = 1.0
    return np.asarray(gaussian_filter1d(picked, sigma, axis=0, mode="wrap"))


def louder_shares(z: Any, look: Any, shape: tuple[int, int]) -> tuple[float, NDArray[np.float64] | None]:
    """:func:`noise_share` and :func:`share_surface` on a tile of ``shape`` from one pair of
    spectra (what the two-direction filter's pairing reads)."""
    powers = _powers(z, look)
    if powers is None:
        return 1.0, None
    return _share(_octave_ratio(powers)), _surface(powers, shape)


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
