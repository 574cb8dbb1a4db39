"""Property-based damage to real files: the readers raise ScanFormatError or return a correct scan.

Truncating, extending and flipping bytes of real files (hypothesis, derandomized, small
example counts) must never surface an IndexError, a numpy reshape error or garbage numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stmdenoise.io import ScanFormatError, read_grid, read_scan, read_spectrum, read_sxm_all, read_sxm_raw
from stmdenoise.io.errors import ScanFormatError as _SFE
from stmdenoise.scan import Scan

pytestmark = pytest.mark.realdata

FUZZ = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SXM = Path(__file__).resolve().parents[2].parent / "shared/realdata/nanonis/img_0244.sxm"  # SCAN_DIR=up
CREATEC = SXM.parents[1] / "createc/createc_scan_step_20nm.dat"
GRID = SXM.parent / "Grid Experiment2001.3ds"
SPECTRUM = SXM.parent / "TR_dIdV_00006.dat"
if not SXM.exists():
    pytest.skip(
        f"{SXM.parents[1]} is absent: these tests damage the team's real files", allow_module_level=True
    )

SXM_BYTES = SXM.read_bytes()
SXM_DATA_START = SXM_BYTES.index(b"\x1a\x04", SXM_BYTES.index(b":SCANIT_END:")) + 2
SXM_FRAMES = read_sxm_all(SXM)
SXM_RAW = read_sxm_raw(SXM)


def _flip(raw: bytes, flips: list[tuple[int, int]]) -> bytes:
    buf = bytearray(raw)
    for pos, mask in flips:
        buf[pos % len(buf)] ^= mask
    return bytes(buf)


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


def _frames_equal(a: list[Scan], b: list[Scan]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and np.array_equal(x.data, y.data, equal_nan=True)
        for x, y in zip(a, b, strict=True)
    )


# ---------------------------------------------------------------------------------- .sxm
@FUZZ
@given(keep=st.integers(min_value=0, max_value=len(SXM_BYTES) - 1))
def test_truncated_sxm_raises(tmp_path: Path, keep: int) -> None:
    p = _write(tmp_path, "t.sxm", SXM_BYTES[:keep])
    with pytest.raises(ScanFormatError) as info:
        read_scan(p)
    assert "t.sxm" in str(info.value)


@FUZZ
@given(extra=st.binary(min_size=1, max_size=64))
def test_extended_sxm_raises(tmp_path: Path, extra: bytes) -> None:
    p = _write(tmp_path, "e.sxm", SXM_BYTES + extra)
    with pytest.raises(ScanFormatError, match="data block holds"):
        read_scan(p)


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(0, SXM_DATA_START - 1), st.integers(1, 255)), min_size=1, max_size=3)
)
def test_header_byte_flips_raise_or_keep_the_data(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    p = _write(tmp_path, "h.sxm", _flip(SXM_BYTES, flips))
    try:
        frames = read_sxm_all(p)
    except _SFE:
        return
    # the header still made sense: geometry, orientation and every frame are the original ones
    assert _frames_equal(frames, SXM_FRAMES)
    assert all(f.scan_direction == "up" for f in frames)


@FUZZ
@given(
    flips=st.lists(
        st.tuples(st.integers(SXM_DATA_START, len(SXM_BYTES) - 1), st.integers(1, 255)),
        min_size=1,
        max_size=4,
    )
)
def test_data_byte_flips_change_only_the_flipped_pixels(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    p = _write(tmp_path, "d.sxm", _flip(SXM_BYTES, flips))
    raw = read_sxm_raw(p)  # the payload size is intact: must read
    changed = sum(
        int((~((raw[k] == SXM_RAW[k]) | (np.isnan(raw[k]) & np.isnan(SXM_RAW[k])))).sum()) for k in raw
    )
    assert changed <= len(flips)
    frames = read_sxm_all(p)
    assert [dict(f.header) for f in frames] == [dict(f.header) for f in SXM_FRAMES]


# ---------------------------------------------------------------------------------- Createc
@pytest.fixture(scope="module")
def createc_bytes() -> bytes:
    return CREATEC.read_bytes()


@settings(FUZZ, max_examples=12)
@given(frac=st.floats(min_value=0.0, max_value=0.99999))
def test_truncated_createc_raises(tmp_path: Path, createc_bytes: bytes, frac: float) -> None:
    p = _write(tmp_path, "t.dat", createc_bytes[: int(frac * len(createc_bytes))])
    with pytest.raises(ScanFormatError):
        read_scan(p)


@settings(FUZZ, max_examples=8)
@given(extra=st.binary(min_size=1, max_size=32))
def test_extended_createc_raises(tmp_path: Path, createc_bytes: bytes, extra: bytes) -> None:
    with pytest.raises(ScanFormatError):
        read_scan(_write(tmp_path, "e.dat", createc_bytes + extra))


@settings(FUZZ, max_examples=12)
@given(flips=st.lists(st.tuples(st.integers(0, 1_607_784), st.integers(1, 255)), min_size=1, max_size=3))
def test_createc_byte_flips_raise_or_read(
    tmp_path: Path, createc_bytes: bytes, flips: list[tuple[int, int]]
) -> None:
    data_start = createc_bytes.index(b"\nDATA") + 5
    p = _write(tmp_path, "f.dat", _flip(createc_bytes, flips))
    try:
        scan = read_scan(p)
    except _SFE:
        return
    assert isinstance(scan, Scan) and scan.data.dtype == np.float64
    if all(pos % len(createc_bytes) >= data_start for pos, _ in flips):
        pytest.fail("a damaged zlib stream must not decode (its adler32 checksum fails)")


# ---------------------------------------------------------------------------------- grid and spectrum
@settings(FUZZ, max_examples=15)
@given(cut=st.integers(min_value=1, max_value=189_558), extra=st.binary(max_size=8))
def test_resized_grid_raises(tmp_path: Path, cut: int, extra: bytes) -> None:
    raw = GRID.read_bytes()
    p = _write(tmp_path, "g.3ds", raw[:-cut] + extra if extra else raw[:-cut])
    if len(raw[:-cut] + extra) == len(raw):
        return  # same size again: not a resize
    with pytest.raises(ScanFormatError):
        read_grid(p)


@settings(FUZZ, max_examples=15)
@given(flips=st.lists(st.tuples(st.integers(0, 189_558), st.integers(1, 255)), min_size=1, max_size=3))
def test_grid_byte_flips_raise_or_read(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    p = _write(tmp_path, "g.3ds", _flip(GRID.read_bytes(), flips))
    try:
        grid = read_grid(p)
    except _SFE:
        return
    assert grid.shape[0] >= 1 and all(s.dtype == np.float64 for s in grid.channels.values())


@settings(FUZZ, max_examples=20)
@given(keep=st.integers(min_value=0, max_value=93_518))
def test_truncated_spectrum_raises_or_keeps_whole_rows(tmp_path: Path, keep: int) -> None:
    full = read_spectrum(SPECTRUM)
    p = _write(tmp_path, "s.dat", SPECTRUM.read_bytes()[:keep])
    try:
        sp = read_spectrum(p)
    except _SFE:
        return
    n = sp.data.shape[0]
    assert sp.columns == full.columns and 1 <= n <= full.data.shape[0]
    # every row but a cut last one is the original (a number cut short still parses)
    np.testing.assert_array_equal(sp.data[: n - 1], full.data[: n - 1])
