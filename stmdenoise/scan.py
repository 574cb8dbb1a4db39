"""The :class:`Scan`: one 2-D channel of a scanning-probe image in SI units.

Every reader in :mod:`stmdenoise.io` returns a ``Scan`` and every writer takes one, so the
rest of the program never sees a file format or a third-party object.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["Scan", "ProcessingStep"]

Direction = Literal["forward", "backward"]
ScanDirection = Literal["up", "down"]


@dataclass(frozen=True)
class ProcessingStep:
    """One step applied to a scan after reading it (kept for provenance).

    Parameters
    ----------
    name : str
        Verb naming the step, e.g. ``"level_plane"`` or ``"denoise"``.
    params : Mapping[str, Any]
        JSON-serialisable parameters of the step.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the step as a JSON-serialisable dict."""
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class Scan:
    """One channel of one scan frame, in SI units, oriented as the instrument displays it.

    Parameters
    ----------
    data : ndarray of float64, shape (rows, cols)
        Values in SI units (``unit``). Row 0 is the top row of the image as the instrument
        displays it; NaN marks pixels that were never measured (aborted scans).
        The array is made read-only.
    pixel_size : tuple of float or None
        ``(dy, dx)``: height of one row and width of one column in metres; None when the
        file carries no calibration (a JPEG, a foreign PNG or ``.npy``).
    channel : str
        Channel name as the instrument calls it, e.g. ``"Z"`` or ``"Current"``.
    unit : str
        SI unit of ``data`` (``"m"``, ``"A"``, ``"V"``, ...; ``""`` for unitless images).
    direction : {"forward", "backward"}
        Fast-scan direction of this frame. Backward frames are already mirrored so that
        column 0 is on the left like the forward frame.
    scan_direction : {"up", "down"} or None
        Slow-scan direction at acquisition time (the image is already flipped to top-up).
    bias : float or None
        Sample bias in volts.
    setpoint : float or None
        Current setpoint in amperes.
    angle : float
        Scan-frame rotation in degrees, as the instrument reports it.
    offset : tuple of float
        ``(y, x)`` centre of the frame in metres, as the instrument reports it.
    acquired : datetime or None
        Acquisition start time.
    header : Mapping[str, Any]
        Every header entry of the file, as read (read-only view).
    source : Path or None
        File the scan was read from.
    steps : tuple of ProcessingStep
        Processing applied since reading, oldest first.
    """

    data: NDArray[np.float64]
    pixel_size: tuple[float, float] | None = None
    channel: str = ""
    unit: str = ""
    direction: Direction = "forward"
    scan_direction: ScanDirection | None = None
    bias: float | None = None
    setpoint: float | None = None
    angle: float = 0.0
    offset: tuple[float, float] = (0.0, 0.0)
    acquired: _dt.datetime | None = None
    header: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None
    steps: tuple[ProcessingStep, ...] = ()

    def __post_init__(self) -> None:
        data = np.array(self.data, dtype=np.float64, copy=True)
        if data.ndim != 2:
            raise ValueError(f"data must be 2-D (rows, cols), got shape {data.shape}")
        if data.shape[0] < 1 or data.shape[1] < 1:
            raise ValueError(f"data must not be empty, got shape {data.shape}")
        data.setflags(write=False)
        object.__setattr__(self, "data", data)
        if self.pixel_size is not None:
            dy, dx = (float(v) for v in self.pixel_size)
            if not (np.isfinite(dy) and np.isfinite(dx) and dy > 0 and dx > 0):
                raise ValueError(
                    f"pixel_size must be two positive finite numbers or None, got {self.pixel_size!r}"
                )
            object.__setattr__(self, "pixel_size", (dy, dx))
        object.__setattr__(self, "offset", tuple(float(v) for v in self.offset))
        if self.direction not in ("forward", "backward"):
            raise ValueError(f"direction must be 'forward' or 'backward', got {self.direction!r}")
        if self.scan_direction not in (None, "up", "down"):
            raise ValueError(f"scan_direction must be 'up', 'down' or None, got {self.scan_direction!r}")
        if not isinstance(self.header, MappingProxyType):
            object.__setattr__(self, "header", MappingProxyType(dict(self.header)))
        if self.source is not None and not isinstance(self.source, Path):
            object.__setattr__(self, "source", Path(self.source))
        object.__setattr__(self, "steps", tuple(self.steps))

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the data."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    @property
    def calibrated(self) -> bool:
        """True when the scan knows its pixel size (:attr:`pixel_size` is not None)."""
        return self.pixel_size is not None

    @property
    def size(self) -> tuple[float, float] | None:
        """``(height, width)`` of the field of view in metres; None when uncalibrated."""
        if self.pixel_size is None:
            return None
        return (self.shape[0] * self.pixel_size[0], self.shape[1] * self.pixel_size[1])

    # ------------------------------------------------------------------ NaN bookkeeping
    @property
    def mask(self) -> NDArray[np.bool_]:
        """Boolean array, True where the pixel was measured (finite)."""
        return np.isfinite(self.data)

    @property
    def measured_fraction(self) -> float:
        """Fraction of pixels that hold a finite value (1.0 for a complete scan)."""
        return float(np.count_nonzero(self.mask)) / self.data.size

    @property
    def nan_fraction(self) -> float:
        """Fraction of pixels that were never measured."""
        return 1.0 - self.measured_fraction

    # ------------------------------------------------------------------ derivation
    def replace(self, **changes: Any) -> Scan:
        """Return a copy with ``changes`` applied (see :func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def with_data(
        self, data: NDArray[np.floating[Any]], step: ProcessingStep | None = None, **changes: Any
    ) -> Scan:
        """Return a copy holding ``data`` and, if given, ``step`` appended to :attr:`steps`.

        ``pixel_size`` is kept unless passed in ``changes``; callers that change the
        shape (cropping, resampling) pass the new geometry explicitly.
        """
        steps = self.steps + ((step,) if step is not None else ())
        return dataclasses.replace(self, data=np.asarray(data, dtype=np.float64), steps=steps, **changes)

    def describe(self) -> str:
        """One-line human description: channel, direction, pixels and field size."""
        size = self.size
        field = "no pixel size" if size is None else f"{size[1] * 1e9:.3g} x {size[0] * 1e9:.3g} nm"
        return f"{self.channel or 'image'} ({self.direction}) {self.shape[1]}x{self.shape[0]} px, {field}"
