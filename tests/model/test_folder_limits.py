"""Model folders: config.json range-checked before any tensor exists; files with normal permissions."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import torch

from stmdenoise.model.folder import (
    ModelFolderError,
    ModelInfo,
    NormalizationSpec,
    load_model_folder,
    read_model_info,
    save_model_folder,
)
from stmdenoise.model.pdanet import ArchConfig, build_generators
from tests.hostile import model_config, run_capped


def _folder(tmp_path: Path, **changes: object) -> Path:
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(model_config(**changes)))
    return folder


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("architecture.ngf", 100000),
        ("architecture.n_blocks", 100000),
        ("architecture.skip_blur", 1e9),
        ("architecture.ndf", 0),
        ("pixel_size_m", 1e-12),
        ("pixel_size_m", float("nan")),
        ("normalization.scale", 0),
        ("normalization.squash", -1),
        ("normalization.high_pct", 20),
        ("architecture.ngf", True),
        ("architecture.ngf", "64"),
    ],
)
def test_config_values_out_of_range_are_refused(tmp_path: Path, key: str, value: object) -> None:
    folder = _folder(tmp_path, **{key: value})
    with pytest.raises(ModelFolderError, match=key.split(".")[-1]):
        read_model_info(folder)


def test_huge_config_is_refused_before_any_allocation(tmp_path: Path) -> None:
    """``ngf`` 100000 used to build the networks (gigabytes) before the weights were looked at."""
    folder = _folder(tmp_path, **{"architecture.ngf": 100000, "architecture.n_blocks": 100000})
    code = (
        "from stmdenoise.model.folder import load_model_folder, ModelFolderError\n"
        f"try:\n    load_model_folder({str(folder)!r})\n"
        "except ModelFolderError as e:\n    print('clean', e)\n"
    )
    res = run_capped(["-c", code], mem_mb=4096, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "clean" in res.stdout and "ngf" in res.stdout


def test_model_folder_files_get_normal_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
        g_d, g_da = build_generators(arch, "supervised")
        info = ModelInfo(
            arch=arch, variant="supervised", normalization=NormalizationSpec(), pixel_size=1.4e-10
        )
        folder = save_model_folder(tmp_path / "m", info, g_d, g_da, dtype=torch.float16)
    finally:
        os.umask(old)
    for name in ("config.json", "weights.safetensors"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644, name
    assert load_model_folder(folder)[0].weights_dtype == "float16"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.safetensors"]


def test_non_finite_step_count_is_a_clean_error(tmp_path: Path) -> None:
    """``"steps": Infinity`` raised OverflowError (found by the harness)."""
    with pytest.raises(ModelFolderError, match="damaged"):
        read_model_info(_folder(tmp_path, steps=float("inf")))
