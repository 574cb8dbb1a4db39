"""MSE, PSNR and SSIM on the 0-255 scale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from stmdenoise.metrics import NotScorableError, mse, psnr, ssim
from stmdenoise.metrics.reference import SSIM_PARAMS


def test_identical_images() -> None:
    cam = data.camera()
    assert mse(cam, cam) == 0.0
    assert psnr(cam, cam) == float("inf")
    assert ssim(cam, cam) == pytest.approx(1.0)


def test_values_by_hand_on_uint8() -> None:
    a = np.tile(np.arange(256, dtype=np.uint8), (64, 1))[:, :128]
    a[0, 0], a[-1, -1] = 0, 255  # keep the range so nothing is rescaled (uint8 is used as is anyway)
    b = a.copy()
    b[:, :64] = np.clip(b[:, :64].astype(int) + 4, 0, 255).astype(np.uint8)  # +4 on half the pixels
    assert mse(a, b) == pytest.approx(8.0)
    assert psnr(a, b) == pytest.approx(10 * np.log10(255.0**2 / 8.0))


def test_ssim_is_scikit_image_with_documented_parameters() -> None:
    cam = data.camera()
    noisy = np.clip(cam + np.random.default_rng(1).normal(0, 20, cam.shape), 0, 255).round().astype(np.uint8)
    expected = structural_similarity(cam.astype(float), noisy.astype(float), **SSIM_PARAMS)
    assert ssim(cam, noisy) == pytest.approx(expected)
    assert SSIM_PARAMS["data_range"] == 255 and SSIM_PARAMS["sigma"] == 1.5
    assert 0.0 < ssim(cam, noisy) < 1.0


def test_float_maps_are_scaled_per_image(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any], stm_noise: Callable[..., Any]
) -> None:
    clean = standing_wave_map(rng)
    # an affine copy in other units renders to the same 8-bit image
    assert mse(clean, 3.0 * clean + 1e-9) == 0.0
    noisy = clean + stm_noise(rng, clean.shape, sigma=0.5 * clean.std(), line_sigma=0.0)
    worse = clean + stm_noise(rng, clean.shape, sigma=1.0 * clean.std(), line_sigma=0.0)
    assert psnr(clean, noisy) > psnr(clean, worse)
    assert ssim(clean, noisy) > ssim(clean, worse)


def test_rows_complete_in_both_are_compared(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any], stm_noise: Callable[..., Any]
) -> None:
    clean = standing_wave_map(rng)
    noisy = clean + stm_noise(rng, clean.shape, sigma=0.5 * clean.std(), line_sigma=0.0)
    partial = noisy.copy()
    partial[90:] = np.nan
    assert mse(clean, partial) == mse(clean[:90], noisy[:90])
    assert ssim(partial, clean) == ssim(noisy[:90], clean[:90])
    partial[:40] = np.nan
    with pytest.raises(NotScorableError, match="only 50 rows of 128 are complete in both"):
        mse(clean, partial)


def test_bad_pairs() -> None:
    cam = data.camera()
    with pytest.raises(ValueError, match="same shape"):
        mse(cam, cam[:-1])
    with pytest.raises(ValueError, match="64x64"):
        psnr(cam[:32, :32], cam[:32, :32])
    with pytest.raises(NotScorableError, match="constant"):
        ssim(cam, np.zeros_like(cam))
