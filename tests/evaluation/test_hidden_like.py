"""bench/hidden_like.py: the issue's two-direction test on constructed scans runs end to end and counts
what it says; bench/other_surfaces.py's graphene surface shows its atomic lattice."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.bench_loader import load_bench

hidden = load_bench("hidden_like")
other = load_bench("other_surfaces")


def test_the_graphene_surface_shows_the_lattice_the_moire_hides() -> None:
    x, y = np.meshgrid(np.arange(128.0) * 0.2, np.arange(128.0) * 0.2)
    sharp = other.moire(x, y, 0.3, other.LATTICE_TIP)
    blunt = other.moire(x, y, 0.3)
    lattice = sharp - blunt  # the 2.46 Å cosines alone
    assert lattice.std() > 10 * (blunt - other.moire(x, y, 0.3, 10.0)).std()
    assert 0.05 < np.abs(lattice).max() / 3 < 0.15  # about 0.09 Å per cosine
    clean, fwd, _ = other.make_case("graphene", 0.2, 0.4, "ideal", 1, 128)
    p = np.abs(np.fft.fft2(clean - clean.mean())) ** 2
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128), indexing="ij"))
    ring = (k > 0.2 / 2.46 * 0.85 * 2 / math.sqrt(3)) & (k < 0.2 / 2.46 * 1.15 * 2 / math.sqrt(3))
    assert p[ring].max() > 1e3 * np.median(p[k > 0.3])


def test_one_case_runs_and_the_summary_counts_it(tmp_path: Path) -> None:
    args = ["--surfaces", "graphene", "--pixel-sizes", "0.2", "--noise", "0.4", "--seeds", "1"]
    assert hidden.main([*args, "--scanners", "ideal", "--pixels", "128", "--out", str(tmp_path)]) == 0
    (row,) = json.loads((tmp_path / "hidden_like.json").read_text())
    assert row["surface"] == "graphene" and row["seed"] == 5500
    assert 0.0 < row["delivered_est"] <= 1.0 and 0.0 < row["best_est"] <= 1.0
    assert row["delivered_est"] <= row["best_est"] + 2 * row["gap"][1] + 1e-9
    assert len(row["delivered_true"]) == 1 + len(row["signal_bands"])
    text = (tmp_path / "hidden_like.md").read_text()
    assert "1 cases." in text and "| graphene | 0.2 | 0.4 | ideal | 5500 |" in text


def test_the_summary_counts_wins_losses_and_bands_above_raw() -> None:
    def row(gap: list[float] | None, worst: float, above: list[str]) -> dict[str, object]:
        return {
            "gap": gap, "delivered_est": 0.5 + (gap or [0.0])[0], "best_est": 0.5, "worst_coherent": 0.9,
            "worst_est": worst, "above_raw": above, "above_raw_outside": [], "delivered_true": [0.3],
            "best_true": [0.4],
        }  # fmt: skip

    text = hidden.summary(
        [
            row([-0.1, 0.01], 0.8, []),
            row([0.1, 0.01], 1.2, ["d (x)"]),
            row([0.01, 0.01], 0.9, []),
            row(None, 0.9, []),
        ]
    )
    assert "lower by the point estimate on 1; beyond 2 paired SE lower on 1, higher on 1, within on 1" in text
    assert "(estimate, whole band) on 1; beyond 2 paired SE on 1 (outside the shared column 0)" in text
    assert "delivered 0.3000, the estimate's best classical 0.4000" in text
    with pytest.raises(SystemExit):
        hidden.main(["--surfaces", "nowhere"])
