"""Strong lines both looks share, out before the two-direction Wiener and back after it (model.lines,
version 2.37, candidate EA)."""

from __future__ import annotations

import numpy as np

from stmdenoise.model.lines import Lines, evaluate, fit, shared_lines
from stmdenoise.model.two_direction import two_direction_wiener

PX = 0.5e-10  # 2 Å is 4 px


def _moire(n: int, rng: np.random.Generator) -> np.ndarray:
    """Three waves of 43-46 px, 120 degrees apart, at off-grid frequencies (a 22 Å moiré's
    fundamentals on a 0.5 Å/px grid)."""
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    out = np.zeros((n, n))
    for i, period in enumerate((43.3, 44.7, 45.9)):
        t = np.deg2rad(17.0 + 120.0 * i)
        out += 0.6 * np.cos(2 * np.pi * (np.cos(t) * xx + np.sin(t) * yy) / period + rng.uniform(0, 6.28))
    return out


def _waves(freqs: np.ndarray, shape: tuple[int, int], at: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """0.7 cos(phi_0 + 0.4) + 0.2 cos(phi_1 - 1.1) on a grid whose first pixel lies at ``at``."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    yy, xx = yy + at[0], xx + at[1]
    out = np.zeros(shape)
    for (fy, fx), amp, phase in zip(freqs, (0.7, 0.2), (0.4, -1.1), strict=True):
        out += amp * np.cos(2 * np.pi * (fy * yy + fx * xx) + phase)
    return out


def test_fit_recovers_off_grid_sinusoids_and_evaluate_moves_them_by_a_subpixel_shift() -> None:
    freqs = np.array([[1 / 37.3, 1 / 51.7], [-1 / 23.1, 1 / 90.2]])
    truth = _waves(freqs, (160, 180))
    coefs = fit(truth, freqs)
    np.testing.assert_allclose(np.abs(coefs), [0.7, 0.2], rtol=1e-6)
    lines = Lines(freqs, coefs)
    np.testing.assert_allclose(evaluate(lines, truth.shape), truth, atol=1e-6)
    # the grid 0.3 rows down and 1.6 columns right
    np.testing.assert_allclose(
        evaluate(lines, (159, 179), (0.3, 1.6)), _waves(freqs, (159, 179), (0.3, 1.6)), atol=1e-6
    )


def test_a_moire_s_fundamentals_are_found_and_a_stripe_in_one_direction_is_not() -> None:
    """The three fundamentals stand thousands of times above white noise and both looks hold them:
    found, each within 1 % of its period (a parabola through the padded grid's log power). A
    stripe of interference (a 14 px period, 4x the noise's RMS) in the forward frame only is as
    strong, but forward minus backward holds all of it: not taken. Periods under 2 Å are never
    taken (a fine stripe both directions share)."""
    n = 256
    rng = np.random.default_rng(3)
    clean = _moire(n, rng)
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    stripe = 0.4 * np.cos(2 * np.pi * (xx / 14.0 + yy / 61.0))
    fine = 0.4 * np.cos(2 * np.pi * xx / 3.1)  # 1.55 Å: in both looks, finer than a tip resolves
    fwd = clean + stripe + fine + rng.normal(0, 0.1, (n, n))
    bwd = clean + fine + rng.normal(0, 0.1, (n, n))
    found = shared_lines(fwd, bwd, 2e-10 / PX)
    periods = sorted(1.0 / np.hypot(*f) for f in found.freqs)
    assert len(periods) == 3
    np.testing.assert_allclose(periods, [43.3, 44.7, 45.9], rtol=1e-2)


def test_the_filter_keeps_a_moire_whole_and_removes_the_noise_its_leakage_held() -> None:
    """Strong fundamentals leak through the filters' windows and hold their gain up where only noise
    is (docs/model-selection.md, candidates EA, EB): with the lines out first the output is closer
    to the truth (here 0.8x the error without them or less)."""
    n = 256
    errors = []
    for seed in (4, 5):
        rng = np.random.default_rng(seed)
        clean = _moire(n, rng)
        fwd = clean + rng.normal(0, 0.15, (n, n))
        bwd = clean + rng.normal(0, 0.15, (n, n))
        report: dict[str, object] = {}
        with_lines = two_direction_wiener(fwd, bwd, (0.0, 0.0), pixel_size=(PX, PX), report=report)
        assert report["lines"] == 3
        without = two_direction_wiener(fwd, bwd, (0.0, 0.0), pixel_size=None)  # no pixel size: no lines
        errors.append((np.mean((with_lines - clean) ** 2), np.mean((without - clean) ** 2)))
    for e_lines, e_before in errors:
        assert e_lines < 0.8 * e_before


def test_without_strong_lines_the_filter_is_as_before() -> None:
    """White noise on a flat frame: no line, the output is the filter's own, byte for byte."""
    rng = np.random.default_rng(6)
    fwd, bwd = rng.normal(size=(192, 192)), rng.normal(size=(192, 192))
    report: dict[str, object] = {}
    out = two_direction_wiener(fwd, bwd, (0.3, -0.6), pixel_size=(1e-10, 1e-10), report=report)
    assert "lines" not in report
    assert len(shared_lines(fwd, bwd, 2.0).freqs) == 0
    assert np.isfinite(out).all()


def test_a_ring_of_standing_waves_and_a_step_are_not_lines() -> None:
    """Candidate EB: standing waves around a few scatterers put a ring into the spectrum, a step a
    streak through the origin; both looks share them and they stand far above the noise, but no
    point of them stands alone (30x everything 2-2.5 bins around it): nothing is taken, where
    EA's threshold and gate alone took a ring's points and a step's streak on real scans."""
    n = 256
    rng = np.random.default_rng(8)
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    waves = np.zeros((n, n))
    for cy, cx in rng.uniform(20, n - 20, size=(6, 2)):
        r = np.hypot(yy - cy, xx - cx) + 1.0
        waves += np.cos(2 * np.pi * r / 14.7) / np.sqrt(r)  # 14.7 px: Cu(111)'s 15 Å at 1 Å/px
    step = np.where(xx + 0.3 * yy > 140.0, 1.0, 0.0)
    for clean in (waves, step):
        fwd = clean + rng.normal(0, 0.01, (n, n))
        bwd = clean + rng.normal(0, 0.01, (n, n))
        assert len(shared_lines(fwd, bwd, 2.0).freqs) == 0


def test_the_lines_kept_out_are_recorded_and_said() -> None:
    """The step records how many lines were kept out of the filter; the verdict's notice says so."""
    from stmdenoise.model.two_direction import BAND, KIND, LINES_NOTICE, describe_step

    rng = np.random.default_rng(9)
    clean = _moire(256, rng)
    report: dict[str, object] = {}
    two_direction_wiener(
        clean + rng.normal(0, 0.15, clean.shape),
        clean + rng.normal(0, 0.15, clean.shape),
        (0.0, 0.0),
        pixel_size=(PX, PX),
        report=report,
    )
    params = {"generator": KIND, "noise_from": "backward", "band_rows": BAND, "lines": report["lines"]}
    said = describe_step(params, strip=8)
    assert report["lines"] == 3 and "3 sharp periodic peaks" in said and "added back whole" in said
    assert "1 sharp periodic peak that" in describe_step({**params, "lines": 1}, strip=8)
    assert LINES_NOTICE[:20] not in describe_step({**params, "lines": 0}, strip=8)


def test_a_lattice_the_two_looks_draw_apart_is_left_to_the_filter() -> None:
    """Candidate EC: a quiet lattice (noise 0.03 of its amplitude) that a piezo hysteresis moves
    differently in each direction (the look's columns displaced by up to 0.6 px along the line).
    Its peaks stand alone and both looks hold them, but forward minus backward holds far more
    than noise round them even after each look's own fit: no line is taken, so the filter's noise
    spectrum, which holds that difference, keeps finding the lattice's own power beside it (EB
    took the lines here and its output came out several times further from the lattice)."""
    n = 256
    rng = np.random.default_rng(10)
    yy, xx = np.mgrid[0:n, 0:n].astype(float)

    def lattice(x: np.ndarray) -> np.ndarray:
        return np.cos(2 * np.pi * x / 7.68) + np.cos(2 * np.pi * (x / 7.68 + yy / 3.84))

    bow = 0.6 * np.sin(np.pi * xx / n) ** 2  # the backward trace's displacement along the line
    clean = lattice(xx)
    fwd = clean + rng.normal(0, 0.03, (n, n))
    bwd = lattice(xx + bow) + rng.normal(0, 0.03, (n, n))
    assert len(shared_lines(fwd, bwd, 2.0).freqs) == 0
    # the same lattice drawn alike in both looks (a rigid 0.3 px misregistration only) is taken
    bwd = lattice(xx + 0.3) + rng.normal(0, 0.03, (n, n))
    assert len(shared_lines(fwd, bwd, 2.0).freqs) >= 2


def test_on_a_large_scan_lines_are_searched_on_its_centre_only() -> None:
    """Memory stays bounded: the search's padded transforms see at most SEARCH_SIDE rows and
    columns of the block both frames cover (a long 160 x 3000 px strip is searched on its central
    1024 columns), and the lines found there are fitted on the whole frame and taken out of all of
    it (here off-grid waves of 37 and 52 px, each within 1 % of its period)."""
    from stmdenoise.model.lines import SEARCH_SIDE, search_window

    assert search_window((96, 3000)) == (slice(0, 96), slice(988, 2012)) and SEARCH_SIDE == 1024
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:160, 0:3000].astype(float)
    clean = np.cos(2 * np.pi * (yy / 37.3 + xx / 51.7))
    fwd, bwd = clean + rng.normal(0, 0.05, clean.shape), clean + rng.normal(0, 0.05, clean.shape)
    report: dict[str, object] = {}
    out = two_direction_wiener(fwd, bwd, (0.0, 0.0), pixel_size=(0.5e-10, 0.5e-10), report=report)
    assert report["lines"] == 1
    assert np.std(out - clean) < np.std(fwd - clean) / 2


def test_two_identical_looks_or_a_flat_frame_take_no_line_and_warn_nothing() -> None:
    """No noise measured (the same frame twice) leaves nothing to judge the looks by: no line, no
    division by zero; a flat frame has no peak at all."""
    import warnings

    yy, xx = np.mgrid[0:128, 0:128].astype(float)
    wave = np.cos(2 * np.pi * (yy / 23.3 + xx / 41.7))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(shared_lines(wave, wave, 2.0).freqs) == 0
        assert len(shared_lines(np.zeros((128, 128)), np.zeros((128, 128)), 2.0).freqs) == 0
