"""bench/weight_average.py: G_D of two folders averaged weight by weight, the rest from the base."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from stmdenoise.model.folder import ModelInfo, NormalizationSpec, load_model_folder, save_model_folder
from stmdenoise.model.pdanet import ArchConfig, build_generators
from tests.bench_loader import load_bench


def _bench() -> ModuleType:
    return load_bench("weight_average")


def _folder(path: Path, seed: int, arch: ArchConfig, name: str) -> Path:
    torch.manual_seed(seed)
    g_d, g_da = build_generators(arch, "supervised")
    info = ModelInfo(
        arch=arch, variant="supervised", normalization=NormalizationSpec(), pixel_size=1.4e-10, name=name
    )
    return save_model_folder(path, info, g_d, g_da)


def test_the_average_is_the_mean_of_g_d_and_keeps_the_base_g_da(tmp_path: Path) -> None:
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    base = _folder(tmp_path / "base", 0, arch, "base")
    tuned = _folder(tmp_path / "tuned", 1, arch, "tuned")
    out = _bench().average(base, tuned, 0.25, tmp_path / "avg")
    info, g_d, g_da = load_model_folder(out)
    _, b_d, b_da = load_model_folder(base)
    _, t_d, _ = load_model_folder(tuned)
    for k, v in g_d.state_dict().items():
        torch.testing.assert_close(v, 0.75 * b_d.state_dict()[k] + 0.25 * t_d.state_dict()[k])
    down = [k for k in g_da.state_dict() if not k.startswith("up.")]
    assert down and all(torch.equal(g_da.state_dict()[k], b_da.state_dict()[k]) for k in down)
    assert info.name == "base" and info.training["weight_average"]["alpha"] == 0.25
    # nothing is overwritten, and a folder of another architecture is refused
    with pytest.raises(SystemExit, match="exists"):
        _bench().average(base, tuned, 0.5, out)
    other = _folder(tmp_path / "other", 2, ArchConfig(ngf=8, n_blocks=1, ndf=4, fa_width=4), "other")
    with pytest.raises(SystemExit, match="another architecture"):
        _bench().average(base, other, 0.5, tmp_path / "avg2")
