"""Apparent heights: an output that keeps the features standing far above the noise passes, one that
shrinks them is named (stmdenoise.metrics.heights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics.heights import HEIGHT_LOSS, notice_for, strong_contrast


def _molecules(seed: int, n: int = 128) -> np.ndarray:
    """Blobs 300-600x the unit noise (a molecule 2 Å high over 5 pm of noise): their Fourier
    components stand far above it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    s = np.zeros((n, n))
    for _ in range(6):
        cy, cx = rng.uniform(15, n - 15, 2)
        s += rng.uniform(300, 600) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(3, 6) ** 2))
    return s


@pytest.mark.parametrize("seed", range(3))
def test_removing_noise_keeps_the_strong_features_whole(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = _molecules(seed)
    noise = rng.normal(size=s.shape)
    raw = s + noise
    for share in (0.5, 1.0):  # what a filter that removes only noise leaves
        m = strong_contrast(raw, s + (1 - share) * noise)
        assert m is not None and m.components >= 8
        assert m.kept > 1 - HEIGHT_LOSS / 4
        assert notice_for(strong_contrast(raw, s + (1 - share) * noise)) is None


def test_a_gain_that_never_reaches_one_is_named_with_its_loss() -> None:
    rng = np.random.default_rng(4)
    raw = _molecules(4) + rng.normal(size=(128, 128))
    m = strong_contrast(raw, 0.98 * raw)
    assert m is not None and m.kept == pytest.approx(0.98, abs=1e-9)
    said = notice_for(strong_contrast(raw, 0.98 * raw))
    assert said is not None and "2.0 % weaker" in said and f"{m.components} Fourier components" in said


def test_a_blur_that_flattens_molecules_is_named() -> None:
    rng = np.random.default_rng(5)
    raw = _molecules(5) + rng.normal(size=(128, 128))
    assert notice_for(strong_contrast(raw, ndimage.gaussian_filter(raw, 2.0))) is not None


def test_nothing_strong_or_too_little_gives_no_measure() -> None:
    rng = np.random.default_rng(6)
    noise = rng.normal(size=(64, 64))
    assert strong_contrast(noise, 0.5 * noise) is None  # no component stands far above the noise
    assert strong_contrast(noise[:5], noise[:5]) is None  # too few rows
    plane = np.add.outer(np.arange(64.0), 2 * np.arange(64.0))
    assert strong_contrast(plane, 0.5 * plane) is None  # no noise floor to stand above


def test_many_strong_components_are_read_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded: the neighbourhoods are read in chunks, with the same answer."""
    import stmdenoise.metrics.heights as heights

    rng = np.random.default_rng(10)
    raw = _molecules(10) + rng.normal(size=(128, 128))
    whole = strong_contrast(raw, 0.97 * raw)
    monkeypatch.setattr(heights, "_CHUNK", 7)
    assert strong_contrast(raw, 0.97 * raw) == whole and whole is not None and whole.components > 7


def test_unmeasured_rows_are_left_out_and_shapes_must_match() -> None:
    rng = np.random.default_rng(7)
    raw = _molecules(7) + rng.normal(size=(128, 128))
    out = 0.95 * raw
    raw_gap, out_gap = raw.copy(), out.copy()
    raw_gap[40, 3] = np.nan
    m = strong_contrast(raw_gap, out_gap)
    assert m is not None and m.kept == pytest.approx(0.95, abs=1e-9)
    with pytest.raises(ValueError, match="one shape"):
        strong_contrast(raw, raw[:-1])


def test_removing_interference_peaks_is_not_named() -> None:
    """Stripes of mains pickup stand far above the noise as sharp peaks: a filter may rightly
    remove them, and they are not features whose height anyone measures."""
    rng = np.random.default_rng(9)
    yy, xx = np.mgrid[0:128, 0:128]
    s = _molecules(9)
    stripes = 40.0 * np.sin(2 * np.pi * (xx * 0.13 + yy * 0.05))
    raw = s + stripes + rng.normal(size=s.shape)
    assert notice_for(strong_contrast(raw, raw - stripes)) is None
    m = strong_contrast(raw, raw - stripes)
    assert m is not None and m.kept > 0.99  # measured on the molecules alone


@pytest.mark.realdata
def test_the_bench_names_what_loses_heights_and_not_interference_or_a_faithful_output(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """bench/heights.py on the shared data: the Ko frames' strongest components are sharp
    interference peaks (no measure); the two-direction filter keeps the Createc step's Z whole (not
    named); its output of pySPM_test Z, whose directions' edges differ, and of the STM_nanonis
    current (a feedback-error current, whose negated second look differs at large scales) are
    named; the single-frame gain keeps that current's strong components whole since version 2.28
    (0.965 before: its sigmoid never reached 1; docs/model-selection.md, candidate DE)."""
    from tests.bench_loader import load_bench

    heights = load_bench("heights")
    assert heights.main(["--root", str(shared_dir / "realdata")]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[(cells[0], cells[1])] = cells
    ko = [r for (label, _), r in rows.items() if label.startswith("Ko ")]
    assert len(ko) == 3 and all(r[4] == "–" and r[6] == "" for r in ko)
    step = rows[("createc_scan_step_20nm.dat Z forward", "two directions")]
    assert float(step[4]) > 0.999 and step[6] == ""
    assert rows[("pySPM_test.sxm Z forward", "two directions")][6] == "yes"
    paired = rows[("STM_nanonis_generic_4_5.sxm Current forward", "two directions")]
    assert float(paired[4]) < 0.99 and paired[6] == "yes"
    alone = rows[("STM_nanonis_generic_4_5.sxm Current forward", "single frame")]
    assert float(alone[4]) > 0.999 and alone[6] == ""


@pytest.mark.parametrize(("angle", "measured_under", "not_under"), [(0.0, 0.03, 0.1), (20.0, 0.1, 0.4)])
def test_a_straight_step_is_measured_only_under_low_noise(
    angle: float, measured_under: float, not_under: float
) -> None:
    """What the module docstring says of straight steps: their longest-period components lie on one
    line of the spectrum and count as sharp; only under low noise do enough others stand 10^5 above it."""
    yy, xx = np.mgrid[0:256, 0:256]
    across = (xx - 128) * np.cos(np.radians(angle)) + (yy - 128) * np.sin(np.radians(angle))
    step = 2.08 / (1 + np.exp(-across / 1.5))
    rng = np.random.default_rng(0)
    low = step + measured_under * rng.normal(size=step.shape)
    m = strong_contrast(low, 0.97 * low)
    assert m is not None and m.kept == pytest.approx(0.97)
    assert strong_contrast(step + not_under * rng.normal(size=step.shape), step) is None
