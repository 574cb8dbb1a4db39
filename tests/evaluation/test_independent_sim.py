"""bench/independent_sim.py: the second simulator draws what its docstring says it draws."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from stmdenoise.physics.constants import CU111_WAVE_PERIOD
from stmdenoise.processing.spectrum import standing_wave_peak
from tests.bench_loader import load_bench


@pytest.fixture(scope="module")
def sim() -> ModuleType:
    return load_bench("independent_sim")


def test_its_surface_state_has_cu111_s_standing_wave_period(sim: ModuleType) -> None:
    """Written without stmdenoise.physics, its Fermi-level waves still come out at Cu(111)'s
    lambda_F / 2 (14.8 Angstrom) in the bias range it draws."""
    assert np.pi / sim.k_of(0.0) == pytest.approx(CU111_WAVE_PERIOD, rel=0.02)
    near = 0
    for i in range(6):
        z, info = sim.clean_surface(np.random.default_rng([5, i]))
        assert z.shape == (sim.PIXELS, sim.PIXELS) and 0.005 <= abs(info["bias"]) <= 0.03
        peak = standing_wave_peak(z - np.median(z))
        near += peak is not None and abs(peak.period * sim.PX / CU111_WAVE_PERIOD - 1) < 0.05
    assert near >= 4


def test_tip_and_feedback_distort_but_do_not_wash_out_the_surface(sim: ModuleType) -> None:
    """Before any noise, a frame is the surface seen through the tip and the feedback loop: still
    close to it (a feedback time constant of several pixels once smeared the waves away)."""
    for i in range(5):
        rng = np.random.default_rng([6, i])
        z, _ = sim.clean_surface(rng)
        tip = sim.draw_tip(rng)
        seen = sim._feedback(sim._tipped(z, tip.blur, tip.double), *tip.ringing)
        assert np.corrcoef(sim.aligned(seen).ravel(), sim.aligned(z).ravel())[0, 1] > 0.8


def test_the_backward_frame_is_a_second_look_with_its_own_noise(sim: ModuleType) -> None:
    rng = np.random.default_rng(3)
    z, _ = sim.clean_surface(rng)
    tip = sim.draw_tip(rng)
    fwd, bwd = sim.noisy_frame(z, tip, rng, False), sim.noisy_frame(z, tip, rng, True)
    clean = sim.aligned(z)
    ef, eb = sim.aligned(fwd) - clean, sim.aligned(bwd) - clean
    assert np.corrcoef(sim.aligned(fwd).ravel(), sim.aligned(bwd).ravel())[0, 1] > 0.1  # the surface
    assert abs(np.corrcoef(ef.ravel(), eb.ravel())[0, 1]) < 0.5  # not the same noise


def test_recorded_scars_lie_where_each_frame_is_pulled_off_and_the_check_finds_them(sim: ModuleType) -> None:
    """The scars each direction draws are recorded where they lie as returned (the backward frame
    read left to right), and what the verdict's scar check finds is tallied against them."""
    rng = np.random.default_rng(5)
    z, _ = sim.clean_surface(rng)
    tip = sim.draw_tip(rng)
    rf: list[tuple[int, int, int]] = []
    rb: list[tuple[int, int, int]] = []
    fwd, bwd = sim.noisy_frame(z, tip, rng, False, rf), sim.noisy_frame(z, tip, rng, True, rb)
    assert 2 <= len(rf) <= 8 and 2 <= len(rb) <= 8
    for frame, scars in ((fwd, rf), (bwd, rb)):
        for r, c0, n in scars:  # the scar's line stands well off its neighbours there (10-60 pm drawn)
            if 0 < r < frame.shape[0] - 1 and n >= 5:
                off = frame[r, c0 : c0 + n] - 0.5 * (frame[r - 1, c0 : c0 + n] + frame[r + 1, c0 : c0 + n])
                assert abs(float(np.median(off))) > 5e-12
    drawn, found, pixels, marked_true, marked, named = sim.scar_tally(sim.aligned(fwd), sim.aligned(bwd), rf)
    assert drawn == len(rf) and 0 <= found <= drawn and marked_true <= min(pixels, marked)
    tally = (drawn, found, pixels, marked_true, marked, named)
    assert "drawn in the forward frames" in sim.scar_summary([tally])


def test_the_best_classical_filter_is_never_a_row_of_ours(sim: ModuleType) -> None:
    """The delivered output (one of ours, a Gaussian on many pairs) once had the best SSIM and was
    crowned best classical, so the model was compared with itself."""
    per = {
        "raw": [{"PSNR": 20.0, "SSIM": 0.70, "RMSE_pm": 4.0}],
        "Gaussian (1.5)": [{"PSNR": 28.0, "SSIM": 0.94, "RMSE_pm": 2.7}],
        "Median (3)": [{"PSNR": 31.0, "SSIM": 0.90, "RMSE_pm": 2.6}],
        **{name: [{"PSNR": 29.0, "SSIM": 0.95, "RMSE_pm": 2.5}] for name in sim.OURS},
    }
    assert sim.best_classical(per) == {
        "PSNR": "Median (3)",
        "SSIM": "Gaussian (1.5)",
        "RMSE_pm": "Median (3)",
    }


def test_the_compare_script_pairs_the_runs_pair_by_pair(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """bench/independent_sim_compare.py: identical methods read "identical", a method better on
    every pair by a constant reads that constant with zero spread (beyond), and runs that drew other
    pairs are refused."""
    import json

    cmp = load_bench("independent_sim_compare")

    def run(name: str, seed: int, shift: float) -> None:
        base = [{"PSNR": 20.0 + i, "SSIM": 0.5 + 0.01 * i, "RMSE_pm": 3.0 - 0.1 * i} for i in range(4)]
        moved = [
            {"PSNR": s["PSNR"] + shift, "SSIM": s["SSIM"], "RMSE_pm": s["RMSE_pm"] - shift} for s in base
        ]
        (tmp_path / name).mkdir()
        data = {"seed": seed, "pairs": 4, "scores": {"raw": base, "model": moved}}
        (tmp_path / name / "independent_sim.json").write_text(json.dumps(data), encoding="utf-8")

    run("a", 1, 0.0)
    run("b", 1, 0.5)
    lines = cmp.table(cmp.load(tmp_path / "a"), cmp.load(tmp_path / "b"))
    assert "| raw | identical | identical | identical |" in lines
    model = next(line for line in lines if line.startswith("| model |"))
    assert "+0.50 ± 0.00 (beyond)" in model and "-0.500 ± 0.000 (beyond)" in model and "+0.0000" in model
    run("c", 2, 0.0)
    with pytest.raises(SystemExit, match="different pairs"):
        cmp.table(cmp.load(tmp_path / "a"), cmp.load(tmp_path / "c"))
