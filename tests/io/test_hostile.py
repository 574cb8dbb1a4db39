"""Hostile header values and payloads (issue 16's audit): every reader fails only with ScanFormatError.

Each case was found by feeding mutated files to the readers: on the old code they raised
OverflowError/DecompressionBombError/MemoryError, hung, allocated gigabytes or returned garbage.
Memory and time bounds are checked in a child process capped with ``resource.setrlimit``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stmdenoise.io import ScanFormatError, detect_format, read_all, read_grid, read_scan, read_spectrum
from tests.hostile import (
    createc_bytes,
    grid_bytes,
    npy_claiming,
    png_bomb,
    run_capped,
    set_sxm_tag,
    spectrum_bytes,
    sxm_bytes,
    zlib_bomb_createc,
)


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


def test_valid_builders_read(tmp_path: Path) -> None:
    """The builders make files the readers accept, so each hostile case differs in one value only."""
    scans = read_all(_write(tmp_path, "c.dat", createc_bytes()))
    assert [(s.channel, s.direction) for s in scans] == [
        ("Z", "forward"), ("Current", "forward"), ("Z", "backward"), ("Current", "backward")
    ]  # fmt: skip
    assert scans[0].shape == (12, 16) and np.isfinite(scans[0].data).all()
    assert len(read_all(_write(tmp_path, "s.sxm", sxm_bytes()))) == 3
    assert read_grid(_write(tmp_path, "g.3ds", grid_bytes())).shape == (5, 3, 4)
    assert read_spectrum(_write(tmp_path, "p.dat", spectrum_bytes())).data.shape == (20, 2)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("DAC-Type", "2000bit", "DAC-Type"),
        ("DAC-Type", "0bit", "DAC-Type"),
        ("Gainpreamp / GainPre 10^", "1000", "GainPre"),
        ("Gainpreamp / GainPre 10^", "nan", "GainPre"),
        ("Channelselectval / Channelselectval", "inf", "Channelselectval"),
        ("Channelselectval / Channelselectval", "1e300", "Channelselectval"),
        ("ZPiezoconst", "nan", "ZPiezoconst"),
        ("ZPiezoconst", "0", "ZPiezoconst"),
        ("GainZ / GainZ", "-inf", "GainZ"),
        ("Length x[A]", "1e308", "Length"),
        ("Length y[A]", "inf", "Length"),
        ("Rotation / Rotation", "nan", "Rotation"),
        ("BiasVolt.[mV]", "inf", "BiasVolt"),
        ("OffsetX", "1e300", "OffsetX"),
    ],
)
def test_createc_header_values_are_range_checked(tmp_path: Path, key: str, value: str, match: str) -> None:
    p = _write(tmp_path, "c.dat", createc_bytes({key: value}))
    with pytest.raises(ScanFormatError, match=match) as info:
        read_all(p)
    assert "c.dat" in str(info.value)


def test_createc_huge_dac_type_does_not_hang(tmp_path: Path) -> None:
    """``DAC-Type=100000000000bit`` used to compute 2 ** 100000000000 per channel (a hang)."""
    p = _write(tmp_path, "c.dat", createc_bytes({"DAC-Type": "100000000000bit"}))
    res = run_capped(["-c", f"from stmdenoise.io import read_all\nread_all({str(p)!r})"], timeout=30)
    assert "ScanFormatError" in res.stderr and "DAC-Type" in res.stderr


def test_createc_extra_data_beyond_the_header_is_refused(tmp_path: Path) -> None:
    """``Num.X=1`` on a 512-column file: 4 MB of data silently ignored before."""
    raw = createc_bytes(nx=256, ny=128, padding=0).replace(b"Num.X=256", b"Num.X=1")
    p = _write(tmp_path, "c.dat", raw)
    with pytest.raises(ScanFormatError, match="more than"):
        read_all(p)
    # real padding (the bundled file carries 8188 bytes) is still accepted
    assert read_all(_write(tmp_path, "ok.dat", createc_bytes(padding=8188)))[0].shape == (12, 16)


@pytest.mark.parametrize(("magic", "kind"), [(b"[Parameter]", "16-bit"), (b"[Paramet32]", "32-bit")])
def test_older_createc_versions_get_their_own_reason(tmp_path: Path, magic: bytes, kind: str) -> None:
    """An uncompressed Createc image of an older version was taken for a Nanonis spectrum ("expected
    a [DATA] line after the spectrum header"): it is named for what it is, and refused."""
    raw = magic + createc_bytes()[len(b"[Paramco32]") :]
    p = _write(tmp_path, "old.dat", raw)
    assert detect_format(p) == "createc"
    with pytest.raises(ScanFormatError, match=rf"old\.dat.*older {kind} uncompressed one.*Gwyddion"):
        read_scan(p)


def test_createc_padding_of_four_lines_of_a_wide_scan_is_accepted(tmp_path: Path) -> None:
    """The padding after the frames is 4 lines of the scan's columns (the bundled 512-column file:
    8188 bytes); on an 8192-column scan that is 131 068 bytes, over the fixed 64 KiB allowance."""
    nx, ny, channels = 8192, 2, 2
    pad = 4 * 4 * nx - 4
    values = np.full(1 + channels * nx * ny, 1000.0, dtype="<f4").tobytes() + bytes(pad)
    z_only = {"Channelselectval / Channelselectval": "1"}
    raw = createc_bytes(z_only, nx=nx, ny=ny, channels=channels, payload=values)
    scans = read_all(_write(tmp_path, "wide.dat", raw))
    assert [s.shape for s in scans] == [(ny, nx), (ny, nx)]
    # far more than that is still refused
    values += bytes(64 * 4 * nx)
    raw = createc_bytes(z_only, nx=nx, ny=ny, channels=channels, payload=values)
    with pytest.raises(ScanFormatError, match="padding"):
        read_all(_write(tmp_path, "wider.dat", raw))


# peak memory of the child from VmHWM: ru_maxrss survives exec and would report pytest's own size
LINUX_ONLY = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


@LINUX_ONLY
def test_createc_zlib_bomb_is_refused_within_a_memory_cap(tmp_path: Path) -> None:
    """A small file whose stream inflates to 64 MiB (header: 64 channels of 4096 x 4096) stays small."""
    p = _write(tmp_path, "bomb.dat", zlib_bomb_createc())
    assert p.stat().st_size < 1 << 20
    code = (
        "from stmdenoise.io import read_all, ScanFormatError\n"
        f"try:\n    read_all({str(p)!r})\nexcept ScanFormatError as e:\n    print('clean', e)\n"
        "print('peak_kb', open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    )
    res = run_capped(["-c", code], mem_mb=2048, timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "clean" in res.stdout
    peak_mb = int(res.stdout.split("peak_kb")[-1]) / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"


@LINUX_ONLY
def test_sxm_size_is_checked_before_the_data_is_read(tmp_path: Path) -> None:
    """A 2 GB sparse file behind a small header used to be read whole (2 GB RSS) before any check."""
    p = _write(tmp_path, "sparse.sxm", sxm_bytes())
    with open(p, "r+b") as fh:
        fh.truncate(2 << 30)
    code = (
        "from stmdenoise.io import read_scan, ScanFormatError\n"
        f"try:\n    read_scan({str(p)!r})\nexcept ScanFormatError as e:\n    print('clean', e)\n"
        "print('peak_kb', open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    )
    res = run_capped(["-c", code], mem_mb=2048, timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "data block holds" in res.stdout
    assert int(res.stdout.split("peak_kb")[-1]) / 1024 < 400


@pytest.mark.parametrize(
    ("tag", "value", "match"),
    [
        ("SCAN_RANGE", "1e308 1e308", "SCAN_RANGE"),
        ("SCAN_RANGE", "nan 1e-9", "SCAN_RANGE"),
        ("SCAN_PIXELS", "100000 100000", "exceeds the largest frame"),
        ("SCAN_PIXELS", "0 12", "positive"),
        ("SCAN_OFFSET", "inf 0", "SCAN_OFFSET"),
        ("SCAN_ANGLE", "nan", "SCAN_ANGLE"),
        ("BIAS", "inf", "BIAS"),
    ],
)
def test_sxm_header_values_are_range_checked(tmp_path: Path, tag: str, value: str, match: str) -> None:
    p = _write(tmp_path, "s.sxm", set_sxm_tag(sxm_bytes(), tag, value))
    with pytest.raises(ScanFormatError, match=match):
        read_all(p)


def test_truncated_spectrum_is_refused(tmp_path: Path) -> None:
    """A spectrum cut to half its rows (4096 -> 2044) was accepted as a shorter sweep."""
    full = spectrum_bytes(40)
    cut = full[: full.index(b"\n", len(full) // 2 + 40) + 1]  # ends on a complete row
    with pytest.raises(ScanFormatError, match="declares 40 sweep points"):
        read_spectrum(_write(tmp_path, "cut.dat", cut))
    with pytest.raises(ScanFormatError, match="truncated"):
        read_spectrum(_write(tmp_path, "mid.dat", full[:-5]))


@pytest.mark.parametrize("settings", ["0;0;inf;3E-9;0", "0;0;1e308;1e308;0", "nan;0;4E-9;3E-9;0"])
def test_grid_settings_are_range_checked(tmp_path: Path, settings: str) -> None:
    with pytest.raises(ScanFormatError, match="Grid settings"):
        read_grid(_write(tmp_path, "g.3ds", grid_bytes(settings=settings)))


def test_grid_dimensions_are_checked_before_reading(tmp_path: Path) -> None:
    raw = grid_bytes().replace(b'Grid dim="4 x 3"', b'Grid dim="100000 x 100000"')
    with pytest.raises(ScanFormatError, match="exceeds the largest frame"):
        read_grid(_write(tmp_path, "g.3ds", raw))


def test_png_decompression_bomb_is_refused(tmp_path: Path) -> None:
    """A PNG declaring 20000 x 20000 pixels raised PIL's DecompressionBombError (a traceback)."""
    p = _write(tmp_path, "bomb.png", png_bomb())
    with pytest.raises(ScanFormatError, match="decompression bomb"):
        read_scan(p)
    p = _write(tmp_path, "big.png", png_bomb(9000, 9000))  # below PIL's own limit, above ours
    with pytest.raises(ScanFormatError, match="more than this reader accepts"):
        read_scan(p)


@pytest.mark.parametrize(
    ("shape", "dtype", "match"),
    [((100000, 100000), "<f8", "more than this reader accepts"), ((4, 4), "<f8", "needs 128 bytes"),
     ((4, 4, 4), "<f4", "2-D numeric"), ((4, 4), "|O", "2-D numeric")],
)  # fmt: skip
def test_npy_header_is_checked_against_the_file(tmp_path: Path, shape: tuple[int, ...], dtype: str,
                                                match: str) -> None:  # fmt: skip
    """A 193-byte .npy claiming 100000 x 100000 float64 asked numpy for 80 GB."""
    p = _write(tmp_path, "tiny.npy", npy_claiming(shape, dtype))
    assert p.stat().st_size < 256
    with pytest.raises(ScanFormatError, match=match):
        read_scan(p)


def test_npy_header_with_a_cut_dict_is_refused(tmp_path: Path) -> None:
    """Zeros inside the header dict made numpy's tokenizer raise TokenError (found by the harness)."""
    raw = bytearray(npy_claiming((4, 4)) + bytes(128))
    raw[20:100] = bytes(80)
    with pytest.raises(ScanFormatError, match="unreadable"):
        read_scan(_write(tmp_path, "cut.npy", bytes(raw)))


def test_h5_dataset_shape_is_checked_before_reading(tmp_path: Path) -> None:
    import h5py

    p = tmp_path / "big.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("data", shape=(100000, 100000), dtype="f8", chunks=(1000, 1000), compression="gzip")
        f.attrs["format"] = "stmdenoise-scan"
    with pytest.raises(ScanFormatError, match="at most"):
        read_scan(p)


def test_special_files_get_precise_messages(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.sxm"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.sxm"
    os.symlink(loop, loop)
    for path, words in ((fifo, "FIFO"), (loop, "symbolic link loop"), (tmp_path, "is a folder"),
                        (tmp_path / "none.sxm", "no such file")):  # fmt: skip
        with pytest.raises(OSError) as info:
            read_scan(path)
        assert words in str(info.value), str(info.value)


def test_h5_with_a_broken_string_heap_does_not_hang(tmp_path: Path) -> None:
    """Zeroed bytes in the global heap (where text attributes live) made libhdf5 loop for ever."""
    from tests.hostile import small_images

    raw = bytearray(small_images()[".h5"])
    heap = raw.index(b"GCOL")
    raw[heap + 64 : heap + 160] = bytes(96)  # the records after the second string
    p = _write(tmp_path, "heap.h5", bytes(raw))
    res = run_capped(["-c", f"from stmdenoise.io import read_scan\nread_scan({str(p)!r})"], timeout=30)
    assert "ScanFormatError" in res.stderr and "global heap" in res.stderr


@pytest.mark.parametrize("ext", [".tiff", ".sxm", ".16.png"])
def test_values_a_format_cannot_hold_are_refused_not_written_as_garbage(tmp_path: Path, ext: str) -> None:
    """An accepted .npy holding 1e300 was exported as an all-inf float32 TIFF (found by the harness)."""
    from stmdenoise.io import write_scan
    from stmdenoise.scan import Scan

    data = np.zeros((8, 8))
    data[0, 0], data[1, 1] = 1.5e308, -1.5e308
    with pytest.raises(ValueError, match="choose h5 or npy"):
        write_scan(Scan(data, pixel_size=(1e-10, 1e-10)), tmp_path / f"big{ext}")
    assert not list(tmp_path.iterdir())
    write_scan(Scan(data, pixel_size=(1e-10, 1e-10)), tmp_path / "big.h5")  # h5 keeps float64
