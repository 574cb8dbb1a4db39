from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stmdenoise.processing import (
    complete_row_span,
    complete_rows,
    crop_nan,
    fill_nan_nearest,
    largest_complete_block,
)
from stmdenoise.scan import Scan


def _brute_force_area(finite: np.ndarray) -> int:
    rows, cols = finite.shape
    best = 0
    for r0 in range(rows):
        for r1 in range(r0 + 1, rows + 1):
            for c0 in range(cols):
                for c1 in range(c0 + 1, cols + 1):
                    if finite[r0:r1, c0:c1].all():
                        best = max(best, (r1 - r0) * (c1 - c0))
    return best


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 7), st.integers(1, 7))))
def test_largest_complete_block_is_largest(nan_mask: np.ndarray) -> None:
    data = np.where(nan_mask, np.nan, 1.0)
    if nan_mask.all():
        with pytest.raises(ValueError, match="finite"):
            largest_complete_block(data)
        return
    rs, cs = largest_complete_block(data)
    block = data[rs, cs]
    assert block.size > 0 and np.isfinite(block).all()
    assert block.size == _brute_force_area(~nan_mask)


def test_aborted_scan_keeps_complete_rows() -> None:
    a = np.arange(60.0).reshape(10, 6)
    a[7:] = np.nan
    a[6, 3:] = np.nan  # partly measured row: 3 of 6 columns
    out = crop_nan(a)
    np.testing.assert_array_equal(out, a[:6])


def test_partly_measured_row_is_kept_when_it_wins() -> None:
    # 2 complete rows x 6 cols = 12 < 3 rows x 5 cols = 15.
    a = np.ones((4, 6))
    a[2, 5] = np.nan
    a[3] = np.nan
    rs, cs = largest_complete_block(a)
    assert (rs, cs) == (slice(0, 3), slice(0, 5))


def test_complete_rows_and_span() -> None:
    a = np.ones((7, 3))
    a[2, 0] = np.nan
    a[6] = np.nan
    np.testing.assert_array_equal(complete_rows(a), [True, True, False, True, True, True, False])
    assert complete_row_span(a) == slice(3, 6)
    assert complete_row_span(np.full((2, 2), np.nan)) == slice(0, 0)


def test_crop_nan_without_nan_is_identity_copy() -> None:
    a = np.arange(6.0).reshape(2, 3)
    out = crop_nan(a)
    np.testing.assert_array_equal(out, a)
    assert out is not a


def test_crop_scan_adjusts_offset_keeps_pixel_size() -> None:
    a = np.ones((10, 8))
    a[6:] = np.nan  # rows 0..5 kept: centre moves 2 rows up, i.e. +2 dy in y
    scan = Scan(a, pixel_size=(1e-10, 2e-10), offset=(5e-9, -3e-9))
    out = crop_nan(scan)
    assert out.shape == (6, 8)
    assert out.pixel_size == scan.pixel_size
    assert out.offset == pytest.approx((5e-9 + 2e-10, -3e-9))
    assert out.steps[-1].name == "crop_nan"
    assert out.steps[-1].params == {"rows": [0, 6], "cols": [0, 8]}


def test_crop_scan_offset_follows_clockwise_scan_angle() -> None:
    a = np.ones((4, 10))
    a[:, 6:] = np.nan  # cols 0..5 kept: centre moves 2 px left in the frame
    scan = Scan(a, pixel_size=(1e-9, 1e-9), angle=90.0)
    out = crop_nan(scan)
    # Frame rotated 90 deg clockwise: the frame's "left" (-u) points to world +y.
    assert out.offset[0] == pytest.approx(2e-9)
    assert out.offset[1] == pytest.approx(0.0, abs=1e-24)


def test_crop_nan_all_nan_raises() -> None:
    with pytest.raises(ValueError, match="finite"):
        crop_nan(np.full((3, 3), np.nan))


def test_fill_nan_nearest_copies_nearest_measured_value(rng: np.random.Generator) -> None:
    a = rng.normal(size=(12, 9))
    a[8:] = np.nan
    a[7, 4:] = np.nan
    out = fill_nan_nearest(a)
    finite = np.isfinite(a)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[finite], a[finite])
    np.testing.assert_array_equal(out[11, :4], a[7, :4])  # straight down from the last measured row
    measured = np.argwhere(finite)
    for r, c in np.argwhere(~finite):
        d2 = ((measured - (r, c)) ** 2).sum(axis=1)
        nearest = measured[d2 == d2.min()]
        assert out[r, c] in {a[i, j] for i, j in nearest}
    with pytest.raises(ValueError, match="finite"):
        fill_nan_nearest(np.full((2, 2), np.nan))
