"""On-the-fly pairs: what training relies on, and that the maps look like Cu(111)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.physics import SimulatedPair, sample_pair, sample_scan


def test_pair_shapes_units_and_params() -> None:
    p = sample_pair(np.random.default_rng(0), pixels=64, size=9e-9)
    assert isinstance(p, SimulatedPair)
    assert p.clean.shape == p.noisy.shape == (64, 64)
    assert p.clean.dtype == p.noisy.dtype == np.float64
    assert p.pixel_size == pytest.approx(9e-9 / 64)
    assert not p.clean.flags.writeable
    d = json.loads(json.dumps(p.params))
    for key in ("bias", "surface", "artefacts", "pixels", "size", "mode"):
        assert key in d
    assert 1e-12 < np.ptp(p.clean) < 1e-9  # a topograph in metres: pm-scale standing waves


def test_pairs_are_a_pure_function_of_the_generator() -> None:
    a = sample_pair(np.random.default_rng(5), pixels=48, size=7e-9)
    b = sample_pair(np.random.default_rng(5), pixels=48, size=7e-9)
    c = sample_pair(np.random.default_rng(6), pixels=48, size=7e-9)
    np.testing.assert_array_equal(a.clean, b.clean)
    np.testing.assert_array_equal(a.noisy, b.noisy)
    assert a.params == b.params
    assert not np.array_equal(a.clean, c.clean)


def test_gui_style_options() -> None:
    p = sample_pair(
        np.random.default_rng(1),
        pixels=32,
        size=6e-9,
        n_impurities=3,
        bias=-0.02,
        phase_shift="black-dot",
        broadening=0.01,
        step_probability=0.0,
    )
    assert p.params["bias"] == -0.02
    assert p.params["impurity_count_in_field"] == 3
    assert all(im is None for _, im in p.params["surface"]["phase_shifts"])
    q = sample_pair(np.random.default_rng(1), pixels=32, size=6e-9, density=0.05e18)
    assert q.params["impurity_count_in_field"] >= 0
    with pytest.raises(ValueError, match="bias"):
        sample_pair(np.random.default_rng(1), pixels=32, size=6e-9, bias=(0.03, 0.01))
    with pytest.raises(ValueError, match="pixels"):
        sample_pair(np.random.default_rng(1), pixels=4)


def test_scan_has_trace_and_retrace() -> None:
    s = sample_scan(np.random.default_rng(2), pixels=48, size=7e-9)
    assert s.forward.shape == s.backward.shape == s.clean.shape == (48, 48)
    assert np.corrcoef(s.forward.ravel(), s.backward.ravel())[0, 1] > 0.3


def _radial_peak_period(img: np.ndarray, pixel: float) -> float:
    n = img.shape[0]
    p = np.abs(np.fft.fft2(img - img.mean())) ** 2
    q = np.fft.fftfreq(n, pixel)
    qq = np.hypot(q[:, None], q[None, :])
    dq = 1.0 / (n * pixel)
    bins = np.rint(qq / dq).astype(int)
    radial = np.bincount(bins.ravel(), p.ravel()) / np.maximum(np.bincount(bins.ravel()), 1)
    radial[:4] = 0
    return 1.0 / (np.argmax(radial[: n // 2]) * dq)


def test_clean_maps_look_like_cu111_standing_waves() -> None:
    # dark impurity cores with bright rings and lambda_F/2 = 1.47 nm
    p = sample_pair(
        np.random.default_rng(3),
        pixels=256,
        size=36e-9,
        n_impurities=12,
        bias=0.005,
        phase_shift="black-dot",
        step_probability=0.0,
    )
    clean = p.clean - np.median(p.clean)
    period = _radial_peak_period(clean, p.pixel_size)
    assert period == pytest.approx(1.47e-9, rel=0.06)
    imp = np.asarray(p.params["surface"]["impurities"])
    inside = imp[np.all((imp > 2e-9) & (imp < 34e-9), axis=1)]
    g = (np.arange(256) + 0.5) * p.pixel_size
    darker = 0
    for y, x in inside:
        r = np.hypot(g[:, None] - y, g[None, :] - x)
        core = clean[r < 2.5e-10].mean() if (r < 2.5e-10).any() else clean[r < 1e-9].min()
        ring = clean[(r > 0.8e-9) & (r < 1.3e-9)].max()
        darker += core < 0 < ring
    assert darker >= 0.8 * len(inside)


def _core_ring_ratios(a: np.ndarray) -> list[float]:
    """For each dark core (deep local minimum away from the edges): core depth / first-ring
    height, both relative to the median; negative means a dark core with a bright ring."""
    from scipy import ndimage

    a = a - np.median(a)
    sm = ndimage.gaussian_filter(a, 1.0)
    minima = (sm == ndimage.minimum_filter(sm, 25)) & (sm < np.quantile(sm, 0.002))
    yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    out = []
    for y, x in zip(*np.nonzero(minima), strict=True):
        if min(y, x) < 40 or y > a.shape[0] - 40 or x > a.shape[1] - 40:
            continue
        r = np.hypot(yy - y, xx - x).astype(int)
        prof = (np.bincount(r.ravel(), a.ravel()) / np.bincount(r.ravel()))[:24]
        out.append(float(prof[0] / prof[3:24].max()))
    return out


def test_reference_simulated_images_share_the_morphology(shared_dir: Path) -> None:
    # The Ko group's simulated LDOS images and ours: dark cores (below the median) surrounded by a
    # bright first ring (above it), core depth several times the ring height. In two of their seven
    # images (image_1068, image_1098) the deepest minima do not have that signature (ratio about
    # +30..+80), so the reference side asks for a two-thirds majority.
    from PIL import Image

    files = sorted((shared_dir / "reference" / "cu111_ko_group" / "simulated").glob("*.jpg"))
    if not files:
        pytest.skip("no reference simulated images")
    refs = [r for f in files for r in _core_ring_ratios(np.asarray(Image.open(f).convert("L"), float))]
    ours = _core_ring_ratios(
        sample_pair(
            np.random.default_rng(1),
            pixels=512,
            size=36e-9,
            n_impurities=6,
            bias=0.01,
            phase_shift="black-dot",
            step_probability=0.0,
        ).clean
    )
    assert refs and ours
    assert np.mean([r < -3 for r in refs]) > 2 / 3, refs
    assert all(r < -3 for r in ours), ours
