from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stmdenoise.processing import Normalization, robust_normalize
from stmdenoise.scan import Scan


def test_percentiles_map_to_plus_minus_one(rng: np.random.Generator) -> None:
    img = rng.normal(loc=3e-7, scale=2e-11, size=(64, 64))
    y, norm = robust_normalize(img, low_pct=1.0, high_pct=99.0)
    assert np.percentile(y, 1.0) == pytest.approx(-1.0, abs=1e-9)
    assert np.percentile(y, 99.0) == pytest.approx(1.0, abs=1e-9)
    assert norm.lo == pytest.approx(np.percentile(img, 1.0), rel=1e-15)
    assert y.dtype == np.float64


def test_spikes_do_not_squash_the_image(rng: np.random.Generator) -> None:
    img = rng.normal(size=(50, 50))
    img[0, 0] = 1e6  # a tip crash
    y, _ = robust_normalize(img)
    assert y[1:].std() > 0.2  # min/max scaling would give ~1e-6
    assert y[0, 0] > 1.0  # outside the range, unclipped


@settings(max_examples=40, deadline=None)
@given(
    centre=st.floats(-1e-5, 1e-5, allow_nan=False),
    spread=st.floats(1e-13, 1e-6, allow_nan=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_invert_is_exact_inverse(centre: float, spread: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    img = centre + spread * rng.normal(size=(9, 11))
    img[7:] = np.nan
    y, norm = robust_normalize(img)
    back = norm.invert(y)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(img))
    finite = np.isfinite(img)
    tol = 4 * np.finfo(np.float64).eps * max(np.abs(img[finite]).max(), abs(norm.centre))
    assert np.abs(back[finite] - img[finite]).max() <= tol


def test_apply_maps_lo_hi_exactly_and_clip() -> None:
    norm = Normalization(lo=-2.0, hi=6.0)
    np.testing.assert_array_equal(norm.apply([-2.0, 2.0, 6.0, 14.0]), [-1.0, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(norm.apply([14.0, -10.0], clip=True), [1.0, -1.0])
    np.testing.assert_array_equal(norm.invert([-1.0, 0.0, 1.0]), [-2.0, 2.0, 6.0])


def test_constant_image_has_no_division_by_zero() -> None:
    img = np.full((8, 8), 4.2e-9)
    img[0, 0] = np.nan
    with np.errstate(all="raise"):
        y, norm = robust_normalize(img)
        back = norm.invert(y)
    assert norm.degenerate and norm.scale == 1.0
    np.testing.assert_array_equal(y[np.isfinite(y)], 0.0)
    np.testing.assert_array_equal(back[1:], img[1:])
    assert np.isnan(y[0, 0])


def test_normalization_validates_and_serialises() -> None:
    with pytest.raises(ValueError, match="lo"):
        Normalization(lo=2.0, hi=1.0)
    with pytest.raises(ValueError, match="lo"):
        Normalization(lo=float("nan"), hi=1.0)
    norm = Normalization(lo=1e-10, hi=3e-10)
    assert Normalization.from_dict(json.loads(json.dumps(norm.to_dict()))) == norm
    with pytest.raises(ValueError, match="'lo' and 'hi'"):
        Normalization.from_dict({"lo": 1.0})


@pytest.mark.parametrize("low, high", [(-1.0, 50.0), (50.0, 50.0), (60.0, 40.0), (0.0, 101.0)])
def test_bad_percentiles(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="low_pct"):
        robust_normalize(np.zeros((3, 3)), low_pct=low, high_pct=high)


def test_all_nan_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        robust_normalize(np.full((3, 3), np.nan))


def test_scan_becomes_unitless_with_step(rng: np.random.Generator) -> None:
    scan = Scan(rng.normal(size=(10, 10)) * 1e-10, unit="m")
    out, norm = robust_normalize(scan)
    assert isinstance(out, Scan) and out.unit == ""
    step = out.steps[-1]
    assert step.name == "robust_normalize" and step.params["unit"] == "m"
    assert Normalization(step.params["lo"], step.params["hi"]) == norm
    np.testing.assert_allclose(norm.invert(out.data), scan.data, rtol=0, atol=1e-25)
