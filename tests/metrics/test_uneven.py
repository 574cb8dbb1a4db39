"""Uneven noise along the slow axis: measured per 16-row strip, named in the verdict when far from even."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.metrics.uneven import (
    FAST_EDGES,
    LEVEL_STRIP,
    STRIP,
    UNEVEN_RATIO,
    BandedLevels,
    banded_strip_levels,
    strip_levels,
    uneven_noise,
)


def _looks(level: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    surface = np.cumsum(rng.normal(size=(level.shape[0], 96)), axis=1)
    return surface + level * rng.normal(size=surface.shape), surface + level * rng.normal(size=surface.shape)


def test_a_burst_of_noise_is_found_and_named() -> None:
    level = np.ones((160, 1))
    level[64:80] = 20.0
    u = uneven_noise(*_looks(level), (0.0, 0.0))
    assert u is not None and u.rows == (64, 80) and u.ratio > UNEVEN_RATIO and u.named
    assert u.share > 0.8


def test_even_noise_or_a_mild_change_is_not_named() -> None:
    for high in (1.0, 3.0):  # 3x in amplitude: 9x in power, as the uneven end of realdata's 14 channels
        level = np.ones((160, 1))
        level[64:80] = high
        u = uneven_noise(*_looks(level), (0.0, 0.0))
        assert u is not None and not u.named and u.ratio < 20


def test_the_strips_follow_the_offset_and_skip_unmeasured_rows() -> None:
    """A second look moved by (2, -1) px, the scan's first 10 rows unmeasured: the burst is still
    reported on the scan's own rows."""
    level = np.ones((160, 1))
    level[90:106] = 30.0
    f, b = _looks(level)
    f[:10] = np.nan
    moved = np.roll(np.roll(b, -2, axis=0), 1, axis=1)  # b's row r + 2 lands on f's row r
    u = uneven_noise(f, moved, (2.0, -1.0))
    assert u is not None and u.named
    assert u.rows[0] <= 90 < u.rows[1] and u.rows[1] - u.rows[0] == STRIP


def test_strip_levels_count_from_the_first_complete_row_and_follow_the_offset() -> None:
    """The per-strip levels the two-direction Wiener reads: strips from the scan's first complete
    row, the burst's strip the loudest, a strip the second look does not cover given its
    neighbour's level (not the mean, which the burst would set: candidate AX)."""
    level = np.ones((160, 1))
    level[42:58] = 30.0
    f, b = _looks(level)
    f[:10] = np.nan  # first complete row 10: strips 10-25, 26-41, 42-57, ...
    moved = np.roll(np.roll(b, -2, axis=0), 1, axis=1)
    s = strip_levels(f, moved, (2.0, -1.0))
    assert s is not None and s.first == 10 and len(s.levels) == 10
    assert int(np.argmax(s.levels)) == 2 and s.levels[2] > 100 * np.median(s.levels)
    # the last strip needs rows 154-169 of the look moved by 2: past its end, so its neighbour's
    assert s.levels[-1] == s.levels[-2]
    assert s.levels[-1] < 10 * np.median(s.levels[:-1]) < s.levels[2]
    np.testing.assert_array_equal(s.of_rows(40, 44), s.levels[[1, 1, 2, 2]])


def test_strip_levels_are_none_where_the_noise_is_even() -> None:
    level = np.ones((160, 1))
    level[64:80] = 3.0
    assert strip_levels(*_looks(level), (0.0, 0.0)) is None
    assert strip_levels(*_looks(np.ones((40, 1))), (0.0, 0.0)) is None  # two strips


def test_too_few_rows_or_other_shapes_give_none() -> None:
    f, b = _looks(np.ones((40, 1)))
    assert uneven_noise(f, b, (0.0, 0.0)) is None  # 40 rows: two strips
    assert uneven_noise(f, b[:, :-1], (0.0, 0.0)) is None


@pytest.mark.realdata
def test_the_three_realdata_channels_with_bursts(shared_dir: Path) -> None:
    """Named on Au_mica Current and CO_img_0050 Z and Current (490-1100x between strips), on none
    of the other 14 registrable channels (at most 11x): the three where the model loses to a
    classical filter beyond twice the paired SE (bench/fidelity.py)."""
    from stmdenoise.training.real_fidelity import judging_look, two_direction_frames

    files = sorted(p for p in (shared_dir / "realdata").rglob("*") if p.suffix in (".sxm", ".dat"))
    pairs = [
        pair
        for p in files
        if "corrupted" not in p.parts
        for pair in two_direction_frames(p, ["Z", "Current"])
    ]
    assert len(pairs) >= 20
    named = []
    for name, fwd, bwd in pairs:
        try:
            offset, look = judging_look(fwd, bwd)
        except ValueError:
            continue
        u = uneven_noise(fwd, look, offset)
        if u is not None and u.named:
            named.append(name)
    assert sorted(named) == [
        "Au_mica_2023_Y_A_diPAMY_195.sxm Current",
        "CO_img_0050.sxm Current",
        "CO_img_0050.sxm Z",
    ]


@pytest.mark.realdata
def test_the_verdict_says_so_on_the_two_direction_path(shared_dir: Path) -> None:
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.training.real_fidelity import two_direction_frames

    co = shared_dir / "realdata" / "nanonis" / "CO_img_0050.sxm"
    [(_, fwd, bwd)] = two_direction_frames(co, ["Current"])
    checked = Denoiser.from_folder(default_model_dir(), device="cpu").denoise_checked(fwd, partner=bwd)
    said = [n for n in checked.verdict.notices if n.startswith("The noise is far from even")]
    assert len(said) == 1 and "backward frame (negated)" in said[0] and "rows 32-47" in said[0]


def test_the_strip_named_is_the_strip_the_filter_reads() -> None:
    """One grid for both: with a second look a row apart, the noisiest strip uneven_noise names
    is the strip of strip_levels' largest level (before, the named rows could sit a row off)."""
    level = np.ones((160, 1))
    level[64:80] = 30.0
    f, b = _looks(level)
    # read at offset 1: f's row r against moved's row r - 1 (b's row r); f's row 0 is unmatched
    moved = np.roll(b, -1, axis=0)
    u, s = uneven_noise(f, moved, (1.0, 0.0)), strip_levels(f, moved, (1.0, 0.0))
    assert u is not None and s is not None and u.named
    k = int(np.argmax(s.levels))
    assert u.rows == (s.first + k * STRIP, s.first + (k + 1) * STRIP) == (64, 80)
    assert u.ratio == pytest.approx(s.levels.max() / s.levels.min())


def test_banded_levels_read_each_burst_where_it_reaches_the_periods_under_the_resolution() -> None:
    """Candidates AV, AZ, BA and BB: the levels the filter reads below 2 Å (6.7 px at 0.3 Å per pixel)
    are measured there, per band of fast-axis frequency, on 8-row strips. A burst slow along
    the lines (periods over 10 px) but independent from line to line reaches those periods only
    across the lines: loud in the lowest band, faint in the highest; a burst fine along the
    lines (a second difference) the other way round; a burst of white noise reads alike in
    every band and on the gate's measure."""
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(3)
    surface = np.cumsum(rng.normal(size=(160, 128)), axis=1)

    def looks(burst: Callable[[], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        def noise() -> np.ndarray:
            n = 0.1 * rng.normal(size=surface.shape)
            n[64:80] += burst()
            return n

        return surface + noise(), surface + noise()

    def ratios(f: np.ndarray, b: np.ndarray) -> tuple[float, list[float]]:
        whole = strip_levels(f, b, (0.0, 0.0))
        banded = banded_strip_levels(f, b, (0.0, 0.0), (6.7, 6.7))
        assert whole is not None and isinstance(banded, BandedLevels)
        assert banded.edges == FAST_EDGES and len(banded.bands) == len(FAST_EDGES) - 1
        assert all(s.height == LEVEL_STRIP for s in banded.bands)
        return float(whole.levels[4] / np.median(whole.levels)), [
            float(s.of_rows(64, 80).mean() / np.median(s.levels)) for s in banded.bands
        ]

    def slow() -> np.ndarray:
        return 400 * gaussian_filter1d(rng.normal(size=(16, 128)), 4.0, axis=1)

    def blue() -> np.ndarray:
        n = rng.normal(size=(16, 130))
        return 30 * (n[:, 2:] - 2 * n[:, 1:-1] + n[:, :-2])

    whole, (low, _mid, high) = ratios(*looks(slow))
    assert whole > UNEVEN_RATIO and high < whole / 10 < low
    _whole, (low, _mid, high) = ratios(*looks(blue))
    assert high > 10 * low
    level = np.full((160, 1), 0.1)
    level[64:80] = 3.0
    whole, bands = ratios(*_looks(level))
    assert all(0.5 < r / whole < 2.0 for r in bands)


@pytest.mark.parametrize(
    ("shape", "pixel", "shift", "unmeasured"),
    [((160, 97), (0.5e-10, 0.2e-10), (1, -2), 3), ((300, 70), (1.0e-10, 0.1e-10), (-3, 5), 10)],
)
def test_banded_levels_follow_offsets_unmeasured_rows_and_unequal_pixels(
    shape: tuple[int, int], pixel: tuple[float, float], shift: tuple[int, int], unmeasured: int
) -> None:
    """The banded levels on a grid whose pixels differ between the axes, a look offset by whole
    pixels and the first rows unmeasured: every band finds the burst's rows loudest, and the
    filter that reads them returns finite values wherever the scan was measured."""
    from stmdenoise.model.two_direction import two_direction_wiener

    rng = np.random.default_rng(0)
    big = np.cumsum(rng.normal(size=(shape[0] + 10, shape[1] + 10)), axis=1)
    surface = big[5 : 5 + shape[0], 5 : 5 + shape[1]]
    moved = big[5 + shift[0] : 5 + shift[0] + shape[0], 5 + shift[1] : 5 + shift[1] + shape[1]]
    amp = np.full((shape[0], 1), 0.1)
    burst = shape[0] // 3
    amp[burst : burst + 9] = 5.0
    f = surface + amp * rng.normal(size=shape)
    b = moved + amp * rng.normal(size=shape)
    f[:unmeasured] = np.nan
    offset = (float(shift[0]), float(shift[1]))
    levels = banded_strip_levels(f, b, offset, (2e-10 / pixel[0], 2e-10 / pixel[1]))
    assert isinstance(levels, BandedLevels)
    for band in levels.bands:
        loudest = int(np.argmax(band.levels))
        rows = band.first + loudest * band.height, band.first + (loudest + 1) * band.height
        assert rows[0] < burst + 9 and rows[1] > burst
        assert band.levels.max() > 100 * np.median(band.levels)
    out = two_direction_wiener(f, b, offset, band=64, pixel_size=pixel, strip_levels=levels)
    assert np.isfinite(out[unmeasured:]).all() and np.isnan(out[:unmeasured]).all()
