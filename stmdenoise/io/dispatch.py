"""Pick the reader by magic bytes (then extension) and the writer by extension."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from stmdenoise.io import hdf5, images, render, sxm_write
from stmdenoise.io._common import ChannelInfo, PathLike, atomic_write, check_float32, check_regular_file
from stmdenoise.io.errors import ScanFormatError, describe_bytes
from stmdenoise.io.formats import FORMATS, READ_SUFFIXES, Format
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "ALL_CHANNELS",
    "READ_SUFFIXES",
    "WRITE_FORMATS",
    "assume_pixel_size",
    "detect_format",
    "list_channels",
    "read_all",
    "read_plain_image",
    "read_scan",
    "select_frames",
    "write_scan",
]

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


def _format_of(path: PathLike) -> tuple[Path, Format]:
    p = Path(path)
    check_regular_file(p)
    with open(p, "rb") as fh:
        head = fh.read(4096)
    ext = p.suffix.lower()
    for f in FORMATS:
        if f.sniff(head):
            return p, f
    for f in FORMATS:
        if f.by_suffix and ext in f.suffixes:
            return p, f
    names = ", ".join(f.description for f in FORMATS if f.images)
    raise ScanFormatError(p, f"expected one of: {names}; found {describe_bytes(head[:16])}")


def detect_format(path: PathLike) -> str:
    """Name the format of ``path`` from its first bytes, then its extension.

    One of the names in :data:`stmdenoise.io.formats.FORMATS`: ``sxm``, ``createc``, ``png``,
    ``tiff``, ``npy``, ``h5``, ``picture`` (JPEG/BMP/GIF), ``grid``, ``spectrum``.

    Raises
    ------
    ScanFormatError
        The content matches no known format.
    FileNotFoundError
        ``path`` does not exist.
    OSError
        ``path`` is a folder, a FIFO/device or a symbolic-link loop (the message says which).
    """
    return _format_of(path)[1].name


def read_all(path: PathLike) -> list[Scan]:
    """Every frame a file holds (all channels and directions; one map per channel for a grid)."""
    p, fmt = _format_of(path)
    return fmt.read_all(p)


def read_scan(
    path: PathLike, *, channel: str | None = None, direction: str = "forward", index: int = 0
) -> Scan:
    """Read one channel of a scan file, whatever its format.

    Parameters
    ----------
    path : str or Path
        Nanonis ``.sxm`` / ``.3ds``, Createc ``.dat``, PNG, TIFF, ``.npy``, our HDF5, or a
        JPEG/BMP/GIF picture (see :data:`stmdenoise.io.formats.FORMATS`).
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
    p, fmt = _format_of(path)
    return fmt.read(p, channel, direction, index)


def list_channels(path: PathLike) -> list[ChannelInfo]:
    """The channels a file offers (name, unit, recorded directions, number of maps)."""
    p, fmt = _format_of(path)
    return fmt.list_channels(p)


#: ``channel`` value of :func:`select_frames` that keeps every channel.
ALL_CHANNELS = "all"


def select_frames(
    scans: Sequence[Scan], *, channel: str | None = None, direction: str = "forward"
) -> list[Scan]:
    """The frames of one file (as :func:`read_all` returns them) that ``channel`` and ``direction`` pick.

    The one meaning of the ``--channel`` and ``--direction`` options of ``stmdenoise export``
    and ``stmdenoise denoise``.

    Parameters
    ----------
    scans : sequence of Scan
        Every frame of a file, in file order.
    channel : str, optional
        A channel name (case-insensitive); ``"all"`` for every channel; None for the file's
        first channel.
    direction : {"forward", "backward", "both"}
        Fast-scan direction(s) to keep.

    Returns
    -------
    list of Scan
        The chosen frames in file order.

    Raises
    ------
    ValueError
        ``direction`` unknown, the channel not in the file, or no frame of that direction
        (the message lists what the file holds).

    Examples
    --------
    >>> import numpy as np
    >>> z = [Scan(np.zeros((2, 2)), channel="Z", direction=d) for d in ("forward", "backward")]
    >>> i = Scan(np.zeros((2, 2)), channel="Current")
    >>> [(s.channel, s.direction) for s in select_frames([*z, i], direction="both")]
    [('Z', 'forward'), ('Z', 'backward')]
    >>> [s.channel for s in select_frames([*z, i], channel="all")]
    ['Z', 'Current']
    """
    if direction not in ("forward", "backward", "both"):
        raise ValueError(f"direction must be 'forward', 'backward' or 'both', got {direction!r}")
    if not scans:
        raise ValueError("the file holds no image")
    names = list(dict.fromkeys(s.channel for s in scans))
    if channel is None:
        chosen = [s for s in scans if s.channel == names[0]]
    elif channel.lower() == ALL_CHANNELS and not any(n.lower() == ALL_CHANNELS for n in names):
        chosen = list(scans)
    else:
        chosen = [s for s in scans if s.channel.lower() == channel.lower()]
        if not chosen:
            raise ValueError(f"channel {channel!r} is not in the file; channels: {names}")
    if direction == "both":
        return chosen
    kept = [s for s in chosen if s.direction == direction]
    if not kept:
        held = sorted({f"{s.channel} {s.direction}" for s in chosen})
        raise ValueError(
            f"no {direction} frame of channel {channel or names[0]!r} in the file; it holds {held}"
        )
    return kept


def assume_pixel_size(scan: Scan, nm_per_px: float) -> Scan:
    """``scan`` with square ``nm_per_px`` pixels if it carries no pixel size of its own.

    A file's own calibration is kept; the assumption is recorded in :attr:`Scan.steps`.

    Raises
    ------
    ValueError
        ``nm_per_px`` is not a positive finite number.
    """
    if not (isinstance(nm_per_px, (int, float)) and math.isfinite(nm_per_px) and nm_per_px > 0):
        raise ValueError(f"nm_per_px must be a positive number of nanometres, got {nm_per_px!r}")
    if scan.pixel_size is not None:
        return scan
    px = float(nm_per_px) * 1e-9
    step = ProcessingStep("assume_pixel_size", {"nm_per_px": float(nm_per_px)})
    return scan.replace(pixel_size=(px, px), steps=(*scan.steps, step))


def read_plain_image(path: PathLike, *, nm_per_px: float) -> Scan:
    """Read a single-image file (JPEG, BMP, GIF, PNG, TIFF, ``.npy``) with ``nm_per_px`` pixels.

    Files that carry their own calibration (our PNG/TIFF/HDF5) keep it; see
    :func:`assume_pixel_size`.
    """
    return assume_pixel_size(read_scan(path), nm_per_px)


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
        return sxm_write.write_sxm(p, [scan.replace(direction="forward")], inputs=protected)
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
