"""Pieces shared by every reader and writer: channel descriptions, atomic writes, header helpers."""

from __future__ import annotations

import errno
import math
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stmdenoise.io.errors import OverwriteInputError, ScanFormatError

__all__ = [
    "ChannelInfo",
    "MAX_PAYLOAD_BYTES",
    "MAX_PIXELS",
    "MAX_SCAN_SIZE_M",
    "MAX_TEXT_BYTES",
    "PathLike",
    "atomic_write",
    "check_not_input",
    "clean_stale_temps",
    "fsync_path",
    "temp_name",
    "check_float32",
    "check_pixels",
    "check_regular_file",
    "file_size",
    "finite_float",
    "parse_float",
    "read_head",
]

PathLike = str | os.PathLike[str]

#: Most pixels one frame may have (8192 x 8192): a larger header is refused before any data is
#: read, so a hostile header cannot make a reader allocate more than a few hundred MB per frame.
MAX_PIXELS = 8192 * 8192
#: Most bytes of stored values one file may hold (.sxm / .3ds payload, Createc decompressed stream).
MAX_PAYLOAD_BYTES = 1 << 30
#: Largest text file (a point spectrum) or text header read into memory.
MAX_TEXT_BYTES = 64 << 20
#: Largest plausible scan side, metres (piezo scanners reach about 100 µm).
MAX_SCAN_SIZE_M = 1e-2


@dataclass(frozen=True)
class ChannelInfo:
    """One channel a file offers.

    Parameters
    ----------
    name : str
        Channel name as the instrument calls it (pass it as ``channel=`` to ``read_scan``).
    unit : str
        SI unit of the channel's values (``""`` for unitless images).
    directions : tuple of str
        The directions recorded: ``("forward", "backward")`` or ``("forward",)``.
    points : int
        Number of maps of the channel (sweep points of a ``.3ds`` grid; 1 for images).
    """

    name: str
    unit: str
    directions: tuple[str, ...] = ("forward",)
    points: int = 1


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(path: PathLike, inputs: Iterable[PathLike | None]) -> None:
    """Raise :class:`OverwriteInputError` when ``path`` is one of ``inputs``.

    Parameters
    ----------
    path : str or Path
        Destination about to be written.
    inputs : iterable of str, Path or None
        Files that must never be replaced (``None`` entries are ignored).
    """
    dest = Path(path)
    for item in inputs:
        if item is not None and _same_file(dest, Path(item)):
            raise OverwriteInputError(dest)


_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp")


def temp_name(dest: Path) -> Path:
    """A hidden temporary name beside ``dest`` that says which process made it.

    ``.{name}.{pid}-{8 hex}.tmp{suffixes}``: unique per process and call, and
    :func:`clean_stale_temps` can tell a leftover of a dead process from a live write.
    """
    suffixes = "".join(dest.suffixes)
    return dest.parent / f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp{suffixes}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def clean_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove our temporary files in ``folder`` left by processes that no longer run.

    Only names made by :func:`temp_name` are touched (optionally only those for the
    destination ``name``); a temporary file of a running process is left alone.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if m is None or (name is not None and m.group("name") != name):
            continue
        if _pid_alive(int(m.group("pid"))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def fsync_path(path: Path) -> None:
    """Flush a written file's data to the disk (so a rename after it publishes complete data)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: PathLike,
    write: Callable[[Path], None],
    *,
    inputs: Iterable[PathLike | None] = (),
) -> Path:
    """Write a file atomically: ``write(tmp)`` into a temporary file beside ``path``, then rename.

    A reader never sees a half-written file and a failed write leaves any previous file
    untouched. The temporary file keeps the destination's suffix so libraries that choose a
    format by name behave the same; it is flushed to disk before the rename. Its name says which
    process wrote it, so :func:`clean_stale_temps` (run once per batch by the CLI) can remove
    leftovers of killed writers without touching a live one.

    Parameters
    ----------
    path : str or Path
        Destination.
    write : callable
        Called with the temporary path; must create that file.
    inputs : iterable of str, Path or None
        Files that must not be overwritten (see :func:`check_not_input`).

    Returns
    -------
    Path
        The destination path.
    """
    dest = Path(path)
    check_not_input(dest, inputs)
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: output folder does not exist")
    # created like any new file (mode 0o666 minus the umask), unlike tempfile.mkstemp's 0o600
    while True:
        tmp = temp_name(folder / dest.name)
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def check_regular_file(path: Path) -> None:
    """Raise a precise error unless ``path`` is an existing regular file (symbolic links followed).

    Raises
    ------
    FileNotFoundError
        Nothing at ``path`` (or a dangling symbolic link).
    IsADirectoryError
        ``path`` is a folder.
    OSError
        A symbolic-link loop (``errno.ELOOP``) or a FIFO, socket or device: reading one could
        block for ever or return endless data.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(errno.ENOENT, "dangling symbolic link", str(path)) from None
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "symbolic link loop", str(path)) from None
        raise
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a scan file", str(path))
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode)
            else "a socket" if stat.S_ISSOCK(st.st_mode)
            else "a device"
        )  # fmt: skip
        raise OSError(errno.EINVAL, f"is {kind}, not a regular file", str(path))


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes; ScanFormatError-free: raises OSError when it cannot be stat'ed."""
    return os.stat(path).st_size


def read_head(path: Path, end: bytes, *, limit: int = MAX_TEXT_BYTES, chunk: int = 1 << 16) -> bytes:
    """The first bytes of ``path`` up to and including the first ``end`` (at most ``limit`` bytes).

    Reads in pieces, so a header marker at the start of a huge file costs only the header;
    returns everything read (without ``end``) when the marker is not found within ``limit``.
    """
    buf = bytearray()
    with open(path, "rb") as fh:
        while len(buf) < limit:
            piece = fh.read(chunk)
            if not piece:
                break
            start = max(0, len(buf) - len(end))
            buf += piece
            i = buf.find(end, start)
            if i >= 0:
                return bytes(buf[: i + len(end)])
    return bytes(buf[:limit])


def check_pixels(path: Path, rows: int, cols: int, what: str) -> None:
    """Raise ScanFormatError unless ``rows x cols`` is a positive frame of at most :data:`MAX_PIXELS`."""
    if rows < 1 or cols < 1:
        raise ScanFormatError(path, f"expected positive {what}, found {cols}x{rows}")
    if rows * cols > MAX_PIXELS:
        raise ScanFormatError(
            path, f"{what} {cols}x{rows} exceeds the largest frame this reader accepts ({MAX_PIXELS} pixels)"
        )


def finite_float(
    path: Path,
    name: str,
    text: str | None,
    *,
    default: float | None = None,
    low: float = -math.inf,
    high: float = math.inf,
    nonzero: bool = False,
) -> float | None:
    """Header value ``name`` as a finite float in ``[low, high]`` (``default`` when absent).

    Raises
    ------
    ScanFormatError
        The value is present but not a number, not finite, out of range, or zero when
        ``nonzero``: such a calibration would turn every pixel into garbage.
    """
    if text is None or not str(text).split():
        return default
    value = parse_float(text)
    if value is None:
        raise ScanFormatError(path, f"expected a number for {name}, found {text!r}")
    if not math.isfinite(value) or not low <= value <= high or (nonzero and value == 0):
        rng = f"in [{low:g}, {high:g}]" + (", non-zero" if nonzero else "")
        raise ScanFormatError(path, f"expected {name} finite and {rng}, found {text.strip()!r}")
    return value


def check_float32(name: str, data: Any) -> None:
    """Raise ValueError when finite values of ``data`` overflow float32 (they would be stored as inf)."""
    big = float(np.max(np.abs(data), initial=0.0, where=np.isfinite(data)))
    if big > float(np.finfo(np.float32).max):
        raise ValueError(f"{name}: values up to {big:.3g} do not fit float32; choose h5 or npy")


def parse_float(text: str | None) -> float | None:
    """Parse the first whitespace-separated token of ``text`` as a float; ``None`` when impossible."""
    if text is None:
        return None
    parts = str(text).split()
    if not parts:
        return None
    try:
        return float(parts[0])
    except ValueError:
        return None
