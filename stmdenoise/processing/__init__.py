"""Image processing for scans: levelling, NaN handling, normalisation, tiling, resampling,
cropping, the Fourier view, and the network-input transform (:func:`to_network`).

Numpy/scipy only. Functions take an ndarray ``(rows, cols)`` or a :class:`~stmdenoise.scan.Scan`
and return the same kind; a Scan gets a :class:`~stmdenoise.scan.ProcessingStep` recording the
parameters. Unmeasured pixels (NaN) are ignored by every fit and stay NaN.


Names are imported on first use (PEP 562), so a light submodule (the view-correction names,
the network-input spec) loads without every other one: ``stmdenoise`` command start-up stays short.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from stmdenoise.lazy import lazy_attribute

if TYPE_CHECKING:
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
    from stmdenoise.processing.shift import whole_pixels
    from stmdenoise.processing.smoothing import gaussian_smooth, tv_smooth
    from stmdenoise.processing.spectrum import (
        RingReadout,
        crop_rect,
        describe_ring,
        find_ring,
        power_spectrum,
        radial_profile,
    )
    from stmdenoise.processing.tiling import (
        blend_tiles,
        feather_window,
        iter_tiles,
        pad_to_multiple,
        tile_starts,
    )
    from stmdenoise.processing.view import BACKGROUNDS, ROW_METHODS, correct_view

#: Where each public name lives (submodule of this package).
_WHERE: dict[str, str] = {
    "BACKGROUNDS": "view",
    "NetworkInverse": "network",
    "Normalization": "normalize",
    "NormalizationSpec": "network",
    "ROW_METHODS": "view",
    "RingReadout": "spectrum",
    "align_rows": "levelling",
    "blend_tiles": "tiling",
    "complete_row_span": "nan",
    "complete_rows": "nan",
    "correct_view": "view",
    "crop_nan": "nan",
    "crop_rect": "spectrum",
    "describe_ring": "spectrum",
    "feather_window": "tiling",
    "fill_nan_nearest": "nan",
    "find_ring": "spectrum",
    "fit_plane": "levelling",
    "gaussian_smooth": "smoothing",
    "iter_tiles": "tiling",
    "largest_complete_block": "nan",
    "level_facet": "levelling",
    "level_plane": "levelling",
    "level_poly": "levelling",
    "level_rows": "levelling",
    "level_three_points": "levelling",
    "pad_to_multiple": "tiling",
    "power_spectrum": "spectrum",
    "radial_profile": "spectrum",
    "resample_onto": "resample",
    "resample_to_pixel_size": "resample",
    "resampled_shape": "resample",
    "robust_normalize": "normalize",
    "same_pixel_size": "resample",
    "tile_starts": "tiling",
    "to_network": "network",
    "tv_smooth": "smoothing",
    "whole_pixels": "shift",
}


def _submodule(name: str) -> ModuleType:
    """The submodule ``name`` (plain imports, visible to mypy and import-linter)."""
    if name == "levelling":
        from stmdenoise.processing import levelling

        return levelling
    if name == "nan":
        from stmdenoise.processing import nan

        return nan
    if name == "network":
        from stmdenoise.processing import network

        return network
    if name == "normalize":
        from stmdenoise.processing import normalize

        return normalize
    if name == "resample":
        from stmdenoise.processing import resample

        return resample
    if name == "shift":
        from stmdenoise.processing import shift

        return shift
    if name == "smoothing":
        from stmdenoise.processing import smoothing

        return smoothing
    if name == "spectrum":
        from stmdenoise.processing import spectrum

        return spectrum
    if name == "tiling":
        from stmdenoise.processing import tiling

        return tiling
    if name == "view":
        from stmdenoise.processing import view

        return view
    raise AttributeError(f"module {__name__!r} has no submodule {name!r}")


def __getattr__(name: str) -> Any:
    return lazy_attribute(globals(), __name__, name, _WHERE, _submodule)


def __dir__() -> list[str]:
    return sorted(__all__)


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
    "tv_smooth",
    "whole_pixels",
]
