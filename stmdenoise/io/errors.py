"""Errors raised by the readers and writers."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ScanFormatError", "OverwriteInputError", "describe_bytes"]


def describe_bytes(data: bytes) -> str:
    """Bytes of a file's start as a user reads them: printable ASCII kept, NUL dropped, others ``·``.

    A message says ``found "8STiVIEW" (binary)``, never a Python literal like ``b'8\\x00S\\x00'``
    (UTF-16 text loses its NUL bytes and becomes readable).

    Examples
    --------
    >>> describe_bytes("8STi".encode("utf-16-le"))
    '"8STi" (binary)'
    >>> describe_bytes(b"hello")
    '"hello"'
    """
    shown = "".join(chr(b) if 32 <= b < 127 else "" if b == 0 else "·" for b in data)
    binary = any(not 32 <= b < 127 for b in data if b not in (9, 10, 13))
    return f'"{shown}"' + (" (binary)" if binary else "")


class ScanFormatError(ValueError):
    """A file cannot be read as a scan: wrong format, or payload inconsistent with its header.

    The message names the file, what was expected and what was found, e.g.
    ``"img.sxm: data block holds 65531 bytes, header (SCAN_PIXELS 128x128, 2 channels x 2
    directions, float32) needs 131072"``.

    Parameters
    ----------
    path : str or Path
        The offending file.
    reason : str
        What was expected and what was found.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OverwriteInputError(FileExistsError):
    """A writer was asked to replace a file that is one of the inputs (a user's scan)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: refusing to overwrite an input file; choose another output name")
