from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.processing import align_rows, fit_plane, level_plane, level_poly
from stmdenoise.scan import Scan


def _plane(shape: tuple[int, int], c0: float, cy: float, cx: float) -> np.ndarray:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return c0 + cy * rows + cx * cols


def test_fit_plane_recovers_known_coefficients() -> None:
    img = _plane((17, 23), 2.5e-7, 3e-11, -7e-12)
    c0, cy, cx = fit_plane(img)
    assert c0 == pytest.approx(2.5e-7, rel=1e-12)
    assert cy == pytest.approx(3e-11, rel=1e-9)
    assert cx == pytest.approx(-7e-12, rel=1e-9)


def test_level_plane_removes_an_exact_plane_on_a_large_offset() -> None:
    # Z in metres sits far from 0: the plane must still vanish to rounding of the offset.
    img = _plane((32, 48), 1.2e-6, 4e-11, 2e-11)
    out = level_plane(img)
    assert np.abs(out).max() < 1e-20


def test_level_plane_keeps_texture_and_ignores_nan_rows(rng: np.random.Generator) -> None:
    texture = rng.normal(scale=1e-11, size=(40, 40))
    texture -= texture.mean()
    img = texture + _plane((40, 40), 5e-9, 1e-10, -3e-10)
    img[30:] = np.nan  # aborted scan
    img[29, 20:] = np.nan  # partly measured last row
    out = level_plane(img)
    assert np.isnan(out[30:]).all() and np.isnan(out[29, 20:]).all()
    assert np.isfinite(out[:29]).all() and np.isfinite(out[29, :20]).all()
    # The residual after subtracting the fitted plane is the texture minus its own plane fit.
    finite = np.isfinite(img)
    expected = texture - (texture[finite].mean())
    resid = out[finite] - expected[finite]
    assert np.abs(resid).max() < 5e-12  # only the texture's own tiny tilt differs


def test_level_plane_mask_excludes_an_adsorbate() -> None:
    img = _plane((20, 20), 0.0, 1.0, 2.0)
    img[5:9, 5:9] += 100.0  # an island that would tilt an unmasked fit
    mask = np.ones(img.shape, dtype=bool)
    mask[5:9, 5:9] = False
    out = level_plane(img, mask=mask)
    np.testing.assert_allclose(out[mask], 0.0, atol=1e-10)
    np.testing.assert_allclose(out[~mask], 100.0, atol=1e-10)
    unmasked = level_plane(img)
    assert np.abs(unmasked[mask]).max() > 1.0


def test_level_plane_on_scan_records_step() -> None:
    scan = Scan(_plane((8, 8), 1.0, 0.5, 0.25), pixel_size=(1e-10, 1e-10), unit="m")
    out = level_plane(scan)
    assert isinstance(out, Scan)
    assert out.steps[-1].name == "level_plane"
    assert out.steps[-1].params["cy"] == pytest.approx(0.5)
    assert out.pixel_size == scan.pixel_size and out.unit == "m"
    np.testing.assert_allclose(out.data, 0.0, atol=1e-12)


def test_level_plane_refuses_all_nan() -> None:
    with pytest.raises(ValueError, match="finite"):
        level_plane(np.full((4, 4), np.nan))


def test_level_plane_does_not_modify_input() -> None:
    img = _plane((6, 6), 1.0, 1.0, 1.0)
    before = img.copy()
    level_plane(img)
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize("order", [0, 1, 2, 3, 5])
def test_level_poly_removes_polynomials_of_its_order(order: int, rng: np.random.Generator) -> None:
    rows, cols = np.mgrid[0:30, 0:25].astype(float)
    surface = np.zeros((30, 25))
    for p in range(order + 1):
        for q in range(order + 1 - p):
            surface += rng.normal() * (rows / 30) ** p * (cols / 25) ** q
    surface[20:] = np.nan
    out = level_poly(surface, order=order)
    assert np.isnan(out[20:]).all()
    np.testing.assert_allclose(out[:20], 0.0, atol=1e-10)


def test_level_poly_order_one_equals_level_plane(rng: np.random.Generator) -> None:
    img = rng.normal(size=(15, 19))
    np.testing.assert_allclose(level_poly(img, order=1), level_plane(img), atol=1e-12)


@pytest.mark.parametrize("order", [-1, 9, 1.5, True])
def test_level_poly_rejects_bad_order(order: object) -> None:
    with pytest.raises(ValueError, match="order"):
        level_poly(np.zeros((4, 4)), order=order)  # type: ignore[call-overload]


def test_align_rows_median_removes_row_offsets_exactly(rng: np.random.Generator) -> None:
    texture = rng.normal(size=(24, 31))
    offsets = rng.normal(scale=10.0, size=(24, 1))
    out = align_rows(texture + offsets, method="median")
    expected = texture - np.median(texture, axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose(np.median(out, axis=1), 0.0, atol=1e-12)


def test_align_rows_median_diff_keeps_structure_shared_by_rows(rng: np.random.Generator) -> None:
    # A sloped terrace (rows share the column profile, plus a y slope) with random row jumps.
    cols = np.linspace(0, 1, 40)
    surface = np.sin(6 * cols)[None, :] + np.zeros((30, 1))
    jumps = rng.normal(scale=3.0, size=(30, 1))
    out = align_rows(surface + jumps, method="median_diff")
    diff = out - surface
    np.testing.assert_allclose(diff, diff[0, 0], atol=1e-12)  # one constant left, nothing per row


def test_align_rows_preserves_nan_rows_and_partial_rows(rng: np.random.Generator) -> None:
    img = rng.normal(size=(12, 10)) + rng.normal(scale=5, size=(12, 1))
    img[9:] = np.nan
    img[8, 6:] = np.nan
    img[3] = np.nan  # a lost line in the middle
    for method in ("median", "median_diff"):
        out = align_rows(img, method=method)
        np.testing.assert_array_equal(np.isnan(out), np.isnan(img))


def test_align_rows_median_diff_bridges_a_nan_row() -> None:
    base = np.tile(np.arange(6.0), (5, 1))
    img = base + np.array([[0.0], [1.0], [0.0], [7.0], [-3.0]])
    img[2] = np.nan
    out = align_rows(img, method="median_diff")
    finite = np.isfinite(out)
    d = out - base
    np.testing.assert_allclose(d[finite], d[0, 0], atol=1e-12)


def test_align_rows_on_scan_and_bad_method() -> None:
    scan = Scan(np.arange(12.0).reshape(3, 4))
    out = align_rows(scan, method="median_diff")
    assert isinstance(out, Scan) and out.steps[-1].params == {"method": "median_diff"}
    with pytest.raises(ValueError, match="method"):
        align_rows(scan, method="mean")  # type: ignore[call-overload]


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((2, 2, 2)), np.zeros((0, 3)), np.array([["a"]])])
def test_inputs_must_be_2d_real(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="data"):
        level_plane(bad)
