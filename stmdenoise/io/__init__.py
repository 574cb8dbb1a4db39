"""Scan input/output: readers return a :class:`~stmdenoise.scan.Scan`, writers take one.

Readers are chosen by magic bytes and extension (:func:`read_scan`) from the one table of
formats, :data:`FORMATS`; writers by extension (:func:`write_scan`). Every write is atomic
(temporary file + ``os.replace``) and refuses to replace an input file
(:class:`OverwriteInputError`). See ``docs/io.md``.
"""

from stmdenoise.io._common import ChannelInfo, atomic_write
from stmdenoise.io.createc import read_createc
from stmdenoise.io.dispatch import (
    ALL_CHANNELS,
    READ_SUFFIXES,
    WRITE_FORMATS,
    assume_pixel_size,
    detect_format,
    list_channels,
    read_all,
    read_plain_image,
    read_scan,
    select_frames,
    write_scan,
)
from stmdenoise.io.errors import OverwriteInputError, ScanFormatError
from stmdenoise.io.formats import FORMATS, Format, dialog_filter
from stmdenoise.io.hdf5 import read_h5, write_h5
from stmdenoise.io.images import COLORMAPS, colorize
from stmdenoise.io.nanonis_grid import GridStack, Spectrum, read_grid, read_spectrum
from stmdenoise.io.sxm import read_sxm, read_sxm_all, read_sxm_raw
from stmdenoise.io.sxm_write import add_channel_to_sxm, write_sxm

__all__ = [
    "ALL_CHANNELS",
    "COLORMAPS",
    "FORMATS",
    "Format",
    "READ_SUFFIXES",
    "WRITE_FORMATS",
    "ChannelInfo",
    "GridStack",
    "OverwriteInputError",
    "ScanFormatError",
    "Spectrum",
    "add_channel_to_sxm",
    "assume_pixel_size",
    "atomic_write",
    "colorize",
    "detect_format",
    "dialog_filter",
    "list_channels",
    "read_all",
    "read_createc",
    "read_grid",
    "read_h5",
    "read_plain_image",
    "read_scan",
    "read_spectrum",
    "read_sxm",
    "read_sxm_all",
    "read_sxm_raw",
    "select_frames",
    "write_h5",
    "write_scan",
    "write_sxm",
]
