"""`stmdenoise train --sim-world broad|biases`: on-the-fly pairs from stmdenoise.physics.variety."""

from __future__ import annotations

from pathlib import Path

import pytest

from stmdenoise.physics.pairs import PAPER_BIASES
from stmdenoise.physics.variety import WIDE_BIASES
from stmdenoise.training import TrainConfig, Trainer


def test_broad_world_draws_varied_pairs(tmp_path: Path) -> None:
    cfg = TrainConfig.from_dict(
        {
            "variant": "paired", "steps": 1, "crop": 32, "batch": 1, "ngf": 8, "blocks": 1,
            "sim_pixels": 64, "sim_size": 4e-9, "sim_pool": 1, "sim_world": "broad",
            "out": str(tmp_path / "m"), "device": "cpu", "preview_every": 0, "checkpoint_every": 0,
        }
    )  # fmt: skip
    trainer = Trainer(cfg, sim_sampler=None, real_scans=None, resume=False)
    try:
        assert (
            trainer.sim.description()["source"]
            == "on the fly (stmdenoise.physics.variety.sample_varied_pair)"
        )
        pair = trainer.sim._raw(0)  # type: ignore[attr-defined]
        assert "variety" in pair.params and pair.params["variety"]["held_out"] == []
    finally:
        trainer.close()
    with pytest.raises(ValueError, match=r"sim\.world must be one of paper, broad, biases"):
        TrainConfig.from_dict({"variant": "paired", "sim_world": "moon"})


def test_biases_world_draws_the_paper_scenes_at_biases_up_to_1_volt(tmp_path: Path) -> None:
    cfg = TrainConfig.from_dict(
        {
            "variant": "paired", "steps": 1, "crop": 32, "batch": 1, "ngf": 8, "blocks": 1,
            "sim_pixels": 48, "sim_size": 4e-9, "sim_pool": 1, "sim_world": "biases",
            "out": str(tmp_path / "m"), "device": "cpu", "preview_every": 0, "checkpoint_every": 0,
        }
    )  # fmt: skip
    trainer = Trainer(cfg, sim_sampler=None, real_scans=None, resume=False)
    try:
        source = trainer.sim.description()["source"]
        assert source == "on the fly (stmdenoise.physics.variety.sample_bias_pair)"
        biases = [abs(trainer.sim._raw(k).params["bias"]) for k in range(12)]  # type: ignore[attr-defined]
    finally:
        trainer.close()
    assert all(WIDE_BIASES[0] <= b <= WIDE_BIASES[1] for b in biases)
    # log-uniform over 5 mV-1 V: most draws lie above the paper's 30 mV, some inside it
    assert any(b > PAPER_BIASES[1] for b in biases)
    assert "variety" not in trainer.sim._raw(0).params  # type: ignore[attr-defined]  # the paper's scene
