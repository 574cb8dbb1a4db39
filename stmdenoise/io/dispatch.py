"""Pick the reader by magic bytes (then extension) and the writer by extension."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from stmdenoise.io import createc, hdf5, images, nanonis_grid, render, sxm
from stmdenoise.io._common import ChannelInfo, PathLike, atomic_write, check_float32, check_regular_file
from stmdenoise.io.errors import ScanFormatError, describe_bytes
from stmdenoise.scan import Scan

__all__ = [
    "READ_SUFFIXES",
    "WRITE_FORMATS",
    "detect_format",
    "list_channels",
    "read_all",
    "read_scan",
    "write_scan",
]

#: File suffixes (lower case) of the formats :func:`read_scan` reads: the one list batch
#: commands use to pick scan files out of a folder and file dialogs use to filter.
READ_SUFFIXES: tuple[str, ...] = (".sxm", ".3ds", ".dat", ".png", ".tif", ".tiff", ".npy", ".h5", ".hdf5")

#: Extensions :func:`write_scan` understands, longest first, with a short description.
WRITE_FORMATS: dict[str, str] = {
    ".16.png": "16-bit greyscale PNG with calibration (values restored within 1/65534 of the range)",
    ".png": "colour-mapped 8-bit RGB PNG (a picture; optional scale bar)",
    ".tiff": "float32 TIFF with calibration JSON in ImageDescription",
    ".tif": "float32 TIFF with calibration JSON in ImageDescription",
    ".h5": "HDF5: data, mask, all metadata, provenance",
    ".hdf5": "HDF5: data, mask, all metadata, provenance",
    ".sxm": "Nanonis .sxm (one channel; use write_sxm for several)",
    ".npy": "NumPy array of the data alone",
}


def detect_format(path: PathLike) -> str:
    """Name the format of ``path`` from its first bytes, then its extension.

    One of ``sxm``, ``createc``, ``spectrum``, ``grid``, ``png``, ``tiff``, ``npy``, ``h5``.

    Raises
    ------
    ScanFormatError
        The content matches no known format.
    FileNotFoundError
        ``path`` does not exist.
    OSError
        ``path`` is a folder, a FIFO/device or a symbolic-link loop (the message says which).
    """
    p = Path(path)
    check_regular_file(p)
    with open(p, "rb") as fh:
        head = fh.read(4096)
    ext = p.suffix.lower()
    if head.startswith(b":NANONIS_VERSION:") or (ext == ".sxm" and head.startswith(b":")):
        return "sxm"
    if createc.is_createc(head):
        return "createc"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "h5"
    if head.startswith(b"Grid dim=") or ext == ".3ds":
        return "grid"
    if ext == ".dat":
        return "spectrum"
    if ext == ".sxm":
        return "sxm"
    raise ScanFormatError(
        p, f"expected a Nanonis, Createc, PNG, TIFF, .npy or HDF5 file, found {describe_bytes(head[:16])}"
    )


def _spectrum_error(p: Path) -> ScanFormatError:
    nanonis_grid.read_spectrum(p)  # a broken spectrum raises its own, more precise error
    return ScanFormatError(p, "expected an image, found a point spectrum (read it with read_spectrum)")


def read_all(path: PathLike) -> list[Scan]:
    """Every frame a file holds (all channels and directions; one map per channel for a grid)."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "sxm":
        return sxm.read_sxm_all(p)
    if fmt == "createc":
        return createc.read_createc_all(p)
    if fmt == "grid":
        return [nanonis_grid.read_grid_scan(p, channel=c.name) for c in nanonis_grid.list_grid_channels(p)]
    return [read_scan(p)]


def read_scan(
    path: PathLike, *, channel: str | None = None, direction: str = "forward", index: int = 0
) -> Scan:
    """Read one channel of a scan file, whatever its format.

    Parameters
    ----------
    path : str or Path
        Nanonis ``.sxm`` / ``.3ds``, Createc ``.dat``, PNG, TIFF, ``.npy`` or our HDF5.
    channel : str, optional
        Channel name (see :func:`list_channels`); default the file's first channel.
    direction : {"forward", "backward"}
        Fast-scan direction.
    index : int
        Sweep point of a ``.3ds`` grid map (ignored by the other formats).

    Returns
    -------
    Scan
        Display-oriented (row 0 at the top) data in SI units; NaN where never measured.

    Raises
    ------
    ScanFormatError
        Unknown format, or a file whose payload does not match its header.
    ValueError
        ``channel`` / ``direction`` not in the file.
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "sxm":
        return sxm.read_sxm(p, channel=channel, direction=direction)
    if fmt == "createc":
        return createc.read_createc(p, channel=channel, direction=direction)
    if fmt == "grid":
        return nanonis_grid.read_grid_scan(p, channel=channel, index=index)
    if fmt == "spectrum":
        raise _spectrum_error(p)
    readers: dict[str, Callable[[Path], Scan]] = {
        "png": images.read_png,
        "tiff": images.read_tiff,
        "npy": images.read_npy,
        "h5": hdf5.read_h5,
    }
    scan = readers[fmt](p)
    if direction == "backward" and scan.direction != "backward":
        raise ValueError(f"{p.name} holds a single {scan.direction} image, not a backward frame")
    if channel is not None and scan.channel and channel.lower() != scan.channel.lower():
        raise ValueError(f"channel {channel!r} is not in {p.name}; channels: [{scan.channel!r}]")
    return scan


def list_channels(path: PathLike) -> list[ChannelInfo]:
    """The channels a file offers (name, unit, recorded directions, number of maps)."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "sxm":
        return sxm.list_sxm_channels(p)
    if fmt == "createc":
        return createc.list_createc_channels(p)
    if fmt == "grid":
        return nanonis_grid.list_grid_channels(p)
    s = read_scan(p)
    return [ChannelInfo(s.channel, s.unit, (s.direction,))]


def _writer_for(path: Path) -> str:
    name = path.name.lower()
    for ext in WRITE_FORMATS:
        if name.endswith(ext):
            return ext
    raise ValueError(f"path must end in one of {list(WRITE_FORMATS)}, got {path.name!r}")


def _check_storable(scan: Scan, ext: str, path: Path) -> None:
    """Refuse values a format would store as garbage (inf in float32, a 16-bit range that overflows)."""
    finite = scan.data[np.isfinite(scan.data)]
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    if ext in (".tiff", ".tif", ".sxm"):
        check_float32(path.name, finite)
    if ext == ".16.png" and not math.isfinite(hi - lo):
        raise ValueError(f"{path.name}: the value range {lo:.3g} .. {hi:.3g} overflows; choose h5 or npy")


def write_scan(
    scan: Scan,
    path: PathLike,
    *,
    inputs: Iterable[PathLike | None] = (),
    overwrite_inputs: Iterable[PathLike | None] = (),
    colormap: str = "afmhot",
    scale_bar: bool = False,
    colour_bar: bool = False,
) -> Path:
    """Write ``scan`` in the format its extension names, atomically.

    Parameters
    ----------
    scan : Scan
        What to write.
    path : str or Path
        Destination; the extension picks the format (see :data:`WRITE_FORMATS`): ``.png``
        colour-mapped picture, ``.16.png`` calibrated 16-bit PNG, ``.tif``/``.tiff`` float32,
        ``.h5``/``.hdf5``, ``.sxm``, ``.npy``.
    inputs, overwrite_inputs : iterable of path
        Files that must not be replaced (both names are accepted); ``scan.source`` always is.
    colormap : str
        Colour map of a ``.png`` picture, one of :data:`stmdenoise.io.render.COLORMAPS`.
    scale_bar : bool
        Draw a scale bar into a ``.png`` picture.
    colour_bar : bool
        Add a colour bar (value range and unit) to a ``.png`` picture.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OverwriteInputError
        ``path`` is ``scan.source`` or one of the inputs.
    ValueError
        Unknown extension or colour map.
    """
    p = Path(path)
    ext = _writer_for(p)
    colormap = render.canonical_colormap(colormap)
    _check_storable(scan, ext, p)
    protected = [*inputs, *overwrite_inputs, scan.source]
    if ext == ".sxm":
        # a lone backward frame is stored as the file's (forward) image, display orientation kept
        return sxm.write_sxm(p, [scan.replace(direction="forward")], inputs=protected)
    writers: dict[str, Callable[[Path], None]] = {
        ".16.png": lambda tmp: images.write_png16(scan, tmp),
        ".png": lambda tmp: images.render_png(
            scan, tmp, colormap=colormap, scale_bar=scale_bar, colour_bar=colour_bar
        ),
        ".tiff": lambda tmp: images.write_tiff(scan, tmp),
        ".tif": lambda tmp: images.write_tiff(scan, tmp),
        ".h5": lambda tmp: hdf5.write_h5(scan, tmp),
        ".hdf5": lambda tmp: hdf5.write_h5(scan, tmp),
        ".npy": lambda tmp: images.write_npy(scan, tmp),
    }
    return atomic_write(p, writers[ext], inputs=protected)
