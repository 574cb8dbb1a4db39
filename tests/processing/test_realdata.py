"""Processing on real scans from ../shared/realdata (aborted frames, non-square pixels, rotated frames)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stmdenoise.io import read_scan
from stmdenoise.processing import (
    align_rows,
    complete_rows,
    crop_nan,
    level_plane,
    resample_to_pixel_size,
    robust_normalize,
)

pytestmark = pytest.mark.realdata

ABORTED = [
    "nanonis/img_0244.sxm",
    "nanonis/img_0253.sxm",
    "nanonis/img_0045.sxm",
    "nanonis/BRSTM_img_0062.sxm",
    "createc/createc_scan_step_20nm.dat",
]


@pytest.mark.parametrize("name", ABORTED)
def test_aborted_scans_level_align_and_crop(realdata_dir: Path, name: str) -> None:
    scan = read_scan(realdata_dir / name)
    assert scan.nan_fraction > 0.3  # these frames were stopped early (PROVENANCE.tsv)
    levelled = align_rows(level_plane(scan), method="median_diff")
    np.testing.assert_array_equal(np.isnan(levelled.data), np.isnan(scan.data))
    assert [s.name for s in levelled.steps[-2:]] == ["level_plane", "align_rows"]
    cropped = crop_nan(levelled)
    assert cropped.measured_fraction == 1.0
    assert cropped.pixel_size == scan.pixel_size
    # At least every complete row survives (a partly measured row may widen the block).
    assert cropped.data.size >= complete_rows(scan).sum() * scan.shape[1]
    normalised, norm = robust_normalize(cropped)
    np.testing.assert_allclose(norm.invert(normalised.data), cropped.data, rtol=0, atol=1e-12 * norm.scale)


def test_createc_step_scan_keeps_330_measured_lines(realdata_dir: Path) -> None:
    scan = read_scan(realdata_dir / "createc/createc_scan_step_20nm.dat")
    cropped = crop_nan(scan)
    assert cropped.shape == (330, 512)  # aborted at line 330 of 512 (PROVENANCE.tsv)
    dy = scan.pixel_size[0]
    # The kept block is the top 330 rows: its centre lies (512 - 330) / 2 rows above the frame's.
    assert cropped.offset[0] - scan.offset[0] == pytest.approx((512 - 330) / 2 * dy, rel=1e-9)
    assert cropped.offset[1] == scan.offset[1]


def test_non_square_pixels_resample_to_square(realdata_dir: Path) -> None:
    scan = read_scan(realdata_dir / "nanonis/img_0045.sxm")
    assert scan.pixel_size[0] != scan.pixel_size[1]
    target = min(scan.pixel_size)
    out = resample_to_pixel_size(scan, target)
    assert out.pixel_size == (target, target)
    for axis in (0, 1):
        assert abs(out.size[axis] - scan.size[axis]) <= target / 2 + 1e-18
    assert out.nan_fraction == pytest.approx(scan.nan_fraction, abs=0.02)
    nan_rows = np.isnan(out.data).all(axis=1)
    assert (nan_rows | np.isfinite(out.data).all(axis=1)).all()  # NaN rows stay whole rows
