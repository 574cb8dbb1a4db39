"""The two-direction Wiener's gain from its noise N and power P (:mod:`stmdenoise.model.two_direction`).

Both are mean Welch spectra of 64 px tiles, smoothed by :data:`SMOOTH` bins; the gain is the Wiener
gain 1 - N / P clipped to [0, 1] times the Gaussian transfer that Stein's unbiased risk estimate
chooses among :data:`SURE_SIGMAS` (:func:`wiener_gain`), or, where the noise is uneven between
strips, one gain per class of rows (:func:`class_gains`). Ours, not the paper's
(docs/model-selection.md, candidates T, AQ and BA).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fourier_tiles import HALF, SKIP, TILE
from stmdenoise.processing.smoothing import GAUSSIAN_WIDTHS

__all__ = ["OVER_SUBTRACT", "SMOOTH", "SURE_SIGMAS", "class_gains", "sure", "wiener_gain"]

Array = NDArray[np.float64]

#: Gaussian smoothing of N and P, Fourier bins.
SMOOTH = 1.0
#: The noise the gain takes, times its estimate, at periods under the tip's resolution
#: (:data:`~stmdenoise.model.fine_levels.RESOLUTION`) in the octaves where the two looks share no
#: surface (:func:`~stmdenoise.model.fine_levels.quiet_fine`): spectral subtraction's
#: over-subtraction (Berouti, Schwartz and Makhoul, ICASSP 1979). Where a tile holds noise only, P
#: scatters about N and ``1 - N / P`` lets a few per cent of the noise through; there a coefficient
#: is kept only where its power clearly exceeds the noise (docs/model-selection.md, candidates DB
#: and DC).
OVER_SUBTRACT = 1.5
#: Widths (px) of the Gaussian after the gain that Stein's unbiased risk estimate chooses among
#: (0: the Wiener gain alone; docs/model-selection.md, candidate T).
SURE_SIGMAS = GAUSSIAN_WIDTHS


def sure(gain: Array, power: Array, noise: Array) -> Array:
    """``gain`` times the Gaussian transfer whose width (:data:`SURE_SIGMAS`) minimises Stein's
    unbiased risk estimate on ``power`` and ``noise`` (docs/model-selection.md, candidate T)."""
    best: tuple[float, Array] | None = None
    for transfer in _transfers(SURE_SIGMAS):
        h = gain * transfer
        risk = float(np.sum((1 - h) ** 2 * power + 2 * h * noise - noise))
        if best is None or risk < best[0]:
            best = (risk, h)
    assert best is not None  # SURE_SIGMAS is not empty
    return best[1]


@functools.lru_cache(maxsize=4)
def _transfers(sigmas: tuple[float, ...]) -> tuple[Array, ...]:
    """The Gaussian transfers exp(-2 pi^2 sigma^2 |k|^2) of a tile's spectrum, one per width."""
    k2 = np.fft.fftfreq(TILE)[:, None] ** 2 + np.fft.fftfreq(TILE)[None, :] ** 2
    return tuple(np.exp(-2 * np.pi**2 * sigma**2 * k2) for sigma in sigmas)


def over_subtracted(fine: NDArray[np.bool_] | None) -> Array | float:
    """The factor on the noise: :data:`OVER_SUBTRACT` on the coefficients of ``fine`` (a tile's
    whole spectrum: :func:`~stmdenoise.model.fine_levels.quiet_fine`'s), 1 elsewhere (1 without
    ``fine``)."""
    return 1.0 if fine is None else np.where(fine, OVER_SUBTRACT, 1.0)


def wiener_gain(
    noise: Array, power: Array, *, half_plane: bool = True, fine: NDArray[np.bool_] | None = None
) -> Array:
    """The Wiener gain 1 - N / P (smoothed, clipped), times SURE's Gaussian (:func:`sure`):
    removes what leaks through a noisy gain on smooth scans. N is taken :data:`OVER_SUBTRACT`
    times on the coefficients of ``fine`` (TILE x TILE: under the tip's resolution, where the looks
    share no surface, :func:`~stmdenoise.model.fine_levels.quiet_fine`). The
    :data:`HALF` columns the tiles need, or the whole TILE x TILE spectrum (``half_plane`` False)."""
    g = 1.0 - over_subtracted(fine) * gaussian_filter(noise, SMOOTH, mode="wrap") / np.maximum(
        gaussian_filter(power, SMOOTH, mode="wrap"), 1e-300
    )
    h = sure(np.clip(g, 0.0, 1.0), power, noise)
    return h[:, :HALF] if half_plane else h


def class_gains(
    noise: Array,
    power: Array,
    relative: list[Array],
    mean_level: list[float],
    masks: list[NDArray[np.bool_]],
    *,
    quiet: NDArray[np.bool_] | None = None,
) -> tuple[dict[int, Array], NDArray[np.int64]]:
    """Classes of rows and each class's gain. ``relative[j]`` holds band j's levels c
    (:func:`~stmdenoise.model.fine_levels.relative_levels`; NaN:
    :data:`~stmdenoise.model.fourier_tiles.SKIP`) and ``masks[j]`` its coefficients (full
    spectrum, :func:`~stmdenoise.model.fine_levels.fast_bands`); a row's class is the tuple of its
    half-octave classes of c in every band. Its gain is T's (:func:`wiener_gain`) at periods of
    :data:`~stmdenoise.model.fine_levels.RESOLUTION` and more, and on band j's coefficients
    ``S / (S + c_j N)``, S = P - N ``mean_level[j]`` (the mean strip level, relative as c is; N
    taken :data:`OVER_SUBTRACT` times on the coefficients of ``quiet``, as the shared gain is:
    those under 2 Å where the looks share no surface, candidates DB and DC), times
    SURE's Gaussian chosen on the modelled power ``S + c N`` with c_j on band j and the mean of
    the c_j elsewhere (docs/model-selection.md, candidates AQ and BA)."""
    fine = np.any(masks, axis=0)  # the bands of fast-axis frequency cover every kx
    shared = wiener_gain(noise, power, fine=quiet)
    n_s = gaussian_filter(noise, SMOOTH, mode="wrap")
    p_s = gaussian_filter(power, SMOOTH, mode="wrap")
    taken = over_subtracted(quiet) * n_s  # the noise S is measured above, the same for every class
    known = np.isfinite(relative[0])
    steps = np.stack(
        [np.where(known, np.rint(2 * np.log2(np.where(known, r, 1.0))), 0) for r in relative], -1
    )
    keys, inverse = np.unique(steps[known].astype(np.int64), axis=0, return_inverse=True)
    classes = np.full(relative[0].shape, SKIP, dtype=np.int64)
    classes[known] = inverse.reshape(-1)
    gains = {}
    for k in range(len(keys)):
        rows = classes == k
        c = [float(r[rows].mean()) for r in relative]
        c_map = np.full(noise.shape, float(np.mean(c)))
        m_map = np.full(noise.shape, float(np.mean(mean_level)))
        for mask, c_j, m_j in zip(masks, c, mean_level, strict=True):
            c_map[mask], m_map[mask] = c_j, m_j
        signal = np.maximum(p_s - taken * m_map, 0.0)
        modelled = signal + c_map * n_s
        own = sure(signal / np.maximum(modelled, 1e-300), modelled, c_map * n_s)[:, :HALF]
        gains[k] = np.where(fine[:, :HALF], own, shared)
    return gains, classes
