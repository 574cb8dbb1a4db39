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
def test_au_mica_current_is_the_one_named_realdata_channel(shared_dir: Path) -> None:
    """bench/direction_contrast.py: the backward frame of Au_mica Current is 0.89x the forward one at
    large scales; the Createc step's Z is not scaled."""
    from stmdenoise.metrics.fidelity import pair_fidelity
    from stmdenoise.training.real_fidelity import two_direction_frames

    for path, channel, named in (
        (shared_dir / "realdata" / "nanonis" / "Au_mica_2023_Y_A_diPAMY_195.sxm", "Current", True),
        (shared_dir / "realdata" / "createc" / "createc_scan_step_20nm.dat", "Z", False),
    ):
        [(_, fwd, bwd)] = two_direction_frames(path, [channel])
        m = contrast_mismatch(fwd, bwd, pair_fidelity(fwd, fwd, bwd).offsets[0])
        assert m.named is named, (path.name, m)
