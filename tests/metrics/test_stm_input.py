"""STM-like input: metres, NaN rows, the 64x64 limit, constant images; behaviour on simulated maps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from stmdenoise.metrics import (
    MIN_SIZE,
    NotScorableError,
    brisque,
    line_artefact_index,
    noise_floor,
    piqe,
    scored_rows,
    to_uint8,
)
from stmdenoise.scan import Scan

NO_REFERENCE: list[Callable[[Any], float]] = [piqe, brisque, line_artefact_index, noise_floor]


def test_stm_noise_raises_piqe_and_line_index(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any], stm_noise: Callable[..., Any]
) -> None:
    clean = standing_wave_map(rng)
    s = float(clean.std())
    noisy = clean + stm_noise(rng, clean.shape, sigma=s, line_sigma=0.3 * s)
    assert piqe(noisy) > piqe(clean) + 10.0
    assert line_artefact_index(noisy) > 2.0 * line_artefact_index(clean)
    assert noise_floor(noisy) > 3.0 * noise_floor(clean)


def test_line_offsets_alone_raise_the_line_index_but_not_the_noise_floor(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any]
) -> None:
    clean = standing_wave_map(rng)
    lines = rng.normal(0.0, 0.3 * clean.std(), (clean.shape[0], 1))
    assert line_artefact_index(clean + lines) > 2.0 * line_artefact_index(clean)
    # the diagonal Haar band cancels a per-row offset exactly
    assert noise_floor(clean + lines) == pytest.approx(noise_floor(clean), rel=1e-9)


def test_noise_floor_recovers_white_noise_in_metres(rng: np.random.Generator) -> None:
    sigma = 3e-12
    flat_tilted = 1e-11 * np.add.outer(np.arange(256.0), 0.5 * np.arange(256.0))
    est = noise_floor(flat_tilted + rng.normal(0.0, sigma, (256, 256)))
    assert est == pytest.approx(sigma, rel=0.05)


@pytest.mark.parametrize("metric", NO_REFERENCE)
def test_64x64_crop_works_and_32x32_is_refused(
    metric: Callable[[Any], float],
    rng: np.random.Generator,
    standing_wave_map: Callable[..., Any],
    stm_noise: Callable[..., Any],
) -> None:
    clean = standing_wave_map(rng)
    noisy = clean + stm_noise(rng, clean.shape, sigma=float(clean.std()), line_sigma=0.0)
    assert np.isfinite(metric(noisy[:MIN_SIZE, :MIN_SIZE]))
    for shape in ((32, 32), (63, 64), (64, 63)):
        with pytest.raises(ValueError, match="64x64"):
            metric(noisy[: shape[0], : shape[1]])


@pytest.mark.parametrize("metric", NO_REFERENCE)
def test_nan_rows_of_an_aborted_scan_are_ignored(
    metric: Callable[[Any], float],
    rng: np.random.Generator,
    standing_wave_map: Callable[..., Any],
    stm_noise: Callable[..., Any],
) -> None:
    clean = standing_wave_map(rng)
    noisy = clean + stm_noise(rng, clean.shape, sigma=float(clean.std()), line_sigma=0.1 * clean.std())
    aborted = noisy.copy()
    aborted[100:] = np.nan  # scan stopped after 100 lines
    aborted[99, 70:] = np.nan  # ... in the middle of line 100
    assert scored_rows(aborted) == slice(0, 99)
    assert metric(aborted) == metric(noisy[:99])
    as_scan = Scan(aborted, pixel_size=(0.25e-9, 0.25e-9), channel="Z", unit="m")
    assert metric(as_scan) == metric(noisy[:99])


def test_nan_rows_at_the_top_and_middle_use_the_longest_complete_run(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any]
) -> None:
    img = standing_wave_map(rng)
    img[:10] = np.nan
    img[40] = np.nan  # rows 11..39 (29) and 41..127 (87): the second run wins
    assert scored_rows(img) == slice(41, 128)
    assert piqe(img) == piqe(img[41:])


@pytest.mark.parametrize("metric", NO_REFERENCE)
def test_too_few_complete_rows_is_not_scorable(
    metric: Callable[[Any], float], rng: np.random.Generator, standing_wave_map: Callable[..., Any]
) -> None:
    img = standing_wave_map(rng)
    img[50:] = np.nan
    with pytest.raises(NotScorableError, match="only 50 complete"):
        metric(img)
    with pytest.raises(NotScorableError, match="no complete"):
        metric(np.full((80, 80), np.nan))


@pytest.mark.parametrize("metric", NO_REFERENCE)
def test_constant_images_are_refused_not_scored(metric: Callable[[Any], float]) -> None:
    with pytest.raises(NotScorableError, match="constant"):
        metric(np.full((96, 96), 1.5e-10))


def test_to_uint8_is_a_per_image_min_max() -> None:
    z = np.linspace(-2e-10, 6e-10, 64 * 80).reshape(64, 80)
    g = to_uint8(z)
    assert g.dtype == np.uint8 and g.min() == 0 and g.max() == 255
    np.testing.assert_array_equal(g, to_uint8(5.0 * z + 1.0))  # units and offset do not matter
    expected = np.floor((z - z.min()) / (z.max() - z.min()) * 255.0 + 0.5)
    np.testing.assert_array_equal(g, expected)
