"""`stmdenoise train --sim-world broad`: on-the-fly pairs from stmdenoise.physics.variety."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    with pytest.raises(ValueError, match=r"sim\.world must be one of paper, broad"):
        TrainConfig.from_dict({"variant": "paired", "sim_world": "moon"})
