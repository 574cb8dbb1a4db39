"""Batch denoising of files and folders: one job for the ``stmdenoise batch`` command and the app.

:func:`denoise_batch` is a job generator (``job(cancel) -> Generator[BatchProgress, None,
BatchResult]``); it writes, per scan, the app's picture (raw | denoised | difference), a float32
TIFF, an HDF5 file with raw, denoised and provenance, and for Nanonis input an ``.sxm`` with the
denoised channel added, then ``report.csv`` and ``report.html``. A rerun skips the scans a
previous run finished (see :mod:`stmdenoise.batch.manifest`). Importing this package does not
import torch; the model is loaded when the first scan needs it.
"""

from stmdenoise.batch.job import (
    FORMATS,
    PANELS,
    STATUSES,
    BatchProgress,
    BatchRequest,
    BatchResult,
    DisplayOptions,
    ScanRow,
    denoise_batch,
)

__all__ = [
    "FORMATS",
    "PANELS",
    "STATUSES",
    "BatchProgress",
    "BatchRequest",
    "BatchResult",
    "DisplayOptions",
    "ScanRow",
    "denoise_batch",
]
