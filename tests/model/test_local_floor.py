"""Each tile's own Wiener gain at a lone feature's longest periods (model.local_floor, candidate CY)."""

from __future__ import annotations

import math

import numpy as np
from scipy import fft
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fourier_tiles import HALF, TILE, WINDOW
from stmdenoise.model.local_floor import FLOOR_BELOW, FLOOR_Z, local_floor

K = np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.rfftfreq(TILE)[None, :]) * TILE


def _spectra(stack: np.ndarray) -> np.ndarray:
    return np.asarray(fft.rfft2(stack * WINDOW))


def _white_noise_density() -> np.ndarray:
    """The windowed tiles' mean power of unit white noise (flat: the window's energy)."""
    return np.full((TILE, HALF), float(np.sum(WINDOW**2)))


def test_on_noise_alone_the_tiles_keep_the_shared_gain() -> None:
    """Noise tiles whose noise the floor is told: their own power clears the gate at few coefficients
    (0.3 %: the window correlates neighbouring bins, so the smoothed power scatters more than over
    4 pi independent bins; most next to the mean, whose leakage the flat noise leaves out), so the
    gain is the shared one nearly everywhere."""
    rng = np.random.default_rng(0)
    shared = np.full((TILE, HALF), 0.2)
    floor = local_floor(shared, _white_noise_density(), 1.0)
    g = floor.gains(_spectra(rng.standard_normal((400, TILE, TILE))))
    assert g.shape == (400, TILE, HALF)
    assert np.mean(g[:, K < FLOOR_BELOW] != 0.2) < 0.005
    assert np.all(g[:, K >= FLOOR_BELOW] == 0.2)


def test_a_tile_holding_a_lone_bump_gets_its_own_gain_at_its_longest_periods_only() -> None:
    """A bump some 8 px wide on noise: below FLOOR_BELOW cycles per tile its coefficients stand far
    above the noise, and there the gain is the tile's own 1 - N / P (P smoothed over 1 bin, read on
    the whole plane: the half plane's mirror included), never below the shared gain; above, and in
    a tile of noise beside it, the shared gain."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:TILE, :TILE] - TILE / 2
    bump = 30.0 * np.exp(-(yy**2 + xx**2) / (2 * 8.0**2))
    stack = np.stack([bump + rng.standard_normal((TILE, TILE)), rng.standard_normal((TILE, TILE))])
    x = _spectra(stack)
    noise = _white_noise_density()
    shared = np.where(K < 1.5, 1.0, 0.05)
    g = local_floor(shared, noise, 1.0).gains(x)
    full = np.abs(fft.fft2(stack * WINDOW)) ** 2
    power = gaussian_filter(full, (0, 1.0, 1.0), mode="wrap")[:, :, :HALF]
    own = np.clip(1.0 - noise / power, 0.0, 1.0)
    stands = (K < FLOOR_BELOW) & (power[0] >= (1 + FLOOR_Z / math.sqrt(4 * math.pi)) * noise)
    assert stands[K >= 2].sum() >= 10  # the bump's own periods of 2-5 cycles per tile
    np.testing.assert_allclose(g[0][stands], np.maximum(shared, own[0])[stands], atol=1e-12)
    assert np.all(g[0][stands & (K >= 2)] > 0.5)
    assert np.all(g[0][~stands] == shared[~stands])
    assert np.mean(g[1] != shared) < 0.01
