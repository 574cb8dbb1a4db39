"""The shipped example scan is ours, deterministic and reads back as a realistic Z scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stmdenoise.io import list_channels, read_scan
from stmdenoise.paths import examples_dir
from stmdenoise.physics.example import EXAMPLE_NAME, example_scans, write_example_scan


def test_example_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    a = write_example_scan(tmp_path / "a.sxm")
    b = write_example_scan(tmp_path / "b.sxm")
    assert a.read_bytes() == b.read_bytes()
    fwd = read_scan(a, channel="Z", direction="forward")
    bwd = read_scan(a, channel="Z", direction="backward")
    ref = example_scans()
    np.testing.assert_allclose(fwd.data, ref[0].data, rtol=1e-6)  # float32 on disk
    np.testing.assert_allclose(bwd.data, ref[1].data, rtol=1e-6)
    assert fwd.unit == "m" and fwd.shape == (256, 256)
    assert fwd.bias == ref[0].bias and abs(fwd.setpoint - 100e-12) < 1e-15  # type: ignore[operator]
    assert abs(fwd.size[0] - 36e-9) < 1e-15
    assert np.corrcoef(fwd.data.ravel(), bwd.data.ravel())[0, 1] > 0.5


def test_shipped_example_matches_the_generator() -> None:
    shipped = examples_dir() / EXAMPLE_NAME
    assert shipped.exists(), "regenerate with: python -m stmdenoise.physics.example"
    chans = list_channels(shipped)
    assert [c.name for c in chans] == ["Z"]
    np.testing.assert_allclose(read_scan(shipped).data, example_scans()[0].data, rtol=1e-6)
