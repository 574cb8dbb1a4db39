"""Monatomic steps for the simulated pairs (stmdenoise.physics.terraces)."""

from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.physics.terraces import STEP_HEIGHT, step_heights


def test_steps_are_flat_terraces_joined_by_edges_of_a_step_height() -> None:
    px = 0.1e-9
    for seed in range(20):
        h = step_heights((128, 160), px, np.random.default_rng(seed))
        assert h.shape == (128, 160) and abs(float(h.mean())) < 1e-15
        slope = np.hypot(*np.gradient(h))
        flat = slope < 0.01 * STEP_HEIGHT[0]
        assert flat.mean() > 0.6  # terraces: most of the frame
        # the largest jump between terraces is at least one step, at most three
        assert STEP_HEIGHT[0] * 0.9 < float(np.ptp(h)) < 3 * STEP_HEIGHT[1] * 1.01


def test_a_step_edge_is_as_wide_as_the_tip_resolves_at_any_pixel_size() -> None:
    for px in (0.02e-9, 0.1e-9, 0.5e-9):
        h = step_heights((96, 96), px, np.random.default_rng(3))
        steep = np.hypot(*np.gradient(h)) > 0.05 * STEP_HEIGHT[0]
        width_px = steep.sum() / max(1, int(steep.any(axis=1).sum()))  # steep pixels per row crossed
        assert 0.5 <= width_px * px / 1e-10 <= 40  # a few ångström per step, never the frame


@pytest.mark.parametrize(
    ("shape", "px"), [((0, 5), 1e-10), ((5,), 1e-10), ((8, 8), 0.0), ((8, 8), float("nan"))]
)
def test_bad_arguments_are_refused(shape: tuple[int, ...], px: float) -> None:
    with pytest.raises(ValueError):
        step_heights(shape, px, np.random.default_rng(0))  # type: ignore[arg-type]
