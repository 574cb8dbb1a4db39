"""Mean tile power spectra (Welch) of the two-direction Wiener's noise and power
(:mod:`stmdenoise.model.two_direction`).

One row of ``band`` x :data:`~stmdenoise.model.fourier_tiles.TILE` tiles per band, every
:data:`WELCH_STEP` columns, each tile's mean removed and the tile multiplied by the gain's sine
window (``band`` rows high), its power spectrum taken on the TILE x TILE grid (a lower tile
zero-padded) and averaged. Split out of :mod:`stmdenoise.model.two_direction`, which reads its
noise (forward minus backward), its power (the frame) and the looks' shared power (their sum,
candidate DC) through :func:`welch`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import fft

from stmdenoise.model.fine_levels import sine
from stmdenoise.model.fourier_tiles import CHUNK, HALF, TILE, WINDOW

__all__ = ["WELCH_STEP", "band_window", "mean_spectrum", "welch"]

Array = NDArray[np.float64]

#: Column step of the noise and power tiles (Welch, 75 % overlap).
WELCH_STEP = 16


def band_window(band: int) -> Array:
    """The noise tiles' window: the gain's sine window (:data:`WINDOW`), ``band`` rows high."""
    return WINDOW if band == TILE else np.outer(sine(band), sine(TILE))


def welch(a: Array, band_rows: list[int], band: int = TILE) -> Array | None:
    """Mean tile power spectrum of ``a`` over one row of ``band`` x :data:`TILE` tiles at each of
    ``band_rows`` (None: none), on the TILE x TILE grid (a lower tile zero-padded). The tiles are
    transformed :data:`CHUNK` at a time (one call instead of one per tile; the same numbers to the
    bit: each tile's mean, transform and the running sum as one tile at a time gives them). Each
    tile's power is computed on the half plane and mirrored (a real tile's power is even in k; the
    full-plane transform's to 3e-16 of the largest)."""
    corners = [(r, j) for r in band_rows for j in range(0, a.shape[1] - TILE + 1, WELCH_STEP)]
    if not corners:
        return None
    win = band_window(band)
    acc: Array | None = None
    for c in range(0, len(corners), CHUNK):
        part = [a[r : r + band, j : j + TILE] for r, j in corners[c : c + CHUNK]]
        centred = np.stack([t - t.mean() for t in part])
        for p in np.abs(fft.rfft2(centred * win, s=(TILE, TILE))) ** 2:
            acc = p if acc is None else acc + p
    assert acc is not None
    return _full_plane(acc / len(corners))


def _full_plane(half: Array) -> Array:
    """The TILE x TILE power spectrum whose ``rfft2`` half is ``half``: P(-k) = P(k)."""
    mirrored = half[(-np.arange(TILE)) % TILE][:, TILE - np.arange(HALF, TILE)]
    return np.concatenate([half, mirrored], axis=1)


def mean_spectrum(spectra: list[Array | None]) -> Array | None:
    """The mean of the spectra that are not None (None if none is)."""
    found = [p for p in spectra if p is not None]
    return None if not found else np.mean(found, axis=0)
