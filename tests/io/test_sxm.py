"""Nanonis .sxm: orientation proven on real data, nanonispy2 agreement, round trips, files from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from stmdenoise.io import (
    OverwriteInputError,
    ScanFormatError,
    add_channel_to_sxm,
    read_scan,
    read_sxm_all,
    read_sxm_raw,
    write_scan,
    write_sxm,
)
from stmdenoise.scan import Scan

REAL_SXM = [
    "A151216.123306-02602.sxm", "Au_mica_2023_Y_A_diPAMY_195.sxm", "BRSTM_img_0062.sxm", "CO_img_0050.sxm",
    "STM_nanonis_generic_4_5.sxm", "TR_img_0249.sxm", "img_0045.sxm", "img_0071.sxm", "img_0244.sxm",
    "img_0253.sxm", "pySPM_test.sxm",
]  # fmt: skip


def _rows_levelled(x: NDArray[np.float64]) -> NDArray[np.float64]:
    rows = x[np.isfinite(x).any(axis=1)]
    med = np.full(x.shape[0], np.nan)
    med[np.isfinite(x).any(axis=1)] = np.nanmedian(rows, axis=1)
    return x - med[:, None]


def _corr(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, int]:
    """Pearson correlation over pixels finite in both, and how many there are."""
    m = np.isfinite(a) & np.isfinite(b)
    n = int(m.sum())
    if n < 1000:
        return float("nan"), n
    p, q = a[m] - a[m].mean(), b[m] - b[m].mean()
    den = np.sqrt((p * p).sum() * (q * q).sum())
    return (float((p * q).sum() / den) if den > 0 else float("nan")), n


def _shift(a: NDArray[np.float64], dy: int, dx: int) -> NDArray[np.float64]:
    out = np.full_like(a, np.nan)
    r, c = a.shape
    out[max(dy, 0) : r + min(dy, 0), max(dx, 0) : c + min(dx, 0)] = a[
        max(-dy, 0) : r + min(-dy, 0), max(-dx, 0) : c + min(-dx, 0)
    ]
    return out


def _register(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, tuple[int, int]]:
    """Best correlation of shifted ``a`` against ``b`` and the (dy, dx) that gives it."""
    best = (-2.0, (0, 0))
    for dy in range(-90, 91, 1):
        for dx in range(-4, 5):
            c, _ = _corr(_shift(a, dy, dx), b)
            if np.isfinite(c) and c > best[0]:
                best = (c, (dy, dx))
    return best


# ---------------------------------------------------------------------------------- orientation
@pytest.mark.realdata
@pytest.mark.slow
def test_scan_up_and_scan_down_of_one_area_agree_after_the_flip(realdata_dir: Path) -> None:
    """img_0244 (SCAN_DIR=up) and img_0253 (down): same area, same offset and angle, 44 min apart.

    Both were stopped half way. After the reader's flip their measured rows overlap and the
    images register with a shift of a few rows (drift); without the flip the measured rows do
    not overlap at all and the same features sit ~80 rows apart.
    """
    up_path, down_path = realdata_dir / "nanonis/img_0244.sxm", realdata_dir / "nanonis/img_0253.sxm"
    up = _rows_levelled(read_scan(up_path, channel="Current").data)
    down = _rows_levelled(read_scan(down_path, channel="Current").data)
    raw_up = _rows_levelled(read_sxm_raw(up_path)[("Current", "forward")].astype(np.float64))

    c_flipped, n_flipped = _corr(up, down)
    assert n_flipped >= 60 * 128  # the measured rows overlap
    assert c_flipped > 0.6
    c_flip_best, (dy, dx) = _register(up, down)
    assert c_flip_best > 0.8 and abs(dy) <= 5 and abs(dx) <= 2

    _, n_raw = _corr(raw_up, down)
    assert n_raw == 0  # unflipped: not one measured row in common
    c_raw_best, (dy_raw, _) = _register(raw_up, down)
    assert abs(dy_raw) > 50  # the same features would have to move by more than a third of the frame


def _topography(path: Path, direction: str) -> NDArray[np.float64]:
    z = read_scan(path, channel="Z", direction=direction).data
    if np.nanstd(z) == 0:  # constant-height scans: the current carries the image
        z = read_scan(path, channel="Current", direction=direction).data
    return _rows_levelled(z)


@pytest.mark.realdata
@pytest.mark.parametrize("name", REAL_SXM)
def test_backward_frames_agree_with_forward_after_mirroring(realdata_dir: Path, name: str) -> None:
    path = realdata_dir / "nanonis" / name
    fw, bw = _topography(path, "forward"), _topography(path, "backward")
    mirrored, _ = _corr(fw, bw)  # the reader's backward frame is already mirrored
    unmirrored, _ = _corr(fw, bw[:, ::-1])  # as stored in the file
    assert mirrored > 0.5
    assert mirrored - unmirrored > 0.15


# ---------------------------------------------------------------------------------- nanonispy2
@pytest.mark.realdata
@pytest.mark.parametrize("name", REAL_SXM)
def test_raw_frames_equal_nanonispy2(realdata_dir: Path, name: str) -> None:
    nap = pytest.importorskip("nanonispy2")
    # nanonispy2 1.2.0 runs on numpy 2 as is (nanonispy 1.1.0 needed np.float, removed in numpy 2)
    path = realdata_dir / "nanonis" / name
    theirs = nap.read.Scan(str(path))
    ours = read_sxm_raw(path)
    assert {k[0] for k in ours} == set(theirs.signals)
    for (channel, direction), frame in ours.items():
        np.testing.assert_array_equal(frame, theirs.signals[channel][direction])
    # and the display orientation is exactly the documented flip/mirror of those frames
    up = theirs.header["scan_dir"] == "up"
    for s in read_sxm_all(path):
        expect = theirs.signals[s.channel][s.direction].astype(np.float64)
        expect = expect[::-1] if up else expect
        expect = expect[:, ::-1] if s.direction == "backward" else expect
        np.testing.assert_array_equal(s.data, expect)


@pytest.mark.realdata
def test_nanonispy2_cannot_read_the_corrupted_file_either(realdata_dir: Path) -> None:
    nap = pytest.importorskip("nanonispy2")
    path = realdata_dir / "corrupted/img_0244_truncated_by_line_ending_rewrite.sxm"
    with pytest.raises(ValueError):  # numpy reshape: a size error, not a message about the file
        nap.read.Scan(str(path))
    with pytest.raises(ScanFormatError, match="needs 524288"):
        read_scan(path)


# ---------------------------------------------------------------------------------- round trips
@pytest.mark.realdata
@pytest.mark.parametrize("name", REAL_SXM)
def test_sxm_round_trip_is_identical(realdata_dir: Path, tmp_path: Path, name: str) -> None:
    src = realdata_dir / "nanonis" / name
    scans = read_sxm_all(src)
    out = write_sxm(tmp_path / name, scans)
    assert out.read_bytes() == src.read_bytes()  # header and data, byte for byte
    again = read_sxm_all(out)
    assert len(again) == len(scans)
    for a, b in zip(scans, again, strict=True):
        assert (a.channel, a.direction, a.unit) == (b.channel, b.direction, b.unit)
        np.testing.assert_array_equal(a.data, b.data)
        assert dict(a.header) == dict(b.header)


@pytest.mark.realdata
def test_add_denoised_channel_next_to_the_originals(realdata_dir: Path, tmp_path: Path) -> None:
    src = realdata_dir / "nanonis/img_0244.sxm"
    z = read_scan(src)
    smooth = z.with_data(np.where(np.isfinite(z.data), z.data * 0.5, np.nan))
    out = add_channel_to_sxm(src, tmp_path / "with_denoised.sxm", smooth, name="Z_denoised")
    frames = read_sxm_all(out)
    originals = read_sxm_all(src)
    assert [(f.channel, f.direction) for f in frames] == [(f.channel, f.direction) for f in originals] + [
        ("Z_denoised", "forward")
    ]
    for a, b in zip(originals, frames, strict=False):
        np.testing.assert_array_equal(a.data, b.data)
    added = read_scan(out, channel="Z_denoised")
    np.testing.assert_array_equal(added.data, smooth.data.astype(np.float32))
    assert added.unit == "m" and added.scan_direction == "up"
    assert added.header["COMMENT"] == z.header["COMMENT"]  # the rest of the header is kept
    with pytest.raises(OverwriteInputError):
        add_channel_to_sxm(src, src, smooth)
    with pytest.raises(ValueError, match="already a channel"):
        add_channel_to_sxm(src, tmp_path / "x.sxm", smooth, name="Current")


# ---------------------------------------------------------------------------------- from scratch
def test_write_complete_sxm_from_scratch(tmp_path: Path, rng: np.random.Generator) -> None:
    """Simulated data become a complete .sxm: every field a reader needs, both orientations."""
    z = rng.normal(size=(48, 64)) * 1e-10
    cur = rng.normal(size=(48, 64)) * 1e-11 + 1e-10
    common = dict(pixel_size=(0.5e-10, 0.75e-10), bias=-0.1, setpoint=2e-10, scan_direction="up", angle=12.5)
    scans = [
        Scan(z, channel="Z", unit="m", **common),  # type: ignore[arg-type]
        Scan(cur, channel="Current", unit="A", **common),  # type: ignore[arg-type]
        Scan(cur[:, ::-1], channel="Current", unit="A", direction="backward", **common),  # type: ignore[arg-type]
    ]
    out = write_sxm(tmp_path / "sim.sxm", scans, comment="simulated Cu(111)")
    back = read_sxm_all(out)
    assert [(s.channel, s.direction) for s in back] == [
        ("Z", "forward"),
        ("Current", "forward"),
        ("Current", "backward"),
    ]
    for a, b in zip(scans, back, strict=True):
        np.testing.assert_array_equal(b.data, a.data.astype(np.float32))
        assert b.pixel_size == pytest.approx(a.pixel_size)
        assert (b.bias, b.setpoint, b.scan_direction, b.angle) == pytest.approx((-0.1, 2e-10, "up", 12.5))
    assert back[0].header["COMMENT"] == "simulated Cu(111)"
    # the flip is real: the first stored line of an "up" file is the bottom row
    raw = read_sxm_raw(out)
    np.testing.assert_array_equal(raw[("Z", "forward")][0], z[-1].astype(np.float32))
    np.testing.assert_array_equal(raw[("Current", "backward")][0], cur[-1].astype(np.float32))


def test_write_sxm_refuses_inputs_and_bad_arguments(tmp_path: Path) -> None:
    s = Scan(np.zeros((4, 4)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m", source=tmp_path / "in.sxm")
    with pytest.raises(OverwriteInputError):
        write_sxm(tmp_path / "in.sxm", [s])
    with pytest.raises(OverwriteInputError):
        write_scan(s, tmp_path / "in.sxm")
    with pytest.raises(ValueError, match="scans must"):
        write_sxm(tmp_path / "a.sxm", [])
    with pytest.raises(ValueError, match="one shape"):
        write_sxm(tmp_path / "a.sxm", [s, Scan(np.zeros((4, 5)), channel="I")])
    with pytest.raises(ValueError, match="backward"):
        write_sxm(tmp_path / "a.sxm", [s.replace(direction="backward")])
    with pytest.raises(ValueError, match=r"a.sxm: Z carries no pixel size and a .sxm file needs one"):
        write_sxm(tmp_path / "a.sxm", [s.replace(pixel_size=None)])
    assert not (tmp_path / "a.sxm").exists()


def test_reader_messages_name_file_expected_and_found(tmp_path: Path) -> None:
    good = write_sxm(
        tmp_path / "g.sxm", [Scan(np.ones((8, 8)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m")]
    )
    raw = good.read_bytes()
    cases = {
        "trunc.sxm": (raw[:-3], "needs 256"),
        "long.sxm": (raw + b"\0" * 4, "holds 260 bytes"),
        "nohead.sxm": (raw.replace(b":SCANIT_END:", b":SCANIT_XXX:"), "SCANIT_END"),
        "pixels.sxm": (raw.replace(b":SCAN_PIXELS:\n8 8", b":SCAN_PIXELS:\n8 x"), "SCAN_PIXELS"),
        "type.sxm": (raw.replace(b"FLOAT", b"INT32"), "SCANIT_TYPE"),
        "dir.sxm": (raw.replace(b":SCAN_DIR:\ndown", b":SCAN_DIR:\nleft"), "SCAN_DIR"),
    }
    for name, (content, expected) in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(ScanFormatError, match=expected) as info:
            read_scan(p)
        assert name in str(info.value)


@pytest.mark.realdata
def test_createc_frames_become_a_fresh_sxm(realdata_dir: Path, tmp_path: Path) -> None:
    """A foreign header is not copied: write_sxm builds a complete Nanonis header instead."""
    from stmdenoise.io import read_all

    frames = read_all(realdata_dir / "createc/createc_scan_step_20nm.dat")
    out = write_sxm(tmp_path / "createc.sxm", frames)
    back = read_sxm_all(out)
    assert [(s.channel, s.direction, s.unit) for s in back] == [  # channel by channel, as .sxm stores them
        ("Z", "forward", "m"), ("Z", "backward", "m"),
        ("Current", "forward", "A"), ("Current", "backward", "A"),
    ]  # fmt: skip
    order = {(s.channel, s.direction): s for s in frames}
    for s in back:
        np.testing.assert_array_equal(s.data, order[(s.channel, s.direction)].data.astype(np.float32))
        assert s.pixel_size == pytest.approx(frames[0].pixel_size)
        assert s.bias == pytest.approx(0.02742) and s.setpoint == pytest.approx(4.4e-10)
    assert back[0].nan_fraction == pytest.approx(182 / 512)
    assert "Num.X / Num.X" not in back[0].header and back[0].header["SCAN_PIXELS"] == "512 512"


def test_module_examples_run() -> None:
    import doctest

    import stmdenoise.io.sxm as sxm_module
    import stmdenoise.io.sxm_write as sxm_write_module

    results = [doctest.testmod(m) for m in (sxm_module, sxm_write_module)]
    assert sum(r.attempted for r in results) >= 4 and not any(r.failed for r in results)


def test_feedback_module_examples_run() -> None:
    """The feedback-state example in stmdenoise.io.feedback holds (the sxm module's run above)."""
    import doctest

    import stmdenoise.io.feedback

    result = doctest.testmod(stmdenoise.io.feedback)
    assert result.attempted > 0 and result.failed == 0
