"""Overlapping-tile Fourier filtering: one gain per tile, one per row of each tile."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from stmdenoise.jobs import JobCancelled
from stmdenoise.model.fourier_tiles import HALF, SKIP, STRIDE, TILE, filter_rows, filter_tiles, tile_corners


def test_a_gain_of_one_returns_the_block_and_cancel_stops() -> None:
    z = np.random.default_rng(0).normal(size=(130, 75))
    np.testing.assert_allclose(filter_tiles(z, lambda _s: np.ones((TILE, HALF))), z, atol=1e-12)
    corners = tile_corners(*z.shape)
    classes = np.zeros((len(corners), TILE), dtype=np.int64)
    np.testing.assert_allclose(filter_rows(z, {0: np.ones((TILE, HALF))}, classes), z, atol=1e-12)
    stop = threading.Event()
    stop.set()
    with pytest.raises(JobCancelled):
        filter_rows(z, {0: np.ones((TILE, HALF))}, classes, stop)


def test_filter_rows_gives_each_row_the_shift_invariant_filter_of_its_class() -> None:
    """Row by row, :func:`filter_rows` equals :func:`filter_tiles` with the row's gain (classes may
    be negative); rows of class SKIP come back unchanged; a class array of the wrong shape is refused."""
    from stmdenoise.model.fourier_tiles import (
        HALF,
        TILE,
        filter_rows,
        filter_tiles,
        tile_corners,
    )

    rng = np.random.default_rng(3)
    z = rng.normal(size=(150, 130))
    gains = {-1: rng.uniform(size=(TILE, HALF)), 4: rng.uniform(size=(TILE, HALF))}
    row = np.where((np.arange(150) // 16) % 2 == 0, -1, 4)
    row[140:] = SKIP
    corners = tile_corners(*z.shape)
    padded = np.full(corners[-1][0] + TILE, SKIP)
    padded[STRIDE : STRIDE + 150] = row
    classes = np.stack([padded[i : i + TILE] for i, _j in corners])
    out = filter_rows(z, gains, classes)
    for k, g in gains.items():
        np.testing.assert_allclose(out[row == k], filter_tiles(z, lambda _s, g=g: g)[row == k], atol=1e-12)
    np.testing.assert_array_equal(out[140:], z[140:])
    with pytest.raises(ValueError, match="classes must have shape"):
        filter_rows(z, gains, classes[1:])


def test_several_gains_transform_each_tile_once_and_give_what_each_alone_gives() -> None:
    """filter_tiles_each: the two-direction filter's two parities (and the second look) share one
    transform per tile; each output is filter_tiles' with that gain, to the bit."""
    from stmdenoise.model.fourier_tiles import HALF, TILE, filter_tiles, filter_tiles_each

    rng = np.random.default_rng(3)
    lev = rng.normal(size=(150, 170))
    k = np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.fftfreq(TILE)[None, :HALF])
    gains = [np.exp(-((k / 0.1) ** 2))[None], np.clip(1.0 - k, 0.0, 1.0)[None]]
    together = filter_tiles_each(lev, [lambda _s, g=g: g for g in gains])
    for g, out in zip(gains, together, strict=True):
        np.testing.assert_array_equal(out, filter_tiles(lev, lambda _s, g=g: g))
    assert not np.allclose(together[0], together[1])


def test_a_gain_given_as_an_array_serves_every_tile_as_the_same_gain_returned_per_chunk() -> None:
    """An array gain (shift-invariant, what the two-direction Wiener passes) takes the tiles'
    real-input transform: the same filter as that gain returned by a callable, to rounding, and
    larger than one chunk of tiles (several chunks, CHUNK) alike; a mean-changing gain at k = 0 is
    still overruled (the mean kept)."""
    from stmdenoise.model.fourier_tiles import (
        CHUNK,
        HALF,
        TILE,
        filter_tiles,
        filter_tiles_each,
        tile_corners,
    )

    rng = np.random.default_rng(4)
    lev = rng.normal(size=(300, 900)) + 5.0
    assert len(tile_corners(*lev.shape)) > CHUNK
    k = np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.fftfreq(TILE)[None, :HALF])
    g = np.exp(-((k / 0.15) ** 2))
    g[0, 0] = 0.0  # asks to remove the mean: not honoured
    as_array = filter_tiles_each(lev, [g, 0.5 * g])
    np.testing.assert_allclose(as_array[0], filter_tiles(lev, lambda _s: g), atol=1e-12)
    np.testing.assert_allclose(as_array[1], filter_tiles(lev, lambda _s: 0.5 * g), atol=1e-12)
    assert abs(float(as_array[0].mean()) - 5.0) < 0.05
    assert g[0, 0] == 0.0  # the caller's array is not changed


def test_a_gain_read_from_the_half_plane_filters_as_the_full_spectrum_callable_s() -> None:
    """OnHalfPlane (the local floor's per-tile gain) sees each chunk's rfft2 spectra and filters as a
    callable of the full spectra returning the same gains does, to rounding, over several chunks;
    the mean is kept whatever it returns at k = 0."""
    from stmdenoise.model.fourier_tiles import CHUNK, OnHalfPlane, filter_tiles_each

    rng = np.random.default_rng(5)
    lev = rng.normal(size=(200, 700)) + 3.0
    assert len(tile_corners(*lev.shape)) > CHUNK
    seen: list[tuple[int, ...]] = []

    def per_tile(x: np.ndarray) -> np.ndarray:  # each tile's own gain from its own spectrum
        power = np.abs(x) ** 2
        g = power / (power + np.median(power, axis=(1, 2), keepdims=True))
        g[:, 0, 0] = 0.0  # asks to remove the mean: not honoured
        return g

    def recorded(x: np.ndarray) -> np.ndarray:
        seen.append(x.shape)
        return per_tile(x)

    half = filter_tiles_each(lev, [OnHalfPlane(recorded)])[0]
    full = filter_tiles(lev, lambda x: per_tile(x[:, :, :HALF]))
    assert all(s[1:] == (TILE, HALF) for s in seen)
    np.testing.assert_allclose(half, full, atol=1e-10)
    assert not np.allclose(half, lev, atol=0.1)
    assert abs(float(half.mean()) - 3.0) < 0.05
