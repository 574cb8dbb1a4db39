"""Scan input/output: readers return a :class:`~stmdenoise.scan.Scan`, writers take one.

Readers are chosen by extension and magic bytes (:func:`read_scan`), writers by extension
(:func:`write_scan`). Every write is atomic and refuses to replace an input file.
"""

from stmdenoise.io._common import ChannelInfo
from stmdenoise.io.errors import OverwriteInputError, ScanFormatError
from stmdenoise.io.sxm import add_channel_to_sxm, read_sxm, read_sxm_all, read_sxm_raw, write_sxm

__all__ = [
    "ChannelInfo",
    "OverwriteInputError",
    "ScanFormatError",
    "add_channel_to_sxm",
    "read_sxm",
    "read_sxm_all",
    "read_sxm_raw",
    "write_sxm",
]
