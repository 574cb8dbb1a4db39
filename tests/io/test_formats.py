"""The one format table: dispatch, suffix lists and dialog filters all derive from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stmdenoise.gui.entries import SCAN_SUFFIXES, expand_paths
from stmdenoise.io import (
    FORMATS,
    READ_SUFFIXES,
    ScanFormatError,
    detect_format,
    dialog_filter,
    list_channels,
    read_all,
    read_plain_image,
    read_scan,
    select_frames,
    write_scan,
    write_sxm,
)
from stmdenoise.scan import Scan


def _grey(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=(20, 30), dtype=np.uint8)


@pytest.mark.parametrize("kind,ext", [("JPEG", ".jpg"), ("BMP", ".bmp"), ("GIF", ".gif")])
def test_pictures_are_a_registered_format(
    tmp_path: Path, rng: np.random.Generator, kind: str, ext: str
) -> None:
    grey = _grey(rng)
    path = tmp_path / f"ko{ext}"
    Image.fromarray(grey).save(path, format=kind)
    assert detect_format(path) == "picture"
    scan = read_scan(path)
    assert scan.shape == (20, 30) and scan.unit == "" and scan.source == path
    if kind != "JPEG":  # lossless: the grey levels come back exactly
        np.testing.assert_array_equal(scan.data, grey)
    assert [c.name for c in list_channels(path)] == ["ko"]
    assert len(read_all(path)) == 1


def test_picture_found_by_content_whatever_its_name(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "renamed.dat"
    Image.fromarray(_grey(rng)).save(path, format="JPEG")
    assert detect_format(path) == "picture"


def test_damaged_picture_is_a_format_error_naming_the_file(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "cut.jpg"
    Image.fromarray(_grey(rng)).save(path, format="JPEG")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ScanFormatError, match="cut.jpg"):
        read_scan(path)


def test_read_plain_image_gives_pixel_size_and_records_it(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "ko.jpg"
    Image.fromarray(_grey(rng)).save(path, format="JPEG")
    scan = read_plain_image(path, nm_per_px=0.071)
    assert scan.pixel_size == pytest.approx((0.071e-9, 0.071e-9))
    assert scan.steps[-1].name == "assume_pixel_size"
    with pytest.raises(ValueError, match="nm_per_px"):
        read_plain_image(path, nm_per_px=-1.0)


def test_read_plain_image_keeps_a_files_own_calibration(tmp_path: Path, rng: np.random.Generator) -> None:
    scan = Scan(rng.normal(size=(16, 16)), pixel_size=(2e-10, 3e-10), channel="Z", unit="m")
    path = write_scan(scan, tmp_path / "ours.16.png")
    assert read_plain_image(path, nm_per_px=0.071).pixel_size == pytest.approx((2e-10, 3e-10))


def test_suffix_lists_derive_from_the_table() -> None:
    table = {s for f in FORMATS if f.images for s in f.suffixes}
    assert set(READ_SUFFIXES) == table
    assert ".png" in SCAN_SUFFIXES and ".jpg" in SCAN_SUFFIXES  # the GUI drop filter is the same list
    assert SCAN_SUFFIXES == READ_SUFFIXES
    first = dialog_filter().split(";;")[0]
    assert all(f"*{s}" in first for s in READ_SUFFIXES)
    assert dialog_filter().endswith("All files (*)")


def test_a_dropped_folder_picks_up_our_own_png(tmp_path: Path, rng: np.random.Generator) -> None:
    scan = Scan(rng.normal(size=(16, 16)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
    write_scan(scan, tmp_path / "a.16.png")
    (tmp_path / "notes.txt").write_text("not a scan")
    assert [p.name for p in expand_paths([tmp_path])] == ["a.16.png"]


def test_every_suffix_names_a_sniffable_format(tmp_path: Path, rng: np.random.Generator) -> None:
    """Each registered single-image format reads what our writers (or PIL) produce under its suffix."""
    scan = Scan(rng.normal(size=(16, 16)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
    written = {
        "png": write_scan(scan, tmp_path / "a.16.png"),
        "tiff": write_scan(scan, tmp_path / "a.tiff"),
        "npy": write_scan(scan, tmp_path / "a.npy"),
        "h5": write_scan(scan, tmp_path / "a.h5"),
        "sxm": write_scan(scan, tmp_path / "a.sxm"),
    }
    for name, path in written.items():
        assert detect_format(path) == name
        assert path.suffix.lower() in next(f for f in FORMATS if f.name == name).suffixes


# ------------------------------------------------------------------ select_frames


@pytest.fixture
def frames(rng: np.random.Generator) -> list[Scan]:
    z = Scan(rng.normal(size=(8, 8)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
    cur = z.replace(channel="Current", unit="A")
    return [z, z.replace(direction="backward"), cur]


def test_select_frames_default_is_first_channel_forward(frames: list[Scan]) -> None:
    got = select_frames(frames)
    assert [(s.channel, s.direction) for s in got] == [("Z", "forward")]


def test_select_frames_channel_all_and_case(frames: list[Scan]) -> None:
    assert [s.channel for s in select_frames(frames, channel="all")] == ["Z", "Current"]
    assert [s.direction for s in select_frames(frames, channel="z", direction="both")] == [
        "forward",
        "backward",
    ]
    assert [s.channel for s in select_frames(frames, channel="all", direction="backward")] == ["Z"]


def test_select_frames_errors_name_what_the_file_holds(frames: list[Scan]) -> None:
    with pytest.raises(ValueError, match=r"channel 'Nope' is not in the file; channels: \['Z', 'Current'\]"):
        select_frames(frames, channel="Nope")
    with pytest.raises(ValueError, match="no backward frame of channel 'Current'.*Current forward"):
        select_frames(frames, channel="Current", direction="backward")
    with pytest.raises(ValueError, match="direction must be"):
        select_frames(frames, direction="up")


def test_export_and_denoise_share_the_frame_options() -> None:
    """Both commands register --channel/--direction through one helper (one help text, one meaning)."""
    import argparse

    from stmdenoise.cli import denoise, export

    def actions(mod: object) -> dict[str, argparse.Action]:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        mod.add_parser(sub)  # type: ignore[attr-defined]
        (p,) = sub.choices.values()
        return {a.dest: a for a in p._actions}

    ex, de = actions(export), actions(denoise)
    assert ex["channel"].default == "all" and de["channel"].default is None
    assert ex["direction"].choices == de["direction"].choices == ("forward", "backward", "both")
    assert "'all' for every channel" in ex["channel"].help and "'all' for every channel" in de["channel"].help


def test_export_channel_missing_direction_is_reported(tmp_path: Path, rng: np.random.Generator) -> None:
    from stmdenoise.cli.main import main

    z = Scan(rng.normal(size=(8, 8)) * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
    (tmp_path / "in").mkdir()
    src = write_sxm(tmp_path / "in" / "f.sxm", [z])
    out = tmp_path / "out"
    assert main(["export", str(src), "-o", str(out), "--format", "npy", "--direction", "backward"]) == 1
    assert main(["export", str(src), "-o", str(out), "--format", "npy", "--channel", "all"]) == 0
    assert [p.name for p in out.iterdir()] == ["f_Z_forward.npy"]
