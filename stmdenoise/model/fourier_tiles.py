"""Overlapping-tile Fourier filtering: the frame both real-scan filters work in.

A levelled block is reflect-padded by half a tile, cut into :data:`TILE` x :data:`TILE` tiles at
50 % overlap, each multiplied by a sqrt-Hann :data:`WINDOW`, Fourier transformed, its half-plane
coefficients (``rfft2`` layout, :data:`HALF` columns) multiplied by a gain in [0, 1] (the mean, k
= 0, kept), inverse transformed, windowed again and blended back: analysis times synthesis windows
sum to one, so a gain of 1 everywhere returns the block. :func:`filter_tiles` takes one gain per
tile (the spectral gain's learnt gains, the two-direction Wiener's shared one);
:func:`filter_rows` one per row of each tile (the two-direction Wiener's per-row noise levels).
Besides the block-sized sums, the transforms hold one chunk of :data:`CHUNK` tiles at a time.

>>> import numpy as np
>>> z = np.random.default_rng(0).normal(size=(70, 90))
>>> bool(np.allclose(filter_tiles(z, lambda spectra: np.ones((TILE, HALF))), z))
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import fft

from stmdenoise.jobs import JobCancelled

__all__ = [
    "CHUNK",
    "HALF",
    "SKIP",
    "STRIDE",
    "TILE",
    "WINDOW",
    "OnHalfPlane",
    "filter_rows",
    "filter_tiles_each",
    "filter_tiles",
    "tile_corners",
    "tile_spectra",
    "tiles",
]

Array = NDArray[np.float64]

#: Tile side (pixels) and step: 50 % overlap.
TILE = 64
STRIDE = TILE // 2
_W1 = np.sin(np.pi * (np.arange(TILE) + 0.5) / TILE)
#: Columns of a tile spectrum that irfft2 needs (the gains are even in k).
HALF = TILE // 2 + 1
#: sqrt-Hann: analysis x synthesis windows sum to 1 at 50 % overlap.
WINDOW = np.outer(_W1, _W1)
#: Tiles transformed at once (bounds the spectral gain's feature stack: about 170 kB per tile).
#: 64: the chunk's spectra and inverse transforms (about 2-4 MB) stay in the processor's cache; 256
#: took 17 % longer for the two-direction Wiener at 512² and 19 % for the spectral gain, with the
#: same outputs to the bit (each tile is transformed, and its features made, on its own).
CHUNK = 64
#: Class of a row :func:`filter_rows` leaves alone.
SKIP = -(2**31)


@dataclass(frozen=True)
class OnHalfPlane:
    """A gain each tile reads from its own half-plane spectrum: ``gains`` maps a chunk's ``rfft2``
    spectra (n, TILE, HALF) to their gains (n, TILE, HALF); the mean (k = 0) is kept by the caller.
    Unlike a callable of the full spectra, it lets :func:`filter_tiles_each` keep the real-input
    transform."""

    gains: Callable[[NDArray[np.complex128]], Array]


def tile_spectra(v: Array, pos: list[tuple[int, int]], *, half: bool = False) -> NDArray[np.complex128]:
    """Full spectra (n, TILE, TILE) of the windowed tiles of padded ``v`` at corners ``pos``, or
    (``half``) only the :data:`HALF` columns a real tile's inverse transform needs (``rfft2``)."""
    windowed = np.stack([v[i : i + TILE, j : j + TILE] for i, j in pos]) * WINDOW
    return fft.rfft2(windowed) if half else fft.fft2(windowed)


def _padding(rows: int, cols: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Half a tile on each side, and up to a whole number of steps at the end."""
    return (STRIDE, STRIDE + (-rows) % STRIDE), (STRIDE, STRIDE + (-cols) % STRIDE)


def tile_corners(rows: int, cols: int) -> list[tuple[int, int]]:
    """Top-left corners of the tiles of a ``rows`` x ``cols`` image, in padded coordinates."""
    (t, b), (left, right) = _padding(rows, cols)
    return [
        (i, j)
        for i in range(0, rows + t + b - TILE + 1, STRIDE)
        for j in range(0, cols + left + right - TILE + 1, STRIDE)
    ]


def tiles(u: Array) -> tuple[Array, list[tuple[int, int]]]:
    """``u`` reflect-padded (:func:`_padding`) and the tile corners."""
    v = np.pad(u, _padding(*u.shape), mode="reflect")  # reflected repeatedly when a pad exceeds u
    return v, tile_corners(*u.shape)


def filter_tiles(
    lev: Array,
    gains: Callable[[NDArray[np.complex128]], Array] | Array,
    cancel: threading.Event | None = None,
    tick: Callable[[], None] | None = None,
) -> Array:
    """``lev`` (a levelled block of complete rows) filtered tile by tile: every :data:`TILE`-px tile
    (50 % overlap, sqrt-Hann windows) is Fourier transformed, its half-plane coefficients
    (``rfft2`` layout, :data:`HALF` columns) multiplied by ``gains(spectra)`` of the chunk's full
    spectra (n, TILE, TILE), the mean (k = 0) kept, and the tiles blended back; or, ``gains`` an
    array (TILE x HALF), by that one gain in every tile (shift-invariant; the tiles' half-plane
    spectra are all it needs). ``cancel`` is checked and ``tick()`` called after each chunk of
    :data:`CHUNK` tiles."""
    return filter_tiles_each(lev, [gains], cancel, tick)[0]


def filter_tiles_each(
    lev: Array,
    gains: Sequence[Callable[[NDArray[np.complex128]], Array] | Array | OnHalfPlane],
    cancel: threading.Event | None = None,
    tick: Callable[[], None] | None = None,
) -> list[Array]:
    """:func:`filter_tiles` with each of ``gains``, the tiles transformed once for all of them:
    one output per gain, each exactly what :func:`filter_tiles` gives with it. Where no gain is a
    callable of the full spectra (each an array or :class:`OnHalfPlane`), the tiles get the
    real-input transform (``rfft2``, about half the work)."""
    v, pos = tiles(lev)
    fixed = [_with_mean(g) if isinstance(g, np.ndarray) else None for g in gains]
    half = all(not callable(g) for g in gains)
    acc = [np.zeros_like(v) for _ in gains]
    wsum = np.zeros_like(v)
    for c in range(0, len(pos), CHUNK):
        if cancel is not None and cancel.is_set():
            raise JobCancelled("denoising cancelled")
        part = pos[c : c + CHUNK]
        x_f = tile_spectra(v, part, half=half)
        x_h = x_f if half else x_f[:, :, :HALF]
        for gain, g_fixed, total in zip(gains, fixed, acc, strict=True):
            if g_fixed is not None:
                g = g_fixed
            else:
                if isinstance(gain, OnHalfPlane):
                    read = gain.gains(x_h)
                else:
                    assert callable(gain)
                    read = gain(x_f)
                g = np.array(np.broadcast_to(read, (len(part), TILE, HALF)), dtype=np.float64)
                g[:, 0, 0] = 1.0
            out_t = fft.irfft2(x_h * g, s=(TILE, TILE))
            out_t *= WINDOW
            for (i, j), o in zip(part, out_t, strict=True):
                total[i : i + TILE, j : j + TILE] += o
        for i, j in part:
            wsum[i : i + TILE, j : j + TILE] += WINDOW**2
        if tick is not None:
            tick()
    h, w = lev.shape
    weight = np.maximum(wsum, 1e-12)
    return [np.asarray((total / weight)[STRIDE : STRIDE + h, STRIDE : STRIDE + w]) for total in acc]


def _with_mean(g: Array) -> Array:
    """A copy of gain ``g`` (TILE x HALF, or broadcasting to it) with the mean (k = 0) kept."""
    g = np.array(np.broadcast_to(g, (TILE, HALF)), dtype=np.float64)
    g[0, 0] = 1.0
    return g


def filter_rows(
    lev: Array,
    gains: Mapping[int, Array],
    classes: NDArray[np.integer[Any]],
    cancel: threading.Event | None = None,
) -> Array:
    """``lev`` filtered tile by tile as :func:`filter_tiles` does, each row of each tile with its
    own gain: ``classes[t, r]`` names the gain (a key of ``gains``, :data:`TILE` x :data:`HALF`)
    for row ``r`` of tile ``t`` (:func:`tile_corners` order, padded rows included). A row with the
    same class in every tile covering it comes out exactly as the shift-invariant filter with that
    gain would make it. A tile is transformed once and inverse transformed once per class among its
    rows. Rows whose class is :data:`SKIP` in every tile covering them come back unchanged."""
    v, pos = tiles(lev)
    h, w = lev.shape
    if classes.shape != (len(pos), TILE):
        raise ValueError(f"classes must have shape {(len(pos), TILE)}, got {classes.shape}")
    acc = np.zeros_like(v)
    wsum = np.zeros_like(v)
    done = np.zeros(v.shape[0], dtype=bool)
    for c in range(0, len(pos), CHUNK):
        if cancel is not None and cancel.is_set():
            raise JobCancelled("denoising cancelled")
        part = pos[c : c + CHUNK]
        x_f = tile_spectra(v, part, half=True)
        cls = classes[c : c + CHUNK]
        for i, j in part:
            wsum[i : i + TILE, j : j + TILE] += WINDOW**2
        for k in (int(x) for x in np.unique(cls) if x != SKIP):
            with_k = np.flatnonzero((cls == k).any(axis=1))
            out_t = fft.irfft2(x_f[with_k] * _with_mean(gains[k]), s=(TILE, TILE))
            out_t *= WINDOW
            for t, o in zip(with_k, out_t, strict=True):
                i, j = part[t]
                rows = cls[t] == k
                acc[i : i + TILE, j : j + TILE][rows] += o[rows]
                done[i : i + TILE][rows] = True
    out = (acc / np.maximum(wsum, 1e-12))[STRIDE : STRIDE + h, STRIDE : STRIDE + w]
    return np.asarray(np.where(done[STRIDE : STRIDE + h, None], out, lev))
