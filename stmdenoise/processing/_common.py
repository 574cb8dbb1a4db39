"""Shared plumbing of :mod:`stmdenoise.processing`: array-or-Scan dispatch and input checks."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.scan import ProcessingStep, Scan

FloatArray = NDArray[np.float64]


def as_image(data: ArrayLike | Scan, *, name: str = "data") -> tuple[FloatArray, Scan | None]:
    """Return ``(float64 2-D array, scan or None)`` for an array or a :class:`Scan`.

    The array is the scan's own read-only data for a Scan, and a float64 view or copy of
    the input otherwise; callers never write into it.
    """
    if isinstance(data, Scan):
        return data.data, data
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, cols), got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False), None


def finish(result: FloatArray, scan: Scan | None, step: ProcessingStep, **changes: Any) -> Any:
    """Return ``result`` as an array, or as a new Scan with ``step`` appended when ``scan`` is given."""
    if scan is None:
        return result
    return scan.with_data(result, step, **changes)


def check_mask(mask: ArrayLike | None, shape: tuple[int, ...]) -> NDArray[np.bool_] | None:
    """Validate an optional boolean mask of ``shape`` (True = use this pixel)."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        raise ValueError(f"mask must be a boolean array, got dtype {m.dtype}")
    if m.shape != shape:
        raise ValueError(f"mask must have the data's shape {shape}, got {m.shape}")
    return m


def as_pair(value: int | tuple[int, int] | Any, *, name: str) -> tuple[int, int]:
    """Return ``(rows, cols)`` for an int or a pair of ints (``name`` is used in errors)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(a), int(b)
