"""``stmdenoise evaluate``: Tables I and II with baselines tuned on a disjoint validation set."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stmdenoise.cli.main import main
from stmdenoise.evaluation import BASELINES, EvalResult, apply_baseline, evaluate
from stmdenoise.io import write_scan
from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder
from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights
from stmdenoise.scan import Scan

PX = 0.14e-9


def _model(folder: Path) -> Path:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    info = ModelInfo(arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=PX)
    return save_model_folder(folder, info, g_d, g_da)


def test_baselines_are_tuned_on_validation_and_improve_on_raw(sampler) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    pairs = [(p.clean, p.noisy) for p in (sampler(rng, pixels=64, size=64 * PX) for _ in range(6))]
    res = EvalResult()
    list(evaluate(models=[], test_pairs=pairs[:4], val_pairs=pairs[4:], pixel_size=PX,
                  baselines=["gaussian", "median"], result=res))  # fmt: skip
    assert set(res.tuned) == {"gaussian", "median"}
    assert res.tuned["gaussian"] in BASELINES["gaussian"].grid
    # the chosen parameter is the best on the validation pairs (never looked at the test pairs)
    from stmdenoise import metrics
    from stmdenoise.processing import level_plane

    g = BASELINES["gaussian"]
    val = [(level_plane(c), level_plane(n)) for c, n in pairs[4:]]
    val_psnr = [np.mean([metrics.psnr(c, apply_baseline(g, p, n)) for c, n in val]) for p in g.grid]
    assert res.tuned["gaussian"] == g.grid[int(np.argmax(val_psnr))]
    rows = {r["method"].split(" (")[0]: r for r in res.table1}
    assert set(rows) == {"Raw input", "Gaussian", "Median"}
    assert rows["Raw input"]["n"] == 4 and np.isfinite(rows["Gaussian"]["SSIM"])
    assert rows["Gaussian"]["PSNR"] > rows["Raw input"]["PSNR"], res.table1
    # standard errors of the means over the 4 test pairs
    test = [(level_plane(c), level_plane(n)) for c, n in pairs[:4]]
    for key, metric in (("PSNR", metrics.psnr), ("SSIM", metrics.ssim)):
        per_pair = [metric(c, n) for c, n in test]
        assert rows["Raw input"][key] == pytest.approx(np.mean(per_pair))
        assert rows["Raw input"][f"{key}_se"] == pytest.approx(np.std(per_pair, ddof=1) / 2)


def test_evaluate_cli_writes_markdown_and_csv(tmp_path: Path, make_dataset, capsys) -> None:  # type: ignore[no-untyped-def]
    h5 = make_dataset(tmp_path / "sim.h5", count=5, pixels=64)
    model = _model(tmp_path / "tiny")
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:80, 0:90] * 0.1e-9
    z = 2e-11 * np.cos(2 * np.pi * xx / 1.5e-9) + 3e-12 * rng.standard_normal(xx.shape)
    write_scan(Scan(z, pixel_size=(0.1e-9, 0.1e-9), channel="Z", unit="m"), real_dir / "a.h5")
    out = tmp_path / "eval"
    code = main(["evaluate", "--models", str(model), "--sim-test", str(h5), "--val-count", "2",
                 "--real", str(real_dir), "--baselines", "gaussian,wavelet", "--device", "cpu",
                 "--out", str(out), "--write-metrics", "-q"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "Table I" in printed and "Table II" in printed and "tiny (pdanet)" in printed
    rows = list(csv.DictReader((out / "table1.csv").open()))
    assert [r["method"].split(" (")[0] for r in rows] == ["Raw input", "Gaussian", "Wavelet", "tiny"]
    assert all(r["n"] == "3" for r in rows)  # 5 pairs: last 2 validate, first 3 test
    t2 = list(csv.DictReader((out / "table2.csv").open()))
    assert len(t2) == 4 and all(float(r["BRISQUE"]) == float(r["BRISQUE"]) for r in t2)
    assert "validation" in json.loads((out / "evaluation.json").read_text())["notes"][0]
    stored = json.loads((model / "config.json").read_text())["metrics"]
    assert stored["table1"][0]["method"] == "tiny (pdanet)" and len(stored["baselines"]["table1"]) == 4


def test_outputs_are_kept_only_when_asked(tmp_path: Path, sampler) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    pairs = [(p.clean, p.noisy) for p in (sampler(rng, pixels=64, size=64 * PX) for _ in range(3))]
    model = _model(tmp_path / "tiny")
    kept = EvalResult(outputs={})
    list(evaluate(models=[model], test_pairs=pairs[:2], val_pairs=pairs[2:], pixel_size=PX,
                  baselines=["gaussian"], device="cpu", result=kept))  # fmt: skip
    assert kept.outputs is not None and set(kept.outputs) == {"gaussian", "tiny"}
    assert [o.shape for o in kept.outputs["tiny"]] == [(64, 64), (64, 64)]
    # the kept Gaussian outputs are the ones Table I scored
    from stmdenoise import metrics
    from stmdenoise.processing import level_plane

    psnr = np.mean(
        [
            metrics.psnr(level_plane(c), o)
            for (c, _), o in zip(pairs[:2], kept.outputs["gaussian"], strict=True)
        ]
    )
    assert psnr == next(r["PSNR"] for r in kept.table1 if r["method"].startswith("Gaussian"))
    plain = EvalResult()
    list(evaluate(models=[], test_pairs=pairs[:2], pixel_size=PX, baselines=["gaussian"], result=plain))
    assert plain.outputs is None


def test_passes_reach_the_denoiser_and_the_row_says_so(tmp_path: Path, sampler) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.denoise import Denoiser

    rng = np.random.default_rng(5)
    pairs = [(p.clean, p.noisy) for p in (sampler(rng, pixels=64, size=64 * PX) for _ in range(2))]
    model = _model(tmp_path / "tiny")
    res = EvalResult(outputs={})
    list(evaluate(models=[model], test_pairs=pairs, pixel_size=PX, baselines=[], device="cpu",
                  passes=4, result=res))  # fmt: skip
    assert [r["method"] for r in res.table1] == ["Raw input", "tiny (pdanet, 4 passes)"]
    den = Denoiser.from_folder(model, device="cpu")
    from stmdenoise.processing import level_plane

    noisy = Scan(np.asarray(level_plane(pairs[0][1])), pixel_size=(PX, PX), header={"simulated": True})
    assert res.outputs is not None
    np.testing.assert_allclose(res.outputs["tiny"][0], den.denoise(noisy, passes=4).data, rtol=0, atol=1e-12)
    assert np.max(np.abs(res.outputs["tiny"][0] - den.denoise(noisy).data)) > 0


def test_rmse_is_in_picometres_and_ignores_an_offset() -> None:
    from stmdenoise.evaluation.tables import rmse_pm

    rng = np.random.default_rng(0)
    clean = 2e-11 * rng.standard_normal((64, 64))
    assert rmse_pm(clean, clean + 5e-10) == pytest.approx(0.0, abs=1e-9)  # a height offset is no error
    noise = 1e-12 * rng.standard_normal((64, 64))
    assert rmse_pm(clean, clean + noise) == pytest.approx(1.0, rel=0.05)
    # unlike the 8-bit PSNR, shrinking the whole image is an error in picometres
    assert rmse_pm(clean, 0.5 * clean) > 5.0


def test_evaluate_prints_real_scan_fidelity_tables(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Two-direction scans and a frame stack get the no-ground-truth tables beside Tables I/II."""
    from scipy import ndimage

    from stmdenoise.io import write_sxm

    rng = np.random.default_rng(4)
    surface = ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2.5) * 1e-10

    def look(direction: str) -> Scan:
        data = surface + 2e-12 * rng.normal(size=surface.shape)
        return Scan(data, pixel_size=(PX, PX), channel="Z", unit="m", direction=direction)  # type: ignore[arg-type]

    real = tmp_path / "real"
    real.mkdir()
    write_sxm(real / "pair.sxm", [look("forward"), look("backward")])
    stack = tmp_path / "stack"
    stack.mkdir()
    for i in range(3):
        write_scan(look("forward"), stack / f"frame{i}.tiff")
    code = main(["evaluate", "--real", str(real), "--stack", str(stack), "--pixel-size-nm", "0.14",
                 "--baselines", "gaussian", "--models", str(_model(tmp_path / "m")), "--device", "cpu",
                 "--out", str(tmp_path / "out"), "-q"])  # fmt: skip
    assert code == 0
    md = capsys.readouterr().out
    assert "Real-scan fidelity" in md and "Forward/backward: pair.sxm Z" in md and "Frame stack" in md
    assert "| Raw input | 1.00 / 1.00" in md and "(best classical)" in md and "(delivered)" in md
    data = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert {r["family"] for r in data["fidelity"]} == {"raw", "classical", "model", "delivered"}
    assert "no-reference hints" in md
