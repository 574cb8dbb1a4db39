"""Ground-truth-free fidelity: checked on constructed scenes where the truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics import NotScorableError
from stmdenoise.metrics.fidelity import (
    Band,
    bands_from_periods,
    default_bands,
    error_difference,
    pair_fidelities,
    pair_fidelity,
)
from stmdenoise.metrics.registration import hann_window, levelled, register_frames
from stmdenoise.metrics.stack_fidelity import mean_reports, stack_fidelity
from stmdenoise.scan import Scan

PX = 1e-10


def _surface(rng: np.random.Generator, n: int = 384) -> np.ndarray:
    """Smooth terrain, a periodic lattice and a tilt: signal in every band."""
    y, x = np.mgrid[0:n, 0:n]
    s = ndimage.gaussian_filter(rng.normal(size=(n, n)), 3.0) * 12.0
    s += 0.6 * np.sin(2 * np.pi * x / 3.7) + 0.6 * np.sin(2 * np.pi * (x / 2 + y * 0.866) / 3.7)
    return s + 0.01 * x + 0.02 * y


def _shifted(a: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """``a``'s content moved by (dy, dx) pixels (exact for its periodic extension)."""
    return np.real(np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(a), (dy, dx))))


def _true_error(out: np.ndarray, raw: np.ndarray, surface: np.ndarray, band: Band | None) -> float:
    """The error power of ``out`` against the known surface, relative to the raw frame's, in ``band``."""
    w = hann_window(surface.shape)
    ky = np.fft.fftfreq(surface.shape[0])[:, None]
    kx = np.fft.fftfreq(surface.shape[1])[None, :]
    k = np.hypot(ky, kx)
    period = np.where(k > 0, PX / np.where(k > 0, k, 1), np.inf)
    mask = np.isfinite(period)
    if band is not None:
        mask &= (period <= band.long) & (period > band.short)

    def power(e: np.ndarray) -> float:
        return float((np.abs(np.fft.fft2(levelled(e) * w)) ** 2)[mask].sum())

    return power(out - surface) / power(raw - surface)


def test_identity_scores_one_everywhere() -> None:
    rng = np.random.default_rng(0)
    s = _surface(rng, 256)
    fwd, bwd = s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)
    rep = pair_fidelity(fwd, fwd, bwd, pixel_size=PX)
    for b in (*rep.bands, rep.overall):
        assert b.error == pytest.approx(1.0, abs=1e-12)
        if math.isfinite(b.kept):
            assert b.kept == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("sigma", [0.7, 1.5])
def test_known_linear_filter_error_within_five_percent(sigma: float) -> None:
    """The estimate equals the true error against the surface (mean of 3 noise draws) within 5 %."""
    rng = np.random.default_rng(1)
    s = _surface(rng)
    sb = _shifted(s, 0.4, -2.3)  # the backward frame sees the surface displaced
    bands = default_bands(PX, s.shape)
    est, true = [], []
    for _ in range(3):
        fwd = s + rng.normal(size=s.shape)
        bwd = sb + rng.normal(size=s.shape)
        out = ndimage.gaussian_filter(fwd, sigma, mode="wrap")
        rep = pair_fidelity(out, fwd, bwd, pixel_size=PX, offset=(-0.4, 2.3))
        est.append([b.error for b in (*rep.bands, rep.overall)])
        true.append([_true_error(out, fwd, s, b.band) for b in rep.bands] + [_true_error(out, fwd, s, None)])
    e, t = np.mean(est, axis=0), np.mean(true, axis=0)
    for label, ei, ti in zip([b.label for b in bands] + ["all"], e, t, strict=True):
        # relative to the raw frame's error: 5 % of it, or 5 % of the true value where that is larger
        assert abs(ei - ti) <= 0.05 * max(ti, 1.0) or abs(ei - ti) <= 0.05 * ti, (label, ei, ti)
    assert abs(e[-1] - t[-1]) <= 0.05 * t[-1]


def test_a_perfect_denoiser_scores_near_zero_and_keeps_all_signal() -> None:
    rng = np.random.default_rng(2)
    s = _surface(rng, 256)
    fwd, bwd = s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)
    rep = pair_fidelity(s, fwd, bwd, pixel_size=PX, offset=(0.0, 0.0))
    assert abs(rep.overall.error) < 0.03
    assert rep.overall.kept == pytest.approx(1.0, abs=0.05)


def test_added_structure_raises_the_error_above_raw_in_its_band() -> None:
    """A 'denoiser' that paints rings (as the shipped model does around a defect) is worse than raw there."""
    rng = np.random.default_rng(3)
    s = _surface(rng, 256)
    fwd, bwd = s + 0.3 * rng.normal(size=s.shape), s + 0.3 * rng.normal(size=s.shape)
    y, x = np.mgrid[0:256, 0:256]
    rings = 0.8 * np.cos(2 * np.pi * np.hypot(y - 128, x - 128) / 12.0)
    out = ndimage.gaussian_filter(fwd, 0.5) + rings
    bands = bands_from_periods([20 * PX, 8 * PX, 2 * PX])
    rep = pair_fidelity(out, fwd, bwd, pixel_size=PX, bands=bands, offset=(0.0, 0.0))
    ring_band = rep.band(bands[0].label)
    assert ring_band.error > 2.0
    assert rep.worst_band() is ring_band


@pytest.mark.parametrize("shift", [(0.0, 3.4), (-1.25, 2.6), (2.0, -0.35)])
def test_registration_recovers_a_known_offset(shift: tuple[float, float]) -> None:
    rng = np.random.default_rng(4)
    s = _surface(rng, 192)
    moved = _shifted(s, -shift[0], -shift[1]) + 0.3 * rng.normal(size=s.shape)
    dy, dx = register_frames(s + 0.3 * rng.normal(size=s.shape), moved)
    assert dy == pytest.approx(shift[0], abs=0.1)
    assert dx == pytest.approx(shift[1], abs=0.1)


def test_registration_search_is_bounded() -> None:
    """With max_shift the peak is looked for only nearby (a lattice period cannot alias it)."""
    rng = np.random.default_rng(5)
    s = _surface(rng, 128)
    moved = _shifted(s, 0.0, -9.0)
    assert register_frames(s, moved)[1] == pytest.approx(9.0, abs=0.1)
    assert abs(register_frames(s, moved, max_shift=3)[1]) <= 3.0 + 1.0


def test_frame_stack_matches_truth_and_registers_drift() -> None:
    rng = np.random.default_rng(6)
    s = _surface(rng, 256)
    drifts = [(0.0, 0.0), (1.3, -2.2), (-0.6, 3.1), (2.4, 0.7)]
    frames = [_shifted(s, dy, dx) + rng.normal(size=s.shape) for dy, dx in drifts]
    ident = stack_fidelity(frames, frames, pixel_size=PX)
    assert all(r.overall.error == pytest.approx(1.0, abs=1e-12) for r in ident)
    assert ident[0].looks == 4
    assert ident[0].offsets[0] == pytest.approx((-1.3, 2.2), abs=0.15)
    outs = [ndimage.gaussian_filter(f, 1.0, mode="wrap") for f in frames]
    reps = stack_fidelity(outs, frames, pixel_size=PX)
    true0 = _true_error(outs[0], frames[0], s, None)
    assert reps[0].overall.error == pytest.approx(true0, rel=0.05)
    rows = mean_reports(reps)
    assert rows[-1]["band"] == "all" and rows[-1]["error"] < 1.0


def test_nan_rows_are_cropped_and_scans_give_their_pixel_size() -> None:
    rng = np.random.default_rng(7)
    s = _surface(rng, 160)
    fwd, bwd = s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)
    fwd[100:], bwd[100:] = np.nan, np.nan  # an aborted scan
    f = Scan(fwd, pixel_size=(PX, PX))
    rep = pair_fidelity(ndimage.gaussian_filter(np.nan_to_num(fwd), 1) + 0 * fwd, f, bwd)
    assert rep.shape[0] <= 100 and rep.pixel_size == PX
    assert rep.overall.error < 1.0


def test_unscorable_inputs_are_refused_clearly() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(size=(128, 128))
    with pytest.raises(NotScorableError, match="no contrast"):
        pair_fidelity(a, a, np.full_like(a, 3.0), pixel_size=PX)
    small = rng.normal(size=(20, 128))
    with pytest.raises(NotScorableError, match="32"):
        pair_fidelity(small, small, small, pixel_size=PX)
    with pytest.raises(ValueError, match="one shape"):
        pair_fidelity(a, a, a[:64], pixel_size=PX)
    with pytest.raises(ValueError, match="pixel_size"):
        pair_fidelity(a, a, a)
    with pytest.raises(ValueError, match="NaN or inf"):
        pair_fidelity(np.full_like(a, np.nan), a, a + rng.normal(size=a.shape), pixel_size=PX, offset=(0, 0))
    with pytest.raises(ValueError, match="decreasing"):
        bands_from_periods([1e-10, 2e-10])


def test_report_serialises_without_nan() -> None:
    rng = np.random.default_rng(9)
    s = _surface(rng, 128)
    fwd, bwd = s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)
    d = pair_fidelity(fwd, fwd, bwd, pixel_size=PX).to_dict()
    import json

    text = json.dumps(d, allow_nan=False)
    assert '"method": "forward/backward"' in text


@pytest.mark.parametrize("shape", [(1, 7), (7, 1), (2, 2), (33, 45), (256, 200)])
def test_levelled_is_the_least_squares_plane(shape: tuple[int, int]) -> None:
    """The closed form (three projections) equals a general least-squares fit of mean and plane."""
    rng = np.random.default_rng(sum(shape))
    z = rng.normal(size=shape) + 5 * np.arange(shape[0])[:, None] - 3 * np.arange(shape[1])[None, :] + 1e3
    v = np.broadcast_to(np.linspace(-1, 1, shape[0])[:, None], shape).ravel()
    u = np.broadcast_to(np.linspace(-1, 1, shape[1])[None, :], shape).ravel()
    a = np.column_stack((np.ones(z.size), v, u))
    coef, *_ = np.linalg.lstsq(a, z.ravel() - z.mean(), rcond=None)
    expected = (z - z.mean()) - (a @ coef).reshape(shape)
    np.testing.assert_allclose(levelled(z), expected, atol=1e-9 * float(np.ptp(z)))
    assert abs(float(levelled(z).mean())) < 1e-9


def test_several_outputs_scored_at_once_equal_each_scored_alone() -> None:
    rng = np.random.default_rng(3)
    surface = ndimage.gaussian_filter(rng.normal(size=(96, 120)), 3) * 10
    fwd = surface + rng.normal(size=surface.shape)
    bwd = np.roll(surface, 1, axis=1) + rng.normal(size=surface.shape)
    outs = [fwd, ndimage.gaussian_filter(fwd, 1.0), ndimage.median_filter(fwd, 3)]
    together = pair_fidelities(outs, fwd, bwd, pixel_size=1e-10)
    for out, rep in zip(outs, together, strict=True):
        alone = pair_fidelity(out, fwd, bwd, pixel_size=1e-10)
        assert rep.to_dict() == alone.to_dict()
    assert together[0].overall.error == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one shape"):
        pair_fidelities([fwd, fwd[:-1]], fwd, bwd, pixel_size=1e-10)


def test_the_paired_difference_is_the_reports_difference_with_an_honest_standard_error() -> None:
    """error_difference(a, b) equals the two reports' difference in every band; over 30 noise
    draws of the second look its spread matches the paired standard error (measured 1.0-1.15x),
    which is far tighter than the two reports' own standard errors combined."""
    rng = np.random.default_rng(11)
    surface = ndimage.gaussian_filter(rng.normal(size=(96, 128)), 2.5) * 8
    fwd = surface + rng.normal(size=surface.shape)
    a, b = ndimage.gaussian_filter(fwd, 1.0), ndimage.gaussian_filter(fwd, 3.0)
    diffs, ses, unpaired = [], [], []
    for _ in range(30):
        bwd = surface + rng.normal(size=surface.shape)
        d = error_difference(a, b, fwd, bwd, pixel_size=1e-10, offset=(0.0, 0.0))
        ra, rb = (pair_fidelity(v, fwd, bwd, pixel_size=1e-10, offset=(0.0, 0.0)) for v in (a, b))
        for entry, ea, eb in zip(d, (*ra.bands, ra.overall), (*rb.bands, rb.overall), strict=True):
            if math.isfinite(ea.error) and math.isfinite(eb.error):
                assert entry.difference == pytest.approx(ea.error - eb.error, abs=1e-9)
        diffs.append(d[-1].difference)
        ses.append(d[-1].se)
        unpaired.append(math.hypot(ra.overall.error_se, rb.overall.error_se))
    spread = float(np.std(diffs))
    assert 0.6 < spread / float(np.mean(ses)) < 1.6
    assert float(np.mean(ses)) < 0.3 * float(np.mean(unpaired))
    assert float(np.mean(diffs)) < -5 * float(np.mean(ses))  # the 3 px Gaussian is worse here


def test_overlapping_bands_are_summed_band_by_band_like_disjoint_ones() -> None:
    """BandSums takes one bincount for disjoint bands and one mask per band when they overlap:
    a band's figures must not depend on which other bands are asked for."""
    rng = np.random.default_rng(8)
    surface = ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2) * 6
    fwd = surface + rng.normal(size=surface.shape)
    bwd = surface + rng.normal(size=surface.shape)
    out = ndimage.gaussian_filter(fwd, 1.0)
    wide, narrow = Band(20e-10, 4e-10), Band(8e-10, 2e-10)  # overlapping: 4-8 Å in both
    both = pair_fidelity(out, fwd, bwd, pixel_size=1e-10, bands=[wide, narrow], offset=(0.0, 0.0))
    for band, entry in zip((wide, narrow), both.bands, strict=True):
        alone = pair_fidelity(out, fwd, bwd, pixel_size=1e-10, bands=[band], offset=(0.0, 0.0))
        assert entry.to_dict() == pytest.approx(alone.bands[0].to_dict())
    assert both.overall.to_dict() == pytest.approx(alone.overall.to_dict())


def test_a_gaussians_error_predicted_from_its_transfer_agrees_with_the_measured_one() -> None:
    """:meth:`PairedLooks.predicted`: the identity predicts raw exactly; a Gaussian's prediction
    matches the estimate measured from its output within the latter's SE in every band, with a far
    smaller SE where a strong signal is (a wave of period 50 px)."""
    from stmdenoise.metrics.fidelity import PairedLooks
    from stmdenoise.processing.smoothing import gaussian_transfer

    rng = np.random.default_rng(4)
    y, x = np.mgrid[0:256, 0:256].astype(float)
    s = (
        2.0 * np.cos(2 * np.pi * (0.8 * x + 0.6 * y) / 50.0)
        + ndimage.gaussian_filter(rng.normal(size=(256, 256)), 3) * 5
    )
    fwd, bwd = s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)
    paired = PairedLooks([ndimage.gaussian_filter(fwd, 2.0)], fwd, bwd, pixel_size=1e-10, offset=(0.0, 0.0))
    assert all(
        p.difference == pytest.approx(0.0, abs=1e-12) for p in paired.predicted(lambda k: np.ones_like(k))
    )
    (measured,) = paired.reports()
    predicted = paired.predicted(lambda k: gaussian_transfer(2.0, k))
    for m, p in zip((*measured.bands, measured.overall), predicted, strict=True):
        assert 1.0 + p.difference == pytest.approx(m.error, abs=2 * m.error_se + 0.02), m.band.label
    longest = -2  # the last band before "all": the wave's
    assert predicted[longest].se < 0.5 * measured.bands[-1].error_se


def test_the_error_spectrum_places_an_outputs_error_where_it_is() -> None:
    """:meth:`PairedLooks.error_spectrum`: the raw look's equals an output that is the raw look;
    its sum over the spectrum, over raw's, is the report's overall error; row offsets added to an
    output raise its error in the line column (|kx| of at most one bin) and hardly elsewhere."""
    from stmdenoise.metrics.fidelity import PairedLooks

    rng = np.random.default_rng(7)
    s = ndimage.gaussian_filter(rng.normal(size=(192, 192)), 4) * 8
    fwd, bwd = s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)
    smooth = ndimage.gaussian_filter(fwd, 1.0)
    lined = smooth + 0.5 * rng.normal(size=(192, 1))
    paired = PairedLooks([fwd, smooth, lined], fwd, bwd, pixel_size=1e-10, offset=(0.0, 0.0))
    raw = paired.error_spectrum()
    assert np.allclose(paired.error_spectrum(0), raw)
    overall = paired.reports()[1].overall.error
    assert paired.error_spectrum(1).sum() / raw.sum() == pytest.approx(overall, abs=0.02)
    added = paired.error_spectrum(2) - paired.error_spectrum(1)
    kx = np.abs(np.fft.fftfreq(raw.shape[1]))[None, :] * raw.shape[1]
    column = np.broadcast_to(kx <= 1.0, raw.shape)
    assert added[column].sum() > 0.9 * np.abs(added).sum()
