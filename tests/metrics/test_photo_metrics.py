"""PIQE and BRISQUE: pinned values on scikit-image photographs, masks, model, resize, lookup."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import ndimage
from skimage import data

from stmdenoise.metrics import (
    BrisqueModel,
    NotScorableError,
    brisque,
    brisque_features,
    live_model,
    piqe,
    piqe_details,
)
from stmdenoise.metrics._imresize import imresize
from stmdenoise.metrics.brisque import _GAM, _R_AGGD, _R_GGD, _nearest_index


def _grey(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.floor(rgb.astype(np.float64) @ np.array([0.298936, 0.587043, 0.114021]) + 0.5).astype(np.uint8)


def _photos() -> dict[str, NDArray[np.uint8]]:
    return {"camera": data.camera(), "coins": data.coins(), "astronaut": _grey(data.astronaut())}


def _distorted(image: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    rng = np.random.default_rng(20261125)
    noisy = np.clip(np.floor(image + rng.normal(0.0, 15.0, image.shape) + 0.5), 0, 255).astype(np.uint8)
    blurred = np.floor(ndimage.gaussian_filter(image.astype(np.float64), 1.5) + 0.5).astype(np.uint8)
    return noisy, blurred


# (piqe, brisque) of the original, seeded noise (sigma 15) and Gaussian blur (sigma 1.5),
# pinned from this implementation (python -c in docs/metrics.md) to catch regressions.
PINNED = {
    "camera": (40.13740180655671, -7.3089402204401495, 64.20073752385613, 56.38094512989841,
               65.38898170180977, 46.291187186073216),
    "coins": (22.222765736247492, -0.6323538896401715, 61.894629817891285, 48.648690440207815,
              82.06308982163361, 45.11706824993837),
    "astronaut": (33.75938660235215, 2.878967779175582, 55.67398692454163, 49.63892929391636,
                  83.97455708580969, 49.90697096829058),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_scores_on_photographs(name: str) -> None:
    image = _photos()[name]
    noisy, blurred = _distorted(image)
    got = [f(x) for x in (image, noisy, blurred) for f in (piqe, brisque)]
    assert got == pytest.approx(PINNED[name], abs=1e-6)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_noise_and_blur_make_photographs_worse(name: str) -> None:
    image = _photos()[name]
    for bad in _distorted(image):
        assert piqe(bad) > piqe(image)
        assert brisque(bad) > brisque(image)


def test_piqe_masks_match_the_image_and_nest() -> None:
    coins = data.coins()  # 303 x 384: not a multiple of 16, so the image is padded
    res = piqe_details(coins)
    assert res.score == pytest.approx(piqe(coins))
    for mask in (res.activity_mask, res.artefact_mask, res.noise_mask):
        assert mask.shape == coins.shape and mask.dtype == np.bool_
    assert not np.any(res.artefact_mask & ~res.activity_mask)
    assert not np.any(res.noise_mask & ~res.activity_mask)
    assert 0.0 <= res.score <= 100.0


def test_uint8_is_scored_as_is_and_floats_are_min_max_scaled() -> None:
    camera = data.camera()
    assert (camera.min(), camera.max()) == (0, 255)
    metres = 1e-10 * camera.astype(np.float64) + 3e-9  # same picture as heights in metres
    assert piqe(metres) == pytest.approx(piqe(camera), abs=1e-12)
    assert brisque(metres) == pytest.approx(brisque(camera), abs=1e-9)


def test_live_model_is_the_published_one() -> None:
    model = live_model()
    assert model.support_vectors.shape == (774, 36)
    assert model.gamma == pytest.approx(0.05)
    assert model.rho == pytest.approx(-153.591, abs=1e-3)
    assert (model.lower, model.upper) == (-1.0, 1.0)


def test_brisque_features_have_two_scales_of_eighteen() -> None:
    f = brisque_features(data.camera())
    assert f.shape == (36,) and np.all(np.isfinite(f))
    shapes = f[[0, 2, 6, 10, 14, 18, 20, 24, 28, 32]]
    assert np.all((shapes >= 0.2) & (shapes <= 10.0))  # on the fitting grid
    variances = f[[1, 4, 5, 8, 9, 12, 13, 16, 17, 19, 22, 23, 26, 27, 30, 31, 34, 35]]
    assert np.all(variances > 0)


def test_brisque_model_rejects_bad_shapes() -> None:
    good = live_model()
    with pytest.raises(ValueError, match="support_vectors"):
        BrisqueModel(np.zeros((3, 35)), np.zeros(3), 0.05, 0.0, good.feature_min, good.feature_range)
    with pytest.raises(ValueError, match="dual_coef"):
        BrisqueModel(np.zeros((3, 36)), np.zeros(4), 0.05, 0.0, good.feature_min, good.feature_range)
    with pytest.raises(ValueError, match="gamma"):
        BrisqueModel(np.zeros((3, 36)), np.zeros(3), 0.0, 0.0, good.feature_min, good.feature_range)


def test_custom_model_changes_only_the_regression() -> None:
    live = live_model()
    shifted = BrisqueModel(
        live.support_vectors,
        live.dual_coef,
        live.gamma,
        live.rho - 10.0,
        live.feature_min,
        live.feature_range,
    )
    camera = data.camera()
    assert brisque(camera, model=shifted) == pytest.approx(brisque(camera) + 10.0)


def test_nearest_index_equals_matlab_min_abs() -> None:
    rng = np.random.default_rng(3)
    for table in (_R_GGD, _R_AGGD):
        lo, hi = float(table.min()), float(table.max())
        values = np.concatenate((rng.uniform(lo, hi, 300), [lo - 1.0, hi + 1.0, table[17], table[-1]]))
        for v in values:
            assert _nearest_index(table, float(v)) == int(np.argmin(np.abs(v - table)))
    assert _nearest_index(_R_AGGD, math.nan) == 0
    assert _GAM.size == 9801 and _GAM[-1] == pytest.approx(10.0)


def test_imresize_half_keeps_constants_and_ramps() -> None:
    const = np.full((64, 48), 7.0)
    out = imresize(const, 0.5)
    assert out.shape == (32, 24)
    np.testing.assert_allclose(out, 7.0, rtol=0, atol=1e-12)
    # bicubic reproduces a linear ramp away from the border: output x samples input 2x - 0.5 (1-based)
    ramp = np.tile(np.arange(1.0, 65.0), (8, 1))
    out = imresize(ramp, 0.5)[0]
    np.testing.assert_allclose(out[3:-3], 2.0 * np.arange(4, 30) - 0.5, atol=1e-12)
    assert imresize(np.zeros((33, 17)), 0.5).shape == (17, 9)
    with pytest.raises(ValueError, match="scale"):
        imresize(const, 0.0)


@pytest.mark.parametrize("metric", [piqe, brisque])
def test_refusals(metric) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="smaller than 64x64"):
        metric(np.random.default_rng(0).normal(size=(32, 32)))
    with pytest.raises(NotScorableError, match="constant"):
        metric(np.full((64, 64), 2e-10))
    with pytest.raises(NotScorableError, match="constant"):
        metric(np.full((64, 64), 9, dtype=np.uint8))
    with pytest.raises(ValueError, match="2-D"):
        metric(np.zeros((64, 64, 3)))
    with pytest.raises(ValueError, match="dtype"):
        metric(np.ones((64, 64), dtype=bool))
