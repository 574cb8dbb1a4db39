"""Exported pictures: physical aspect, colour bar, scale bar length, colour maps from ``cmap``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stmdenoise.io import read_scan, write_scan
from stmdenoise.io.render import COLORMAPS, colormap_lut, render_scan, square_pixels
from stmdenoise.scan import Scan


@pytest.fixture
def squashed() -> Scan:
    """512 x 60 px of 200 x 200 nm: pixels 6.5 times taller than wide (a fast preview scan)."""
    rng = np.random.default_rng(3)
    data = np.add.outer(np.linspace(0, 1e-10, 60), np.linspace(0, 2e-10, 512)) + rng.normal(
        0, 1e-12, (60, 512)
    )
    return Scan(data=data, pixel_size=(200e-9 / 60, 200e-9 / 512), channel="Z", unit="m", angle=-54.18)


def test_export_has_the_physical_aspect(squashed: Scan, tmp_path: Path) -> None:
    out = write_scan(squashed, tmp_path / "a.png", colormap="viridis")
    with Image.open(out) as img:
        w, h = img.size
        meta = json.loads(img.text["stmdenoise"])
    assert (w, h) == (512, 512)  # 200 x 200 nm: square, not a squashed 512 x 60 strip
    assert meta["pixel_size"] == pytest.approx([200e-9 / 512] * 2)
    assert meta["scan_pixel_size"] == pytest.approx(list(squashed.pixel_size))
    assert meta["angle"] == pytest.approx(-54.18)
    back = read_scan(out)
    assert back.size == pytest.approx(squashed.size)


def test_square_pixels_keeps_the_values_in_place() -> None:
    data = np.arange(6, dtype=float).reshape(2, 3)
    out, p = square_pixels(data, (2.0, 1.0))
    assert out.shape == (4, 3) and p == 1.0
    np.testing.assert_array_equal(out, [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]])
    with pytest.raises(ValueError, match="pixel_size"):
        square_pixels(data, (0.0, 1.0))


def test_colour_bar_is_present_with_the_map_and_range(squashed: Scan, tmp_path: Path) -> None:
    plain = np.asarray(Image.open(write_scan(squashed, tmp_path / "a.png", colormap="inferno")))
    out = write_scan(squashed, tmp_path / "b.png", colormap="inferno", colour_bar=True)
    rgb = np.asarray(Image.open(out))
    assert rgb.shape[0] == plain.shape[0] and rgb.shape[1] > plain.shape[1] + 40  # a strip on the right
    pic = render_scan(squashed, colormap="inferno", colour_bar=True)
    assert pic.colour_bar_box is not None
    top, left, rows, cols = pic.colour_bar_box
    column = rgb[top : top + rows, left + cols // 2]
    lut = colormap_lut("inferno")
    # the bar runs from the top colour (vmax) to the bottom colour (vmin) of the same map
    np.testing.assert_array_equal(column[0], lut[-1])
    np.testing.assert_array_equal(column[-1], lut[0])
    assert len(np.unique(column, axis=0)) > 100
    # the label area holds dark text pixels on white
    labels = rgb[:, left + cols + 4 :]
    assert (labels < 100).all(axis=2).sum() > 50


@pytest.mark.parametrize("width_px, pixel_nm", [(512, 200 / 512), (100, 0.35), (37, 0.11), (1000, 1.0)])
def test_scale_bar_length_is_right_to_one_percent(width_px: int, pixel_nm: float, tmp_path: Path) -> None:
    scan = Scan(
        data=np.zeros((80, width_px)), pixel_size=(pixel_nm * 1e-9, pixel_nm * 1e-9), channel="Z", unit="m"
    )
    out = write_scan(scan, tmp_path / "s.png", colormap="grey", scale_bar=True)
    with Image.open(out) as img:
        rgb = np.asarray(img)
        meta = json.loads(img.text["stmdenoise"])
    p = meta["pixel_size"][1]  # picture pixel (the image may be enlarged for legibility)
    white = (rgb == 255).all(axis=2)
    # the bar is the longest white run in any row
    longest = 0
    for row in white:
        edges = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        if starts.size:
            longest = max(longest, int((ends - starts).max()))
    pic = render_scan(scan, colormap="grey", scale_bar=True)
    assert longest == pic.scale_bar_px
    assert longest * p == pytest.approx(pic.scale_bar_m, rel=0.01)


def test_colour_maps_come_from_cmap_with_reversed_variants() -> None:
    for name in ("viridis", "inferno", "cividis", "afmhot", "grey", "gold"):
        assert name in COLORMAPS and f"{name}_r" in COLORMAPS
        lut = colormap_lut(name)
        np.testing.assert_array_equal(colormap_lut(f"{name}_r"), lut[::-1])
    assert colormap_lut("viridis")[0].tolist() == [68, 1, 84]  # matplotlib's viridis start
    assert colormap_lut("greyscale").tolist() == colormap_lut("grey").tolist()  # old name kept
    with pytest.raises(ValueError, match="colormap"):
        colormap_lut("jet")


def test_render_doctests() -> None:
    import doctest

    import stmdenoise.io.render as render

    result = doctest.testmod(render, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5 and result.failed == 0


def test_createc_setpoint_from_fblogiset(realdata_dir: Path, tmp_path: Path) -> None:
    """Headers without ``Current[A]`` still give the setpoint: ``FBLogIset`` is in pA."""
    raw = (realdata_dir / "createc/createc_scan_step_20nm.dat").read_bytes()
    assert b"FBLogIset= 440.150" in raw and b"Current[A]=" in raw
    # same length keeps the binary payload where the reader expects it
    stripped = raw.replace(b"Current[A]=", b"Cxxxxxx[A]=")
    path = tmp_path / "no_current.dat"
    path.write_bytes(stripped)
    assert read_scan(path).setpoint == pytest.approx(440.15e-12)
    assert read_scan(realdata_dir / "createc/createc_scan_step_20nm.dat").setpoint == pytest.approx(
        440.15e-12
    )
