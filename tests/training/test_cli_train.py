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


def test_a_scan_whose_field_of_view_is_too_large_is_refused_before_allocating() -> None:
    """A 5 µm scan at the model's 0.14 nm/px would be 35 000 x 35 000 px (about 10 GB): refused,
    naming the scan, before anything is resampled (this once killed a training run for memory)."""
    from stmdenoise.scan import Scan

    huge = Scan(np.zeros((256, 256)), pixel_size=(19.5e-9, 19.5e-9), channel="Z", unit="m")
    with pytest.raises(ValueError, match=r"35\d{3} x 35\d{3} px"):
        prepare_real(huge, pixel_size=0.1406e-9, level=True, normalise=prepare_image)


def test_training_skips_the_unusable_scan_and_trains_on_the_rest(
    tmp_path: Path, make_dataset, caplog
) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.io import write_scan
    from stmdenoise.scan import Scan

    make_dataset(tmp_path / "sim.h5")
    rng = np.random.default_rng(0)
    real = tmp_path / "real"
    real.mkdir()
    write_scan(
        Scan(rng.normal(size=(64, 64)) * 1e-10, pixel_size=(0.14e-9, 0.14e-9), unit="m"), real / "ok.sxm"
    )
    write_scan(
        Scan(rng.normal(size=(64, 64)) * 1e-10, pixel_size=(20e-9, 20e-9), unit="m"), real / "huge.sxm"
    )
    args = ["train", "--variant", "pdanet", "--steps", "1", "--sim", str(tmp_path / "sim.h5")]
    with caplog.at_level("WARNING"):
        assert main(args + ["--real", str(real), "--out", str(tmp_path / "m")] + TINY) == 0
    assert "skipping experimental scan huge.sxm" in caplog.text
    only_huge = tmp_path / "only"
    only_huge.mkdir()
    (real / "huge.sxm").rename(only_huge / "huge.sxm")
    assert main(args + ["--real", str(only_huge), "--out", str(tmp_path / "m2")] + TINY) != 0


def test_resume_without_a_checkpoint_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "--resume", "--out", str(tmp_path / "never"), "-q"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
