"""SIGKILL at random points of ``simulate``, ``train`` and ``export``, then rerun or resume (issue 16).

Asserts: no item the killed run left as finished is corrupt, the rerun succeeds, and its result
equals an uninterrupted run (``tests/fault_harness.py``; ``--kills N`` there for the figures).
The kill points are drawn from seeded generators, so a failure reproduces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fault_harness import kill_export, kill_simulate, kill_train


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.mark.parametrize("seed", [1, 2])
def test_simulate_killed_then_rerun(work: Path, seed: int) -> None:
    t = kill_simulate(work, np.random.default_rng(seed))
    assert t.corrupt_items == 0, t
    assert t.rerun_ok and t.equal, t


def test_train_killed_then_resumed(work: Path) -> None:
    t = kill_train(work, np.random.default_rng(3))
    assert t.corrupt_items == 0, t
    assert t.rerun_ok and t.equal, t


@pytest.mark.parametrize("seed", [4, 5])
def test_export_killed_then_rerun(work: Path, seed: int) -> None:
    t = kill_export(work, np.random.default_rng(seed))
    assert t.corrupt_items == 0, t
    assert t.rerun_ok and t.equal, t
