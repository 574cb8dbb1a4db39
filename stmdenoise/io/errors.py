"""Errors raised by the readers and writers."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ScanFormatError", "OverwriteInputError"]


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
