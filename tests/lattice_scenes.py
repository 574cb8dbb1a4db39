"""Constructed lattices of atoms shared by the lattice-check tests (metrics and do-no-harm)."""

from __future__ import annotations

import numpy as np


def atoms(period: float, turn: float = 0.0, n: int = 256, short: float | None = None) -> np.ndarray:
    """Atoms (round bumps) on a square lattice of ``period`` px (a rectangular one of sides ``period``
    x ``short``), turned by ``turn`` radians, n x n: its peaks and their harmonics; unit std."""
    y, x = np.mgrid[0:n, 0:n].astype(float)
    u, v = x * np.cos(turn) + y * np.sin(turn), -x * np.sin(turn) + y * np.cos(turn)
    k = 2 * np.pi / period
    k2 = k if short is None else 2 * np.pi / short
    bumps = np.exp(-2 * (1 - np.cos(k * u))) * np.exp(-2 * (1 - np.cos(k2 * v)))
    return np.asarray((bumps - bumps.mean()) / bumps.std())
