"""A broader simulated world than the paper's: what real scans have and the Cu(111) scenes lack.

The paper trains on one scene family (Cu(111) standing waves at one bias range, one artefact
preset). Real scans differ in ways a denoiser must not learn to erase or to paint:

- **the atomic lattice is signal** (it is the same in every frame of a real stack): with
  probability ``lattice_probability`` it is part of the clean image, and the preset's lattice
  *artefact* (a lattice in the scan but not in the surface, which the ``typical`` preset adds
  because the paper's clean maps have none) is always off;
- **other surface-state wavelengths** (Ag(111) λF/2 ≈ 3.8 nm, Au(111) ≈ 1.9 nm, Cu(111)
  ≈ 1.5 nm): ``wavelength_scale`` renders the scene on a larger or smaller field so the waves
  are shorter or longer at the claimed pixel size;
- **noise from 0.25x to 3x** the ``typical`` preset (``noise_scale``, log-uniform);
- **stronger tips**: blur up to ``tip_blur_scale`` times the preset, double tips with
  probability ``double_tip_probability``;
- **periodic interference stripes** (a vibration along the raster at 50-3000 Hz) with
  probability ``vibration_probability``;
- **pixel sizes** within a factor ``pixel_size_factor`` of the nominal one.

:func:`sample_bias_pair` is a narrower step: the paper's scenes and artefacts at sample biases
from 5 mV to 1 V (:data:`WIDE_BIASES`), where the topograph integrates the surface state over a
range of wavelengths and the waves weaken beside the noise.

``held_out`` names artefact families (:data:`ARTEFACT_FAMILIES`) left out of training, so a
test with them measures generalisation to an artefact the model has never seen
(:func:`without`). Everything is drawn from the generator passed in: a pair is a pure function
of its state.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from stmdenoise.physics.artefacts import PRESETS, ArtefactConfig
from stmdenoise.physics.pairs import PAPER_BIASES, SimulatedPair, sample_pair

__all__ = [
    "ARTEFACT_FAMILIES",
    "NOISE_FIELDS",
    "Variety",
    "BROAD",
    "without",
    "scaled_noise",
    "sample_varied_pair",
    "WIDE_BIASES",
    "sample_bias_pair",
]

#: Magnitudes (volts, low and high; either sign, log-uniform) of the sample bias of
#: :func:`sample_bias_pair`: the paper's lower end, up to 1 V.
WIDE_BIASES: tuple[float, float] = (PAPER_BIASES[0], 1.0)

#: Artefact families by the :class:`ArtefactConfig` fields that switch them off (set to 0).
ARTEFACT_FAMILIES: dict[str, tuple[str, ...]] = {
    "tip_blur": ("tip_blur",),
    "double_tip": ("double_tip_probability",),
    "tip_change": ("tip_change_probability",),
    "white_noise": ("white_noise",),
    "flicker": ("flicker_noise",),
    "streaks": ("streak_noise",),
    "lattice_artefact": ("lattice",),
    "line_offsets": ("line_offset", "line_slope"),
    "scars": ("scar_rate",),
    "mains": ("mains_amplitude",),
    "vibration": ("vibration_amplitude",),
    "ringing": ("ringing_strength",),
    "distortion": ("drift", "creep"),
    "plane": ("plane",),
    "quantisation": ("quantisation",),
}

#: The fields that make up "the noise level": scaled together by :func:`scaled_noise` (periodic
#: interference, mains and vibration, is drawn on its own; so is the lattice artefact).
NOISE_FIELDS: tuple[str, ...] = (
    "white_noise",
    "flicker_noise",
    "streak_noise",
    "line_offset",
    "line_slope",
    "scar_amplitude",
)


def without(config: ArtefactConfig, families: Iterable[str]) -> ArtefactConfig:
    """``config`` with every artefact of ``families`` switched off.

    Examples
    --------
    >>> cfg = without(PRESETS["typical"], ["scars", "mains"])
    >>> cfg.scar_rate, cfg.mains_amplitude, cfg.white_noise == PRESETS["typical"].white_noise
    (0.0, 0.0, True)
    """
    zero: dict[str, float] = {}
    for fam in families:
        if fam not in ARTEFACT_FAMILIES:
            raise ValueError(f"unknown artefact family {fam!r}; known: {', '.join(ARTEFACT_FAMILIES)}")
        zero.update(dict.fromkeys(ARTEFACT_FAMILIES[fam], 0.0))
    return dataclasses.replace(config, **zero)


def scaled_noise(config: ArtefactConfig, factor: float) -> ArtefactConfig:
    """``config`` with every noise amplitude (:data:`NOISE_FIELDS`) multiplied by ``factor``.

    Examples
    --------
    >>> scaled_noise(PRESETS["typical"], 2.0).white_noise == 2 * PRESETS["typical"].white_noise
    True
    """
    if not (math.isfinite(factor) and factor >= 0):
        raise ValueError(f"factor must be a finite number >= 0, got {factor!r}")
    return dataclasses.replace(config, **{f: getattr(config, f) * factor for f in NOISE_FIELDS})


def _range(name: str, lo_hi: tuple[float, float], minimum: float = 0.0) -> None:
    lo, hi = lo_hi
    if not (math.isfinite(lo) and math.isfinite(hi) and minimum <= lo <= hi):
        raise ValueError(f"{name} must be a range (low, high) with {minimum} <= low <= high, got {lo_hi!r}")


def _prob(name: str, p: float) -> None:
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {p!r}")


def _log_uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    if lo == hi:
        return float(lo)
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


@dataclass(frozen=True)
class Variety:
    """How far the simulated world reaches beyond the paper's scenes (see the module docstring).

    Ranges are ``(low, high)`` and drawn log-uniformly; ``(1, 1)`` switches a range off.
    """

    noise_scale: tuple[float, float] = (0.25, 3.0)
    wavelength_scale: tuple[float, float] = (0.35, 1.25)
    pixel_size_factor: tuple[float, float] = (1.0, 1.0)
    lattice_probability: float = 0.5
    lattice_signal: tuple[float, float] = (0.2, 2.0)
    tip_blur_scale: tuple[float, float] = (0.5, 3.0)
    double_tip_probability: float = 0.3
    vibration_probability: float = 0.3
    vibration_amplitude: tuple[float, float] = (0.05, 0.5)
    vibration_frequency: tuple[float, float] = (50.0, 3000.0)
    held_out: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _range("noise_scale", self.noise_scale)
        _range("wavelength_scale", self.wavelength_scale, 0.1)
        _range("pixel_size_factor", self.pixel_size_factor, 1e-3)
        _range("lattice_signal", self.lattice_signal)
        _range("tip_blur_scale", self.tip_blur_scale)
        _range("vibration_amplitude", self.vibration_amplitude)
        _range("vibration_frequency", self.vibration_frequency, 1e-3)
        for name in ("lattice_probability", "double_tip_probability", "vibration_probability"):
            _prob(name, getattr(self, name))
        for fam in self.held_out:
            if fam not in ARTEFACT_FAMILIES:
                raise ValueError(f"unknown artefact family {fam!r}; known: {', '.join(ARTEFACT_FAMILIES)}")
        if self.wavelength_scale[1] > 10:
            raise ValueError(f"wavelength_scale must stay <= 10, got {self.wavelength_scale!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


#: The broad world of issue 15 (fixed pixel size; widen ``pixel_size_factor`` for any-scale models).
BROAD = Variety()


def sample_varied_pair(
    rng: np.random.Generator,
    *,
    pixels: int = 256,
    size: float = 36e-9,
    preset: str | ArtefactConfig = "typical",
    variety: Variety = BROAD,
) -> SimulatedPair:
    """Draw one clean/noisy pair from the broad world (a :data:`~stmdenoise.training.data.PairSampler`).

    ``size / pixels`` is the nominal pixel size (scaled by ``variety.pixel_size_factor``);
    ``preset`` is the artefact preset the draws start from. The pair's ``params["variety"]``
    records every draw.

    Examples
    --------
    >>> p = sample_varied_pair(np.random.default_rng(0), pixels=32, size=5e-9)
    >>> p.clean.shape, sorted(p.params["variety"])[:3]
    ((32, 32), ['double_tip', 'held_out', 'lattice_signal'])
    """
    v = variety
    base = PRESETS[preset] if isinstance(preset, str) else preset
    if isinstance(preset, str) and preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)} or an ArtefactConfig, got {preset!r}")
    noise = _log_uniform(rng, v.noise_scale)
    blur = _log_uniform(rng, v.tip_blur_scale)
    double = bool(rng.random() < v.double_tip_probability)
    vibrate = bool(rng.random() < v.vibration_probability)
    vib_amp = _log_uniform(rng, v.vibration_amplitude) if vibrate else 0.0
    vib_freq = _log_uniform(rng, v.vibration_frequency)
    lattice = _log_uniform(rng, v.lattice_signal) if rng.random() < v.lattice_probability else 0.0
    wavelength = _log_uniform(rng, v.wavelength_scale)
    factor = _log_uniform(rng, v.pixel_size_factor)
    cfg = dataclasses.replace(
        base,
        tip_blur=base.tip_blur * blur,
        double_tip_probability=1.0 if double else 0.0,
        vibration_amplitude=vib_amp,
        vibration_frequency=vib_freq,
    )
    cfg = without(scaled_noise(cfg, noise), ("lattice_artefact", *v.held_out))
    pair = sample_pair(
        rng,
        pixels=pixels,
        size=float(size) * factor,
        preset=cfg,
        lattice_signal=lattice,
        wavelength_scale=wavelength,
    )
    pair.params["variety"] = {
        "noise_scale": noise,
        "tip_blur_scale": blur,
        "double_tip": double,
        "vibration_amplitude": vib_amp,
        "vibration_frequency": vib_freq,
        "lattice_signal": lattice,
        "wavelength_scale": wavelength,
        "pixel_size_factor": factor,
        "held_out": list(v.held_out),
        "spec": v.to_dict(),
    }
    return pair


def sample_bias_pair(
    rng: np.random.Generator,
    *,
    pixels: int = 256,
    size: float = 36e-9,
    preset: str | ArtefactConfig = "typical",
) -> SimulatedPair:
    """The paper's pair (:func:`~stmdenoise.physics.pairs.sample_pair`) at a bias in :data:`WIDE_BIASES`.

    A :data:`~stmdenoise.training.data.PairSampler` (the ``biases`` world of ``stmdenoise train``).

    Examples
    --------
    >>> p = sample_bias_pair(np.random.default_rng(0), pixels=32, size=5e-9)
    >>> bool(WIDE_BIASES[0] <= abs(p.params["bias"]) <= WIDE_BIASES[1])
    True
    """
    return sample_pair(rng, pixels=pixels, size=size, preset=preset, bias=WIDE_BIASES)
