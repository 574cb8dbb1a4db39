"""A saved model folder names its training data by file name, never by the training machine's paths."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from stmdenoise.model.folder import ModelInfo, NormalizationSpec, read_model_info, save_model_folder
from stmdenoise.model.pdanet import ArchConfig, build_generators


def test_absolute_data_paths_are_cut_to_their_names(tmp_path: Path) -> None:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    training = {
        "config": {"sim": "/tmp/r4/sim.h5", "out": "C:\\Users\\lab\\runs\\Q20", "real": ["/data/ko", "real"]},
        "simulated": {"source": "/tmp/r4/sim.h5", "pairs": 1200},
        "experimental": [{"name": "Cu111_01.jpg", "pixels": [259, 259]}],
        "note": "a/b relative paths and plain text stay",
    }
    info = ModelInfo(
        arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=1.4e-10, training=training
    )
    folder = save_model_folder(tmp_path / "m", info, g_d, g_da)
    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))["training"]
    assert saved["config"] == {"sim": "sim.h5", "out": "Q20", "real": ["ko", "real"]}
    assert saved["simulated"] == {"source": "sim.h5", "pairs": 1200}
    assert saved["experimental"] == training["experimental"] and saved["note"] == training["note"]
    assert read_model_info(folder).training["config"]["sim"] == "sim.h5"


def test_the_shipped_model_records_no_absolute_path() -> None:
    from stmdenoise.denoise import default_model_dir

    text = (default_model_dir() / "config.json").read_text(encoding="utf-8")

    def walk(v: object) -> None:
        if isinstance(v, str):
            assert not v.startswith("/") and ":\\" not in v, v
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(json.loads(text))
