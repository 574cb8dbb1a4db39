"""``stmdenoise score``: table, CSV and JSON output, n/a for unscorable scans, clear errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.cli.main import main
from stmdenoise.cli.score import COLUMNS, score_rows
from stmdenoise.metrics import brisque, line_artefact_index, noise_floor, piqe
from stmdenoise.processing import level_plane
from stmdenoise.scan import Scan


@pytest.fixture
def scans(
    tmp_path: Path,
    rng: np.random.Generator,
    standing_wave_map: Callable[..., Any],
    stm_noise: Callable[..., Any],
) -> dict[str, Path]:
    clean = standing_wave_map(rng)
    noisy = clean + stm_noise(rng, clean.shape, sigma=float(clean.std()), line_sigma=0.3 * float(clean.std()))
    aborted = noisy.copy()
    aborted[100:] = np.nan
    paths = {
        "noisy": tmp_path / "noisy.npy",
        "aborted": tmp_path / "aborted.npy",
        "small": tmp_path / "small.npy",
    }
    np.save(paths["noisy"], noisy)
    np.save(paths["aborted"], aborted)
    np.save(paths["small"], noisy[:40, :40])
    return paths


def test_json_holds_the_library_values(scans: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(scans["noisy"]), str(scans["aborted"]), "--json", "--level", "none"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == [str(scans["noisy"]), str(scans["aborted"])]
    assert set(rows[0]) == set(COLUMNS)
    noisy = np.load(scans["noisy"])
    assert rows[0]["piqe"] == pytest.approx(piqe(noisy))
    assert rows[0]["brisque"] == pytest.approx(brisque(noisy))
    assert rows[0]["line_artefact_index"] == pytest.approx(line_artefact_index(noisy))
    assert rows[0]["noise_floor"] == pytest.approx(noise_floor(noisy))
    assert (rows[1]["rows_used"], rows[1]["rows_total"]) == (100, 128)
    assert rows[1]["piqe"] == pytest.approx(piqe(noisy[:100]))
    assert all(r["version"] == "raw" and r["level"] == "none" and r["residual_rms"] is None for r in rows)


def test_plane_levelling_is_the_default(scans: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    noisy = np.load(scans["noisy"])
    yy, xx = np.mgrid[0 : noisy.shape[0], 0 : noisy.shape[1]]
    tilted = scans["noisy"].with_name("tilted.npy")
    np.save(tilted, noisy + 1e-11 * (yy + 2.0 * xx))  # a tilt far larger than the ripples
    assert main(["score", str(tilted), "--json"]) == 0
    levelled = json.loads(capsys.readouterr().out)[0]
    assert levelled["level"] == "plane"
    assert levelled["piqe"] == pytest.approx(piqe(level_plane(noisy)), abs=1e-9)
    assert main(["score", str(tilted), "--json", "--level", "none"]) == 0
    raw = json.loads(capsys.readouterr().out)[0]
    assert raw["piqe"] == pytest.approx(piqe(noisy + 1e-11 * (yy + 2.0 * xx)))
    assert raw["piqe"] != pytest.approx(levelled["piqe"])


def test_table_marks_unscorable_scans_na(scans: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(scans["noisy"]), str(scans["small"])]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["file", "channel", "version", "rows"]
    small = next(line for line in lines if line.startswith(str(scans["small"])))
    assert small.split().count("n/a") == 4
    assert "40x40 pixels is smaller than 64x64" in out


def test_csv_and_unreadable_files(
    scans: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.npy"
    assert main(["score", str(scans["noisy"]), str(missing), "--csv"]) == 1
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert len(rows) == 1 and float(rows[0]["piqe"]) > 0
    assert str(missing) in captured.err and "error" in captured.err


def test_model_that_cannot_be_loaded_is_a_clear_error(
    scans: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["score", str(scans["noisy"]), "--model", str(tmp_path / "no-such-model")])
    assert code == 2
    err = capsys.readouterr().err
    # either the denoiser module is not there yet, or the folder is missing: both are named
    assert "stmdenoise.denoise.Denoiser" in err or "no such model folder" in err


def test_score_rows_for_a_denoised_pair(
    rng: np.random.Generator, standing_wave_map: Callable[..., Any]
) -> None:
    clean = standing_wave_map(rng, pixel_size=0.14e-9)
    raw = Scan(clean + rng.normal(0.0, 0.5 * clean.std(), clean.shape), channel="Z", unit="m")
    denoised = raw.with_data(ndimage.gaussian_filter(raw.data, 1.0))
    rows = score_rows(raw, denoised)
    assert [r["version"] for r in rows] == ["raw", "denoised"]
    assert rows[0]["residual_rms"] is None
    assert rows[1]["residual_rms"] > 0 and rows[1]["residual_structure_r2"] > 0.1
    assert rows[1]["unit"] == "m" and rows[1]["channel"] == "Z"


def test_model_scores_raw_and_denoised_with_residual(
    tmp_path: Path,
    rng: np.random.Generator,
    standing_wave_map: Callable[..., Any],
    stm_noise: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a tiny untrained model folder written by the model package's own writer (real code path)
    import torch

    from stmdenoise.io import write_scan
    from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder
    from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights

    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    info = ModelInfo(
        arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=0.25e-9, name="t"
    )
    model = save_model_folder(tmp_path / "model", info, g_d, g_da)

    clean = standing_wave_map(rng, pixels=96)
    z = clean + stm_noise(rng, clean.shape, sigma=float(clean.std()), line_sigma=0.0)
    scan_path = tmp_path / "scan.h5"
    write_scan(Scan(z, pixel_size=(0.25e-9, 0.25e-9), channel="Z", unit="m"), scan_path)

    assert main(["score", str(scan_path), "--model", str(model), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["version"] for r in rows] == ["raw", "denoised"]
    assert rows[0]["residual_rms"] is None
    den = rows[1]
    assert den["rows_used"] == 96 and den["unit"] == "m"
    for key in (
        "piqe",
        "brisque",
        "noise_floor",
        "residual_rms",
        "residual_autocorr_fast",
        "residual_structure_r2",
    ):
        assert isinstance(den[key], float)
