"""Contrast mismatch between the two scan directions: measured, and named in the verdict only when clear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics.contrast import contrast_mismatch
from stmdenoise.safety import judge
from stmdenoise.scan import Scan

PX = 0.1e-9


def _surface(n: int = 128) -> np.ndarray:
    rng = np.random.default_rng(3)
    return ndimage.gaussian_filter(rng.normal(size=(n, n)), 6) * 50


def _looks(scale: float, noise: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = _surface()
    return s + noise * rng.normal(size=s.shape), scale * s + noise * rng.normal(size=s.shape)


def test_a_scaled_second_look_is_measured_and_named() -> None:
    f, b = _looks(0.88)
    m = contrast_mismatch(f, b, (0.0, 0.0))
    assert abs(m.ratio - 0.88) < 0.01 and m.coherence > 0.99 and m.named


def test_left_after_scaling_is_what_one_factor_on_the_other_look_leaves() -> None:
    """The property (from ratio and coherence) equals the direct least-squares residual over the
    large-scale bins, as the same prepared spectra give it."""
    from stmdenoise.metrics.contrast import LARGE_SCALE
    from stmdenoise.metrics.fidelity import prepare_looks

    for scale in (0.88, 1.0):
        f, b = _looks(scale)
        prep = prepare_looks(f, [], [b], [(0.0, 0.0)])
        x_f, r_f = np.fft.fft2(prep.target), prep.others_f[0]
        k = np.hypot(np.fft.fftfreq(prep.shape[0])[:, None], np.fft.fftfreq(prep.shape[1])[None, :])
        m = (k > 0) & (k <= LARGE_SCALE)
        a = np.real(x_f[m] * np.conj(r_f[m])).sum() / (np.abs(r_f[m]) ** 2).sum()
        direct = (np.abs(x_f[m] - a * r_f[m]) ** 2).sum() / (np.abs(x_f[m] - r_f[m]) ** 2).sum()
        assert contrast_mismatch(f, b, (0.0, 0.0)).left_after_scaling == pytest.approx(direct, rel=1e-9)
    assert contrast_mismatch(*_looks(0.88), (0.0, 0.0)).left_after_scaling < 0.05


@pytest.mark.parametrize(("extra", "named"), [(0.1, True), (0.3, False)])
def test_named_when_one_factor_explains_the_large_scale_difference(extra: float, named: bool) -> None:
    """A look at 0.6x the contrast with a little structure of its own (coherence about 0.985, as the
    Createc step's Current against its negated backward frame) is named: one factor leaves 13 % of
    the large-scale difference. With more of its own structure (coherence about 0.8) it is not:
    the looks differ in shape, not only in contrast."""
    rng = np.random.default_rng(2)
    s = _surface()
    own = ndimage.gaussian_filter(rng.normal(size=s.shape), 6) * 50
    f = s + 0.3 * rng.normal(size=s.shape)
    b = 0.6 * s + extra * own + 0.3 * rng.normal(size=s.shape)
    m = contrast_mismatch(f, b, (0.0, 0.0))
    assert m.coherence < 0.99 and m.share > 0.5
    assert m.named is named, m


@pytest.mark.parametrize("scale", [1.0, 0.98])
def test_the_same_contrast_or_a_small_difference_is_not_named(scale: float) -> None:
    f, b = _looks(scale)
    m = contrast_mismatch(f, b, (0.0, 0.0))
    assert abs(m.ratio - scale) < 0.01 and not m.named


def test_noise_alone_is_not_a_mismatch() -> None:
    """Noise and no common structure: the large scales hold almost none of the error, nothing named."""
    rng = np.random.default_rng(1)
    m = contrast_mismatch(rng.normal(size=(96, 96)), 0.5 * rng.normal(size=(96, 96)), (0.0, 0.0))
    assert m.share < 0.05 and not m.named


def test_the_verdict_names_it() -> None:
    f, b = _looks(0.85)
    raw = Scan(f, pixel_size=(PX, PX))
    other = Scan(b, pixel_size=(PX, PX), direction="backward")
    out = raw.with_data(ndimage.gaussian_filter(f, 1.0))
    _, verdict = judge(raw, out, other)
    assert any("0.85x its contrast" in n for n in verdict.notices)
    _, same = judge(raw, out, Scan(_looks(1.0)[1], pixel_size=(PX, PX), direction="backward"))
    assert not any("contrast" in n for n in same.notices)


@pytest.mark.realdata
def test_the_named_realdata_channels(shared_dir: Path) -> None:
    """bench/direction_contrast.py, against the judge's look: the backward frame of Au_mica Current
    is 0.89x the forward one at large scales, the Createc step's negated backward Current 0.59x;
    the Createc step's Z is not scaled, and CO_img_0050 Current's negated look differs by 4 %."""
    from stmdenoise.training.real_fidelity import judging_look, two_direction_frames

    nanonis, createc = shared_dir / "realdata" / "nanonis", shared_dir / "realdata" / "createc"
    for path, channel, named in (
        (nanonis / "Au_mica_2023_Y_A_diPAMY_195.sxm", "Current", True),
        (createc / "createc_scan_step_20nm.dat", "Current", True),
        (createc / "createc_scan_step_20nm.dat", "Z", False),
        (nanonis / "CO_img_0050.sxm", "Current", False),
    ):
        [(_, fwd, bwd)] = two_direction_frames(path, [channel])
        offset, look = judging_look(fwd, bwd)
        m = contrast_mismatch(fwd, look, offset)
        assert m.named is named, (path.name, channel, m)


@pytest.mark.realdata
def test_the_verdict_names_the_negated_look_of_a_feedback_error_current(shared_dir: Path) -> None:
    """The Createc step's Current is judged against its backward frame negated; the notice says so."""
    from stmdenoise.training.real_fidelity import two_direction_frames

    path = shared_dir / "realdata" / "createc" / "createc_scan_step_20nm.dat"
    [(_, fwd, bwd)] = two_direction_frames(path, ["Current"])
    out = fwd.with_data(ndimage.gaussian_filter(np.nan_to_num(np.asarray(fwd.data), nan=0.0), 1.0))
    out = out.with_data(np.where(np.isfinite(fwd.data), out.data, np.nan))
    _, verdict = judge(fwd, out, bwd)
    named = [n for n in verdict.notices if "The backward frame (negated) shows" in n]
    assert len(named) == 1 and "0.59x its contrast" in named[0]


def test_the_judges_pair_as_prepared_gives_the_same_mismatch() -> None:
    """The judge reads the mismatch from the pair it prepared for its reports
    (PairedLooks.transforms); the figures equal contrast_mismatch's own preparation, unmeasured rows
    and a fractional offset included."""
    from stmdenoise.metrics.contrast import contrast_of
    from stmdenoise.metrics.fidelity import PairedLooks

    f, b = _looks(0.85)
    f[:7] = np.nan
    out = np.where(np.isfinite(f), ndimage.gaussian_filter(np.nan_to_num(f), 1.0), np.nan)
    offset = (0.4, -0.3)
    paired = PairedLooks([out], Scan(f, pixel_size=(PX, PX)), Scan(b, pixel_size=(PX, PX)), offset=offset)
    assert contrast_of(*paired.transforms()) == contrast_mismatch(f, b, offset)


def test_a_look_at_the_frame_s_contrast_is_no_longer_a_mismatch() -> None:
    """``at_contrast`` scales the look about its mean by 1 / ratio: measured again, the two show the
    surface at one contrast and nothing is named; a ratio that is not a positive number is refused."""
    from stmdenoise.metrics.contrast import at_contrast

    f, b = _looks(0.88)
    m = contrast_mismatch(f, b, (0.0, 0.0))
    again = contrast_mismatch(f, at_contrast(b, m.ratio), (0.0, 0.0))
    assert abs(again.ratio - 1.0) < 0.005 and not again.named
    assert float(np.mean(at_contrast(b, m.ratio))) == pytest.approx(float(np.mean(b)))
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="ratio"):
            at_contrast(b, bad)


def test_judged_against_the_rescaled_look_keeping_the_frame_s_contrast_is_no_error() -> None:
    """The fidelity bench's ``--rescaled-look`` (``pair_rows(rescale=True)``): the look shows the
    surface at 0.88x. Against the plain look the frame's own surface, noise-free, reads further
    off than that surface shrunk to the look's contrast; against the look at the frame's contrast
    it is the other way round. A pair without a named mismatch is judged alike either way."""
    from stmdenoise.training.real_fidelity import Method, pair_rows

    s = _surface()
    rng = np.random.default_rng(5)

    def scan(a: np.ndarray, direction: str) -> Scan:
        return Scan(a, pixel_size=(PX, PX), channel="Z", unit="m", direction=direction)

    methods = [
        Method("the frame's surface", "model", lambda _s, _o: s),
        Method("shrunk to the look's contrast", "classical", lambda _s, _o: 0.88 * s),
    ]
    for scale, named in ((0.88, True), (1.0, False)):
        fwd = scan(s + 0.3 * rng.normal(size=s.shape), "forward")
        bwd = scan(scale * s + 0.3 * rng.normal(size=s.shape), "backward")
        plain, rescaled = (
            {r.method: r.reports[0].overall.error for r in pair_rows(methods, "x", fwd, bwd, rescale=on)}
            for on in (False, True)
        )
        if named:
            assert plain["the frame's surface"] > plain["shrunk to the look's contrast"]
            assert rescaled["the frame's surface"] < rescaled["shrunk to the look's contrast"]
        else:
            assert plain == rescaled


@pytest.mark.realdata
def test_the_rescaled_look_of_the_named_realdata_channels(shared_dir: Path) -> None:
    """``judging_look(rescale=True)``: Au_mica Current's backward frame (0.89x) and the Createc step's
    negated backward Current (0.59x) are brought to the forward frame's contrast; the Createc step's
    Z, not named, is judged against its look as stored."""
    from stmdenoise.training.real_fidelity import judging_look, two_direction_frames

    nanonis, createc = shared_dir / "realdata" / "nanonis", shared_dir / "realdata" / "createc"
    for path, channel, named in (
        (nanonis / "Au_mica_2023_Y_A_diPAMY_195.sxm", "Current", True),
        (createc / "createc_scan_step_20nm.dat", "Current", True),
        (createc / "createc_scan_step_20nm.dat", "Z", False),
    ):
        [(_, fwd, bwd)] = two_direction_frames(path, [channel])
        offset, plain = judging_look(fwd, bwd)
        offset2, rescaled = judging_look(fwd, bwd, rescale=True)
        assert offset2 == offset
        if named:
            assert abs(contrast_mismatch(fwd, rescaled, offset).ratio - 1.0) < 0.01, (path.name, channel)
        else:
            np.testing.assert_array_equal(rescaled.data, plain.data)
