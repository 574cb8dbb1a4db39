"""Nanonis ``.sxm`` scans: our own reader (no third-party parser at run time); the writer is
:mod:`stmdenoise.io.sxm_write`.

File layout
-----------
A latin-1 text header of ``:TAG:`` lines, each followed by its value lines, ends with
``:SCANIT_END:``; the binary block starts after the ``\\x1a\\x04`` marker that follows. The block
holds one float32 frame (``SCANIT_TYPE``: ``FLOAT MSBFIRST`` = big-endian) of
``rows x cols`` pixels per recorded direction, channel after channel in ``:DATA_INFO:`` order,
forward before backward for channels recorded in ``both`` directions. ``SCAN_PIXELS`` is
``cols rows``; ``SCAN_RANGE`` and ``SCAN_OFFSET`` are ``x y`` in metres. Values are stored
already in the channel's physical unit.

Orientation
-----------
Frames are stored in acquisition order: a ``SCAN_DIR=up`` frame starts at the bottom and
a backward frame runs right to left. The reader flips ``up`` frames vertically and mirrors
backward frames horizontally, so every :class:`~stmdenoise.scan.Scan` has row 0 at the top
and column 0 on the left, as Nanonis displays it. The writer undoes both.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.io._common import (
    MAX_PAYLOAD_BYTES,
    MAX_SCAN_SIZE_M,
    ChannelInfo,
    PathLike,
    check_pixels,
    file_size,
    parse_float,
    read_head,
)
from stmdenoise.io.errors import ScanFormatError
from stmdenoise.scan import Scan

__all__ = [
    "read_sxm",
    "read_sxm_all",
    "read_sxm_raw",
    "list_sxm_channels",
    "parse_sxm_header",
    "is_sxm_header",
    "z_controller",
]

_END_TAG = b":SCANIT_END:"
_MARKER = b"\x1a\x04"
_DUP_KEY = re.compile(r"#\d+$")
_TAG_LINE = re.compile(r"^:([^\n]*):$", re.MULTILINE)
_DTYPES: dict[tuple[str, ...], str] = {
    ("FLOAT", "MSBFIRST"): ">f4",
    ("FLOAT", "LSBFIRST"): "<f4",
}
_DATA_INFO_COLUMNS = ("Channel", "Name", "Unit", "Direction", "Calibration", "Offset")


@dataclass(frozen=True)
class _SxmChannel:
    name: str
    unit: str
    both: bool
    row: str  # the DATA_INFO row exactly as read (without its leading tab)


@dataclass(frozen=True)
class _SxmLayout:
    header: dict[str, str]
    rows: int
    cols: int
    dtype: str
    channels: tuple[_SxmChannel, ...]
    data_start: int

    @property
    def n_frames(self) -> int:
        return sum(2 if c.both else 1 for c in self.channels)

    def frame_bytes(self) -> int:
        return self.rows * self.cols * np.dtype(self.dtype).itemsize


# ---------------------------------------------------------------------------------- parsing
def parse_sxm_header(text: str) -> dict[str, str]:
    """Split an ``.sxm`` header into ``{tag: raw value}`` in file order.

    Parameters
    ----------
    text : str
        The header text up to (not including) ``:SCANIT_END:``, decoded as latin-1.

    Returns
    -------
    dict
        Tag names without colons (``"SCAN_PIXELS"``, ``"Bias>Bias (V)"``) mapped to the text
        between the tag line and the next tag line, without the final newline. Writing
        ``":TAG:\\n" + value + "\\n"`` for each entry restores the header byte for byte.
    """
    header: dict[str, str] = {}
    matches = list(_TAG_LINE.finditer(text))
    for i, m in enumerate(matches):
        start = m.end() + 1
        end = matches[i + 1].start() - 1 if i + 1 < len(matches) else len(text) - 1
        value = text[start:end] if end > start else ""
        key = m.group(1)
        if key in header:  # a repeated tag: keep both, the second under a numbered key
            n = 2
            while f"{key}#{n}" in header:
                n += 1
            key = f"{key}#{n}"
        header[key] = value
    return header


def is_sxm_header(header: Mapping[str, Any]) -> bool:
    """True when ``header`` came from an ``.sxm`` file (has ``SCAN_PIXELS`` and ``DATA_INFO``)."""
    return isinstance(header.get("SCAN_PIXELS"), str) and isinstance(header.get("DATA_INFO"), str)


def _parse_data_info(path: Path, value: str) -> tuple[_SxmChannel, ...]:
    lines = [ln for ln in value.split("\n") if ln.strip()]
    if not lines:
        raise ScanFormatError(path, "expected a :DATA_INFO: table of channels, found an empty one")
    head = lines[0].strip("\t").split("\t")
    try:
        i_name, i_unit, i_dir = head.index("Name"), head.index("Unit"), head.index("Direction")
    except ValueError:
        raise ScanFormatError(
            path, f"expected :DATA_INFO: columns {list(_DATA_INFO_COLUMNS)}, found {head}"
        ) from None
    channels = []
    for ln in lines[1:]:
        cells = ln.strip("\t").split("\t")
        if len(cells) != len(head):
            raise ScanFormatError(path, f"expected {len(head)} :DATA_INFO: cells per row, found {cells}")
        direction = cells[i_dir].strip().lower()
        if direction not in ("both", "forward"):
            raise ScanFormatError(
                path, f"expected channel direction 'both' or 'forward', found {direction!r}"
            )
        channels.append(
            _SxmChannel(cells[i_name].strip(), cells[i_unit].strip(), direction == "both", ln.lstrip("\t"))
        )
    if not channels:
        raise ScanFormatError(path, "expected at least one channel in :DATA_INFO:, found none")
    return tuple(channels)


def _layout(path: Path, raw: bytes) -> _SxmLayout:
    end = raw.find(_END_TAG)
    if end < 0:
        raise ScanFormatError(path, "expected a Nanonis .sxm header ending in :SCANIT_END:, found none")
    marker = raw.find(_MARKER, end)
    if marker < 0 or raw[end + len(_END_TAG) : marker].strip(b"\r\n") != b"":
        raise ScanFormatError(path, "expected the \\x1a\\x04 data marker after :SCANIT_END:, found none")
    header = parse_sxm_header(raw[:end].decode("latin-1"))
    try:
        cols_s, rows_s = header["SCAN_PIXELS"].split()
        cols, rows = int(cols_s), int(rows_s)
    except (KeyError, ValueError):
        raise ScanFormatError(
            path, f"expected SCAN_PIXELS 'cols rows', found {header.get('SCAN_PIXELS')!r}"
        ) from None
    check_pixels(path, rows, cols, "SCAN_PIXELS")
    kind = tuple(header.get("SCANIT_TYPE", "FLOAT MSBFIRST").split())
    if kind not in _DTYPES:
        raise ScanFormatError(path, f"expected SCANIT_TYPE FLOAT MSBFIRST/LSBFIRST, found {' '.join(kind)!r}")
    if "DATA_INFO" not in header:
        raise ScanFormatError(path, "expected a :DATA_INFO: channel table, found none")
    channels = _parse_data_info(path, header["DATA_INFO"])
    # required: guessing the slow-scan direction would silently turn the image upside down
    if header.get("SCAN_DIR", "").strip().lower() not in ("up", "down"):
        raise ScanFormatError(path, f"expected SCAN_DIR 'up' or 'down', found {header.get('SCAN_DIR')!r}")
    return _SxmLayout(header, rows, cols, _DTYPES[kind], channels, marker + len(_MARKER))


class _Frames:
    """The frames of an ``.sxm`` payload, each read from the file only when asked for."""

    def __init__(self, path: Path, lay: _SxmLayout) -> None:
        self._path = path
        self._lay = lay

    def __getitem__(self, i: int) -> NDArray[np.float32]:
        lay = self._lay
        count = lay.rows * lay.cols
        data = np.fromfile(
            self._path, dtype=lay.dtype, count=count, offset=lay.data_start + i * lay.frame_bytes()
        )
        if data.size != count:  # the file changed since its size was checked
            raise ScanFormatError(self._path, f"frame {i} holds {data.size} values, expected {count}")
        return data.reshape(lay.rows, lay.cols)


def _load(path: PathLike) -> tuple[_SxmLayout, _Frames]:
    """Parse the header (read in pieces) and check the payload size against the file length."""
    p = Path(path)
    head = read_head(p, _END_TAG)
    with open(p, "rb") as fh:  # the data marker follows :SCANIT_END: after a few line ends
        fh.seek(len(head))
        head += fh.read(64)
    lay = _layout(p, head)
    found = file_size(p) - lay.data_start
    expected = lay.n_frames * lay.frame_bytes()
    if expected > MAX_PAYLOAD_BYTES:
        raise ScanFormatError(
            p, f"header (SCAN_PIXELS {lay.cols}x{lay.rows}, {lay.n_frames} frames) needs {expected} bytes, "
            f"more than this reader accepts ({MAX_PAYLOAD_BYTES})",
        )  # fmt: skip
    if found != expected:
        raise ScanFormatError(
            p,
            f"data block holds {found} bytes, header (SCAN_PIXELS {lay.cols}x{lay.rows}, "
            f"{len(lay.channels)} channels, {lay.n_frames} frames, float32) needs {expected}",
        )
    return lay, _Frames(p, lay)


def _frame_keys(lay: _SxmLayout) -> list[tuple[_SxmChannel, str]]:
    keys = []
    for ch in lay.channels:
        keys.append((ch, "forward"))
        if ch.both:
            keys.append((ch, "backward"))
    return keys


def read_sxm_raw(path: PathLike) -> dict[tuple[str, str], NDArray[np.float32]]:
    """Frames exactly as stored, before any orientation fix (for comparisons with other readers).

    Returns
    -------
    dict
        ``{(channel, direction): float32 array (rows, cols)}`` in acquisition order.
    """
    lay, frames = _load(path)
    return {(ch.name, d): frames[i].astype(np.float32) for i, (ch, d) in enumerate(_frame_keys(lay))}


def _scan_direction(header: Mapping[str, str]) -> str:
    value = header.get("SCAN_DIR", "down").strip().lower()
    return "up" if value == "up" else "down"


def _pair(header: Mapping[str, str], key: str) -> tuple[float, float] | None:
    parts = header.get(key, "").split()
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return None


def z_controller(header: Mapping[str, Any]) -> dict[str, str]:
    """The controller row of the ``Z-CONTROLLER`` table, column name -> value ({} without one).

    >>> z_controller({"Z-CONTROLLER": "\\tName\\ton\\tSetpoint\\n\\tlog Current\\t1\\t1.000E-10 A"})
    {'Name': 'log Current', 'on': '1', 'Setpoint': '1.000E-10 A'}
    """
    table = str(header.get("Z-CONTROLLER", ""))
    lines = [ln.strip("\t").split("\t") for ln in table.split("\n") if ln.strip()]
    if len(lines) < 2:
        return {}
    return {name: value.strip() for name, value in zip(lines[0], lines[1], strict=False)}


def _setpoint(header: Mapping[str, str]) -> float | None:
    """Current setpoint in amperes from the Z-controller table (None when it is not a current)."""
    parts = z_controller(header).get("Setpoint", "").split()
    if len(parts) == 2 and parts[1] == "A":
        return parse_float(parts[0])
    if header.get("Z-Controller>Setpoint unit", "").strip() == "A":
        return parse_float(header.get("Z-Controller>Setpoint"))
    return None


def _acquired(header: Mapping[str, str]) -> _dt.datetime | None:
    date, time = header.get("REC_DATE", "").strip(), header.get("REC_TIME", "").strip()
    try:
        return _dt.datetime.strptime(f"{date} {time}", "%d.%m.%Y %H:%M:%S")
    except ValueError:
        return None


def _to_scan(
    path: Path, lay: _SxmLayout, frame: NDArray[np.float32], ch: _SxmChannel, direction: str
) -> Scan:
    with np.errstate(invalid="ignore"):  # a signalling NaN in the file is still just NaN
        data = frame.astype(np.float64)
    scan_dir = _scan_direction(lay.header)
    if scan_dir == "up":
        data = data[::-1, :]
    if direction == "backward":
        data = data[:, ::-1]
    rng = _pair(lay.header, "SCAN_RANGE")
    if rng is None or not all(0 < v <= MAX_SCAN_SIZE_M for v in rng):
        raise ScanFormatError(
            path,
            f"expected SCAN_RANGE 'x y' in metres, each in (0, {MAX_SCAN_SIZE_M:g}], "
            f"found {lay.header.get('SCAN_RANGE')!r}",
        )
    off = _pair(lay.header, "SCAN_OFFSET") or (0.0, 0.0)
    if not all(np.isfinite(off)):
        raise ScanFormatError(path, f"expected a finite SCAN_OFFSET, found {lay.header.get('SCAN_OFFSET')!r}")
    angle = parse_float(lay.header.get("SCAN_ANGLE")) or 0.0
    bias = parse_float(lay.header.get("BIAS"))
    if not np.isfinite(angle) or (bias is not None and not np.isfinite(bias)):
        raise ScanFormatError(
            path, f"expected finite SCAN_ANGLE and BIAS, found {lay.header.get('SCAN_ANGLE')!r}, "
            f"{lay.header.get('BIAS')!r}",
        )  # fmt: skip
    return Scan(
        data=data,
        pixel_size=(rng[1] / lay.rows, rng[0] / lay.cols),
        channel=ch.name,
        unit=ch.unit,
        direction=direction,  # type: ignore[arg-type]
        scan_direction=scan_dir,  # type: ignore[arg-type]
        bias=bias,
        setpoint=_setpoint(lay.header),
        angle=angle,
        offset=(off[1], off[0]),
        acquired=_acquired(lay.header),
        header=dict(lay.header),
        source=path,
    )


def read_sxm_all(path: PathLike) -> list[Scan]:
    """Every frame of an ``.sxm`` file as display-oriented scans, in file order."""
    p = Path(path)
    lay, frames = _load(p)
    return [_to_scan(p, lay, frames[i], ch, d) for i, (ch, d) in enumerate(_frame_keys(lay))]


def list_sxm_channels(path: PathLike) -> list[ChannelInfo]:
    """Channels of an ``.sxm`` file (validates the payload size too)."""
    lay, _ = _load(path)
    return [
        ChannelInfo(c.name, c.unit, ("forward", "backward") if c.both else ("forward",)) for c in lay.channels
    ]


def read_sxm(path: PathLike, *, channel: str | None = None, direction: str = "forward") -> Scan:
    """Read one channel of a Nanonis ``.sxm`` file.

    Parameters
    ----------
    path : str or Path
        The ``.sxm`` file.
    channel : str, optional
        Channel name (case-insensitive); default the first channel (usually ``"Z"``).
    direction : {"forward", "backward"}
        Which frame.

    Returns
    -------
    Scan
        Data in the channel's SI unit, row 0 at the top, column 0 on the left.

    Raises
    ------
    ScanFormatError
        Header unreadable or payload size inconsistent with it.
    ValueError
        ``channel`` or ``direction`` not present in the file.
    """
    p = Path(path)
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    lay, frames = _load(p)
    keys = _frame_keys(lay)
    names = [c.name for c in lay.channels]
    wanted = names[0] if channel is None else channel
    for i, (ch, d) in enumerate(keys):
        if ch.name.lower() == wanted.lower() and d == direction:
            return _to_scan(p, lay, frames[i], ch, d)
    if wanted.lower() not in (n.lower() for n in names):
        raise ValueError(f"channel {wanted!r} is not in {p.name}; channels: {names}")
    raise ValueError(f"channel {wanted!r} of {p.name} has no {direction} frame")
