"""The shipped example scan: one simulated noisy Cu(111) topograph as a Nanonis ``.sxm``.

Regenerate it with ``python -m stmdenoise.physics.example`` (deterministic: fixed seed and
acquisition time; written by :func:`stmdenoise.io.write_sxm`, atomically).
"""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path

import numpy as np

from stmdenoise.paths import examples_dir
from stmdenoise.physics.pairs import sample_scan
from stmdenoise.scan import ProcessingStep, Scan

__all__ = ["EXAMPLE_NAME", "EXAMPLE_SEED", "example_scans", "write_example_scan"]

EXAMPLE_NAME = "cu111_simulated_typical.sxm"
EXAMPLE_SEED = 20261125
_ACQUIRED = _dt.datetime(2026, 11, 25, 12, 0, 0)
_SETPOINT = 100e-12  # A


def example_scans(*, seed: int = EXAMPLE_SEED, pixels: int = 256, size: float = 36e-9) -> list[Scan]:
    """The forward and backward Z frames of the example (a ``typical`` simulated scan).

    Parameters
    ----------
    seed : int
        Seed of the simulation.
    pixels : int
        Pixels per side.
    size : float
        Field of view, metres.

    Returns
    -------
    list of Scan
        ``[Z forward, Z backward]`` in metres, with bias, setpoint and provenance.
    """
    sim = sample_scan(
        np.random.default_rng(seed),
        pixels=pixels,
        size=size,
        preset="typical",
        n_impurities=14,
        bias=0.02,
        step_probability=0.0,
    )
    # a real scan's Z sits at some absolute piezo height, not at zero
    z0 = -12.5e-9
    step = ProcessingStep(
        "simulate", {"generator": "stmdenoise.physics.sample_scan", "seed": seed, "preset": "typical"}
    )
    common = dict(
        pixel_size=(sim.pixel_size, sim.pixel_size),
        channel="Z",
        unit="m",
        scan_direction="down",
        bias=sim.bias,
        setpoint=_SETPOINT,
        acquired=_ACQUIRED,
        steps=(step,),
    )
    return [
        Scan(data=sim.forward + z0, direction="forward", **common),  # type: ignore[arg-type]
        Scan(data=sim.backward + z0, direction="backward", **common),  # type: ignore[arg-type]
    ]


def write_example_scan(path: str | Path | None = None, *, seed: int = EXAMPLE_SEED) -> Path:
    """Write the example scan (default: ``resources/examples/cu111_simulated_typical.sxm``).

    Parameters
    ----------
    path : str, Path or None
        Destination ``.sxm``.
    seed : int
        Seed of the simulation.

    Returns
    -------
    Path
        The written file.
    """
    from stmdenoise.io import write_sxm

    out = Path(path) if path is not None else examples_dir() / EXAMPLE_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    comment = (
        f"Simulated Cu(111) surface-state topograph (stmdenoise.physics, seed {seed}): Green's function + "
        "T-matrix LDOS, Tersoff-Hamann at +20 mV, 'typical' STM artefacts. Not a measurement."
    )
    return write_sxm(out, example_scans(seed=seed), comment=comment)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    write_example_scan(sys.argv[1] if len(sys.argv) > 1 else None)
