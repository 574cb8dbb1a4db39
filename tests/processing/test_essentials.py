"""Gwyddion's essentials: facet, three-point, line-by-line levelling; polynomials 1-3; crop; FFT ring."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stmdenoise.processing import (
    RingReadout,
    crop_rect,
    find_ring,
    level_facet,
    level_plane,
    level_poly,
    level_rows,
    level_three_points,
    power_spectrum,
)
from stmdenoise.scan import Scan


@pytest.fixture
def staircase() -> np.ndarray:
    """Six 100 pm terraces descending along x, on a sample tilted in x and y, with noise."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:96, 0:96]
    steps = -100e-12 * (cols // 16)
    return steps + 3e-12 * cols + 1.5e-12 * rows + rng.normal(0, 1e-12, rows.shape)


def _terrace_tilt(img: np.ndarray) -> float:
    """Largest slope (per pixel) left inside one terrace."""
    inner = img[:, 20:28]
    gx = np.median(np.diff(inner, axis=1))
    gy = np.median(np.diff(inner, axis=0))
    return float(math.hypot(gx, gy))


def test_facet_level_flattens_terraces_where_a_plane_fit_does_not(staircase: np.ndarray) -> None:
    assert _terrace_tilt(level_plane(staircase)) > 5e-12  # the plane fit tilts every terrace
    out = level_facet(staircase)
    assert _terrace_tilt(out) < 0.2e-12
    # the step heights survive: 100 pm between neighbouring terraces
    step = np.median(out[:, 20:28]) - np.median(out[:, 36:44])
    assert step == pytest.approx(100e-12, rel=0.03)


def test_facet_level_keeps_nan_and_records_the_step(staircase: np.ndarray) -> None:
    data = staircase.copy()
    data[:5] = np.nan
    scan = Scan(data=data, pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
    out = level_facet(scan)
    assert np.isnan(out.data[:5]).all() and np.isfinite(out.data[5:]).all()
    assert out.steps[-1].name == "level_facet"
    with pytest.raises(ValueError, match="iterations"):
        level_facet(staircase, iterations=0)


def test_three_point_level_zeroes_the_chosen_terrace(staircase: np.ndarray) -> None:
    out = level_three_points(staircase, points=((10, 18), (80, 19), (45, 29)), radius=2)
    terrace = out[:, 18:30]
    assert abs(float(np.median(terrace))) < 2e-12 and _terrace_tilt(out) < 0.5e-12
    with pytest.raises(ValueError, match="one line"):
        level_three_points(staircase, points=((0, 0), (1, 1), (2, 2)))
    with pytest.raises(ValueError, match="inside"):
        level_three_points(staircase, points=((0, 0), (1, 1), (200, 2)))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_polynomial_background_of_order(order: int) -> None:
    rows, cols = np.mgrid[0:40, 0:50] / 40.0
    bg = 1 + rows - 2 * cols + (0.7 * rows * cols if order >= 2 else 0) + (0.3 * cols**3 if order == 3 else 0)
    assert float(np.abs(level_poly(bg, order=order)).max()) < 1e-9
    if order > 1:
        assert float(np.abs(level_poly(bg, order=order - 1)).max()) > 1e-3  # a lower order is not enough


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_line_by_line_polynomial(order: int) -> None:
    rng = np.random.default_rng(1)
    x = np.linspace(-1, 1, 64)
    coef = rng.normal(size=(32, order + 1))
    img = np.stack([np.polyval(c, x) for c in coef])
    img[3, 10:20] = np.nan  # a partly measured line
    out = level_rows(img, order=order)
    assert np.isnan(out[3, 10:20]).all()
    assert float(np.nanmax(np.abs(out))) < 1e-9
    with pytest.raises(ValueError, match="order"):
        level_rows(img, order=4)


def test_crop_keeps_pixel_size_and_moves_the_centre() -> None:
    scan = Scan(
        data=np.arange(200.0).reshape(10, 20),
        pixel_size=(1e-9, 2e-9),
        channel="Z",
        unit="m",
        offset=(5e-9, 7e-9),
    )
    out = crop_rect(scan, rows=(0, 4), cols=(10, 20))
    assert out.shape == (4, 10) and out.pixel_size == scan.pixel_size
    assert out.data[0, 0] == 10.0
    # centre moved 5 px (10 nm) right and 3 px (3 nm) up (y of the offset grows upwards)
    assert out.offset == pytest.approx((5e-9 + 3e-9, 7e-9 + 10e-9))
    assert out.steps[-1].name == "crop_rect"
    with pytest.raises(ValueError, match="rows"):
        crop_rect(scan, rows=(5, 5), cols=(0, 2))


def test_fft_ring_of_cu111_standing_waves_gives_kf() -> None:
    """Circular waves of period lambda_F / 2 = 14.7 A (Cu(111): k_F = 0.214 1/A)."""
    kf = 0.214e10
    y, x = np.mgrid[-100:100, -100:100] * 1.5e-10
    r = np.hypot(y - 7e-10, x + 11e-10)
    img = np.cos(2 * kf * r) / np.sqrt(1 + r / 1e-9) + np.random.default_rng(2).normal(0, 0.05, r.shape)
    psd, fy, fx = power_spectrum(img, pixel_size=(1.5e-10, 1.5e-10))
    f = find_ring(psd, fy, fx, f_min=1 / 100e-10)
    readout = RingReadout.from_radius(f)
    assert readout.k_fermi == pytest.approx(kf, rel=0.05)
    assert readout.period == pytest.approx(math.pi / kf, rel=0.05)
    assert readout.fermi_wavelength == pytest.approx(2 * math.pi / kf, rel=0.05)
    with pytest.raises(ValueError, match="pixel_size"):
        power_spectrum(img)
