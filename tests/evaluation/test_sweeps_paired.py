"""bench/sweeps_paired.py: two sweeps runs compared pair by pair, worse levels flagged."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench_loader import load_bench


def _bench() -> ModuleType:
    return load_bench("sweeps_paired")


def _run(path: Path, ssim: list[float], rmse: list[float], seeds: list[list[int]]) -> Path:
    level = {
        "level": "1x",
        "seeds": seeds,
        "scores": {"model": {"SSIM": ssim, "PSNR": [20.0] * len(ssim), "RMSE_pm": rmse}},
    }
    path.mkdir()
    (path / "sweeps.json").write_text(json.dumps({"model": path.name, "sweeps": {"noise": [level]}}))
    return path


def test_flags_a_level_worse_beyond_twice_the_paired_se(tmp_path: Path) -> None:
    mod = _bench()
    seeds = [[1014, k] for k in range(4)]
    a = _run(tmp_path / "a", [0.90, 0.91, 0.92, 0.93], [1.0, 1.0, 1.0, 1.0], seeds)
    worse = _run(tmp_path / "b", [0.85, 0.87, 0.86, 0.88], [1.0, 1.1, 0.9, 1.0], seeds)
    rows, skipped, n_worse = mod.compare(json.loads((a / "sweeps.json").read_text()),
                                         json.loads((worse / "sweeps.json").read_text()))  # fmt: skip
    assert n_worse == 1 and not skipped
    assert "-0.0500" in rows[0] and "**worse**" in rows[0]
    # lower RMS error is better: a candidate lower by a clear margin is not flagged
    better = _run(tmp_path / "c", [0.95, 0.96, 0.97, 0.98], [0.5, 0.6, 0.5, 0.6], seeds)
    rows, _, n_worse = mod.compare(json.loads((a / "sweeps.json").read_text()),
                                   json.loads((better / "sweeps.json").read_text()))  # fmt: skip
    assert n_worse == 0 and "**worse**" not in rows[0]


def test_levels_on_other_pairs_are_skipped_not_compared(tmp_path: Path) -> None:
    mod = _bench()
    a = _run(tmp_path / "a", [0.9, 0.9], [1.0, 1.0], [[1014, 0], [1014, 1]])
    b = _run(tmp_path / "b", [0.5, 0.5], [2.0, 2.0], [[1015, 0], [1015, 1]])
    with pytest.raises(SystemExit, match="share no level"):
        mod.main([str(a), str(b)])
    skipped = mod.compare(
        json.loads((a / "sweeps.json").read_text()), json.loads((b / "sweeps.json").read_text())
    )[1]
    assert skipped == ["noise, 1x (different pairs)"]
