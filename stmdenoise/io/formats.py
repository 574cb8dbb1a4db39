"""Every file format the readers understand, declared once.

Each :class:`Format` names its suffixes, how its first bytes are recognised and how it is
read. :mod:`stmdenoise.io.dispatch` picks the reader from :data:`FORMATS`; the suffix lists of
batch commands (:data:`READ_SUFFIXES`) and the GUI's file dialog and drop filter
(:func:`dialog_filter`) are derived from the same table, so adding a format is one entry here.
(napari's reader manifest is the model: name, suffixes, sniff, read.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stmdenoise.io import createc, hdf5, images, nanonis_grid, sxm
from stmdenoise.io._common import ChannelInfo
from stmdenoise.io.errors import ScanFormatError
from stmdenoise.scan import Scan

__all__ = ["FORMATS", "Format", "READ_SUFFIXES", "dialog_filter", "format_named"]

#: ``read(path, channel, direction, index)``: one frame of the file.
Reader = Callable[[Path, str | None, str, int], Scan]


@dataclass(frozen=True)
class Format:
    """One readable file format.

    Parameters
    ----------
    name : str
        Short name (what :func:`stmdenoise.io.detect_format` returns).
    description : str
        What a user calls it (shown in file dialogs and errors).
    suffixes : tuple of str
        Lower-case extensions with the dot.
    sniff : callable
        ``sniff(head)``: True when the first 4096 bytes are this format's.
    read : callable
        ``read(path, channel, direction, index)``: one frame as a :class:`Scan`.
    read_all : callable
        ``read_all(path)``: every frame the file holds.
    list_channels : callable
        ``list_channels(path)``: the channels the file offers.
    by_suffix : bool
        When no format's ``sniff`` claims a file, a format with ``by_suffix`` claims it by its
        extension (formats whose headers are plain text with no fixed first bytes).
    images : bool
        False for a format that holds no image (a point spectrum): it is recognised, so its
        error is precise, but batch commands and file dialogs do not offer it.
    """

    name: str
    description: str
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    read: Reader
    read_all: Callable[[Path], list[Scan]]
    list_channels: Callable[[Path], list[ChannelInfo]]
    by_suffix: bool = False
    images: bool = True


def _single(read_one: Callable[[Path], Scan]) -> Reader:
    """A reader for a format holding one image: ``channel``/``direction`` are checked, not chosen."""

    def read(path: Path, channel: str | None, direction: str, index: int) -> Scan:
        scan = read_one(path)
        if direction == "backward" and scan.direction != "backward":
            raise ValueError(f"{path.name} holds a single {scan.direction} image, not a backward frame")
        if channel is not None and scan.channel and channel.lower() != scan.channel.lower():
            raise ValueError(f"channel {channel!r} is not in {path.name}; channels: [{scan.channel!r}]")
        return scan

    return read


def _single_format(
    name: str, description: str, suffixes: tuple[str, ...], sniff: Callable[[bytes], bool],
    read_one: Callable[[Path], Scan],
) -> Format:  # fmt: skip
    def read_all(path: Path) -> list[Scan]:
        return [read_one(path)]

    def channels(path: Path) -> list[ChannelInfo]:
        s = read_one(path)
        return [ChannelInfo(s.channel, s.unit, (s.direction,))]

    return Format(name, description, suffixes, sniff, _single(read_one), read_all, channels)


def _read_spectrum(path: Path, channel: str | None, direction: str, index: int) -> Scan:
    nanonis_grid.read_spectrum(path)  # a broken spectrum raises its own, more precise error
    raise ScanFormatError(path, "expected an image, found a point spectrum (read it with read_spectrum)")


def _no_images(path: Path) -> list[Scan]:
    return [_read_spectrum(path, None, "forward", 0)]


def _no_channels(path: Path) -> list[ChannelInfo]:
    _read_spectrum(path, None, "forward", 0)
    return []


_PNG = b"\x89PNG\r\n\x1a\n"
_HDF5 = b"\x89HDF\r\n\x1a\n"


def _read_grid_all(path: Path) -> list[Scan]:
    return [nanonis_grid.read_grid_scan(path, channel=c.name) for c in nanonis_grid.list_grid_channels(path)]


def _is_bmp(head: bytes) -> bool:
    # "BM" alone is too weak a signature: also require a known DIB header size at byte 14
    return (
        head[:2] == b"BM"
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 108, 124)
    )


def _is_picture(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff") or head[:6] in (b"GIF87a", b"GIF89a") or _is_bmp(head)


#: The readable formats, in the order their ``sniff`` is tried.
FORMATS: tuple[Format, ...] = (
    Format(
        "sxm", "Nanonis scan", (".sxm",), lambda h: h.startswith(b":NANONIS_VERSION:"),
        lambda p, c, d, i: sxm.read_sxm(p, channel=c, direction=d),
        sxm.read_sxm_all, sxm.list_sxm_channels, by_suffix=True,
    ),
    Format(
        "createc", "Createc image", (".dat",), createc.is_createc,
        lambda p, c, d, i: createc.read_createc(p, channel=c, direction=d),
        createc.read_createc_all, createc.list_createc_channels,
    ),
    _single_format("png", "PNG image", (".png",), lambda h: h.startswith(_PNG), images.read_png),
    _single_format(
        "tiff", "TIFF image", (".tif", ".tiff"),
        lambda h: h[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), images.read_tiff,
    ),
    _single_format("npy", "NumPy array", (".npy",), lambda h: h.startswith(b"\x93NUMPY"), images.read_npy),
    _single_format("h5", "HDF5 (stmdenoise)", (".h5", ".hdf5"), lambda h: h.startswith(_HDF5), hdf5.read_h5),
    _single_format(
        "picture", "JPEG/BMP/GIF picture", (".jpg", ".jpeg", ".bmp", ".gif"), _is_picture, images.read_picture
    ),
    Format(
        "grid", "Nanonis grid", (".3ds",), lambda h: h.startswith(b"Grid dim="),
        lambda p, c, d, i: nanonis_grid.read_grid_scan(p, channel=c, index=i),
        _read_grid_all,
        nanonis_grid.list_grid_channels, by_suffix=True,
    ),
    Format(
        "spectrum", "Nanonis point spectrum", (".dat",), lambda h: False, _read_spectrum, _no_images,
        _no_channels, by_suffix=True, images=False,
    ),
)  # fmt: skip

#: File suffixes (lower case) of the formats that hold images: the one list batch commands use
#: to pick scan files out of a folder and the GUI uses for its file dialog and drops.
READ_SUFFIXES: tuple[str, ...] = tuple(dict.fromkeys(s for f in FORMATS if f.images for s in f.suffixes))


def format_named(name: str) -> Format:
    """The :class:`Format` called ``name`` (see :data:`FORMATS`)."""
    for f in FORMATS:
        if f.name == name:
            return f
    raise ValueError(f"name must be one of {[f.name for f in FORMATS]}, got {name!r}")


def dialog_filter() -> str:
    """A Qt file-dialog filter string: all scans first, then each format, then all files.

    Examples
    --------
    >>> dialog_filter().split(";;")[0].startswith("Scans (*.sxm *.dat")
    True
    """
    wanted = [f for f in FORMATS if f.images]
    parts = ["Scans (" + " ".join(f"*{s}" for s in READ_SUFFIXES) + ")"]
    parts += [f"{f.description} (" + " ".join(f"*{s}" for s in f.suffixes) + ")" for f in wanted]
    return ";;".join([*parts, "All files (*)"])
