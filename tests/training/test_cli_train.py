"""``stmdenoise train`` end to end on tiny settings, and reading real experimental scans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from stmdenoise.cli.main import main
from stmdenoise.model.folder import load_model_folder
from stmdenoise.training import TrainConfig
from stmdenoise.training.checkpoint import read_checkpoint_meta
from stmdenoise.training.data import load_real_scans, prepare_image, prepare_real

TINY = ["--crop", "32", "--batch", "1", "--ngf", "4", "--blocks", "1", "--ndf", "4", "--device", "cpu", "-q"]


def test_train_cli_writes_a_model_folder_and_resumes(tmp_path: Path, make_dataset, capsys) -> None:  # type: ignore[no-untyped-def]
    make_dataset(tmp_path / "sim.h5")
    out = tmp_path / "m"
    args = [
        "train",
        "--variant",
        "cyclegan",
        "--steps",
        "2",
        "--sim",
        str(tmp_path / "sim.h5"),
        "--out",
        str(out),
    ]
    cfg_file = tmp_path / "cfg.json"
    assert main(args + TINY + ["--checkpoint-every", "1", "--save-config", str(cfg_file)]) == 0
    assert "finished" in capsys.readouterr().out
    info, _, _ = load_model_folder(out)
    assert info.steps == 2 and info.arch.ngf == 4
    assert json.loads(cfg_file.read_text())["run"]["steps"] == 2
    # --resume reads the settings from the checkpoint; only --steps changes
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "-q"]) == 0
    assert load_model_folder(out)[0].steps == 3
    # a checkpoint from before the soft compression existed resumes with the linear map it used
    # (written in the older two-file layout: tensors without metadata + state.json)
    tensors_file = out / "checkpoint" / "state.safetensors"
    meta = read_checkpoint_meta(out)
    flat = TrainConfig.from_dict(meta["config"]).to_flat()  # the flat settings of older versions
    del flat["norm_squash"]
    meta["config"] = flat
    save_file(load_file(str(tensors_file)), str(tensors_file))
    (out / "checkpoint" / "state.json").write_text(json.dumps(meta))
    assert main(["train", "--out", str(out), "--resume", "--steps", "4", "-q"]) == 0
    assert load_model_folder(out)[0].normalization.squash == 0.0


def test_train_cli_reports_bad_settings(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "--variant", "pdanet", "--out", str(tmp_path / "m"), "-q"]) == 2
    assert "experimental scans" in capsys.readouterr().err
    assert (
        main(["train", "--variant", "paired", "--skip-blur", "0.7", "--out", str(tmp_path / "m"), "-q"]) == 2
    )
    assert "skip_blur needs residual" in capsys.readouterr().err


def test_train_cli_skip_blur_reaches_the_model_folder(tmp_path: Path, make_dataset) -> None:  # type: ignore[no-untyped-def]
    make_dataset(tmp_path / "sim.h5")
    out = tmp_path / "m"
    args = ["train", "--variant", "paired", "--residual", "--skip-blur", "0.7", "--steps", "1"]
    assert main(args + ["--sim", str(tmp_path / "sim.h5"), "--out", str(out)] + TINY) == 0
    info, g_d, _ = load_model_folder(out)
    assert info.arch.skip_blur == 0.7 and g_d.skip_blur == 0.7


@pytest.mark.realdata
def test_real_cu111_jpegs_and_createc_scan_are_read_and_resampled(shared_dir: Path) -> None:
    jpgs = shared_dir / "reference" / "cu111_ko_group" / "experimental"
    createc = shared_dir / "realdata" / "createc"
    scans = load_real_scans([jpgs, createc], nm_per_px=0.071)
    assert len(scans) == 4
    images = [prepare_real(s, pixel_size=36e-9 / 256, level=True, normalise=prepare_image) for s in scans]
    # 512 px at 0.071 nm -> 259 px at 0.1406 nm; the aborted Createc frame keeps its 330 measured rows
    assert [im.shape for im in images[:3]] == [(259, 259)] * 3
    assert images[3].shape[1] == 142 and images[3].shape[0] < 100
    assert all(np.isfinite(im).all() and im.min() >= -1 and im.max() <= 1 for im in images)
    with pytest.raises(ValueError, match="no readable"):
        load_real_scans([jpgs])  # JPEGs without a pixel size are skipped
