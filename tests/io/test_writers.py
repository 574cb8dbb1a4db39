"""Writers: round trips (TIFF, 16-bit PNG, HDF5, npy), colour PNGs, atomic writes, overwrite refusal."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
from PIL import Image

from stmdenoise import __version__
from stmdenoise.io import (
    OverwriteInputError,
    ScanFormatError,
    atomic_write,
    colorize,
    read_scan,
    write_scan,
)
from stmdenoise.io.images import nice_scale_bar
from stmdenoise.scan import ProcessingStep, Scan


@pytest.fixture
def scan(rng: np.random.Generator) -> Scan:
    data = rng.normal(size=(40, 56)) * 1e-10 + 2e-9
    data[30:] = np.nan  # an aborted scan
    return Scan(
        data,
        pixel_size=(0.25e-10, 0.5e-10),
        channel="Z",
        unit="m",
        direction="backward",
        scan_direction="up",
        bias=0.05,
        setpoint=1e-10,
        angle=30.0,
        offset=(1e-9, -2e-9),
        acquired=dt.datetime(2026, 1, 2, 3, 4, 5),
        header={"SCAN_DIR": "up", "COMMENT": "caf\u00e9"},
        steps=(ProcessingStep("level_plane", {"order": 1}), ProcessingStep("denoise", {"model": "pdanet"})),
    )


def _same_meta(a: Scan, b: Scan) -> None:
    assert (b.channel, b.unit, b.direction, b.scan_direction) == (
        a.channel,
        a.unit,
        a.direction,
        a.scan_direction,
    )
    assert b.pixel_size == pytest.approx(a.pixel_size)
    assert (b.bias, b.setpoint, b.angle) == pytest.approx((a.bias, a.setpoint, a.angle))
    assert b.offset == pytest.approx(a.offset)


def test_tiff_round_trip_is_exact_in_float32(scan: Scan, tmp_path: Path) -> None:
    out = write_scan(scan, tmp_path / "z.tiff")
    back = read_scan(out)
    np.testing.assert_array_equal(back.data, scan.data.astype(np.float32))
    _same_meta(scan, back)
    with tifffile.TiffFile(out) as tif:  # the calibration is plain JSON any program can read
        assert tif.pages[0].dtype == np.float32
        assert json.loads(tif.pages[0].description)["stmdenoise"]["unit"] == "m"


def test_png16_round_trip_within_quantisation(scan: Scan, tmp_path: Path) -> None:
    out = write_scan(scan, tmp_path / "z.16.png")
    with Image.open(out) as img:
        assert img.mode.startswith("I;16") or img.mode == "I"
    back = read_scan(out)
    finite = np.isfinite(scan.data)
    assert np.array_equal(np.isfinite(back.data), finite)  # NaN rows survive
    span = np.nanmax(scan.data) - np.nanmin(scan.data)
    err = np.abs(back.data[finite] - scan.data[finite]).max()
    assert err <= span / 65534 / 2 * 1.0001
    _same_meta(scan, back)


def test_hdf5_round_trip_keeps_everything(scan: Scan, tmp_path: Path) -> None:
    out = write_scan(scan, tmp_path / "z.h5")
    back = read_scan(out)
    np.testing.assert_array_equal(back.data, scan.data)
    _same_meta(scan, back)
    assert back.acquired == scan.acquired
    assert dict(back.header) == dict(scan.header)
    assert back.steps == scan.steps
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["mask"][()], np.isfinite(scan.data))
        assert f.attrs["program_version"] == __version__
        assert json.loads(f.attrs["steps"])[1] == {"name": "denoise", "params": {"model": "pdanet"}}


def test_npy_round_trip_keeps_the_data(scan: Scan, tmp_path: Path) -> None:
    back = read_scan(write_scan(scan, tmp_path / "z.npy"))
    np.testing.assert_array_equal(back.data, scan.data)
    assert back.unit == ""  # .npy stores no calibration: unitless


def test_sxm_single_scan_round_trip(scan: Scan, tmp_path: Path) -> None:
    back = read_scan(write_scan(scan, tmp_path / "z.sxm"))
    np.testing.assert_array_equal(back.data, scan.data.astype(np.float32))
    assert back.direction == "forward"  # a lone backward frame becomes the file's image
    assert back.scan_direction == "up" and back.unit == "m"


@pytest.mark.parametrize("colormap", ["greyscale", "afmhot", "viridis"])
def test_colour_png(scan: Scan, tmp_path: Path, colormap: str) -> None:
    out = write_scan(scan, tmp_path / f"{colormap}.png", colormap=colormap)
    with Image.open(out) as img:
        # 28 x 10 A with pixels twice as wide as tall: the picture has square pixels, 112 x 40
        assert img.mode == "RGB" and img.size == (112, 40)
        rgb = np.asarray(img)
    assert (rgb[30:] == 0).all()  # NaN rows are black
    assert len(np.unique(rgb[:30].reshape(-1, 3), axis=0)) > 20
    back = read_scan(out)  # a picture: geometry kept, values are not data
    assert back.shape == (40, 112) and back.unit == "" and back.size == pytest.approx(scan.size)


def test_scale_bar_is_drawn_into_the_pixels(scan: Scan, tmp_path: Path) -> None:
    wide = scan.with_data(np.zeros((128, 200)), pixel_size=(1e-10, 1e-10))  # 20 nm wide
    plain = np.asarray(Image.open(write_scan(wide, tmp_path / "a.png", colormap="greyscale")))
    bar = np.asarray(Image.open(write_scan(wide, tmp_path / "b.png", colormap="greyscale", scale_bar=True)))
    assert (plain == plain[0, 0]).all()
    white_cols = np.flatnonzero((bar == 255).all(axis=2).any(axis=0))
    length, label = nice_scale_bar(wide.size[1])
    assert (length, label) == (pytest.approx(2e-9), "2 nm")
    assert white_cols.size >= round(length / 1e-10)  # a 20-pixel bar, plus its label


def test_nice_scale_bar() -> None:
    assert nice_scale_bar(3.5e-9) == (pytest.approx(5e-10), "500 pm")
    assert nice_scale_bar(1e-7) == (pytest.approx(2e-8), "20 nm")
    assert nice_scale_bar(5e-6)[1] == "1 \u00b5m"
    with pytest.raises(ValueError, match="width_m"):
        nice_scale_bar(0.0)


def test_colorize_checks_arguments() -> None:
    with pytest.raises(ValueError, match="colormap"):
        colorize(np.zeros((3, 3)), colormap="jet")
    with pytest.raises(ValueError, match="2-D"):
        colorize(np.zeros(3))
    lut = colorize(np.linspace(0, 1, 256).reshape(16, 16), colormap="afmhot", vmin=0, vmax=1)
    assert tuple(lut[0, 0]) == (0, 0, 0) and tuple(lut[-1, -1]) == (255, 255, 255)


def test_foreign_images_read_as_unitless_scans(tmp_path: Path) -> None:
    ramp8 = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(ramp8).save(tmp_path / "g8.png")
    ramp16 = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    Image.fromarray(ramp16).save(tmp_path / "g16.png")
    tifffile.imwrite(tmp_path / "f.tif", np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8))
    tifffile.imwrite(tmp_path / "u16.tif", ramp16)
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 1] = 100
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_scan(tmp_path / "g8.png").data, ramp8)
    np.testing.assert_array_equal(read_scan(tmp_path / "g16.png").data, ramp16)
    np.testing.assert_allclose(
        read_scan(tmp_path / "f.tif").data, np.linspace(0, 1, 48).reshape(6, 8), atol=1e-7
    )
    np.testing.assert_array_equal(read_scan(tmp_path / "u16.tif").data, ramp16)
    assert read_scan(tmp_path / "rgb.png").data == pytest.approx(np.full((4, 5), 58.7))
    for name in ("g8.png", "f.tif"):
        s = read_scan(tmp_path / name)
        assert s.unit == "" and s.pixel_size is None and s.size is None


def test_bad_files_raise_scan_format_error(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (tmp_path / "x.tif").write_bytes(b"II*\x00" + b"\xff" * 20)
    np.save(tmp_path / "x.npy", np.zeros(5))
    (tmp_path / "x.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 20)
    (tmp_path / "x.txt").write_text("hello")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["clean"] = np.zeros((2, 4, 4))
    for name in ("x.png", "x.tif", "x.npy", "x.h5", "x.txt", "other.h5"):
        with pytest.raises(ScanFormatError) as info:
            read_scan(tmp_path / name)
        assert name in str(info.value)
    with pytest.raises(FileNotFoundError):
        read_scan(tmp_path / "missing.sxm")


def test_write_scan_refuses_to_overwrite_inputs(scan: Scan, tmp_path: Path) -> None:
    src = write_scan(scan, tmp_path / "in.tiff")
    before = src.read_bytes()
    loaded = read_scan(src)
    with pytest.raises(OverwriteInputError):
        write_scan(loaded, src)  # destination == scan.source
    with pytest.raises(OverwriteInputError):
        write_scan(scan, tmp_path / "in.tiff", inputs=[src])
    with pytest.raises(OverwriteInputError):
        write_scan(scan, tmp_path / "." / "in.tiff", overwrite_inputs=[str(src)])
    link = tmp_path / "link.tiff"
    link.symlink_to(src)
    with pytest.raises(OverwriteInputError):
        write_scan(loaded, link)  # another name for the same file
    assert src.read_bytes() == before
    with pytest.raises(ValueError, match="must end in"):
        write_scan(scan, tmp_path / "z.jpg")
    with pytest.raises(ValueError, match="colormap"):
        write_scan(scan, tmp_path / "z.png", colormap="jet")


def test_atomic_write_leaves_no_trace_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def boom(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not mkstemp's 0600
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "nope" / "x.bin", lambda tmp: tmp.write_bytes(b""))


@pytest.mark.parametrize(
    ("header", "expected"), [({"CHMode / CHMode": "1"}, False), ({"CHMode / CHMode": "0"}, True)]
)
def test_sxm_keeps_the_feedback_state_of_the_source(tmp_path: Path, header: dict, expected: bool) -> None:
    """A constant-height Createc current written as .sxm must not come back as a feedback error."""
    from stmdenoise.io.feedback import feedback_on

    cur = Scan(np.random.default_rng(0).normal(size=(40, 48)), pixel_size=(1e-10, 1e-10), channel="Current",
               unit="A", setpoint=1e-10, header=header)  # fmt: skip
    back = read_scan(write_scan(cur, tmp_path / "i.sxm"))
    assert feedback_on(back) is expected
