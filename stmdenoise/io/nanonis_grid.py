"""Nanonis ``.3ds`` grid spectroscopy (one map per sweep point) and ``.dat`` point spectra.

``.3ds``: a ``key=value`` text header (CRLF) ending in ``:HEADER_END:``, then big-endian
float32 records, one per grid pixel in row order: the ``# Parameters`` values (sweep start,
sweep end, then the experiment parameters such as ``X (m)``, ``Y (m)``, ``Z (m)``), then
``Points`` values of each channel in turn. ``Grid dim`` is ``cols x rows``; ``Grid settings``
is ``centre x; centre y; width; height; angle`` (metres, degrees). A grid is recorded from
the bottom row up (the stored ``Y (m)`` parameter grows with the stored row); the reader
flips it vertically so that row 0 is the top row, like every other :class:`Scan`.

``.dat`` spectra: ``key<TAB>value`` lines, a ``[DATA]`` line, a tab-separated line of column
names with units in brackets, then one row of numbers per sweep point. CRLF and LF line
endings are both accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
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
    file_size,
    parse_float,
    read_head,
)
from stmdenoise.io.errors import ScanFormatError
from stmdenoise.scan import Scan

__all__ = ["GridStack", "Spectrum", "read_grid", "read_grid_scan", "list_grid_channels", "read_spectrum"]

_GRID_END = b":HEADER_END:"
_UNIT = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*(\[.*\])?$")


def split_name_unit(label: str) -> tuple[str, str]:
    """``"Current (A)"`` -> ``("Current", "A")``; ``"Current (A) [filt]"`` -> ``("Current [filt]", "A")``."""
    m = _UNIT.match(label.strip())
    if not m:
        return label.strip(), ""
    name = m.group(1) + (" " + m.group(3) if m.group(3) else "")
    return name, m.group(2)


@dataclass(frozen=True)
class GridStack:
    """A Nanonis grid: per channel a stack of maps, one per sweep point.

    Parameters
    ----------
    channels : Mapping[str, ndarray]
        Channel label (``"Current (A)"``) -> float64 array (points, rows, cols) in SI units.
    sweep : ndarray, shape (points,)
        Sweep-signal values (e.g. bias in volts) of the first pixel.
    sweep_label : str
        Sweep signal with unit, e.g. ``"Bias (V)"``.
    parameters : Mapping[str, ndarray]
        Per-pixel parameters (``"X (m)"``, ``"Z (m)"``, ...) -> array (rows, cols).
    pixel_size : tuple of float or None
        ``(dy, dx)`` in metres; None when the header gives no grid size.
    header : Mapping[str, Any]
        Every header entry as read.
    """

    channels: Mapping[str, NDArray[np.float64]]
    sweep: NDArray[np.float64]
    sweep_label: str
    parameters: Mapping[str, NDArray[np.float64]]
    pixel_size: tuple[float, float] | None
    header: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def positions(self) -> NDArray[np.float64]:
        """Tip positions (rows, cols, 2) as ``(y, x)`` metres, from the ``Y (m)``/``X (m)`` parameters."""
        y = self.parameters.get("Y (m)")
        x = self.parameters.get("X (m)")
        if x is None or y is None:
            raise KeyError("this grid stores no X (m) / Y (m) parameters")
        return np.stack([y, x], axis=-1)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(points, rows, cols)``."""
        first = next(iter(self.channels.values()))
        return (int(first.shape[0]), int(first.shape[1]), int(first.shape[2]))


def _grid_header(text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            header[key.strip()] = value.strip().strip('"')
    return header


def _settings(path: Path, header: Mapping[str, str]) -> list[float | None]:
    """``Grid settings`` (centre x; centre y; width; height; angle), each finite; sizes in (0, 1 cm]."""
    settings = [parse_float(v) for v in header.get("Grid settings", "").split(";")]
    bad = [v for v in settings if v is not None and not np.isfinite(v)]
    sizes = [v for v in settings[2:4] if v is not None]
    if bad or any(not 0 <= v <= MAX_SCAN_SIZE_M for v in sizes):
        raise ScanFormatError(
            path, f"expected finite Grid settings with width/height in [0, {MAX_SCAN_SIZE_M:g}] m, "
            f"found {header.get('Grid settings')!r}",
        )  # fmt: skip
    return settings


def read_grid(path: PathLike) -> GridStack:
    """Read a Nanonis ``.3ds`` grid.

    Parameters
    ----------
    path : str or Path
        The ``.3ds`` file.

    Returns
    -------
    GridStack

    Raises
    ------
    ScanFormatError
        Header incomplete or payload size not matching it.
    """
    p = Path(path)
    raw = read_head(p, _GRID_END)  # the header only; the payload is read after its size is checked
    with open(p, "rb") as fh:
        fh.seek(len(raw))
        raw += fh.read(2)
    end = raw.find(_GRID_END)
    if end < 0:
        raise ScanFormatError(p, "expected a Nanonis .3ds header ending in :HEADER_END:, found none")
    header = _grid_header(raw[:end].decode("latin-1"))
    start = end + len(_GRID_END)
    start += 2 if raw[start : start + 2] == b"\r\n" else (1 if raw[start : start + 1] == b"\n" else 0)
    try:
        cols, rows = (int(v) for v in header["Grid dim"].split("x"))
        n_params = int(header["# Parameters (4 byte)"])
        points = int(header["Points"])
        channels = [c for c in header["Channels"].split(";") if c]
        fixed = [c for c in header.get("Fixed parameters", "").split(";") if c]
        experiment = [c for c in header.get("Experiment parameters", "").split(";") if c]
    except (KeyError, ValueError) as exc:
        raise ScanFormatError(
            p, f"expected Grid dim, # Parameters, Points and Channels in the header ({exc})"
        ) from None
    if min(cols, rows, points, len(channels)) < 1 or n_params < 0:
        raise ScanFormatError(p, f"expected positive grid dimensions, found {cols}x{rows}, {points} points")
    check_pixels(p, rows, cols, "Grid dim")
    per_pixel = n_params + points * len(channels)
    expected = rows * cols * per_pixel * 4
    if expected > MAX_PAYLOAD_BYTES:
        raise ScanFormatError(
            p, f"header (Grid dim {cols}x{rows}, {per_pixel} values per pixel) needs {expected} bytes, "
            f"more than this reader accepts ({MAX_PAYLOAD_BYTES})",
        )  # fmt: skip
    found = file_size(p) - start
    if found != expected:
        raise ScanFormatError(
            p,
            f"data block holds {found} bytes, header (Grid dim {cols}x{rows}, {n_params} parameters + "
            f"{len(channels)} channels x {points} points, float32) needs {expected}",
        )
    with np.errstate(invalid="ignore"):  # a signalling NaN in the file is still just NaN
        stored = np.fromfile(p, dtype=">f4", count=rows * cols * per_pixel, offset=start)
        if stored.size != rows * cols * per_pixel:
            raise ScanFormatError(p, f"data block shrank while reading ({stored.size * 4} bytes)")
        data = stored.reshape(rows, cols, per_pixel).astype(np.float64)
        del stored
    data = np.ascontiguousarray(data[::-1])  # recorded bottom-up; row 0 becomes the top row
    names = (fixed + experiment + [f"param {i}" for i in range(n_params)])[:n_params]
    parameters = {name: data[:, :, i] for i, name in enumerate(names)}
    stacks = {}
    for i, ch in enumerate(channels):
        block = data[:, :, n_params + i * points : n_params + (i + 1) * points]
        stacks[ch] = np.ascontiguousarray(np.moveaxis(block, -1, 0))
    if n_params >= 2:
        sweep = np.linspace(data[-1, 0, 0], data[-1, 0, 1], points)  # first recorded pixel
    else:
        sweep = np.arange(points, dtype=np.float64)
    settings = _settings(p, header)
    width = settings[2] if len(settings) > 3 and settings[2] else None
    height = settings[3] if len(settings) > 3 and settings[3] else None
    # both lengths or none: a grid without its size has no pixel size (not a guessed one)
    pixel_size = (float(height) / rows, float(width) / cols) if height and width else None
    return GridStack(
        channels=MappingProxyType(stacks),
        sweep=sweep,
        sweep_label=header.get("Sweep Signal", ""),
        parameters=MappingProxyType(parameters),
        pixel_size=pixel_size,
        header=MappingProxyType(header),
        source=p,
    )


def list_grid_channels(path: PathLike) -> list[ChannelInfo]:
    """Channels of a ``.3ds`` grid (each with one map per sweep point), plus ``Z`` if recorded."""
    grid = read_grid(path)
    out = []
    for label, stack in grid.channels.items():
        name, unit = split_name_unit(label)
        out.append(ChannelInfo(name, unit, ("forward",), points=int(stack.shape[0])))
    if "Z (m)" in grid.parameters:
        out.append(ChannelInfo("Z", "m", ("forward",), points=1))
    return out


def read_grid_scan(path: PathLike, *, channel: str | None = None, index: int = 0) -> Scan:
    """One map of a ``.3ds`` grid as a :class:`Scan`.

    Parameters
    ----------
    path : str or Path
        The ``.3ds`` file.
    channel : str, optional
        Channel name with or without unit (``"Current"`` or ``"Current (A)"``), or ``"Z"``
        for the topography parameter; default the first channel.
    index : int
        Sweep point (0 .. points-1; negative counts from the end). Ignored for ``"Z"``.

    Returns
    -------
    Scan
        The map; its ``header`` adds ``sweep_index`` and ``sweep_value``.
    """
    p = Path(path)
    grid = read_grid(p)
    labels = list(grid.channels)
    wanted = labels[0] if channel is None else channel
    settings = _settings(p, grid.header)
    common: dict[str, Any] = {
        "pixel_size": grid.pixel_size,
        "direction": "forward",
        "scan_direction": "up",
        "angle": (settings[4] or 0.0) if len(settings) > 4 else 0.0,
        "offset": ((settings[1] or 0.0), (settings[0] or 0.0)) if len(settings) > 1 else (0.0, 0.0),
        "bias": parse_float(grid.header.get("Bias>Bias (V)")),
        "setpoint": parse_float(grid.header.get("Z-Controller>Setpoint"))
        if grid.header.get("Z-Controller>Setpoint unit") == "A"
        else None,
        "source": p,
    }
    if wanted.lower() in ("z", "z (m)") and "Z (m)" in grid.parameters:
        return Scan(data=grid.parameters["Z (m)"], channel="Z", unit="m", header=dict(grid.header), **common)
    for label in labels:
        name, unit = split_name_unit(label)
        if wanted.lower() in (label.lower(), name.lower()):
            stack = grid.channels[label]
            if not -stack.shape[0] <= index < stack.shape[0]:
                raise ValueError(f"index must be in [0, {stack.shape[0]}), got {index}")
            header = {
                **grid.header,
                "sweep_index": str(index % stack.shape[0]),
                "sweep_value": repr(float(grid.sweep[index])),
            }
            return Scan(data=stack[index], channel=name, unit=unit, header=header, **common)
    raise ValueError(f"channel {wanted!r} is not in {p.name}; channels: {labels}")


@dataclass(frozen=True)
class Spectrum:
    """A Nanonis point spectrum.

    Parameters
    ----------
    header : Mapping[str, str]
        Header entries (``"Bias>Bias (V)"`` -> ``"50E-3"``).
    columns : tuple of str
        Column labels as in the file, e.g. ``"Current (A)"``.
    units : tuple of str
        Unit of each column (``""`` when the label names none).
    data : ndarray, shape (points, len(columns))
        Values in SI units.
    """

    header: Mapping[str, str]
    columns: tuple[str, ...]
    units: tuple[str, ...]
    data: NDArray[np.float64]
    source: Path | None = None

    def column(self, name: str) -> NDArray[np.float64]:
        """Values of the column labelled ``name`` (with or without its unit)."""
        for i, label in enumerate(self.columns):
            if name in (label, split_name_unit(label)[0]):
                return self.data[:, i]
        raise KeyError(f"no column {name!r}; columns: {list(self.columns)}")


def _declared_points(header: Mapping[str, str]) -> int | None:
    """The sweep's point count from a ``...>Num Pixel`` header entry (None when absent)."""
    for key, value in header.items():
        if key.endswith(">Num Pixel") or key == "Num Pixel":
            v = parse_float(value)
            if v is not None and np.isfinite(v) and v == int(v):
                return int(v)
    return None


def read_spectrum(path: PathLike) -> Spectrum:
    """Read a Nanonis ``.dat`` point spectrum (CRLF or LF line endings).

    Raises
    ------
    ScanFormatError
        No ``[DATA]`` section, or a data row whose length or numbers do not fit the columns.
    """
    p = Path(path)
    size = file_size(p)
    if size > MAX_TEXT_BYTES:
        raise ScanFormatError(p, f"a point spectrum of {size} bytes is larger than this reader accepts "
                              f"({MAX_TEXT_BYTES})")  # fmt: skip
    text = p.read_bytes().decode("latin-1")
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "[DATA]")
    except StopIteration:
        raise ScanFormatError(p, "expected a [DATA] line after the spectrum header, found none") from None
    header: dict[str, str] = {}
    for ln in lines[:start]:
        if "\t" in ln:
            key, value = ln.split("\t", 1)
            header[key] = value.rstrip("\t")
    if start + 1 >= len(lines):
        raise ScanFormatError(p, "expected a line of column names after [DATA], found the end of the file")
    columns = tuple(c for c in lines[start + 1].rstrip("\t").split("\t"))
    rows = []
    for n, ln in enumerate(lines[start + 2 :], start=start + 3):
        if not ln.strip():
            continue
        cells = ln.rstrip("\t").split("\t")
        if len(cells) != len(columns):
            raise ScanFormatError(p, f"line {n}: expected {len(columns)} values, found {len(cells)}")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise ScanFormatError(p, f"line {n}: expected numbers, found {ln[:60]!r}") from None
    if not rows:
        raise ScanFormatError(p, "expected data rows after the column names, found none")
    declared = _declared_points(header)
    if declared is not None and declared != len(rows):
        raise ScanFormatError(
            p, f"header declares {declared} sweep points (Num Pixel), found {len(rows)} data rows"
        )
    if declared is not None and not text.endswith(("\n", "\r")):  # Nanonis ends every row
        raise ScanFormatError(
            p, f"expected the last data row to end with a line break, found {lines[-1][-40:]!r} (truncated)"
        )
    return Spectrum(
        header=MappingProxyType(header),
        columns=columns,
        units=tuple(split_name_unit(c)[1] for c in columns),
        data=np.asarray(rows, dtype=np.float64),
        source=p,
    )
