"""Image-quality metrics: the paper's numbers (MSE/PSNR/SSIM, PIQE, BRISQUE) and STM-native checks.

Every metric accepts a :class:`~stmdenoise.scan.Scan` or a 2-D array. STM scans (floats in
metres, NaN rows from aborted scans) are converted one way, documented in
:mod:`stmdenoise.metrics._input`: only the longest run of complete rows is scored; the
photographic metrics see a per-image min-max scaling to 8 bits (``uint8`` input is kept);
images under 64x64 and constant images raise :class:`NotScorableError` (a ``ValueError``).
"""

from stmdenoise.metrics._input import MIN_SIZE, NotScorableError, scored_rows, to_uint8
from stmdenoise.metrics.brisque import BrisqueModel, brisque, brisque_features, live_model
from stmdenoise.metrics.piqe import PiqeResult, piqe, piqe_details
from stmdenoise.metrics.reference import mse, psnr, ssim
from stmdenoise.metrics.stm import ResidualStats, line_artefact_index, noise_floor, residual_stats, row_steps
from stmdenoise.metrics.summary import ImageScores, score_image, score_pair

__all__ = [
    "MIN_SIZE",
    "NotScorableError",
    "scored_rows",
    "to_uint8",
    "piqe",
    "piqe_details",
    "PiqeResult",
    "brisque",
    "brisque_features",
    "BrisqueModel",
    "live_model",
    "mse",
    "psnr",
    "ssim",
    "line_artefact_index",
    "noise_floor",
    "residual_stats",
    "ResidualStats",
    "row_steps",
    "ImageScores",
    "score_image",
    "score_pair",
]
