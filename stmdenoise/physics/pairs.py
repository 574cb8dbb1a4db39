"""Clean/noisy training pairs drawn on the fly: a random Cu(111) area, its topograph, its scan."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.physics.artefacts import ArtefactConfig, apply_artefacts_trace_retrace, lattice_image
from stmdenoise.physics.raster import raster_warp
from stmdenoise.physics.surface import Mode, Surface, geometry, random_surface, render, topograph

__all__ = [
    "PAPER_BIASES",
    "PHASE_SHIFT_NAMES",
    "SimulatedPair",
    "SimulatedScan",
    "sample_pair",
    "sample_scan",
]

#: Magnitudes (volts, low and high; either sign) of the sample bias of the paper's training pairs.
PAPER_BIASES: tuple[float, float] = (0.005, 0.03)


@dataclass(frozen=True)
class SimulatedPair:
    """A clean simulated image and the same image as a noisy STM scan (paired by construction).

    Parameters
    ----------
    clean : ndarray of float64, shape (pixels, pixels)
        Physics-only image (topograph in metres, or dI/dV as ρ/ρ0), in the scan's frame: the
        drift and creep of the noisy trace are applied (:func:`raster_warp`), nothing else.
    noisy : ndarray of float64, shape (pixels, pixels)
        The forward scan with artefacts, same units.
    pixel_size : float
        Pixel size, metres.
    params : dict
        JSON-serialisable record of every generation parameter.
    """

    clean: NDArray[np.float64]
    noisy: NDArray[np.float64]
    pixel_size: float
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("clean", "noisy"):
            a = np.array(getattr(self, name), dtype=np.float64, copy=True)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        if self.clean.shape != self.noisy.shape or self.clean.ndim != 2:
            raise ValueError(
                f"clean and noisy must be 2-D of one shape, got {self.clean.shape}, {self.noisy.shape}"
            )


@dataclass(frozen=True)
class SimulatedScan:
    """A simulated scan with both fast-scan directions (for example files).

    Parameters
    ----------
    clean, forward, backward : ndarray of float64, shape (pixels, pixels)
        Clean image, trace and retrace (retrace mirrored to the forward orientation).
    pixel_size : float
        Pixel size, metres.
    bias : float
        Sample bias, volts.
    params : dict
        JSON-serialisable record of every generation parameter.
    """

    clean: NDArray[np.float64]
    forward: NDArray[np.float64]
    backward: NDArray[np.float64]
    pixel_size: float
    bias: float
    params: dict[str, Any] = field(default_factory=dict)


def _draw_scene(
    rng: np.random.Generator,
    *,
    pixels: int,
    size: float,
    n_impurities: int | tuple[int, int],
    density: float | None,
    bias: float | tuple[float, float],
    phase_shift: str | complex,
    broadening: float,
    step_probability: float,
    mode: Mode,
    lattice_signal: float = 0.0,
    wavelength_scale: float = 1.0,
) -> tuple[Surface, float, NDArray[np.float64], float, dict[str, Any]]:
    if not (math.isfinite(lattice_signal) and lattice_signal >= 0):
        raise ValueError(f"lattice_signal must be a finite number >= 0, got {lattice_signal!r}")
    if not (math.isfinite(wavelength_scale) and 0.1 <= wavelength_scale <= 10):
        raise ValueError(f"wavelength_scale must lie in [0.1, 10], got {wavelength_scale!r}")
    if int(pixels) != pixels or pixels < 16:
        raise ValueError(f"pixels must be an integer >= 16, got {pixels!r}")
    if not (np.isfinite(size) and size > 0):
        raise ValueError(f"size must be a positive length in metres, got {size!r}")
    if np.ndim(n_impurities) == 0:
        lo = hi = int(n_impurities)  # type: ignore[arg-type]
    else:
        lo, hi = (int(v) for v in n_impurities)  # type: ignore[union-attr]
    if not (0 <= lo <= hi):
        raise ValueError(
            f"n_impurities must be >= 0 or a range (low, high) with 0 <= low <= high, got {n_impurities!r}"
        )
    if np.ndim(bias) == 0:
        v = float(bias)  # type: ignore[arg-type]
        if not (np.isfinite(v) and v != 0):
            raise ValueError(f"bias must be a non-zero voltage, got {bias!r}")
    else:
        blo, bhi = (float(b) for b in bias)  # type: ignore[union-attr]
        if not (0 < blo <= bhi):
            raise ValueError(
                f"bias must be a voltage or a range (low, high) of magnitudes, 0 < low <= high, got {bias!r}"
            )
        v = float(math.exp(rng.uniform(math.log(blo), math.log(bhi))) * rng.choice([-1.0, 1.0]))
    if density is not None:
        surface = random_surface(
            rng,
            size=size,
            density=density,
            margin=5e-9,
            step_probability=step_probability,
            adsorbate_count=int(rng.poisson(1.0)),
        )
        n_imp = int(np.sum(np.all((surface.impurities >= 0) & (surface.impurities < size), axis=1)))
    else:
        n_imp = int(rng.integers(lo, hi + 1))
        surface = random_surface(
            rng,
            size=size,
            impurity_count=n_imp,
            margin=5e-9,
            step_probability=step_probability,
            adsorbate_count=int(rng.poisson(1.0)),
        )
    if phase_shift != "mixed":
        n = surface.impurities.shape[0]
        ps = (
            np.full(n, complex(0, math.inf))
            if phase_shift == "black-dot"
            else np.full(n, complex(phase_shift))
        )
        surface = dataclasses.replace(surface, phase_shifts=ps)
    # the scene is drawn and rendered on a field `wavelength_scale` times larger than the one
    # the image claims: the same pixels then hold standing waves `wavelength_scale` times shorter
    # in the claimed units (another Fermi wavelength; see stmdenoise.physics.variety)
    world = float(size) * float(wavelength_scale)
    if mode == "topograph":
        electronic = topograph(surface, size=world, shape=int(pixels), bias=v, broadening=broadening)
        clean = electronic + geometry(surface, size=world, shape=int(pixels))
    else:
        electronic = clean = render(
            surface, size=world, shape=int(pixels), bias=v, mode=mode, broadening=broadening
        )
    # contrast of the electronic structure only (a step's 2 Å would otherwise set the noise level)
    scale = float(np.std(electronic)) or 1.0
    lattice_params: dict[str, Any] = {}
    if lattice_signal > 0:
        # the atomic lattice as part of the surface (it is the same in every frame of a real
        # stack), at the claimed pixel size; one row direction dominates as with a real tip
        angle = float(rng.uniform(0, math.pi / 3))
        weights = [1.0, float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.3, 1.0))]
        px = float(size) / int(pixels)
        clean = clean + scale * lattice_signal * lattice_image(int(pixels), int(pixels), px, angle, weights)
        lattice_params = {
            "lattice_signal": float(lattice_signal),
            "lattice_angle": angle,
            "lattice_weights": weights,
        }
    params = {
        "pixels": int(pixels),
        "size": float(size),
        "pixel_size": float(size) / int(pixels),
        "mode": mode,
        "bias": v,
        "impurity_count_in_field": n_imp,
        "broadening": float(broadening),
        "surface": surface.to_dict(),
        "contrast_scale": scale,
        "wavelength_scale": float(wavelength_scale),
        **lattice_params,
    }
    return surface, v, clean, scale, params


#: The named ``phase_shift`` choices of :func:`sample_pair` (a complex phase shift is the third way).
PHASE_SHIFT_NAMES: tuple[str, ...] = ("mixed", "black-dot")


def sample_pair(
    rng: np.random.Generator,
    *,
    pixels: int = 256,
    size: float = 36e-9,
    preset: str | ArtefactConfig = "typical",
    n_impurities: int | tuple[int, int] = (2, 20),
    density: float | None = None,
    bias: float | tuple[float, float] = PAPER_BIASES,
    phase_shift: str | complex = "mixed",
    broadening: float = 0.0,
    step_probability: float = 0.1,
    mode: Mode = "topograph",
    lattice_signal: float = 0.0,
    wavelength_scale: float = 1.0,
) -> SimulatedPair:
    """Draw one random clean/noisy pair (what training calls on the fly).

    The area holds a uniform random number of impurities in ``n_impurities`` inside the field
    (plus margin impurities at the same density in a 5 nm band around it, so edges look like the
    inside), 60 % black dots and 40 % partly absorbing scatterers on Cu(111) lattice sites, a
    Poisson(1) number of adsorbate bumps, and with probability ``step_probability`` a step edge.
    The sample bias is log-uniform in ``bias`` (magnitude, volts) with a random sign. The clean
    image is the Tersoff-Hamann topograph (metres); the noisy one its forward scan with the
    artefacts of ``preset`` in units of the standing-wave contrast.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the pair is a pure function of its state.
    pixels : int
        Pixels per side.
    size : float
        Side of the square field of view, metres.
    preset : {"mild", "typical", "severe"} or ArtefactConfig
        Artefact strengths.
    n_impurities : int or tuple of int
        Number of impurities inside the field, or an inclusive range to draw it from.
    density : float or None
        Instead, impurities per square metre (Poisson numbers); overrides ``n_impurities``.
    bias : float or tuple of float
        Sample bias in volts, or a range ``(low, high)`` of its magnitude (random sign).
    phase_shift : "mixed", "black-dot" or complex
        ``"mixed"``: 60 % black dots, the rest partly absorbing (see
        :func:`~stmdenoise.physics.surface.random_phase_shifts`); otherwise one phase shift for all.
    broadening : float
        Lorentzian broadening η, eV.
    step_probability : float
        Probability of a step edge.
    mode : {"topograph", "didv"}
        Kind of clean image.
    lattice_signal : float
        Amplitude (standing-wave contrast units) of an atomic lattice that is part of the clean
        surface (0 = none, the paper's scenes). Keep the preset's ``lattice`` artefact for a
        lattice that only the scan shows.
    wavelength_scale : float
        Standing waves this many times shorter than Cu(111)'s at the claimed pixel size (the
        scene is rendered on a field this many times larger): other surface-state wavelengths.

    Returns
    -------
    SimulatedPair

    Examples
    --------
    >>> pair = sample_pair(np.random.default_rng(0), pixels=32, size=5e-9)
    >>> pair.clean.shape, pair.noisy.shape, round(pair.pixel_size * 1e10, 4)
    ((32, 32), (32, 32), 1.5625)
    """
    _, _, clean, scale, params = _draw_scene(
        rng,
        pixels=pixels,
        size=size,
        n_impurities=n_impurities,
        density=density,
        bias=bias,
        phase_shift=phase_shift,
        broadening=broadening,
        step_probability=step_probability,
        mode=mode,
        lattice_signal=lattice_signal,
        wavelength_scale=wavelength_scale,
    )
    px = float(size) / int(pixels)
    noisy, _, art = apply_artefacts_trace_retrace(clean, preset=preset, pixel_size=px, rng=rng, scale=scale)
    params["artefacts"] = art
    # the pair's clean image is the surface where the scan saw it (drift and creep applied):
    # no denoiser can undo drift, so paired losses and scores must not ask it to
    params["clean_geometry"] = "scan frame (drift and creep of the noisy trace applied)"
    return SimulatedPair(clean=raster_warp(clean, art), noisy=noisy, pixel_size=px, params=params)


def sample_scan(
    rng: np.random.Generator,
    *,
    pixels: int = 256,
    size: float = 36e-9,
    preset: str | ArtefactConfig = "typical",
    n_impurities: int | tuple[int, int] = (2, 20),
    bias: float | tuple[float, float] = PAPER_BIASES,
    step_probability: float = 0.1,
    lattice_signal: float = 0.0,
    wavelength_scale: float = 1.0,
) -> SimulatedScan:
    """Like :func:`sample_pair` but keeps both the trace and the retrace of the topograph.

    Parameters are those of :func:`sample_pair`.

    Returns
    -------
    SimulatedScan
    """
    _, v, clean, scale, params = _draw_scene(
        rng,
        pixels=pixels,
        size=size,
        n_impurities=n_impurities,
        density=None,
        bias=bias,
        phase_shift="mixed",
        broadening=0.0,
        step_probability=step_probability,
        mode="topograph",
        lattice_signal=lattice_signal,
        wavelength_scale=wavelength_scale,
    )
    px = float(size) / int(pixels)
    fwd, bwd, art = apply_artefacts_trace_retrace(clean, preset=preset, pixel_size=px, rng=rng, scale=scale)
    params["artefacts"] = art
    return SimulatedScan(clean=clean, forward=fwd, backward=bwd, pixel_size=px, bias=v, params=params)
