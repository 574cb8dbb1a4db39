"""Fixtures of the metrics tests: synthetic STM-like maps (tiny, so the whole area runs in seconds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray


def _standing_wave_map(
    rng: np.random.Generator, *, pixels: int = 128, pixel_size: float = 0.25e-9, scatterers: int = 15
) -> NDArray[np.float64]:
    """Cu(111)-like surface-state standing waves around point scatterers, heights in metres.

    ``cos(2 k_F r - pi/4) / sqrt(k_F r)`` summed over random scatterers, k_F = 2.1 /nm
    (wavelength of the LDOS ripples pi / k_F = 1.5 nm), amplitude ~10 pm.
    """
    k_f = 2.1e9
    y, x = np.mgrid[0:pixels, 0:pixels] * pixel_size
    z = np.zeros((pixels, pixels))
    for cy, cx in rng.uniform(0.0, pixels * pixel_size, (scatterers, 2)):
        r = np.hypot(y - cy, x - cx) + 0.2e-9
        z += np.cos(2.0 * k_f * r - np.pi / 4.0) / np.sqrt(k_f * r)
    return 1e-11 * z


def _stm_noise(
    rng: np.random.Generator, shape: tuple[int, int], *, sigma: float, line_sigma: float
) -> NDArray[np.float64]:
    """White pixel noise plus one random offset per scan line (row), both in metres."""
    return rng.normal(0.0, sigma, shape) + rng.normal(0.0, line_sigma, (shape[0], 1))


@pytest.fixture
def standing_wave_map() -> Callable[..., NDArray[np.float64]]:
    """``standing_wave_map(rng, *, pixels=128, pixel_size=0.25e-9, scatterers=15)``."""
    return _standing_wave_map


@pytest.fixture
def stm_noise() -> Callable[..., Any]:
    """``stm_noise(rng, shape, *, sigma, line_sigma)``."""
    return _stm_noise
