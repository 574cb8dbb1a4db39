"""The network-input transform: a scan as the networks see it, and the way back.

One transform for training and inference (the networks learn exactly what they are later
fed): plane levelling (kept, to be added back) -> resampling onto the model's pixel size ->
robust normalisation (percentiles to [-1, 1]) -> the model's soft compression into the
generators' range (``tanh(squash y)``). :func:`to_network` applies it and returns the
:class:`NetworkInverse` that maps a network output back onto the scan's grid, units and plane.

>>> import numpy as np
>>> from stmdenoise.scan import Scan
>>> scan = Scan(np.random.default_rng(0).normal(size=(64, 64)) * 1e-11, pixel_size=(1e-10, 1e-10))
>>> x, inverse = to_network(scan, NormalizationSpec(), 2e-10)
>>> x.shape, bool(np.abs(x).max() < 1)
((32, 32), True)
>>> inverse(x).shape
(64, 64)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.processing.levelling import level_plane
from stmdenoise.processing.nan import fill_nan_nearest
from stmdenoise.processing.normalize import Normalization, robust_normalize
from stmdenoise.processing.resample import resample_onto, resample_to_pixel_size, same_pixel_size
from stmdenoise.scan import Scan

__all__ = ["NetworkInverse", "NormalizationSpec", "to_network"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class NormalizationSpec:
    """How images are mapped to the networks' range (and back); saved in a model's ``config.json``.

    Parameters
    ----------
    low_pct, high_pct : float
        Percentiles of the robust normalisation mapped to -1 and +1.
    scale : float
        Headroom factor applied after normalisation (then clipped to [-1, 1]).
    level : bool
        A least-squares plane is removed before normalising (and added back after).
    squash : float
        0: ``x = clip(scale * y, -1, 1)``. > 0: ``x = tanh(squash * y)``, a soft, invertible
        compression: the generator's tanh output is inverted with ``atanh(x) / squash``, so a
        feature far beyond the percentile range (an adsorbate, an impurity core) is compressed,
        never clipped.
    """

    low_pct: float = 0.5
    high_pct: float = 99.5
    scale: float = 0.8
    level: bool = True
    squash: float = 0.8

    def forward(self, y: Any) -> Any:
        """Robustly normalised values -> network range [-1, 1]."""
        if self.squash > 0:
            return np.tanh(self.squash * np.asarray(y, dtype=np.float64))
        return np.clip(self.scale * np.asarray(y, dtype=np.float64), -1.0, 1.0)

    def inverse(self, x: Any) -> Any:
        """Network output in [-1, 1] -> robustly normalised values (inverse of :meth:`forward`)."""
        x = np.asarray(x, dtype=np.float64)
        if self.squash > 0:
            # float32 tanh outputs reach 1 - 6e-8: |y| up to atanh(1 - 1e-7) / squash (10.5 for 0.8)
            return np.arctanh(np.clip(x, -1.0 + 1e-7, 1.0 - 1e-7)) / self.squash
        return x / self.scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "robust_percentile",
            "low_pct": self.low_pct,
            "high_pct": self.high_pct,
            "scale": self.scale,
            "level": self.level,
            "squash": self.squash,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NormalizationSpec:
        if d.get("method", "robust_percentile") != "robust_percentile":
            raise ValueError(f"unknown normalisation method {d.get('method')!r}")
        return cls(
            low_pct=float(d["low_pct"]),
            high_pct=float(d["high_pct"]),
            scale=float(d["scale"]),
            level=bool(d.get("level", True)),
            squash=float(d.get("squash", 0.0)),
        )


@dataclass(frozen=True)
class NetworkInverse:
    """The way back from the network's range to the scan: :func:`to_network` returns it.

    Attributes
    ----------
    spec : NormalizationSpec
        The compression to undo (ignored when ``compressed`` is False).
    norm : Normalization
        The robust normalisation's affine map (also reusable for a second image, see
        ``to_network(..., norm=)``).
    plane : ndarray, shape (rows, cols)
        The removed plane on the input's grid (zeros when not levelled).
    measured : ndarray of bool, shape (rows, cols)
        The input's finite pixels; every other pixel comes back NaN.
    pixel_size : (float, float) or None
        The input's pixel size (None for a bare array).
    work_pixel_size : float or None
        The pixel size the input was resampled to (None when it was not resampled).
    compressed : bool
        Whether ``spec``'s compression was applied.
    """

    spec: NormalizationSpec
    norm: Normalization
    plane: Array
    measured: NDArray[np.bool_]
    pixel_size: tuple[float, float] | None
    work_pixel_size: float | None
    compressed: bool = True

    @property
    def resampled(self) -> bool:
        """True when the network's grid differs from the input's."""
        return self.work_pixel_size is not None

    def uncompress(self, x: ArrayLike) -> Array:
        """Network output -> robustly normalised values (the domain passes are averaged in)."""
        return np.asarray(self.spec.inverse(x) if self.compressed else np.asarray(x, dtype=np.float64))

    def restore(self, y: ArrayLike) -> Array:
        """Robustly normalised values on the network's grid -> data on the input's grid and units.

        The plane is added back on measured pixels; unmeasured ones are NaN.
        """
        restored = self.norm.invert(y)
        if self.work_pixel_size is not None:
            assert self.pixel_size is not None  # set whenever work_pixel_size is
            work = (self.work_pixel_size, self.work_pixel_size)
            restored = resample_onto(restored, work, self.measured.shape, self.pixel_size)
        result = restored + np.where(self.measured, self.plane, 0.0)
        result[~self.measured] = np.nan
        return result

    def __call__(self, x: ArrayLike) -> Array:
        """Network output -> data on the input's grid, in its units, plane added back."""
        return self.restore(self.uncompress(x))


def to_network(
    data: Scan | ArrayLike,
    spec: NormalizationSpec,
    pixel_size: float | None = None,
    *,
    norm: Normalization | None = None,
    compress: bool = True,
) -> tuple[Array, NetworkInverse]:
    """A scan (or bare image) as the networks see it, and the map back.

    Parameters
    ----------
    data : Scan or ndarray, shape (rows, cols)
        The input in any unit; non-finite pixels are unmeasured (filled with the nearest
        measured value for the network, NaN again after the inverse).
    spec : NormalizationSpec
        Percentiles, levelling and compression (a model's ``config.json``).
    pixel_size : float, optional
        The model's pixel size, metres: a Scan whose pixels differ (by more than 1 ppm) is
        resampled onto it. None keeps the input's grid (bare arrays must pass None).
    norm : Normalization, optional
        Use this affine map instead of the input's own percentiles (a clean target in the
        units of its noisy input, as the network sees them at inference).
    compress : bool
        Apply the spec's compression (``tanh``); False stops at the robust normalisation
        (classical filters work there).

    Returns
    -------
    x : ndarray of float64, shape of the working grid
        Finite values, in [-1, 1] when compressed.
    inverse : NetworkInverse
        ``inverse(network_output)`` gives data on the input's grid in its units.

    Raises
    ------
    ValueError
        No finite pixel, or a bare array with a ``pixel_size`` to resample to.
    """
    if isinstance(data, Scan):
        arr, src_pixel = np.asarray(data.data, dtype=np.float64), data.pixel_size
    else:
        arr, src_pixel = np.asarray(data, dtype=np.float64), None
        if pixel_size is not None:
            raise ValueError(
                f"pixel_size={pixel_size!r} needs a Scan (a bare array has no pixel size to resample from)"
            )
    if arr.ndim != 2:
        raise ValueError(f"data must be a 2-D image, got shape {arr.shape}")
    measured = np.isfinite(arr)
    if not measured.any():
        raise ValueError("data has no measured (finite) pixel")
    work = np.where(measured, arr, np.nan)
    plane = np.zeros(arr.shape)
    if spec.level and measured.sum() >= 3:
        levelled = level_plane(work)
        plane = arr - levelled
        work = levelled
    work_pixel = None
    if src_pixel is not None and pixel_size is not None and not same_pixel_size(src_pixel, pixel_size):
        assert isinstance(data, Scan)
        work = np.asarray(resample_to_pixel_size(data.with_data(work), pixel_size).data)
        work_pixel = float(pixel_size)
    if norm is None:
        y, norm = robust_normalize(work, low_pct=spec.low_pct, high_pct=spec.high_pct)
    else:
        y = norm.apply(work)
    y = fill_nan_nearest(y) if not np.isfinite(y).all() else y
    x = np.asarray(spec.forward(y), dtype=np.float64) if compress else y
    inverse = NetworkInverse(spec, norm, plane, measured, src_pixel, work_pixel, compress)
    return x, inverse
