"""A lone feature's longest periods in a tile kept by that tile's own Wiener gain (version 2.24).

The two-direction Wiener (:mod:`stmdenoise.model.two_direction`) gives every tile one gain per
parity, read from the frame's mean tile power. Once its tiles no longer see the leakage of the
frame's long periods (candidate CU), that gain reads a lone feature's own periods of a third to a
sixth of a tile (2-5 cycles per tile: an adatom or cluster some 5-15 px across) as noise, because
most tiles hold none of it. :func:`local_floor` raises each tile's gain there, coefficient by
coefficient, to the tile's own Wiener gain 1 - N / P, P the tile's power smoothed over neighbouring
bins, where P stands :data:`FLOOR_Z` of its scatter above the noise N. It reads the frame's own tile
only, never the second look, and N comes from the other parity's bands, so cross-fitting holds.
Ours, not the paper's (docs/model-selection.md, candidates CY and CZ).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fourier_tiles import HALF, TILE, OnHalfPlane

__all__ = ["FLOOR_BELOW", "FLOOR_Z", "local_floor"]

Array = NDArray[np.float64]

#: The floor works below this many cycles per tile: the periods a lone feature's height lives in
#: that the shared gain read as noise once the long periods' leakage was gone (candidate CY).
FLOOR_BELOW = 5.0
#: A tile's smoothed power must stand this many of its own scatter (its mean over 4 pi s² bins, s
#: the smoothing) above the noise before its own gain counts (the put-back's 6, model.put_back). The
#: window correlates neighbouring bins, so on white noise the gate still opens at about 0.3 % of
#: the coefficients below :data:`FLOOR_BELOW` (tests/model/test_local_floor.py).
FLOOR_Z = 6.0

#: The largest |ky| and kx (bins) the floor can touch.
_REACH = int(math.ceil(FLOOR_BELOW))


def local_floor(gain: Array, noise: Array, smooth: float) -> OnHalfPlane:
    """A per-tile gain for :func:`~stmdenoise.model.fourier_tiles.filter_tiles_each`: ``gain``
    (TILE x HALF, the shared one), raised below :data:`FLOOR_BELOW` cycles per tile to each tile's
    own 1 - N / P where P >= (1 + FLOOR_Z / sqrt(4 pi smooth²)) N; ``noise`` is N (TILE x HALF,
    already smoothed as the shared gain's), ``smooth`` the smoothing of P in bins."""
    margin = int(math.ceil(4.0 * smooth))
    ky = np.arange(-_REACH - margin, _REACH + margin + 1)
    kx = np.arange(-margin, _REACH + margin + 1)
    # the patch of the full plane the smoothing needs: negative kx from the half plane's mirror,
    # P(ky, -kx) = P(-ky, kx) for a real tile
    rows_of = ky[:, None] * np.where(kx[None, :] < 0, -1, 1) % TILE
    cols_of = np.abs(kx)[None, :] + 0 * ky[:, None]
    inner = (slice(margin, margin + 2 * _REACH + 1), slice(margin, margin + _REACH + 1))
    k_in = np.hypot(ky[inner[0], None], kx[None, inner[1]])
    where = k_in < FLOOR_BELOW  # within the patch's inner part: rows -REACH..REACH, kx 0..REACH
    rows = ky[inner[0]] % TILE
    cols = kx[inner[1]]
    need = 1.0 + FLOOR_Z / math.sqrt(4.0 * math.pi * smooth**2)
    n_in = noise[rows[:, None], cols[None, :]]
    g_in = gain[rows[:, None], cols[None, :]]

    def gains(x_h: NDArray[np.complex128]) -> Array:
        patch = x_h[:, rows_of, cols_of]
        power = gaussian_filter(patch.real**2 + patch.imag**2, (0.0, smooth, smooth), mode="nearest")
        p_in = power[:, inner[0], inner[1]]
        own = np.clip(1.0 - n_in / np.maximum(p_in, 1e-300), 0.0, 1.0)
        raised = np.where(where & (p_in >= need * n_in), np.maximum(g_in, own), g_in)
        out = np.array(np.broadcast_to(gain, (x_h.shape[0], TILE, HALF)), dtype=np.float64)
        out[:, rows[:, None], cols[None, :]] = raised
        return out

    return OnHalfPlane(gains)
