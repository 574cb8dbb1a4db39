"""Createc ``.dat`` images (``[Paramco32]`` header, zlib-compressed little-endian float32 payload).

File layout
-----------
A text header of ``Long name / Short name=value`` lines (latin-1, CRLF) starts with
``[Paramco32]``; the line ``DATA`` ends it and a zlib stream follows. The decompressed
stream holds one leading float (not data), then ``Channels`` frames of ``Num.Y x Num.X``
values in DAC counts, then padding. With ``Channels`` = 2 x (number of selected signals) the
frames are all forward signals, then all backward signals; ``Channelselectval`` is a bit mask
of the signals (1: topography Z, 2: current, 4/8/...: further ADC inputs).

Units
-----
Lateral: ``Length x[A]`` / ``Length y[A]`` (angstrom). Z: counts x ``ZPiezoconst`` (angstrom/V)
x ``GainZ`` x (20 V / 2**DAC bits) (falls back to ``Dacto[A]z`` x ``GainZ``, angstrom per count);
on the bundled file this matches the header's own lateral calibration
(``Delta X`` x ``Num.X`` x ``Xpiezoconst`` x ``GainX`` x 20 V / 2**20 = 199.658 angstrom against
``Length x[A]`` = 199.6643).
Current: counts x (20 V / 2**bits) / 10**``GainPre`` (V/A); further ADC inputs in volts.

Orientation and aborted scans
-----------------------------
Rows are kept in the order the file stores them and backward frames are already stored
left to right (no mirroring; their correlation with the forward frame is 0.99 as stored).
Rows an aborted scan never reached are zero in every channel; trailing all-zero rows become NaN.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.io._common import (
    MAX_PAYLOAD_BYTES,
    MAX_SCAN_SIZE_M,
    MAX_TEXT_BYTES,
    ChannelInfo,
    PathLike,
    check_pixels,
    finite_float,
    parse_float,
    read_head,
)
from stmdenoise.io.errors import ScanFormatError
from stmdenoise.scan import Scan

__all__ = ["read_createc", "read_createc_all", "list_createc_channels", "is_createc"]

MAGIC = b"[Paramco32]"
#: The first line of the older, uncompressed Createc image versions (Gwyddion's createc.c names the
#: same three): recognised so that they get their own reason, not read (their units are not
#: documented well enough to scale them faithfully).
OLDER_MAGICS = {
    b"[Parameter]": "16-bit uncompressed",
    b"[Paramet32]": "32-bit uncompressed",
}
_SIGNALS = {1: ("Z", "m"), 2: ("Current", "A")}
#: Padding the decompressed stream may carry after the frames: the bundled file's 8188 bytes are
#: 4 lines of its 512 columns (less the leading value), as other readers drop "the last 4 rows";
#: allowed up to the larger of this and 16 such lines (:func:`_max_padding`).
_MAX_PADDING = 1 << 16
#: zlib cannot compress better than about 1032:1; a header needing more is not this file.
_ZLIB_MAX_RATIO = 1100
#: Most channels (frames) one file may declare.
_MAX_CHANNELS = 64


def is_createc(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts a Createc ``.dat`` image, of the version
    read here or of an older one (refused with its own reason, not taken for another format)."""
    return head.lstrip().startswith((b"[Paramco", *OLDER_MAGICS))


def _max_padding(nx: int) -> int:
    """Bytes of padding the decompressed stream may carry after the frames of ``nx`` columns."""
    return max(_MAX_PADDING, 16 * 4 * nx)


def _header(text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if not key.strip(" /"):
            continue
        header[key] = value.strip()
    return header


def _get(header: dict[str, str], name: str) -> str | None:
    """Value of ``name``, matching a full key, or either side of ``Long / Short`` keys."""
    if name in header:
        return header[name]
    for key, value in header.items():
        parts = [p.strip() for p in key.split(" / ")]
        if name in parts:
            return value
    return None


def _signals(path: Path, header: dict[str, str], n_channels: int) -> list[tuple[str, str, int, str]]:
    """(name, unit, signal bit, direction) for each stored frame, in payload order."""
    select = finite_float(path, "Channelselectval", _get(header, "Channelselectval"), low=0, high=0xFFFF)
    if select is not None and select != int(select):
        raise ScanFormatError(path, f"expected an integer bit mask Channelselectval, found {select!r}")
    bits = [b for b in (1 << k for k in range(16)) if select is not None and int(select) & b]
    if not bits:
        bits = [1, 2][: max(1, n_channels // 2)]
    names = []
    for b in bits:
        name, unit = _SIGNALS.get(b, (f"ADC{b.bit_length() - 2}", "V"))
        names.append((name, unit, b))
    if n_channels == 2 * len(names):
        return [(n, u, b, "forward") for n, u, b in names] + [(n, u, b, "backward") for n, u, b in names]
    if n_channels == len(names):
        return [(n, u, b, "forward") for n, u, b in names]
    raise ScanFormatError(
        path,
        f"expected Channels = {len(names)} or {2 * len(names)} for Channelselectval {select!r}, "
        f"found Channels = {n_channels}",
    )


def _parse(path: Path) -> tuple[dict[str, str], list[tuple[str, str, int, str]], NDArray[np.float64]]:
    head = read_head(path, b"\nDATA", limit=MAX_TEXT_BYTES)
    if not is_createc(head[:64]):
        raise ScanFormatError(path, f"expected a Createc header starting with {MAGIC!r}, found {head[:12]!r}")
    for magic, kind in OLDER_MAGICS.items():
        if head.lstrip().startswith(magic):
            raise ScanFormatError(
                path,
                f"expected a compressed Createc image ({MAGIC.decode()}), found an older {kind} one "
                f"({magic.decode()}), which this program does not read: export it from Gwyddion (which "
                "reads it) as a 32-bit TIFF or .npy and give its pixel size (--nm-per-px)",
            )
    m = re.search(rb"\r?\nDATA", head)
    if m is None:
        raise ScanFormatError(path, "expected a DATA marker after the Createc header, found none")
    nul = head.find(b"\x00", 0, m.start())
    header = _header((head[: m.start()] if nul < 0 else head[:nul]).decode("latin-1"))
    try:
        nx, ny = int(_get(header, "Num.X") or ""), int(_get(header, "Num.Y") or "")
        n_channels = int(_get(header, "Channels") or "")
    except ValueError:
        raise ScanFormatError(
            path,
            f"expected integer Num.X, Num.Y and Channels, found {_get(header, 'Num.X')!r}, "
            f"{_get(header, 'Num.Y')!r}, {_get(header, 'Channels')!r}",
        ) from None
    check_pixels(path, ny, nx, "Num.X x Num.Y")
    if not 1 <= n_channels <= _MAX_CHANNELS:
        raise ScanFormatError(path, f"expected Channels in [1, {_MAX_CHANNELS}], found {n_channels}")
    signals = _signals(path, header, n_channels)
    scale = _scales(path, header)  # range-checked before any data is touched
    needed = (1 + n_channels * nx * ny) * 4
    with open(path, "rb") as fh:
        fh.seek(m.end())
        compressed = fh.read(MAX_PAYLOAD_BYTES // 4 + 1)
    if needed > MAX_PAYLOAD_BYTES or needed > _ZLIB_MAX_RATIO * max(len(compressed), 1):
        raise ScanFormatError(
            path,
            f"header (Num.X {nx} x Num.Y {ny}, {n_channels} channels) needs {needed} bytes, which "
            f"{len(compressed)} compressed bytes cannot hold (or more than {MAX_PAYLOAD_BYTES})",
        )
    dec = zlib.decompressobj()
    try:
        # capped: a stream that inflates beyond the header's size plus padding is refused, not held
        payload = dec.decompress(compressed, needed + _max_padding(nx))
    except zlib.error as exc:
        raise ScanFormatError(
            path, f"expected a zlib-compressed payload, found a corrupt stream ({exc})"
        ) from None
    if dec.unconsumed_tail:
        raise ScanFormatError(
            path,
            f"payload decompresses to more than the {needed} bytes the header (Num.X {nx} x Num.Y {ny}, "
            f"{n_channels} channels) needs plus {_max_padding(nx)} bytes of padding",
        )
    del compressed
    if not dec.eof:
        raise ScanFormatError(path, "expected a complete zlib stream after DATA, found a truncated one")
    if dec.unused_data:
        raise ScanFormatError(
            path, f"expected the file to end with the zlib stream, found {len(dec.unused_data)} more bytes"
        )
    if len(payload) < needed:
        raise ScanFormatError(
            path,
            f"payload decompresses to {len(payload)} bytes, header (Num.X {nx} x Num.Y {ny}, "
            f"{n_channels} channels, float32 + 1 leading value) needs {needed}",
        )
    frames = np.frombuffer(payload, dtype="<f4", count=n_channels * nx * ny, offset=4)
    with np.errstate(invalid="ignore"):  # a signalling NaN in the file is still just NaN
        frames = frames.reshape(n_channels, ny, nx).astype(np.float64)
    del payload
    # rows an aborted scan never reached are zero in every channel: only trailing ones
    zero_rows = np.all(frames == 0, axis=(0, 2))
    n_trailing = int(np.argmin(zero_rows[::-1])) if not zero_rows.all() else ny
    if n_trailing:
        frames[:, ny - n_trailing :, :] = np.nan
    volts = 20.0 / 2 ** _dac_bits(path, header)
    for i, (_name, _unit, bit, _d) in enumerate(signals):
        frames[i] *= scale.get(bit, volts)
    return header, signals, frames


def _dac_bits(path: Path, header: dict[str, str]) -> int:
    text = _get(header, "DAC-Type") or ""
    m = re.search(r"\d+", text)
    if m is None:
        return 20
    if len(m.group()) > 3 or not 8 <= int(m.group()) <= 32:  # before int(): a 10**6-digit value
        raise ScanFormatError(path, f"expected DAC-Type of 8 to 32 bit, found {text[:40]!r}")
    return int(m.group())


def _scales(path: Path, header: dict[str, str]) -> dict[int, float]:
    """SI units per DAC count for the Z (bit 1) and current (bit 2) signals (range-checked)."""

    def num(name: str, **kw: Any) -> float | None:
        return finite_float(path, name, _get(header, name), **kw)

    volts_per_count = 20.0 / 2 ** _dac_bits(path, header)
    gain_z = num("GainZ", low=0, high=1e6, nonzero=True) or 1.0
    z_const = num("ZPiezoconst", low=-1e6, high=1e6, nonzero=True)
    if z_const is not None:
        z = z_const * gain_z * volts_per_count * 1e-10
    else:
        z = (num("Dacto[A]z", low=-1e6, high=1e6) or 0.0) * gain_z * 1e-10
    gain_pre = num("GainPre 10^", low=0, high=15)
    if gain_pre is None:
        gain_pre = num("Gainpreamp", low=0, high=15)
    if gain_pre is None:
        gain_pre = 9.0
    return {1: z, 2: volts_per_count / 10.0**gain_pre}


def _to_scans(path: Path) -> list[Scan]:
    header, signals, frames = _parse(path)
    ny, nx = frames.shape[1:]

    def num(name: str, **kw: Any) -> float | None:
        return finite_float(path, name, _get(header, name), **kw)

    max_a = MAX_SCAN_SIZE_M * 1e10
    lx = parse_float(_get(header, "Length x[A]"))
    ly = parse_float(_get(header, "Length y[A]"))
    if not (lx is not None and ly is not None and 0 < lx <= max_a and 0 < ly <= max_a):
        raise ScanFormatError(
            path, f"expected Length x[A] / Length y[A] in (0, {max_a:g}], found {lx!r}, {ly!r}"
        )
    bias_mv = num("BiasVolt.[mV]", low=-1e5, high=1e5)
    if bias_mv is None:
        bias_mv = num("Biasvolt[mV]", low=-1e5, high=1e5)
    # the feedback setpoint: FBLogIset in pA (what the Createc software shows); Current[A] is
    # absent from some versions' headers, and zero/missing FBLogIset falls back to it
    iset_pa = num("FBLogIset", low=-1e12, high=1e12)
    setpoint = iset_pa * 1e-12 if iset_pa else num("Current[A]", low=-1.0, high=1.0)
    xy = (num("Dacto[A]xy", low=-1e6, high=1e6) or 0.0) * 1e-10
    gx = num("GainX", low=-1e6, high=1e6) or 1.0
    gy = num("GainY", low=-1e6, high=1e6) or 1.0
    ox = (num("OffsetX", low=-1e12, high=1e12) or 0.0) * xy * gx
    oy = (num("OffsetY", low=-1e12, high=1e12) or 0.0) * xy * gy
    return [
        Scan(
            data=frames[i],
            pixel_size=(ly * 1e-10 / ny, lx * 1e-10 / nx),
            channel=name,
            unit=unit,
            direction=direction,  # type: ignore[arg-type]
            bias=None if bias_mv is None else bias_mv * 1e-3,
            setpoint=setpoint,
            angle=num("Rotation", low=-1e6, high=1e6) or 0.0,
            offset=(oy, ox),
            header=header,
            source=path,
        )
        for i, (name, unit, _bit, direction) in enumerate(signals)
    ]


def read_createc_all(path: PathLike) -> list[Scan]:
    """Every frame of a Createc ``.dat`` image, forward signals first."""
    return _to_scans(Path(path))


def list_createc_channels(path: PathLike) -> list[ChannelInfo]:
    """Channels of a Createc ``.dat`` image."""
    out: dict[str, ChannelInfo] = {}
    for s in read_createc_all(path):
        prev = out.get(s.channel)
        dirs = (*prev.directions, s.direction) if prev else (s.direction,)
        out[s.channel] = ChannelInfo(s.channel, s.unit, dirs)
    return list(out.values())


def read_createc(path: PathLike, *, channel: str | None = None, direction: str = "forward") -> Scan:
    """Read one channel of a Createc ``.dat`` image.

    Parameters
    ----------
    path : str or Path
        The ``.dat`` file.
    channel : str, optional
        ``"Z"``, ``"Current"`` or ``"ADCn"`` (case-insensitive); default the first (``"Z"``).
    direction : {"forward", "backward"}
        Which frame.

    Returns
    -------
    Scan
        Values in metres (Z) or amperes (current); never-measured rows are NaN.
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    scans = read_createc_all(path)
    wanted = scans[0].channel if channel is None else channel
    for s in scans:
        if s.channel.lower() == wanted.lower() and s.direction == direction:
            return s
    raise ValueError(
        f"channel {wanted!r} ({direction}) is not in {Path(path).name}; "
        f"channels: {sorted({s.channel for s in scans})}"
    )
