"""Impurity placement, topographs (Tersoff-Hamann quadrature) and the surface's extras."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stmdenoise.physics import (
    Surface,
    geometry,
    lattice_positions,
    quadrature_nodes,
    random_surface,
    render,
    topograph,
)
from stmdenoise.physics.constants import CU111_LATTICE, CU111_STEP_HEIGHT


def test_impurities_sit_on_distinct_cu111_lattice_sites(rng: np.random.Generator) -> None:
    p = lattice_positions(rng, 200, lo=(0.0, 0.0), hi=(5e-9, 5e-9), lattice_angle=0.3)
    assert p.shape == (200, 2)
    assert np.all((p >= 0) & (p < 5e-9))
    d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
    d = d[np.triu_indices(200, 1)]
    assert d.min() >= CU111_LATTICE * (1 - 1e-9)
    # squared distances on a triangular lattice are a^2 (m^2 + m n + n^2): integers
    ratio = (d / CU111_LATTICE) ** 2
    np.testing.assert_allclose(ratio, np.round(ratio), atol=1e-6)


def test_random_surface_fills_the_margin_at_the_same_density(rng: np.random.Generator) -> None:
    size, margin = 36e-9, 5e-9
    counts_in, counts_out = [], []
    for _ in range(20):
        s = random_surface(rng, size=size, impurity_count=20, margin=margin)
        inside = np.all((s.impurities >= 0) & (s.impurities < size), axis=1)
        counts_in.append(inside.sum())
        counts_out.append((~inside).sum())
        assert np.all(np.abs(s.impurities) < size + margin + 1e-9)
    assert set(counts_in) == {20}
    expected = 20 * ((size + 2 * margin) ** 2 - size**2) / size**2
    assert np.mean(counts_out) == pytest.approx(expected, rel=0.25)


def test_surface_round_trips_through_json(rng: np.random.Generator) -> None:
    s = random_surface(rng, size=10e-9, impurity_count=5, step_probability=1.0, adsorbate_count=2)
    d = json.loads(json.dumps(s.to_dict()))
    back = Surface.from_dict(d)
    np.testing.assert_array_equal(back.impurities, s.impurities)
    np.testing.assert_array_equal(back.phase_shifts, s.phase_shifts)
    assert back.step == s.step
    assert np.isinf(s.phase_shifts.imag).any()  # black dots survive as null


@pytest.mark.parametrize("bias", [0.01, -0.03, 0.05])
def test_default_quadrature_is_accurate(bias: float) -> None:
    rng = np.random.default_rng(3)
    s = random_surface(rng, size=20e-9, impurity_count=6, margin=4e-9)
    z = topograph(s, size=20e-9, shape=48, bias=bias)
    ref = topograph(s, size=20e-9, shape=48, bias=bias, nodes=48)
    assert np.max(np.abs(z - ref)) < 1e-3 * np.ptp(ref)


def test_quadrature_weights_integrate_the_window() -> None:
    e, w = quadrature_nodes(-0.02, max_distance=50e-9)
    assert w.sum() == pytest.approx(-0.02)
    assert np.all((e < 0) & (e > -0.02))
    with pytest.raises(ValueError, match="bias"):
        quadrature_nodes(0.0, max_distance=1e-9)


def test_black_dot_topograph_has_dark_core_and_bright_first_ring() -> None:
    size, n = 10e-9, 128
    s = Surface(impurities=[[5e-9, 5e-9]], phase_shifts=[complex(0, np.inf)])
    z = topograph(s, size=size, shape=n, bias=0.01)
    g = (np.arange(n) + 0.5) * size / n
    r = np.hypot(g[:, None] - 5e-9, g[None, :] - 5e-9)
    core = z[r < 2.5e-10].mean()
    ring = z[(r > 8e-10) & (r < 13e-10)].max()
    assert core < -5e-12 < 0 < ring  # pm-scale corrugation, dark core
    assert z[r > 4e-9].std() < 0.2 * np.ptp(z)


def test_geometry_adds_step_and_bumps() -> None:
    from stmdenoise.physics import StepEdge

    s = Surface(
        step=StepEdge(point=(5e-9, 0.0), angle=0.0), adsorbates=[[2e-9, 2e-9]], adsorbate_height=0.5e-10
    )
    z = geometry(s, size=10e-9, shape=64)
    # the normal of a step along +x points to +y (rows below the line are "upper")
    assert z[-1, -1] == pytest.approx(CU111_STEP_HEIGHT, rel=1e-6)
    assert z[0, -1] == pytest.approx(0.0, abs=1e-15)
    assert z[:20, :20].max() == pytest.approx(0.5e-10, rel=0.1)
    full = render(s, size=10e-9, shape=64, bias=0.02)
    assert np.ptp(full) > CU111_STEP_HEIGHT * 0.9


def test_didv_mode_is_the_ldos() -> None:
    s = Surface(impurities=[[5e-9, 5e-9]], phase_shifts=[complex(0, np.inf)])
    m = render(s, size=10e-9, shape=32, bias=0.0, mode="didv")
    assert 0.3 < m.min() < 1 < m.max() < 2
    with pytest.raises(ValueError, match="mode"):
        render(s, size=10e-9, shape=32, bias=0.0, mode="current")  # type: ignore[arg-type]
