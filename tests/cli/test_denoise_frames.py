"""``stmdenoise denoise``: the frame options (shared with export) and scans without a pixel size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stmdenoise.cli.main import main
from stmdenoise.io import read_scan, write_sxm
from stmdenoise.scan import Scan

torch = pytest.importorskip("torch")

PX = 0.14e-9


def _model(folder: Path) -> Path:
    from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder
    from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights

    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    info = ModelInfo(
        arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=PX, name="tiny"
    )
    return save_model_folder(folder, info, g_d, g_da)


def _run(*args: str) -> int:
    return main(["denoise", *args, "--device", "cpu", "-q", "--policy", "warn"])


def test_jpeg_without_pixel_size_is_not_run_and_says_why(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "m")
    src = tmp_path / "ko.jpg"
    Image.fromarray(rng.integers(0, 256, size=(80, 80), dtype=np.uint8)).save(src)
    assert _run(str(src), "-o", str(tmp_path / "a"), "--model", str(model), "--format", "tiff") == 0
    assert "no pixel size" in capsys.readouterr().err
    out = read_scan(tmp_path / "a" / "ko_ko_forward_denoised.tiff")
    assert out.pixel_size is None
    np.testing.assert_allclose(out.data, read_scan(src).data, rtol=1e-6)  # the raw scan, delivered as such
    # with a pixel size the model runs on it
    assert (
        _run(
            str(src),
            "-o",
            str(tmp_path / "b"),
            "--model",
            str(model),
            "--format",
            "tiff",
            "--nm-per-px",
            "0.14",
        )
        == 0
    )
    ran = read_scan(tmp_path / "b" / "ko_ko_forward_denoised.tiff")
    assert ran.pixel_size == pytest.approx((PX, PX))
    assert not np.allclose(ran.data, read_scan(src).data)


def test_channel_and_direction_mean_what_they_mean_in_export(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "m")
    z = Scan(rng.normal(size=(72, 72)) * 1e-11, pixel_size=(PX, PX), channel="Z", unit="m")
    cur = z.replace(channel="Current", unit="A")
    (tmp_path / "in").mkdir()
    src = write_sxm(tmp_path / "in" / "f.sxm", [z, cur])
    out = tmp_path / "o"
    args = [str(src), "-o", str(out), "--model", str(model), "--format", "npy"]
    assert _run(*args, "--direction", "backward") == 1  # no backward frame: reported, like export
    assert "no backward frame of channel 'Z'" in capsys.readouterr().err
    assert _run(*args, "--channel", "all", "--overwrite") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "f_Current_forward_denoised.npy",
        "f_Z_forward_denoised.npy",
    ]
