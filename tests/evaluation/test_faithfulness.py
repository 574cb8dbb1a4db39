"""stmdenoise.evaluation.faithfulness (bench/quality.py's measures) on images whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def quality():  # type: ignore[no-untyped-def]
    from stmdenoise.evaluation import faithfulness

    return faithfulness


def _cores(shape: tuple[int, int], centres: list[tuple[float, float]], signs: list[float]) -> np.ndarray:
    yy, xx = np.indices(shape, dtype=np.float64)
    img = 0.2 * np.cos(xx / 2.0)  # a wave background the detector must not latch onto
    for (y, x), s in zip(centres, signs, strict=True):
        img += s * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 4.0)
    return img


CENTRES = [(20.0, 20.0), (20.0, 50.0), (48.0, 30.0), (3.0, 40.0), (52.0, 36.0)]
SIGNS = [-1.0, 1.0, -1.0, -1.0, -1.0]


def test_core_recovery_counts_cores_at_the_clean_position(quality) -> None:  # type: ignore[no-untyped-def]
    clean = _cores((64, 64), CENTRES, SIGNS)
    # (3, 40) is at the edge, (48, 30) and (52, 36) overlap: only the first two count
    assert quality.core_recovery(clean, clean, CENTRES) == (2, 2)
    moved = _cores((64, 64), [(21.5, 21.0), *CENTRES[1:]], SIGNS)
    assert quality.core_recovery(clean, moved, CENTRES) == (1, 2)  # the first core moved 1.8 px
    inverted = _cores((64, 64), CENTRES, [-s for s in SIGNS])
    assert quality.core_recovery(clean, inverted, CENTRES) == (0, 2)  # painted with the other sign
    faded = clean - 0.7 * (_cores((64, 64), CENTRES, SIGNS) - _cores((64, 64), CENTRES, [0.0] * 5))
    assert quality.core_recovery(clean, faded, CENTRES) == (0, 2)  # erased to 30 % of its depth


def _disks(centres: list[tuple[float, float]], signs: list[float], radius: float = 3.0) -> np.ndarray:
    yy, xx = np.indices((64, 64), dtype=np.float64)
    img = 0.2 * np.cos(xx / 2.0)
    for (y, x), s in zip(centres, signs, strict=True):
        img += s / (1.0 + np.exp((np.hypot(yy - y, xx - x) - radius) / 0.3))
    return img


def test_flat_bottomed_cores_are_located_by_their_centroid(quality) -> None:  # type: ignore[no-untyped-def]
    # simulated black dots have wide, nearly flat bottoms (the scatterer distance is clamped):
    # their extreme pixel says little about where they are; the half-depth centroid does
    clean = _disks(CENTRES, SIGNS)
    rng = np.random.default_rng(3)
    noisy = [clean + 0.03 * rng.standard_normal(clean.shape) for _ in range(10)]
    assert sum(quality.core_recovery(clean, x, CENTRES)[0] for x in noisy) == 20
    moved = _disks([(20.0, 22.0), *CENTRES[1:]], SIGNS)  # 2 px: the extreme-pixel detector missed this
    assert quality.core_recovery(clean, moved, CENTRES) == (1, 2)


def test_adsorbate_heights_compare_bumps_over_their_surroundings(quality) -> None:  # type: ignore[no-untyped-def]
    ads = [(20.0, 20.0), (40.0, 44.0), (2.0, 30.0), (45.0, 20.0)]
    imps = [(47.0, 22.0)]  # next to the last adsorbate: not counted; (2, 30) is at the edge
    yy, xx = np.indices((64, 64), dtype=np.float64)
    wave = 0.05 * np.cos(xx / 2.0)  # standing waves are a few pm under 30-80 pm bumps
    bumps = sum(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 4.0) for y, x in ads)
    clean = wave + bumps
    assert quality.adsorbate_heights(clean, clean, ads, imps) == pytest.approx([1.0, 1.0])
    assert quality.adsorbate_heights(clean, wave + 0.5 * bumps, ads, imps) == pytest.approx(
        [0.5, 0.5], abs=0.1
    )
    assert max(quality.adsorbate_heights(clean, wave, ads, imps)) < 0.2  # erased


def test_wave_period_reads_the_fft_peak(quality) -> None:  # type: ignore[no-untyped-def]
    px = 0.14e-9
    xx = np.indices((256, 256))[1] * px
    img = np.cos(2 * np.pi * xx / 1.5e-9)
    assert abs(quality.wave_period(img, px) - 1.5e-9) / 1.5e-9 < 0.02
