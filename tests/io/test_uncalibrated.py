"""A scan without a pixel size: ``pixel_size is None`` from reading to writing, never a made-up 1 m."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stmdenoise.cli.main import main
from stmdenoise.io import read_scan, write_scan
from stmdenoise.io.render import render_scan
from stmdenoise.plan import plan_denoise
from stmdenoise.safety import periodic_detail_lost
from stmdenoise.scan import Scan


@pytest.fixture
def plain(rng: np.random.Generator) -> Scan:
    return Scan(rng.normal(size=(24, 32)), channel="image")


def test_a_scan_without_pixel_size_says_so(plain: Scan) -> None:
    assert plain.pixel_size is None and plain.size is None and not plain.calibrated
    assert "no pixel size" in plain.describe()
    with pytest.raises(ValueError, match="pixel_size must be two positive finite numbers or None"):
        Scan(np.zeros((2, 2)), pixel_size=(1.0, 0.0))


@pytest.mark.parametrize("name", ["a.16.png", "a.tiff", "a.h5", "a.npy", "a.png"])
def test_plain_image_round_trip_keeps_no_pixel_size(plain: Scan, tmp_path: Path, name: str) -> None:
    back = read_scan(write_scan(plain, tmp_path / name, scale_bar=True, colour_bar=True))
    assert back.pixel_size is None
    assert back.shape == plain.shape or name == "a.png"  # a picture is enlarged for its colour bar
    if name != "a.png":
        np.testing.assert_allclose(back.data, plain.data, rtol=2e-5, atol=1e-4 * float(np.ptp(plain.data)))


def test_sxm_needs_a_pixel_size_and_says_which_file(plain: Scan, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"a.sxm: image carries no pixel size"):
        write_scan(plain, tmp_path / "a.sxm")
    assert not (tmp_path / "a.sxm").exists()


def test_picture_without_pixel_size_has_no_scale_bar(plain: Scan) -> None:
    pic = render_scan(plain, scale_bar=True)
    assert pic.pixel_size is None and pic.scale_bar_px == 0 and pic.scale_bar_m == 0.0
    cal = render_scan(plain.replace(pixel_size=(1e-10, 1e-10)), scale_bar=True)
    assert cal.scale_bar_px > 0


def test_files_written_with_the_old_one_metre_sentinel_read_as_uncalibrated(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    meta = {"kind": "calibrated16", "vmin": 0.0, "vmax": 1.0, "nan_code": 0, "pixel_size": [1.0, 1.0]}
    info.add_text("stmdenoise", json.dumps(meta))
    Image.fromarray(np.full((4, 4), 1000, dtype=np.uint16)).save(tmp_path / "old.png", pnginfo=info)
    assert read_scan(tmp_path / "old.png").pixel_size is None


def test_plan_refuses_a_scan_without_pixel_size_with_the_way_out() -> None:
    plan = plan_denoise((256, 256), None, 1.4e-10)
    assert not plan.runs and "--nm-per-px" in plan.refusal
    assert plan.describe().startswith("model not run: the scan carries no pixel size")
    assert json.dumps(plan.to_dict())  # provenance stays valid JSON (no NaN)
    assert plan.to_dict()["zoom"] == [None, None]


def test_no_pixel_size_no_periodic_detail_claim(plain: Scan) -> None:
    assert periodic_detail_lost(plain, 1.4e-10) is None


def test_info_and_export_of_a_jpeg(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in" / "ko.jpg"
    src.parent.mkdir()
    Image.fromarray(rng.integers(0, 256, size=(20, 30), dtype=np.uint8)).save(src)
    assert main(["info", str(src)]) == 0
    assert "no pixel size (uncalibrated)" in capsys.readouterr().out
    assert main(["info", "--json", str(src)]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert d["size_m"] is None and d["pixel_size_m"] is None
    out = tmp_path / "out"
    assert main(["export", str(src.parent), "-o", str(out), "--format", "tiff,png", "--scale-bar"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["ko_ko_forward.png", "ko_ko_forward.tiff"]
    assert read_scan(out / "ko_ko_forward.tiff").pixel_size is None
