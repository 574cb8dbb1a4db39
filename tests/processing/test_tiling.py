from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stmdenoise.processing import blend_tiles, feather_window, iter_tiles, pad_to_multiple, tile_starts


@st.composite
def tilings(draw: st.DrawFn) -> tuple[int, int, int, int]:
    align = draw(st.sampled_from([1, 2, 4, 8]))
    tile = align * draw(st.integers(2, 40))
    overlap = draw(st.integers(0, tile - align))
    length = draw(st.integers(1, 600))
    return length, tile, overlap, align


@settings(max_examples=200, deadline=None)
@given(tilings())
def test_tile_starts_cover_align_and_overlap(t: tuple[int, int, int, int]) -> None:
    length, tile, overlap, align = t
    starts = tile_starts(length, tile=tile, overlap=overlap, align=align)
    assert starts[0] == 0
    assert all(s % align == 0 for s in starts)
    assert all(b > a for a, b in zip(starts, starts[1:], strict=False))
    ends = [min(s + tile, length) for s in starts]
    assert ends[-1] == length  # covers the end
    assert all(s < length for s in starts)
    for s_next, e_prev in zip(starts[1:], ends[:-1], strict=True):
        assert e_prev - s_next >= overlap  # at least the requested overlap: no gaps
    if length > tile and (length - tile) % align == 0:
        assert starts[-1] == length - tile  # flush, full-size last tile
    # Never more tiles than needed: removing one would exceed the allowed aligned step.
    step = (tile - overlap) // align * align
    if len(starts) > 1:
        assert (len(starts) - 2) * step < starts[-1]


def test_tile_starts_examples() -> None:
    assert tile_starts(1024, tile=512, overlap=128) == [0, 256, 512]
    assert tile_starts(512, tile=512, overlap=128) == [0]
    assert tile_starts(100, tile=512, overlap=128) == [0]
    assert tile_starts(2048, tile=512, overlap=168) == [0, 304, 612, 920, 1228, 1536]


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"length": 0, "tile": 8, "overlap": 2}, "length"),
        ({"length": 10, "tile": 8, "overlap": 8}, "overlap"),
        ({"length": 10, "tile": 8, "overlap": -1}, "overlap"),
        ({"length": 10, "tile": 8, "overlap": 6, "align": 4}, "align"),
        ({"length": 10, "tile": 8, "overlap": 2, "align": 0}, "align"),
        ({"length": 10, "tile": 8.0, "overlap": 2}, "tile"),
    ],
)
def test_tile_starts_rejects_bad_arguments(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        tile_starts(**kwargs)  # type: ignore[arg-type]


def test_iter_tiles_covers_the_image_with_rectangular_tiles() -> None:
    shape = (70, 130)
    count = np.zeros(shape, dtype=int)
    tiles = list(iter_tiles(shape, tile=(32, 48), overlap=(8, 12)))
    for rs, cs in tiles:
        assert rs.start % 4 == 0 and cs.start % 4 == 0
        assert rs.stop - rs.start <= 32 and cs.stop - cs.start <= 48
        count[rs, cs] += 1
    assert count.min() >= 1
    assert len(tiles) == len(tile_starts(70, tile=32, overlap=8)) * len(tile_starts(130, tile=48, overlap=12))


@pytest.mark.parametrize("shape, overlap", [((16, 24), 4), ((5, 3), 4), ((1, 1), 3), ((10, 10), (0, 2))])
def test_feather_window_positive_and_bounded(shape: tuple[int, int], overlap: int | tuple[int, int]) -> None:
    w = feather_window(shape, overlap=overlap)
    assert w.shape == shape
    assert w.min() > 0 and w.max() <= 1.0
    np.testing.assert_allclose(w, w[::-1, ::-1])  # symmetric ramps
    assert not w.flags.writeable


def test_feather_ramps_sum_to_one_across_an_exact_overlap() -> None:
    o = 6
    w = feather_window((1, 20), overlap=(0, o))[0]
    # Second tile starts o pixels before the first ends: the ramps are complementary.
    np.testing.assert_allclose(w[-o:] + w[:o], 1.0, atol=1e-15)
    np.testing.assert_array_equal(w[o:-o], 1.0)
    np.testing.assert_array_equal(feather_window((3, 4), overlap=0), 1.0)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, 90),
    cols=st.integers(1, 90),
    tile=st.sampled_from([8, 16, 24, 32]),
    data=st.data(),
)
def test_blending_identical_content_reproduces_image(
    rows: int, cols: int, tile: int, data: st.DataObject
) -> None:
    overlap = data.draw(st.integers(0, tile - 4))
    seed = data.draw(st.integers(0, 2**31))
    img = np.random.default_rng(seed).normal(size=(rows, cols)) * 1e-10
    img[rows // 2 :, : cols // 3] = np.nan  # an unmeasured corner
    tiles = ((sl, img[sl]) for sl in iter_tiles(img.shape, tile=tile, overlap=overlap))
    out = blend_tiles(img.shape, tiles, overlap=overlap)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(img))  # NaN neither spreads nor vanishes
    finite = np.isfinite(img)
    np.testing.assert_allclose(out[finite], img[finite], rtol=1e-14, atol=0)


def test_blending_feathers_disagreeing_tiles_smoothly() -> None:
    shape = (8, 40)
    tiles = list(iter_tiles(shape, tile=(8, 24), overlap=(0, 8)))
    assert len(tiles) == 2
    out = blend_tiles(shape, [(tiles[0], np.zeros((8, 24))), (tiles[1], np.ones((8, 24)))], overlap=(0, 8))
    row = out[0]
    assert row[0] == 0.0 and row[-1] == 1.0
    assert np.all(np.diff(row) >= 0)  # monotone transition, no seam jump
    assert np.max(np.diff(row)) < 0.25


def test_blend_tiles_rejects_gaps_and_mismatches() -> None:
    with pytest.raises(ValueError, match="cover"):
        blend_tiles((4, 4), [((slice(0, 2), slice(0, 4)), np.zeros((2, 4)))], overlap=0)
    with pytest.raises(ValueError, match="shape"):
        blend_tiles((4, 4), [((slice(0, 4), slice(0, 4)), np.zeros((3, 4)))], overlap=0)
    with pytest.raises(ValueError, match="inside"):
        blend_tiles((4, 4), [((slice(0, 5), slice(0, 4)), np.zeros((4, 4)))], overlap=0)


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "constant"])
def test_pad_to_multiple_round_trip(mode: str, rng: np.random.Generator) -> None:
    img = rng.normal(size=(13, 30))
    padded, crop = pad_to_multiple(img, (4, 8), mode=mode)  # type: ignore[arg-type]
    assert padded.shape == (16, 32)
    np.testing.assert_array_equal(padded[crop], img)
    same, crop2 = pad_to_multiple(np.zeros((8, 8)), 4)
    assert same.shape == (8, 8) and crop2 == (slice(0, 8), slice(0, 8))


def test_pad_to_multiple_handles_single_pixel_and_bad_args() -> None:
    padded, crop = pad_to_multiple(np.array([[3.0]]), 4)
    assert padded.shape == (4, 4) and padded[crop].tolist() == [[3.0]]
    with pytest.raises(ValueError, match="multiple"):
        pad_to_multiple(np.zeros((3, 3)), 0)
    with pytest.raises(ValueError, match="mode"):
        pad_to_multiple(np.zeros((3, 3)), 4, mode="wrap")  # type: ignore[arg-type]
