"""bench/quality.py's faithfulness measures on images whose answer is known."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quality():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "bench" / "quality.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cores(shape: tuple[int, int], centres: list[tuple[float, float]], signs: list[float]) -> np.ndarray:
    yy, xx = np.indices(shape, dtype=np.float64)
    img = 0.2 * np.cos(xx / 2.0)  # a wave background the detector must not latch onto
    for (y, x), s in zip(centres, signs, strict=True):
        img += s * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 2.0)
    return img


def test_core_recovery_counts_cores_at_the_clean_position(quality) -> None:  # type: ignore[no-untyped-def]
    centres = [(20.0, 20.0), (20.0, 50.0), (50.0, 30.0), (3.0, 40.0), (52.0, 33.0)]
    signs = [-1.0, 1.0, -1.0, -1.0, -1.0]
    clean = _cores((64, 64), centres, signs)
    # (3, 40) is at the edge, (50, 30) and (52, 33) overlap: only the first two count
    assert quality.core_recovery(clean, clean, centres) == (2, 2)
    moved = _cores((64, 64), [(22.0, 22.0), (20.0, 50.0), (50.0, 30.0), (3.0, 40.0), (52.0, 33.0)], signs)
    assert quality.core_recovery(clean, moved, centres) == (1, 2)  # the first core moved 2 px
    inverted = _cores((64, 64), centres, [1.0, -1.0, 1.0, 1.0, 1.0])
    assert (
        quality.core_recovery(clean, inverted, centres)[0] < 2
    )  # a dark core painted bright is not recovered


def test_wave_period_reads_the_fft_peak(quality) -> None:  # type: ignore[no-untyped-def]
    px = 0.14e-9
    xx = np.indices((256, 256))[1] * px
    img = np.cos(2 * np.pi * xx / 1.5e-9)
    assert abs(quality.wave_period(img, px) - 1.5e-9) / 1.5e-9 < 0.02
