"""Simulation panel: preview from the real simulator; dataset generation with progress and cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.gui.conftest import wait_idle

pytest.importorskip("stmdenoise.physics")


def test_preview_shows_a_clean_and_a_noisy_image(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    sim = window.simulation
    assert sim.preview_button.isEnabled()
    # every parameter the simulator takes is offered
    assert {"n_impurities", "density", "bias", "broadening"} <= set(sim.extra_boxes)
    sim.pixels_box.setValue(64)
    sim.size_box.setValue(9.0)
    sim.seed_box.setValue(7)
    sim.preview()
    wait_idle(qtbot, window)
    res = sim.last_preview
    assert res is not None and res.clean.shape == (64, 64) and res.noisy.shape == (64, 64)
    assert res.pixel_size == pytest.approx(9e-9 / 64)
    assert np.abs(res.noisy - res.clean).max() > 0.05 * np.ptp(res.clean)  # artefacts were added
    np.testing.assert_array_equal(sim.clean_item.image, res.clean)
    assert "simulated in" in sim.status.text()
    # same seed -> same pair; the preview is the simulator's output, not a stand-in
    from stmdenoise.physics import sample_pair

    p = sim.parameters()
    ref = sample_pair(np.random.default_rng(7), pixels=64, size=9e-9, preset=p["preset"], **p["extra"])
    np.testing.assert_allclose(ref.clean, res.clean, rtol=1e-9, atol=0)  # BLAS threads may reorder sums


def test_generate_dataset_writes_hdf5_and_can_be_cancelled(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.physics import open_dataset

    sim = window.simulation
    sim.pixels_box.setValue(64)
    sim.size_box.setValue(9.0)
    sim.dataset_count.setValue(2)
    out = tmp_path / "sim.h5"
    with qtbot.waitSignal(sim.dataset_written, timeout=120000):
        sim.generate_dataset(out)
    wait_idle(qtbot, window)
    ds = open_dataset(out)
    try:
        assert len(ds) == 2
    finally:
        close = getattr(ds, "close", None)
        if close is not None:
            close()
    # a large request is stopped by Cancel and the app stays usable
    sim.dataset_count.setValue(10000)
    sim.generate_dataset(tmp_path / "big.h5")
    sim.cancel_dataset()
    wait_idle(qtbot, window, timeout=120000)
    assert sim.dataset_button.isEnabled() and not (tmp_path / "big.h5").exists()
