"""Image processing for scans: levelling, NaN handling, normalisation, tiling, resampling,
cropping, the Fourier view, and the network-input transform (:func:`to_network`).

Numpy/scipy only. Functions take an ndarray ``(rows, cols)`` or a :class:`~stmdenoise.scan.Scan`
and return the same kind; a Scan gets a :class:`~stmdenoise.scan.ProcessingStep` recording the
parameters. Unmeasured pixels (NaN) are ignored by every fit and stay NaN.
"""

from stmdenoise.processing.levelling import (
    align_rows,
    fit_plane,
    level_facet,
    level_plane,
    level_poly,
    level_rows,
    level_three_points,
)
from stmdenoise.processing.nan import (
    complete_row_span,
    complete_rows,
    crop_nan,
    fill_nan_nearest,
    largest_complete_block,
)
from stmdenoise.processing.network import NetworkInverse, NormalizationSpec, to_network
from stmdenoise.processing.normalize import Normalization, robust_normalize
from stmdenoise.processing.resample import (
    resample_onto,
    resample_to_pixel_size,
    resampled_shape,
    same_pixel_size,
)
from stmdenoise.processing.smoothing import gaussian_smooth
from stmdenoise.processing.spectrum import (
    RingReadout,
    crop_rect,
    describe_ring,
    find_ring,
    power_spectrum,
    radial_profile,
)
from stmdenoise.processing.tiling import blend_tiles, feather_window, iter_tiles, pad_to_multiple, tile_starts
from stmdenoise.processing.view import BACKGROUNDS, ROW_METHODS, correct_view

__all__ = [
    "BACKGROUNDS",
    "ROW_METHODS",
    "correct_view",
    "NetworkInverse",
    "Normalization",
    "NormalizationSpec",
    "RingReadout",
    "align_rows",
    "blend_tiles",
    "complete_row_span",
    "complete_rows",
    "crop_rect",
    "describe_ring",
    "crop_nan",
    "feather_window",
    "fill_nan_nearest",
    "find_ring",
    "fit_plane",
    "gaussian_smooth",
    "iter_tiles",
    "largest_complete_block",
    "level_plane",
    "level_facet",
    "level_poly",
    "level_rows",
    "level_three_points",
    "pad_to_multiple",
    "power_spectrum",
    "radial_profile",
    "resample_onto",
    "resample_to_pixel_size",
    "resampled_shape",
    "robust_normalize",
    "same_pixel_size",
    "tile_starts",
    "to_network",
]
