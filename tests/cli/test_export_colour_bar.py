"""``stmdenoise export --colour-bar``: the picture carries its value scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from stmdenoise.cli.main import main
from stmdenoise.io import write_scan
from stmdenoise.scan import Scan


def test_export_colour_bar_flag(tmp_path: Path) -> None:
    scan = Scan(
        data=np.random.default_rng(0).normal(size=(64, 64)), pixel_size=(1e-10, 1e-10), channel="Z", unit="m"
    )
    src = write_scan(scan, tmp_path / "s.h5")
    for flag, name in (([], "plain"), (["--colour-bar"], "bar")):
        code = main(["export", str(src), "-o", str(tmp_path / name), "--format", "png", *flag])
        assert code == 0
    plain = Image.open(next((tmp_path / "plain").glob("*.png")))
    bar = Image.open(next((tmp_path / "bar").glob("*.png")))
    assert plain.size == (64, 64) and bar.size[0] > bar.size[1] >= 512
