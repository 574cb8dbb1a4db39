"""Pieces shared by every reader and writer: channel descriptions, atomic writes, header helpers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from stmdenoise.io.errors import OverwriteInputError

__all__ = ["ChannelInfo", "atomic_write", "check_not_input", "parse_float", "PathLike"]

PathLike = str | os.PathLike[str]


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


def atomic_write(
    path: PathLike,
    write: Callable[[Path], None],
    *,
    inputs: Iterable[PathLike | None] = (),
) -> Path:
    """Write a file atomically: ``write(tmp)`` into a temporary file beside ``path``, then rename.

    A reader never sees a half-written file and a failed write leaves any previous file
    untouched. The temporary file keeps the destination's suffix so libraries that choose a
    format by name behave the same.

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
        tmp = folder / f".{dest.name}.{secrets.token_hex(4)}.tmp{''.join(dest.suffixes)}"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


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
