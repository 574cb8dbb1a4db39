"""Each direction's own share of the noise: measured in the finest octave, only for a louder frame."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from stmdenoise.metrics.noise_share import (
    SHARE_SMOOTH,
    UNEQUAL_NOISE,
    fine_power_ratio,
    louder_shares,
    noise_share,
    share_surface,
)
from stmdenoise.metrics.registration import hann_window, levelled
from stmdenoise.processing.smoothing import gaussian_smooth
from stmdenoise.processing.spectrum import fine_sectors
from stmdenoise.quality_rows import verdict_rows
from stmdenoise.safety import judge
from stmdenoise.scan import Scan


def _pair(power_ratio: float, seed: int = 0, shape: tuple[int, int] = (128, 160)) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    surface = np.sin(xx / 11.0) + np.cos(yy / 13.0) + 0.002 * xx
    loud = surface + rng.normal(0, 0.1 * np.sqrt(power_ratio), shape)
    quiet = surface + rng.normal(0, 0.1, shape)
    return loud, quiet


@pytest.mark.parametrize("ratio", [1.0, 2.5, 4.0])
def test_the_ratio_reads_the_noise_power_ratio_either_way(ratio: float) -> None:
    loud, quiet = _pair(ratio)
    r = fine_power_ratio(loud, quiet)
    assert r == pytest.approx(ratio, rel=0.08)
    assert fine_power_ratio(quiet, loud) == pytest.approx(1 / r, rel=1e-9)


def test_only_a_clearly_louder_frame_gets_its_own_share() -> None:
    loud, quiet = _pair(2.5)
    assert noise_share(loud, quiet) == pytest.approx(2 * 2.5 / 3.5, rel=0.04)  # 1.43
    assert noise_share(quiet, loud) == 1.0  # a quieter frame keeps half the difference
    even, other = _pair(1.2)
    assert 1.0 < fine_power_ratio(even, other) < UNEQUAL_NOISE
    assert noise_share(even, other) == 1.0


def _along(shape: tuple[int, int], sector: int, power: float, rng: np.random.Generator) -> np.ndarray:
    """White noise of ``power`` per pixel kept in one sector of the finest octave only."""
    keep = fine_sectors(shape)[sector]
    w = np.fft.ifft2(np.fft.fft2(rng.standard_normal(shape)) * keep).real
    return w * np.sqrt(power / np.mean(w**2))


def test_a_frame_louder_along_the_slow_axis_only_gets_its_share_there() -> None:
    """Candidates DA and DD: one direction louder at 60-90° from the fast axis, the other at 0-30°;
    over the whole octave the two balance, so the whole frame's share is 1, but the map reads each
    frequency's own: raised along the slow axis for the one, along the fast axis for the other,
    and never below 1."""
    rng = np.random.default_rng(4)
    shape = (128, 160)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    surface = np.sin(xx / 11.0) + np.cos(yy / 13.0)
    base = [surface + rng.normal(0, 0.1, shape) for _ in range(2)]
    # 0.01 per pixel of white noise is about a third of it in each sector (~0.0035): add 1.5x that
    # along the slow axis to one look and along the fast axis to the other
    z = base[0] + _along(shape, 2, 0.0055, rng)
    look = base[1] + _along(shape, 0, 0.0055, rng)
    assert noise_share(z, look) == 1.0 and abs(fine_power_ratio(z, look) - 1.0) < 0.1
    tile = (64, 64)
    fast, _diagonal, slow = fine_sectors(tile)
    m = share_surface(z, look, tile)
    assert m is not None and m.min() == 1.0  # never below 1: the quieter direction keeps half
    assert np.median(m[slow]) > 1.3 and np.all(m[fast] == 1.0)
    back = share_surface(look, z, tile)
    assert back is not None and np.median(back[fast]) > 1.3 and np.all(back[slow] == 1.0)
    k = np.hypot(np.fft.fftfreq(64)[:, None], np.fft.fftfreq(64)[None, :])
    assert np.all(m[k < 0.25] == 1.0)  # periods of 4 px and more keep the frame's number
    # the pairing reads both
    whole, surf = louder_shares(z, look, tile)
    assert whole == noise_share(z, look)
    np.testing.assert_array_equal(surf, m)
    assert louder_shares(np.full_like(z, np.nan), look, tile) == (1.0, None)


def test_a_burst_of_row_noise_in_one_frame_raises_its_share_at_the_corners_too() -> None:
    """Candidate DD: noise that changes from row to row in one frame lies at the highest slow-axis
    frequencies, the spectrum's corners included (periods under 2 px, outside the finest octave):
    the map raises the share there, by about the frame's power ratio, and only there."""
    rng = np.random.default_rng(6)
    shape = (112, 112)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    surface = np.sin(xx / 9.0) * np.cos(yy / 7.0)
    w = rng.normal(0, 0.05, (shape[0] + 2, shape[1]))
    rows = w[2:] - 2 * w[1:-1] + w[:-2]  # row-to-row noise: power 16 sin^4(pi ky), at |ky| near 0.5
    z = surface + rng.normal(0, 0.1, shape) + rows
    look = surface + rng.normal(0, 0.1, shape)
    tile = (64, 64)
    m = share_surface(z, look, tile)
    assert m is not None
    ky = np.abs(np.fft.fftfreq(64))[:, None] * np.ones((1, 64))
    kx = np.abs(np.fft.fftfreq(64))[None, :] * np.ones((64, 1))
    corner = (ky >= 0.4) & (np.hypot(ky, kx) >= 0.5)
    assert corner.any() and np.median(m[corner]) > 1.5  # ~1.6-1.7: 2r / (1 + r) for r of 4-5
    assert np.all(m[ky <= 0.1] == 1.0)
    assert SHARE_SMOOTH == pytest.approx(1 / 16)


@pytest.mark.parametrize("shape", [(256, 200), (63, 65), (20, 30), (300, 17)])
def test_the_map_reads_the_whole_smoothed_spectrum_at_the_tile_bins(shape: tuple[int, int]) -> None:
    """The map smooths each power spectrum only where it reads it (the tile's bins): the same
    numbers as the whole grid smoothed by a wrapped Gaussian of SHARE_SMOOTH and read there, on
    frames larger and smaller than the tile, with a kernel wider than the frame too."""
    rng = np.random.default_rng(9)
    z, look = rng.normal(0, 1.6, shape), rng.normal(0, 1.0, shape)
    z += np.cumsum(rng.normal(0, 0.3, (shape[0], 1)), axis=0)  # uneven spectra, a share to read
    tile = (64, 64)
    powers = [np.abs(np.fft.fft2(levelled(x) * hann_window(shape))) ** 2 for x in (z, look)]
    px, pb = (
        gaussian_filter(p, (SHARE_SMOOTH * shape[0], SHARE_SMOOTH * shape[1]), mode="wrap") for p in powers
    )
    ky, kx = np.fft.fftfreq(tile[0]), np.fft.fftfreq(tile[1])
    iy = (np.rint(ky * shape[0]).astype(int) % shape[0])[:, None]
    ix = (np.rint(kx * shape[1]).astype(int) % shape[1])[None, :]
    r = px[iy, ix] / pb[iy, ix]
    fine = np.hypot(ky[:, None], kx[None, :]) >= 0.25
    expected = np.where(fine & (r > UNEQUAL_NOISE), 2 * r / (1 + r), 1.0)
    m = share_surface(z, look, tile)
    assert m is not None and (m > 1).sum() > 100
    np.testing.assert_allclose(m, expected, rtol=0, atol=1e-12)


def test_the_verdict_names_every_sector() -> None:
    from stmdenoise.model.two_direction_notices import SECTOR_NAMES
    from stmdenoise.processing.spectrum import FINE_SECTORS

    assert len(SECTOR_NAMES) == len(FINE_SECTORS) - 1 == len(fine_sectors((8, 8)))


def test_the_sectors_split_the_periods_under_4_px_exactly() -> None:
    for shape in ((8, 8), (64, 64), (112, 111)):
        k = np.hypot(np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :])
        total = np.sum(fine_sectors(shape), axis=0)
        assert total.max() == 1
        np.testing.assert_array_equal(total.astype(bool), k >= 0.25)


def test_unmeasured_rows_are_left_out_and_nothing_measurable_means_even() -> None:
    loud, quiet = _pair(3.0)
    holed = loud.copy()
    holed[:20] = np.nan  # an interrupted scan: the rows both measured are compared
    assert fine_power_ratio(holed, quiet) == pytest.approx(fine_power_ratio(loud[20:], quiet[20:]), rel=1e-12)
    nothing = np.full_like(loud, np.nan)
    assert np.isnan(fine_power_ratio(nothing, quiet)) and noise_share(nothing, quiet) == 1.0
    assert noise_share(loud, np.zeros_like(loud)) == 1.0  # a look with no power: no ratio
    with pytest.raises(ValueError, match="one shape"):
        fine_power_ratio(loud, quiet[:, :-1])


def test_the_verdict_says_when_the_estimate_reads_unequally_noisy_looks() -> None:
    """The forward/backward estimate takes both looks as equally noisy; where they clearly are not,
    the do-no-harm verdict says which way its figures are pulled (and nothing where they are even)."""
    px = (1.4e-10, 1.4e-10)

    def said(z: np.ndarray, other: np.ndarray) -> list[str]:
        raw = Scan(1e-10 * z, pixel_size=px)
        _out, verdict = judge(
            raw, gaussian_smooth(raw, 1.0), Scan(1e-10 * other, pixel_size=px, direction="backward")
        )
        return [n for n in verdict.notices if "equally noisy" in n]

    loud, quiet = _pair(3.0)
    louder = said(loud, quiet)
    assert (
        len(louder) == 1
        and f"holds {fine_power_ratio(loud, quiet):.2g}x the power of the backward frame" in louder[0]
    )
    assert "reads lower than it is (below 0 is possible)" in louder[0]
    quieter = said(quiet, loud)
    assert len(quieter) == 1 and "reads higher than it is (closer to 1)" in quieter[0]
    assert not said(*_pair(1.1))


def test_the_quality_table_says_why_a_figure_reads_below_0_on_unequal_looks() -> None:
    px = (1.4e-10, 1.4e-10)
    loud, quiet = _pair(3.0)
    raw = Scan(1e-10 * loud, pixel_size=px)
    _out, verdict = judge(
        raw, gaussian_smooth(raw, 1.5), Scan(1e-10 * quiet, pixel_size=px, direction="backward")
    )
    rows = verdict_rows(verdict.to_dict())
    below = [note for _name, _raw, value, note in rows if value < 0]
    assert below and all("this frame is the noisier direction" in note for note in below)
    # without that notice a figure below 0 keeps the estimate's-noise explanation
    params = {**verdict.to_dict(), "notices": []}
    assert all("the estimate's noise" in note for _n, _r, v, note in verdict_rows(params) if v < 0)
