"""Physical constants of the Cu(111) Shockley surface state used by the simulator.

Energies are in electronvolts measured from the Fermi level (so an energy ``E`` equals the
sample bias ``V`` in volts at which electrons of that energy tunnel: ``E = e V``). Lengths
are in metres at the public interface; the numerical core works in ångström because the
band constants are tabulated that way.
"""

from __future__ import annotations

import math

__all__ = [
    "HBAR2_OVER_2ME",
    "BAND_BOTTOM",
    "EFFECTIVE_MASS",
    "HBAR2_OVER_2MSTAR",
    "CU111_LATTICE",
    "CU111_STEP_HEIGHT",
    "DEFAULT_MIN_RADIUS",
    "DECAY_CONSTANT",
    "ANGSTROM",
    "CU111_WAVE_PERIOD",
]

#: ħ²/2mₑ in eV·Å².
HBAR2_OVER_2ME: float = 3.80998
#: Bottom of the surface-state band E0 = -μ, in eV from the Fermi level.
BAND_BOTTOM: float = -0.45
#: Effective mass m*/mₑ of the surface state.
EFFECTIVE_MASS: float = 0.38
#: ħ²/2m* in eV·Å² (the band is E(k) = E0 + HBAR2_OVER_2MSTAR · k²).
HBAR2_OVER_2MSTAR: float = HBAR2_OVER_2ME / EFFECTIVE_MASS
#: Nearest-neighbour distance of the Cu(111) surface lattice, in metres.
CU111_LATTICE: float = 2.556e-10
#: Height of a monatomic Cu(111) step (interlayer spacing a_fcc/√3), in metres.
CU111_STEP_HEIGHT: float = 2.08e-10
#: Distance below which the distance to a scatterer is clamped (keeps impurity cores finite), metres.
DEFAULT_MIN_RADIUS: float = 1.5e-10
#: Vacuum decay constant κ of the tunnelling current, I ∝ exp(-2κz), in 1/m (work function ≈ 4.5 eV).
DECAY_CONSTANT: float = 1.087e10
#: One ångström in metres.
ANGSTROM: float = 1e-10
#: Period of Cu(111)'s standing waves at the Fermi level, metres: half the Fermi wavelength,
#: pi / k_F with k_F = sqrt(-E0 / (hbar^2 / 2m*)) (14.8 Å; 10.5 px on the shipped model's grid).
CU111_WAVE_PERIOD: float = math.pi / math.sqrt(-BAND_BOTTOM / HBAR2_OVER_2MSTAR) * ANGSTROM
