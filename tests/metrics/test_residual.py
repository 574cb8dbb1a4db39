"""Residual statistics catch a denoiser that removes signal, and recognise one that removes noise."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics import NotScorableError, ResidualStats, residual_stats


@pytest.fixture
def pair(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any]
) -> tuple[np.ndarray, np.ndarray, float]:
    # finer sampling (0.14 nm/px) than the other tests: smooth enough for the noise floor to be the noise
    clean = standing_wave_map(rng, pixels=128, pixel_size=0.14e-9)
    sigma = 0.5 * float(clean.std())
    return clean, clean + rng.normal(0.0, sigma, clean.shape), sigma


def test_ideal_denoiser_leaves_white_structureless_noise(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, raw, sigma = pair
    st = residual_stats(raw, clean)
    assert st.rms == pytest.approx(sigma, rel=0.05)
    assert 0.8 < st.rms_to_noise_floor < 1.25
    assert abs(st.autocorr_fast) < 0.05 and abs(st.autocorr_slow) < 0.05
    assert abs(st.signal_correlation) < 0.05
    assert st.structure_r2 < 0.02
    assert st.spectral_flatness > 0.85  # 16 tiles of 32x32: ~0.97 expected for white noise
    assert st.rows_used == 128


def test_blurring_and_shrinking_denoisers_are_caught(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, raw, _ = pair
    good = residual_stats(raw, clean)
    blurred = residual_stats(raw, ndimage.gaussian_filter(raw, 2.0))
    shrunk = residual_stats(raw, 0.5 * clean)
    for bad in (blurred, shrunk):
        assert bad.structure_r2 > good.structure_r2 + 0.3
        assert bad.signal_correlation > 0.3
        assert bad.autocorr_slow > 0.1
        assert bad.spectral_flatness < good.spectral_flatness - 0.2
        assert bad.rms_to_noise_floor > good.rms_to_noise_floor


def test_removed_line_offsets_show_along_the_fast_axis(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any]
) -> None:
    clean = standing_wave_map(rng, pixel_size=0.14e-9)
    raw = (
        clean
        + rng.normal(0.0, 0.5 * clean.std(), (clean.shape[0], 1))
        + rng.normal(0, 0.1 * clean.std(), clean.shape)
    )
    st = residual_stats(raw, clean)
    assert st.autocorr_fast > 0.5
    assert abs(st.autocorr_slow) < 0.1
    assert st.rms_to_noise_floor > 2.0  # removed more than pixel noise: the lines


def test_unchanged_image_gives_zero_rms_and_undefined_shape_statistics(pair: tuple) -> None:
    _, raw, _ = pair
    st = residual_stats(raw, raw)
    assert st.rms == 0.0 and st.mean == 0.0 and st.rms_to_noise_floor == 0.0
    for name in ("autocorr_fast", "autocorr_slow", "spectral_flatness", "signal_correlation", "structure_r2"):
        assert math.isnan(getattr(st, name))


def test_nan_rows_shapes_and_constants(pair: tuple) -> None:
    clean, raw, _ = pair
    raw_nan = raw.copy()
    raw_nan[110:] = np.nan
    assert residual_stats(raw_nan, clean) == residual_stats(raw[:110], clean[:110])
    with pytest.raises(ValueError, match="same shape"):
        residual_stats(raw, clean[:-1])
    with pytest.raises(NotScorableError, match="constant"):
        residual_stats(raw, np.zeros_like(raw))
    with pytest.raises(ValueError, match="64x64"):
        residual_stats(raw[:32, :32], clean[:32, :32])


def test_residual_stats_is_frozen_and_serialisable(pair: tuple) -> None:
    clean, raw, _ = pair
    st = residual_stats(raw, clean)
    assert isinstance(st, ResidualStats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.rms = 0.0  # type: ignore[misc]
    assert set(st.to_dict()) >= {"rms", "autocorr_fast", "structure_r2"}
