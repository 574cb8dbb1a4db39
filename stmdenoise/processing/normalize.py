"""Robust normalisation of an image to [-1, 1] (the range of the generators' tanh) and back."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from stmdenoise.processing._common import FloatArray, as_image
from stmdenoise.scan import ProcessingStep, Scan

__all__ = ["Normalization", "robust_normalize"]


@dataclass(frozen=True)
class Normalization:
    """Affine map of data values ``[lo, hi]`` onto ``[-1, 1]``, with its exact inverse.

    Parameters
    ----------
    lo, hi : float
        Data values (in the data's unit) that map to -1 and +1; finite, ``lo <= hi``.

    Notes
    -----
    ``apply(x) = (x - centre) / scale`` and ``invert(y) = y * scale + centre`` with
    ``centre = (lo + hi) / 2`` and ``scale = (hi - lo) / 2``. For a degenerate range
    (``hi == lo``, e.g. a constant image) ``scale`` is 1 data unit instead of 0: ``lo`` maps to
    0, any other value ``x`` to ``x - lo``, and ``invert`` still undoes ``apply``. No division
    by zero ever happens. NaN maps to NaN both ways.
    """

    lo: float
    hi: float

    def __post_init__(self) -> None:
        lo, hi = float(self.lo), float(self.hi)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise ValueError(f"lo and hi must be finite with lo <= hi, got lo={self.lo!r}, hi={self.hi!r}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def centre(self) -> float:
        """Data value that maps to 0."""
        return 0.5 * self.lo + 0.5 * self.hi

    @property
    def scale(self) -> float:
        """Data units per normalised unit: ``(hi - lo) / 2``, or 1.0 when ``hi == lo``."""
        half = 0.5 * self.hi - 0.5 * self.lo
        return half if half > 0 else 1.0

    @property
    def degenerate(self) -> bool:
        """True when ``hi == lo`` (the scale fell back to 1 data unit)."""
        return not (0.5 * self.hi - 0.5 * self.lo) > 0

    def apply(self, x: ArrayLike, *, clip: bool = False) -> FloatArray:
        """Map data values to normalised values (``lo`` -> -1, ``hi`` -> +1).

        Parameters
        ----------
        x : array_like
            Values in the data's unit; NaN stays NaN.
        clip : bool
            Clip the result to [-1, 1] (values outside ``[lo, hi]`` otherwise exceed it);
            clipped values can no longer be inverted exactly.

        Returns
        -------
        ndarray of float64, same shape as ``x``
        """
        y = (np.asarray(x, dtype=np.float64) - self.centre) / self.scale
        if clip:
            y = np.clip(y, -1.0, 1.0)
        return y

    def invert(self, y: ArrayLike) -> FloatArray:
        """Map normalised values back to data values; the inverse of :meth:`apply`.

        The round trip ``invert(apply(x))`` returns ``x`` up to float64 rounding (a few ulp
        of ``max(|x|, |centre|)``).

        Parameters
        ----------
        y : array_like
            Normalised values; NaN stays NaN.

        Returns
        -------
        ndarray of float64, same shape as ``y``
        """
        return np.asarray(y, dtype=np.float64) * self.scale + self.centre

    def to_dict(self) -> dict[str, float]:
        """JSON-serialisable form (for a model's ``config.json`` or a processing step)."""
        return {"lo": self.lo, "hi": self.hi}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Normalization:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(lo=float(d["lo"]), hi=float(d["hi"]))
        except KeyError as exc:
            raise ValueError(f"a normalisation needs keys 'lo' and 'hi', got {sorted(d)}") from exc


@overload
def robust_normalize(
    data: Scan, *, low_pct: float = ..., high_pct: float = ...
) -> tuple[Scan, Normalization]: ...
@overload
def robust_normalize(
    data: ArrayLike, *, low_pct: float = ..., high_pct: float = ...
) -> tuple[FloatArray, Normalization]: ...
def robust_normalize(
    data: ArrayLike | Scan, *, low_pct: float = 0.5, high_pct: float = 99.5
) -> tuple[FloatArray | Scan, Normalization]:
    """Normalise an image so that its ``low_pct`` and ``high_pct`` percentiles map to -1 and +1.

    Percentiles, not min/max: a few spikes (tip crashes, spikes) do not squash the image.

    Parameters
    ----------
    data : ndarray, shape (rows, cols), or Scan
        Image in any unit; NaN pixels are ignored for the percentiles and stay NaN.
    low_pct, high_pct : float
        Percentiles (0-100, ``low_pct < high_pct``) that map to -1 and +1. Values beyond them
        fall outside [-1, 1] (use ``Normalization.apply(..., clip=True)`` to clip).

    Returns
    -------
    normalised : ndarray of float64 or Scan
        Same kind as ``data``. A Scan becomes unitless (``unit=""``) and gets a
        ``robust_normalize`` step with ``lo``, ``hi`` and the data's original unit.
    norm : Normalization
        The map used; ``norm.invert(normalised)`` restores the data values.

    Raises
    ------
    ValueError
        For percentiles out of range or in the wrong order, or data without finite pixels.

    Examples
    --------
    >>> import numpy as np
    >>> y, norm = robust_normalize(np.linspace(0.0, 1e-9, 101).reshape(1, -1), low_pct=0, high_pct=100)
    >>> float(y.min()), float(y.max())
    (-1.0, 1.0)
    """
    lo_p, hi_p = float(low_pct), float(high_pct)
    if not (0.0 <= lo_p < hi_p <= 100.0):
        raise ValueError(
            f"low_pct and high_pct must satisfy 0 <= low_pct < high_pct <= 100, got {low_pct!r}, {high_pct!r}"
        )
    arr, scan = as_image(data)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        raise ValueError("data has no finite pixel: cannot normalise")
    lo, hi = (float(v) for v in np.percentile(finite, [lo_p, hi_p]))
    norm = Normalization(lo=lo, hi=max(hi, lo))
    result = norm.apply(arr)
    if scan is None:
        return result, norm
    step = ProcessingStep(
        "robust_normalize",
        {"lo": norm.lo, "hi": norm.hi, "low_pct": lo_p, "high_pct": hi_p, "unit": scan.unit},
    )
    return scan.with_data(result, step, unit=""), norm
