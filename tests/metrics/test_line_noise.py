"""The adjacent-line bound: a single-frame filter that removed more than 4x the noise power
neighbouring lines show in a fast-axis band is further from the surface there
(docs/model-selection.md, candidate CB)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics.line_noise import MIN_LINES, harmed_bands, line_bands, removal_notice


def _surface(seed: int, n: int = 160) -> np.ndarray:
    """Blobs of several sizes (molecules on a terrace), well above the unit noise at long periods."""
    rng = np.random.default_rng(seed)
    s = sum(ndimage.gaussian_filter(rng.normal(size=(n, n)), w) * w * 5.0 for w in (1.5, 3.0, 6.0))
    return np.asarray(s)


def test_a_filter_that_removes_only_noise_is_never_harmful() -> None:
    rng = np.random.default_rng(0)
    for seed in range(5):
        s = _surface(seed)
        noise = rng.normal(size=s.shape)
        for share in (0.3, 0.9, 1.0):
            assert harmed_bands(s + noise, s + (1 - share) * noise) == []
        smooth_noise = ndimage.gaussian_filter(noise, 2.0)  # a blur of pure noise removes noise only
        assert harmed_bands(noise, smooth_noise) == []


@pytest.mark.parametrize("seed", range(6))
def test_whatever_is_called_harmed_is_further_from_the_surface_than_the_raw_scan(seed: int) -> None:
    """The bound holds band by band: for each band called harmed, the output's true error there (on
    the same lines and windows) exceeds the noise's, for blurs of every width."""
    rng = np.random.default_rng(100 + seed)
    s = _surface(seed)
    raw = s + rng.normal(size=s.shape)
    called = 0
    for sigma in (1.0, 2.0, 4.0, 8.0):
        out = ndimage.gaussian_filter(raw, sigma)
        truth_err = line_bands(s, out)  # "removed" from the surface: the output's true error
        truth_noise = line_bands(s, raw)  # the noise itself
        for band, err, noise in zip(line_bands(raw, out), truth_err, truth_noise, strict=True):
            if band.harmed:
                called += 1
                assert err.removed > noise.removed, (sigma, band)
    assert called > 0  # the wide blurs erase the blobs: the check must see it


def test_a_surface_that_changes_from_line_to_line_raises_the_noise_estimate_never_the_verdict() -> None:
    """Atoms in rows 2.5 lines apart (and 6 px apart along the lines) are in every second
    difference: they make the noise estimate larger, so an output that keeps them and removes the
    noise is not called harmful."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:128, 0:128].astype(float)
    s = 4 * np.cos(2 * np.pi * y / 2.5) * np.cos(2 * np.pi * x / 6)
    noise = rng.normal(size=s.shape)
    bands = line_bands(s + noise, s)
    assert bands and not any(b.harmed for b in bands)
    assert next(b for b in bands if b.short_px == 4.0).ratio < 0.5  # the atoms inflate the estimate


def test_unmeasured_lines_are_left_out_and_too_few_lines_give_no_check() -> None:
    rng = np.random.default_rng(4)
    x = np.tile(3 * np.sin(2 * np.pi * np.arange(128) / 6), (64, 1)) + rng.normal(size=(64, 128))
    erased = np.zeros_like(x)
    x_gap = x.copy()
    x_gap[20, 5] = np.nan  # a line with an unmeasured pixel: it and the second differences over it go
    erased_gap = np.where(np.isfinite(x_gap), 0.0, np.nan)
    assert [b.short_px for b in harmed_bands(x_gap, erased_gap)] == [4.0]
    few = x[: MIN_LINES + 1]  # MIN_LINES - 1 lines with both neighbours
    assert line_bands(few, erased[: MIN_LINES + 1]) == []
    assert removal_notice(few, erased[: MIN_LINES + 1]) is None
    with pytest.raises(ValueError, match="one shape"):
        line_bands(x, x[:, :-1])


def test_the_notice_names_the_band_in_angstrom_or_pixels() -> None:
    rng = np.random.default_rng(5)
    x = np.tile(3 * np.sin(2 * np.pi * np.arange(128) / 6), (64, 1)) + rng.normal(size=(64, 128))
    erased = np.zeros_like(x)
    assert "periods of 2-4 Å" in (removal_notice(x, erased, 0.5e-10) or "")
    assert "periods of 4-8 px" in (removal_notice(x, erased) or "")
    assert removal_notice(x, x) is None
