"""Tiles for inference on large scans: aligned tile positions, feathered blending, padding, and
the mirrored self-ensemble (:func:`mirror_average`).

Typical use (``f`` maps an image block to a block of the same shape)::

    padded, crop = pad_to_multiple(image, 4)
    tiles = ((sl, f(padded[sl])) for sl in iter_tiles(padded.shape, tile=512, overlap=128))
    result = blend_tiles(padded.shape, tiles, overlap=128)[crop]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.processing._common import FloatArray, as_image, as_pair

__all__ = [
    "PASSES",
    "tile_starts",
    "iter_tiles",
    "feather_window",
    "blend_tiles",
    "mirror_average",
    "pad_to_multiple",
]

PadMode = Literal["reflect", "symmetric", "edge", "constant"]
_PAD_MODES = ("reflect", "symmetric", "edge", "constant")


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def tile_starts(length: int, *, tile: int, overlap: int, align: int = 4) -> list[int]:
    """Start positions of tiles covering ``[0, length)`` along one axis.

    Parameters
    ----------
    length : int
        Pixels along the axis (>= 1).
    tile : int
        Tile size in pixels. A tile is ``[start, min(start + tile, length))``.
    overlap : int
        Minimum overlap in pixels between neighbouring tiles (0 <= overlap < tile).
    align : int
        Every start is a multiple of ``align`` (the network's total stride, 4).

    Returns
    -------
    list of int
        Strictly increasing starts, the first 0. Neighbouring tiles overlap by at least
        ``overlap`` pixels and the tiles cover ``[0, length)``. When ``length <= tile`` there
        is one tile. Otherwise the last tile ends exactly at ``length`` and is full size when
        ``length - tile`` is a multiple of ``align`` (pad the image with
        :func:`pad_to_multiple` first to guarantee it); if not, its start is rounded up to
        the next multiple of ``align`` and the last tile is shorter. The spacing is spread
        as evenly as the alignment allows, using as few tiles as possible.

    Raises
    ------
    ValueError
        For non-positive sizes, ``overlap >= tile`` or ``tile - overlap < align`` (the
        aligned step would be 0).

    Examples
    --------
    >>> tile_starts(1024, tile=512, overlap=128)
    [0, 256, 512]
    >>> tile_starts(300, tile=512, overlap=128)
    [0]
    """
    length = _check_int(length, "length", 1)
    tile = _check_int(tile, "tile", 1)
    overlap = _check_int(overlap, "overlap", 0)
    align = _check_int(align, "align", 1)
    if overlap >= tile:
        raise ValueError(f"overlap must be smaller than tile ({tile}), got {overlap}")
    step = (tile - overlap) // align  # largest aligned step, in units of align
    if step < 1:
        raise ValueError(
            f"tile - overlap must be at least align ({align}) for aligned tiles, "
            f"got tile={tile}, overlap={overlap}"
        )
    if length <= tile:
        return [0]
    last = -(-(length - tile) // align)  # last start in units of align, rounded up: covers the end
    n_gaps = -(-last // step)
    # Integer spreading: gaps differ by at most one unit and never exceed ``step``.
    return [align * ((i * last) // n_gaps) for i in range(n_gaps + 1)]


def iter_tiles(
    shape: tuple[int, int], *, tile: int | tuple[int, int], overlap: int | tuple[int, int], align: int = 4
) -> Iterator[tuple[slice, slice]]:
    """Yield ``(row_slice, col_slice)`` of overlapping tiles covering an image, row-major.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)`` of the image.
    tile : int or (int, int)
        Tile size in pixels, for both axes or ``(rows, cols)``.
    overlap : int or (int, int)
        Minimum overlap between neighbouring tiles, pixels.
    align : int
        Tile starts are multiples of ``align`` on both axes.

    Yields
    ------
    (slice, slice)
        Row and column slices of one tile, clipped to the image; see :func:`tile_starts`.

    Examples
    --------
    >>> [(r.start, r.stop, c.start, c.stop) for r, c in iter_tiles((8, 12), tile=8, overlap=4)]
    [(0, 8, 0, 8), (0, 8, 4, 12)]
    """
    rows, cols = as_pair(shape, name="shape")
    th, tw = as_pair(tile, name="tile")
    oh, ow = as_pair(overlap, name="overlap")
    row_starts = tile_starts(rows, tile=th, overlap=oh, align=align)
    col_starts = tile_starts(cols, tile=tw, overlap=ow, align=align)
    for r in row_starts:
        for c in col_starts:
            yield slice(r, min(r + th, rows)), slice(c, min(c + tw, cols))


def _ramp(n: int, overlap: int) -> FloatArray:
    """1-D window: raised-cosine ramps over ``overlap`` pixels at both ends, 1 in between."""
    w = np.ones(n)
    if overlap == 0:
        return w
    i = np.arange(n)
    rise = np.sin(0.5 * np.pi * np.minimum(i + 0.5, overlap) / overlap) ** 2
    # min() of the rising and the mirrored ramp: windows shorter than 2 * overlap stay positive.
    return np.minimum(rise, rise[::-1])


@lru_cache(maxsize=32)
def _window(rows: int, cols: int, oh: int, ow: int) -> FloatArray:
    w = np.outer(_ramp(rows, oh), _ramp(cols, ow))
    w.setflags(write=False)
    return w


def feather_window(shape: tuple[int, int], *, overlap: int | tuple[int, int]) -> FloatArray:
    """Blending weights for one tile: raised-cosine ramps over ``overlap`` px at each edge.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)`` of the tile.
    overlap : int or (int, int)
        Ramp length in pixels (rows, cols); 0 gives a flat window.

    Returns
    -------
    ndarray of float64, shape ``shape``
        Separable window in (0, 1]: along each axis ``sin²(π (i + 0.5) / (2 overlap))`` for the
        first ``overlap`` pixels, mirrored at the far edge, 1 in between. Strictly positive
        everywhere (the edge pixels weigh ``sin²(π / (4 overlap))``), so summed weights never
        vanish. Two tiles overlapping by exactly ``overlap`` pixels have weights that sum
        to 1 across the overlap. A read-only array (shared between calls).

    Examples
    --------
    >>> w = feather_window((8, 10), overlap=2)
    >>> bool(w.min() > 0), float(w.max())
    (True, 1.0)
    """
    rows, cols = as_pair(shape, name="shape")
    oh, ow = as_pair(overlap, name="overlap")
    if rows < 1 or cols < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    if oh < 0 or ow < 0:
        raise ValueError(f"overlap must be >= 0, got {overlap!r}")
    return _window(rows, cols, oh, ow)


def blend_tiles(
    shape: tuple[int, int],
    tiles_with_slices: Iterable[tuple[tuple[slice, slice], ArrayLike]],
    *,
    overlap: int | tuple[int, int],
) -> FloatArray:
    """Assemble overlapping tiles into one image with feathered weights.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)`` of the full image.
    tiles_with_slices : iterable of ((slice, slice), ndarray)
        Each item is ``((row_slice, col_slice), tile)`` as produced from :func:`iter_tiles`;
        ``tile`` has the shape of the slice. Consumed lazily (a generator keeps only one
        tile in memory).
    overlap : int or (int, int)
        Ramp length of :func:`feather_window` (normally the tiling's overlap).

    Returns
    -------
    ndarray of float64, shape ``shape``
        Per pixel, the weighted mean of the finite tile values covering it. A pixel that
        is NaN in every tile covering it stays NaN; NaN in one tile never spreads to its
        neighbours. Where all tiles agree the result equals them (up to rounding).

    Raises
    ------
    ValueError
        If a tile's shape does not match its slice, a slice falls outside ``shape``, or some
        pixel is covered by no tile.
    """
    rows, cols = as_pair(shape, name="shape")
    acc = np.zeros((rows, cols))
    weight = np.zeros((rows, cols))
    covered = np.zeros((rows, cols), dtype=bool)
    for (rs, cs), tile in tiles_with_slices:
        t = np.asarray(tile, dtype=np.float64)
        r0, r1, rstep = rs.indices(rows)
        c0, c1, cstep = cs.indices(cols)
        if (
            rstep != 1
            or cstep != 1
            or (rs.stop is not None and rs.stop > rows)
            or (cs.stop is not None and cs.stop > cols)
        ):
            raise ValueError(f"tile slice {(rs, cs)} must be contiguous and inside shape {(rows, cols)}")
        if t.shape != (r1 - r0, c1 - c0):
            raise ValueError(f"tile of shape {t.shape} does not match its slice {(rs, cs)}")
        w = feather_window(t.shape, overlap=overlap)
        finite = np.isfinite(t)
        acc[rs, cs] += np.where(finite, t * w, 0.0)
        weight[rs, cs] += np.where(finite, w, 0.0)
        covered[rs, cs] = True
    if not covered.all():
        missing = np.argwhere(~covered)[0]
        raise ValueError(f"tiles do not cover the image: pixel {tuple(int(v) for v in missing)} has no tile")
    out = np.full((rows, cols), np.nan)
    np.divide(acc, weight, out=out, where=weight > 0)
    return out


def pad_to_multiple(
    data: ArrayLike, multiple: int | tuple[int, int], *, mode: PadMode = "reflect"
) -> tuple[FloatArray, tuple[slice, slice]]:
    """Pad an image at the bottom and right so both sizes are multiples of ``multiple``.

    Parameters
    ----------
    data : ndarray, shape (rows, cols)
        Image; NaN is padded like any value (reflected NaN rows stay NaN).
    multiple : int or (int, int)
        Required multiple for (rows, cols), >= 1.
    mode : {"reflect", "symmetric", "edge", "constant"}
        Padding mode of :func:`numpy.pad` (``"constant"`` pads zeros).

    Returns
    -------
    padded : ndarray of float64, shape (rows', cols')
        A new array; ``rows'`` and ``cols'`` are the smallest multiples >= rows, cols.
    crop : (slice, slice)
        ``padded[crop]`` is the original image.

    Examples
    --------
    >>> import numpy as np
    >>> padded, crop = pad_to_multiple(np.zeros((5, 8)), 4)
    >>> padded.shape, crop
    ((8, 8), (slice(0, 5, None), slice(0, 8, None)))
    """
    arr, _ = as_image(data)
    mh, mw = as_pair(multiple, name="multiple")
    if mh < 1 or mw < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple!r}")
    if mode not in _PAD_MODES:
        raise ValueError(f"mode must be one of {_PAD_MODES}, got {mode!r}")
    rows, cols = arr.shape
    pad_r = -rows % mh
    pad_c = -cols % mw
    padded: NDArray[np.float64] = np.pad(arr, ((0, pad_r), (0, pad_c)), mode=mode)
    return padded, (slice(0, rows), slice(0, cols))


# --------------------------------------------------------------------------- self-ensemble


def _identity(a: NDArray[Any]) -> NDArray[Any]:
    return a


#: Mirrorings averaged by ``stmdenoise.denoise.Denoiser.denoise(passes=N)``: the first N. Each
#: keeps rows as rows (the fast-scan axis and its line artefacts stay horizontal) and is its own
#: inverse.
_FLIPS: tuple[Callable[[NDArray[Any]], NDArray[Any]], ...] = (
    _identity,
    lambda a: np.ascontiguousarray(a[:, ::-1]),
    lambda a: np.ascontiguousarray(a[::-1, :]),
    lambda a: np.ascontiguousarray(a[::-1, ::-1]),
)
#: Allowed numbers of passes.
PASSES = (1, 2, 4)


def mirror_average(
    run: Callable[[NDArray[Any], Callable[[int, int], None] | None], NDArray[Any]],
    x: NDArray[Any],
    passes: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[NDArray[np.float64], float]:
    """Mean of ``run`` over the first ``passes`` mirrorings of ``x`` (each answer mirrored back),
    and the seconds it took per million pixels and pass; ``progress`` sees the passes as one job."""
    started = time.perf_counter()
    flips = _FLIPS[:passes]
    averaged = np.zeros(x.shape)
    for k, flip in enumerate(flips):

        def overall(done: int, total: int, k: int = k) -> None:
            assert progress is not None
            progress(k * total + done, len(flips) * total)

        # each flip is its own inverse
        averaged += flip(run(flip(x), overall if progress is not None else None))
    seconds = (time.perf_counter() - started) / (x.size / 1e6 * len(flips))
    return averaged / len(flips), seconds
