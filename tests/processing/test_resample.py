from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.processing import resample_to_pixel_size
from stmdenoise.scan import Scan


def _linear_scan(shape: tuple[int, int], pixel: tuple[float, float]) -> Scan:
    # Values linear in physical position: bilinear resampling must reproduce them exactly.
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    y = (rows + 0.5) * pixel[0]
    x = (cols + 0.5) * pixel[1]
    return Scan(2.0 * y / 1e-9 - 3.0 * x / 1e-9, pixel_size=pixel, unit="m", offset=(1e-8, -2e-8))


def test_upsampling_gives_requested_pixel_size_and_field() -> None:
    scan = _linear_scan((20, 30), (2e-10, 2e-10))
    out = resample_to_pixel_size(scan, 1e-10)
    assert out.pixel_size == (1e-10, 1e-10)
    assert out.shape == (40, 60)
    assert out.size == pytest.approx(scan.size)
    assert out.offset == scan.offset and out.unit == "m"
    step = out.steps[-1]
    assert step.name == "resample_to_pixel_size"
    assert step.params["from_pixel_size"] == [2e-10, 2e-10] and step.params["shape"] == [40, 60]


def test_linear_field_is_sampled_at_the_right_positions() -> None:
    scan = _linear_scan((24, 24), (1e-10, 1e-10))
    out = resample_to_pixel_size(scan, (1.5e-10, 0.75e-10), antialias=False)
    assert out.shape == (16, 32)
    expected = _linear_scan(out.shape, out.pixel_size).data
    # Interior pixels (the outermost new pixels sample half a pixel beyond the old centres).
    np.testing.assert_allclose(out.data[1:-1, 1:-1], expected[1:-1, 1:-1], atol=1e-9)


def test_non_square_pixels_become_square() -> None:
    scan = Scan(np.zeros((10, 40)), pixel_size=(4e-10, 1e-10))
    out = resample_to_pixel_size(scan, (1e-10, 1e-10))
    assert out.shape == (40, 40)


def test_nan_rows_stay_nan_and_do_not_smear(rng: np.random.Generator) -> None:
    data = rng.normal(size=(40, 40))
    data[30:] = np.nan  # rows 30..39 = the bottom quarter
    scan = Scan(data, pixel_size=(1e-10, 1e-10))
    for order in (0, 1, 3):
        out = resample_to_pixel_size(scan, 0.5e-10, order=order)
        assert out.shape == (80, 80)
        nan_rows = np.asarray(np.isnan(out.data).all(axis=1))
        finite_rows = np.isfinite(out.data).all(axis=1)
        assert (nan_rows | finite_rows).all()  # whole rows either way
        assert nan_rows.sum() == 20 and nan_rows[60:].all()  # same physical extent


def test_downsampling_antialiases() -> None:
    # Stripes of 2.5 px period are finer than the new 3 px pixels can carry: without
    # smoothing they alias into a false coarse pattern, with it they fade out.
    cols = np.arange(64)
    stripes = np.cos(2 * np.pi * 0.4 * cols)[None, :] + np.zeros((64, 1))
    scan = Scan(stripes, pixel_size=(1e-10, 1e-10))
    smooth = resample_to_pixel_size(scan, 3e-10)
    raw = resample_to_pixel_size(scan, 3e-10, antialias=False)
    assert raw.data.std() > 0.1
    assert smooth.data.std() < 0.1 * raw.data.std()


def test_same_pixel_size_returns_scan_unchanged() -> None:
    scan = Scan(np.ones((4, 4)), pixel_size=(1e-10, 1e-10))
    assert resample_to_pixel_size(scan, (1e-10, 1e-10)) is scan


@pytest.mark.parametrize("pixel", [0.0, -1e-10, float("nan"), (1e-10,), "1nm"])
def test_bad_pixel_size(pixel: object) -> None:
    with pytest.raises(ValueError, match="pixel_size"):
        resample_to_pixel_size(Scan(np.ones((4, 4))), pixel)  # type: ignore[arg-type]


def test_bad_order_and_input_kind() -> None:
    with pytest.raises(ValueError, match="order"):
        resample_to_pixel_size(Scan(np.ones((4, 4))), 0.5, order=6)
    with pytest.raises(ValueError, match="Scan"):
        resample_to_pixel_size(np.ones((4, 4)), 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        resample_to_pixel_size(Scan(np.full((4, 4), np.nan), pixel_size=(1.0, 1.0)), 0.5)
    with pytest.raises(ValueError, match="carries no pixel size"):
        resample_to_pixel_size(Scan(np.ones((4, 4))), 0.5)
