"""`stmdenoise train --sim-world broad|biases`: on-the-fly pairs from stmdenoise.physics.variety."""

from __future__ import annotations

from pathlib import Path

import pytest

from stmdenoise.physics.pairs import PAPER_BIASES
from stmdenoise.physics.variety import WIDE_BIASES
from stmdenoise.training import TrainConfig, Trainer


def _trainer(tmp_path: Path, world: str, pixels: int) -> Trainer:
    cfg = TrainConfig.from_dict(
        {
            "variant": "paired", "steps": 1, "crop": 32, "batch": 1, "ngf": 8, "blocks": 1,
            "sim_pixels": pixels, "sim_size": 4e-9, "sim_pool": 1, "sim_world": world,
            "out": str(tmp_path / "m"), "device": "cpu", "preview_every": 0, "checkpoint_every": 0,
        }
    )  # fmt: skip
    return Trainer(cfg, sim_sampler=None, real_scans=None, resume=False)


def test_broad_world_draws_varied_pairs(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, "broad", 64)
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
    trainer = _trainer(tmp_path, "biases", 48)
    try:
        source = trainer.sim.description()["source"]
        assert source == "on the fly (stmdenoise.physics.variety.sample_bias_pair)"
        pairs = [trainer.sim._raw(k) for k in range(12)]  # type: ignore[attr-defined]
    finally:
        trainer.close()
    biases = [abs(p.params["bias"]) for p in pairs]
    assert all(WIDE_BIASES[0] <= b <= WIDE_BIASES[1] for b in biases)
    # log-uniform over 5 mV-1 V: most draws lie above the paper's 30 mV, some inside it
    assert any(b > PAPER_BIASES[1] for b in biases)
    assert all("variety" not in p.params for p in pairs)  # the paper's scenes, not the broad world's
