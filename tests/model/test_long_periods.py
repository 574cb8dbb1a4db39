"""The two-direction Wiener's longest periods on the frame's own grid (model.long_periods, version 2.23)."""

from __future__ import annotations

import numpy as np

from stmdenoise.model.long_periods import long_periods, long_periods_frame


def test_a_frame_too_short_for_any_such_period_is_left_to_the_tiles() -> None:
    """A quarter of a 64-row frame is shorter than a third of a tile: nothing to do."""
    lev = np.random.default_rng(0).normal(size=(64, 300))
    assert long_periods_frame(lev) is None
    tiled = lev * 0.5
    assert long_periods(None, tiled, [lev], 1.0) is tiled


def test_without_noise_the_frame_s_own_long_periods_come_back_and_with_only_noise_they_go() -> None:
    """Gain 1 - N / P: where forward minus backward holds nothing, the frame's long periods replace
    the tiles' (a tiled output that lost them gets them back); where the difference bands' noise
    is far above the frame's power they are removed; the mean is kept either way."""
    rng = np.random.default_rng(1)
    n = 256
    y, x = np.mgrid[:n, :n].astype(float)
    lev = np.cos(2 * np.pi * x / 48.0) + np.cos(2 * np.pi * y / 40.0) + 0.05 * rng.normal(size=(n, n))
    lev -= lev.mean()
    frame = long_periods_frame(lev)
    assert frame is not None
    flat = np.zeros_like(lev)  # a tiled output that took the long periods away
    back = long_periods(frame, flat, [np.zeros((64, n))] * 4, 1.0)
    k = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :]) * 64
    inner = (k < 2.0) & (k * n / 64 >= 4.0)  # blend 1, within a quarter of the field
    lev_f, back_f = np.fft.fft2(lev), np.fft.fft2(back)
    np.testing.assert_allclose(back_f[inner], lev_f[inner], atol=1e-9 * np.abs(lev_f).max())
    assert np.abs(back_f[k >= 3.0]).max() < 1e-9 * np.abs(lev_f).max()  # the tiles' (nothing) beyond
    loud = float(np.sqrt(10.0 * frame.power.max()))  # noise density 10x the frame's highest power
    gone = long_periods(frame, lev, [rng.normal(scale=loud, size=(64, n)) for _ in range(4)], 1.0)
    assert np.abs(np.fft.fft2(gone)[inner]).max() < 1e-9 * np.abs(lev_f).max()
    assert abs(float(gone.mean()) - float(lev.mean())) < 1e-12


def test_a_lone_bump_under_slow_line_noise_gets_no_moat_from_its_longest_periods() -> None:
    """Candidate DQ: a 1 Å bump (sigma 6 px) on a flat terrace, white noise and slow line noise drawn
    anew for each direction. Its periods longer than a quarter of the field go through the tiles;
    with the whole frame's tile gain there (before DQ) the lines' noise swamped them and the gain
    took them out, leaving the bump in a moat 0.04-0.06 of its height deep (each line's median of
    the error removed; the raw frame's error has none). Floored in the bump's own tile as the
    tiles' other long periods are, the moat is under 0.025 of its height."""
    from stmdenoise.model.two_direction import two_direction_wiener
    from stmdenoise.pairing import prepare_pair
    from stmdenoise.scan import Scan
    from tests.bench_loader import load_bench

    n, px = 256, 0.5e-10
    bump = {"cy": 128.4, "cx": 121.6, "height": 1.0, "width": 6.0}
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(yy - bump["cy"], xx - bump["cx"])
    clean = np.exp(-(r**2) / (2 * bump["width"] ** 2))
    for seed in (7, 8):
        rng = np.random.default_rng(seed)
        looks = [
            clean + rng.normal(0, 0.05, (n, n)) + np.cumsum(rng.normal(0, 0.01, n))[:, None] for _ in range(2)
        ]
        pair = prepare_pair(
            Scan(looks[0], pixel_size=(px, px)), Scan(looks[1], pixel_size=(px, px), direction="backward")
        )
        out = two_direction_wiener(
            looks[0], pair.look, pair.offset, band=pair.band, pixel_size=(px, px), noise_share=pair.share
        )
        # bench/lone_defect.py's halo: each line's median of the error removed, 3 px rings from 2 sigma
        moat = load_bench("lone_defect").measures(out, looks[0], clean, bump)["halo"]
        assert moat < 0.025, (seed, moat)  # main before DQ: 0.039 and 0.061
