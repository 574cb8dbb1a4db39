"""Every file of ../shared/realdata: read with the right metadata, or ScanFormatError (the corrupted one).

Expected values come from the files' headers and from PROVENANCE.tsv (written independently
of this reader): pixel counts, ranges, bias, setpoint, scan direction, NaN share.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.io import (
    ScanFormatError,
    detect_format,
    list_channels,
    read_all,
    read_grid,
    read_scan,
    read_spectrum,
)

pytestmark = pytest.mark.realdata

# name: (cols, rows, range_x_m, range_y_m, bias_V, setpoint_A, scan_dir, angle_deg, channels, nan_fraction)
SXM = {
    "A151216.123306-02602.sxm": (128, 128, 2e-9, 2e-9, -9e-4, 5e-11, "up", 0.0,
                                 ["Z", "Input_4", "Current", "Phase", "Amplitude", "Frequency_Shift",
                                  "Excitation", "LIX_1_omega", "LIY_1_omega"], 0.0),
    "Au_mica_2023_Y_A_diPAMY_195.sxm": (256, 256, 4e-9, 4e-9, -0.05, 2.5e-11, "down", 135.1,
                                        ["Z", "Current"], 0.0),
    "BRSTM_img_0062.sxm": (112, 112, 3.5e-9, 3.5e-9, 0.0, 5e-11, "down", -57.7,
                           ["Z", "Current", "LI_Demod_1_X", "LI_Demod_1_Y", "Counter_1"], 0.522),
    "CO_img_0050.sxm": (112, 112, 4e-9, 4e-9, -0.01, 1e-10, "up", -45.42,
                        ["Z", "Current", "LI_Demod_1_X", "LI_Demod_1_Y", "Counter_1"], 0.0),
    "STM_nanonis_generic_4_5.sxm": (256, 256, 4e-9, 4e-9, 0.05, 5e-10, "down", 0.0, ["Z", "Current"], 0.0),
    "TR_img_0249.sxm": (96, 96, 5e-9, 5e-9, 0.05, 1e-10, "up", -60.47,
                        ["Z", "Current", "LI_Demod_1_X", "LI_Demod_1_Y", "LI_Demod_2_X", "LI_Demod_2_Y",
                         "Counter_1"], 0.0),
    "img_0045.sxm": (144, 168, 1e-7, 1e-7, -4.2, 3e-11, "down", -54.18,
                     ["Z", "Current", "LI_Demod_1_X", "LI_Demod_1_Y"], 0.851),
    "img_0071.sxm": (96, 100, 1.5e-9, 1.5e-9, -3.8, 1e-10, "down", 0.0,
                     ["Z", "Current", "LI_Demod_1_X", "LI_Demod_1_Y", "Counter_1"], 0.0),
    "img_0244.sxm": (128, 128, 3.5e-9, 3.5e-9, 0.0, 1e-10, "up", 101.1,
                     ["Z", "Current", "LI_Demod_1_X", "LI_Demod_1_Y"], 0.508),
    "img_0253.sxm": (128, 128, 3.5e-9, 3.5e-9, 0.0, 1e-10, "down", 101.1,
                     ["Z", "Current"] + [f"LI_Demod_{i}_{a}" for i in (1, 2, 3, 4) for a in "XY"], 0.508),
    "pySPM_test.sxm": (256, 256, 5e-6, 5e-6, 0.2, 2e-10, "up", 0.0, ["Z", "Current"], 0.0),
}  # fmt: skip

CORRUPTED = "corrupted/img_0244_truncated_by_line_ending_rewrite.sxm"


def test_every_realdata_file_is_covered(realdata_dir: Path) -> None:
    """No file of ../shared/realdata escapes these tests (new files must be added to them)."""
    covered = {f"nanonis/{n}" for n in SXM} | {
        CORRUPTED,
        "createc/createc_scan_step_20nm.dat",
        "nanonis/Grid Experiment2001.3ds",
        "nanonis/TR_dIdV_00006.dat",
        "nanonis/Bias-Spectroscopy00015_20230420.dat",
    }
    present = {str(p.relative_to(realdata_dir)) for p in realdata_dir.rglob("*") if p.is_file()}
    assert present - {"PROVENANCE.tsv"} == covered


@pytest.mark.parametrize("name", sorted(SXM))
def test_sxm_metadata(realdata_dir: Path, name: str) -> None:
    cols, rows, rx, ry, bias, setpoint, scan_dir, angle, channels, nan_frac = SXM[name]
    path = realdata_dir / "nanonis" / name
    assert detect_format(path) == "sxm"
    infos = list_channels(path)
    assert [c.name for c in infos] == channels
    assert all(c.directions == ("forward", "backward") for c in infos)
    scan = read_scan(path)
    assert scan.channel == "Z" and scan.unit == "m"
    assert scan.shape == (rows, cols)
    assert scan.pixel_size == pytest.approx((ry / rows, rx / cols), rel=1e-6)
    assert scan.size == pytest.approx((ry, rx), rel=1e-6)
    assert scan.bias == pytest.approx(bias, abs=1e-12)
    assert scan.setpoint == pytest.approx(setpoint, rel=1e-6)
    assert scan.scan_direction == scan_dir
    assert scan.angle == pytest.approx(angle, abs=1e-9)
    assert scan.nan_fraction == pytest.approx(nan_frac, abs=0.001)
    assert scan.header["SCAN_DIR"] == scan_dir
    assert isinstance(scan.acquired, dt.datetime)
    assert scan.source == path
    # NaN marks never-measured rows of aborted scans (at most the line being scanned is partial)
    partial_rows = [r for r in range(rows) if 0 < np.isnan(scan.data[r]).sum() < cols]
    assert len(partial_rows) <= 1
    frames = read_all(path)
    assert len(frames) == 2 * len(channels)
    assert {f.unit for f in frames if f.channel == "Current"} == {"A"}


def test_units_and_magnitudes_are_si(realdata_dir: Path) -> None:
    """Z in metres (nm scale), current in amperes (pA-nA scale) -- no hidden unit conversions."""
    z = read_scan(realdata_dir / "nanonis/STM_nanonis_generic_4_5.sxm")
    i = read_scan(realdata_dir / "nanonis/STM_nanonis_generic_4_5.sxm", channel="Current")
    assert 1e-12 < np.nanstd(z.data) < 1e-8
    assert abs(np.nanmedian(i.data)) == pytest.approx(5e-10, rel=0.2)  # near the 500 pA setpoint


def test_img_0244_and_0253_dates_and_area(realdata_dir: Path) -> None:
    a = read_scan(realdata_dir / "nanonis/img_0244.sxm")
    b = read_scan(realdata_dir / "nanonis/img_0253.sxm")
    assert a.acquired == dt.datetime(2024, 2, 25, 17, 6, 26)
    assert b.acquired == dt.datetime(2024, 2, 25, 17, 50, 8)
    assert a.offset == b.offset == pytest.approx((5.849913e-8, -9.728843e-8))


def test_corrupted_file_raises_scan_format_error(realdata_dir: Path) -> None:
    path = realdata_dir / CORRUPTED
    with pytest.raises(ScanFormatError) as info:
        read_scan(path)
    msg = str(info.value)
    assert path.name in msg
    assert "524283" in msg and "524288" in msg  # what was found, what the header needs
    with pytest.raises(ScanFormatError):
        list_channels(path)


def test_createc_image(realdata_dir: Path) -> None:
    path = realdata_dir / "createc/createc_scan_step_20nm.dat"
    assert detect_format(path) == "createc"
    assert [(c.name, c.unit, c.directions) for c in list_channels(path)] == [
        ("Z", "m", ("forward", "backward")),
        ("Current", "A", ("forward", "backward")),
    ]
    z = read_scan(path)
    assert z.shape == (512, 512)
    assert z.size == pytest.approx((199.6643e-10, 199.6643e-10))
    assert z.bias == pytest.approx(0.02742)
    assert z.setpoint == pytest.approx(4.4e-10)
    # aborted at line 330 of 512: rows 330.. are zero-filled in the file and NaN here
    measured = np.isfinite(z.data).all(axis=1)
    assert measured[:330].all() and not measured[330:].any()
    assert z.nan_fraction == pytest.approx(182 / 512)
    # current in amperes: the constant-current image sits at its 440 pA setpoint
    i = read_scan(path, channel="Current")
    assert np.nanmedian(i.data) == pytest.approx(4.4e-10, rel=0.02)
    # Z in metres: the monatomic Cu(111) step is 2.08 angstrom high
    cols = np.nanmedian(z.data[:330], axis=0)
    step = np.median(cols[300:]) - np.median(cols[:100])
    assert step == pytest.approx(2.08e-10, rel=0.1)


def test_createc_backward_frames_are_stored_left_to_right(realdata_dir: Path) -> None:
    path = realdata_dir / "createc/createc_scan_step_20nm.dat"
    fw = read_scan(path).data[:330]
    bw = read_scan(path, direction="backward").data[:330]
    fw, bw = fw - fw.mean(), bw - bw.mean()
    plain = float((fw * bw).sum() / np.sqrt((fw**2).sum() * (bw**2).sum()))
    mirrored = float((fw * bw[:, ::-1]).sum() / np.sqrt((fw**2).sum() * (bw**2).sum()))
    assert plain > 0.95 and mirrored < 0.5


def test_grid(realdata_dir: Path) -> None:
    path = realdata_dir / "nanonis/Grid Experiment2001.3ds"
    assert detect_format(path) == "grid"
    grid = read_grid(path)
    assert grid.shape == (256, 6, 5)
    assert list(grid.channels) == [
        "Current (A)", "Bias (V)", "LI Demod 1 X (A)", "LI Demod 1 Y (A)", "LI Demod 2 X (A)",
        "LI Demod 2 Y (A)",
    ]  # fmt: skip
    assert grid.sweep_label == "Bias (V)"
    assert grid.sweep[0] == pytest.approx(-2.0) and grid.sweep[-1] == pytest.approx(2.0)
    assert grid.pixel_size == pytest.approx((10e-9 / 6, 10e-9 / 5))
    # row 0 is the top: the tip's y position falls from the first row to the last
    y = grid.positions[:, :, 0]
    assert (np.diff(y[:, 0]) < 0).all()
    # the Bias channel records the sweep itself
    assert np.allclose(grid.channels["Bias (V)"][:, 2, 3], grid.sweep, atol=1e-3)
    m = read_scan(path, channel="Current", index=255)
    assert m.shape == (6, 5) and m.unit == "A" and m.channel == "Current"
    assert np.array_equal(m.data, grid.channels["Current (A)"][255])
    assert float(m.header["sweep_value"]) == pytest.approx(2.0)
    z = read_scan(path, channel="Z")
    assert z.unit == "m" and np.array_equal(z.data, grid.parameters["Z (m)"])
    with pytest.raises(ValueError, match="index"):
        read_scan(path, index=256)


@pytest.mark.parametrize(
    ("name", "points", "crlf", "bias"),
    [("TR_dIdV_00006.dat", 577, False, 0.05), ("Bias-Spectroscopy00015_20230420.dat", 2048, True, -0.05)],
)
def test_spectra(realdata_dir: Path, tmp_path: Path, name: str, points: int, crlf: bool, bias: float) -> None:
    path = realdata_dir / "nanonis" / name
    raw = path.read_bytes()
    assert (b"\r\n" in raw) == crlf
    sp = read_spectrum(path)
    assert sp.data.shape[0] == points
    assert sp.columns[:2] == ("Bias calc (V)", "Current (A)")
    assert sp.units[:2] == ("V", "A")
    assert float(sp.header["Bias>Bias (V)"]) == pytest.approx(bias)
    assert sp.column("Bias calc")[0] == pytest.approx(bias, rel=1e-6)
    # the other line ending gives the same spectrum
    other = tmp_path / name
    other.write_bytes(raw.replace(b"\r\n", b"\n") if crlf else raw.replace(b"\n", b"\r\n"))
    again = read_spectrum(other)
    assert dict(again.header) == dict(sp.header) and np.array_equal(again.data, sp.data)
    # a spectrum is not an image
    with pytest.raises(ScanFormatError, match="point spectrum"):
        read_scan(path)


# feedback state from each header: the Z-CONTROLLER table's "on" column (Nanonis) or CHMode (Createc);
# cross-checked against the data: constant-height scans (off) have a flat Z that cannot be registered
FEEDBACK = {
    "nanonis/A151216.123306-02602.sxm": False,
    "nanonis/Au_mica_2023_Y_A_diPAMY_195.sxm": False,
    "nanonis/BRSTM_img_0062.sxm": False,
    "nanonis/CO_img_0050.sxm": True,
    "nanonis/STM_nanonis_generic_4_5.sxm": True,
    "nanonis/TR_img_0249.sxm": True,
    "nanonis/img_0071.sxm": True,
    "nanonis/img_0244.sxm": False,
    "nanonis/img_0253.sxm": False,
    "nanonis/pySPM_test.sxm": True,
    "createc/createc_scan_step_20nm.dat": True,
}


@pytest.mark.parametrize("name", sorted(FEEDBACK))
def test_feedback_state_is_read_from_the_header(realdata_dir: Path, name: str) -> None:
    from stmdenoise.io.feedback import feedback_error_channel, feedback_on

    current = read_scan(realdata_dir / name, channel="Current")
    z = read_scan(realdata_dir / name, channel="Z")
    assert feedback_on(current) is FEEDBACK[name] and feedback_on(z) is FEEDBACK[name]
    assert feedback_error_channel(current) is FEEDBACK[name]
    assert feedback_error_channel(z) is False  # a height is never the feedback error
