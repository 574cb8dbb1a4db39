"""Qt-free helpers of the GUI: folder expansion, list text, result cache, profiles, scale bar, readout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stmdenoise.gui.colormaps import COLORMAP_NAMES, colormap, robust_levels, symmetric_levels
from stmdenoise.gui.entries import ResultCache, ResultKey, ScanEntry, expand_paths, format_bias, format_size
from stmdenoise.gui.image_views import format_value, nice_length, profile_along
from stmdenoise.io import ChannelInfo
from stmdenoise.scan import Scan


def test_expand_paths_recurses_into_folders_and_keeps_order(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    for name in ("d/b.sxm", "d/e/a.SXM", "d/e/c.txt", "x.sxm"):
        (tmp_path / name).write_bytes(b"")
    got = expand_paths([tmp_path / "x.sxm", tmp_path / "d", tmp_path / "x.sxm"])
    assert got == [tmp_path / "x.sxm", tmp_path / "d" / "b.sxm", tmp_path / "d" / "e" / "a.SXM"]
    # a single file is taken whatever its extension (the reader then says what is wrong)
    assert expand_paths([tmp_path / "d" / "e" / "c.txt"]) == [tmp_path / "d" / "e" / "c.txt"]


def test_entry_summary_says_size_bias_or_error(tmp_path: Path) -> None:
    e = ScanEntry(
        tmp_path / "img.sxm",
        size_bytes=812_345,
        bias=-0.3,
        loaded=True,
        channels=[ChannelInfo("Z", "m", ("forward",)), ChannelInfo("Current", "A", ("forward",))],
    )
    assert e.summary() == "img.sxm\n812 kB · -300 mV · 2 channels"
    bad = ScanEntry(tmp_path / "bad.sxm", error=f"{tmp_path / 'bad.sxm'}: data block holds 5 bytes")
    assert bad.summary() == "bad.sxm\ndata block holds 5 bytes"
    assert format_bias(None) == "bias ?" and format_bias(1.5) == "+1.5 V"
    assert format_size(999) == "999 B" and format_size(1_500_000) == "1.5 MB"


def test_result_cache_is_keyed_and_bounded() -> None:
    cache = ResultCache(max_items=2)
    scans = [Scan(np.full((2, 2), float(i))) for i in range(3)]
    keys = [ResultKey(f"/f{i}.sxm", "Z", "forward", "/models/m", False, False) for i in range(3)]
    for k, s in zip(keys, scans, strict=True):
        cache.put(k, s)
    assert keys[0] not in cache and cache.get(keys[2]) is scans[2] and len(cache) == 2
    other_model = ResultKey("/f2.sxm", "Z", "forward", "/models/other", False, False)
    assert cache.get(other_model) is None
    with pytest.raises(ValueError, match="max_items"):
        ResultCache(max_items=0)


def test_profile_along_a_row_returns_that_row() -> None:
    data = np.arange(20.0).reshape(4, 5)
    # centre of row 2, from the centre of column 0 to the centre of column 4 (pixels of 1 nm)
    d, v = profile_along(data, (1e-9, 1e-9), (0.5e-9, 2.5e-9), (4.5e-9, 2.5e-9))
    np.testing.assert_allclose(v, data[2])
    np.testing.assert_allclose(d, np.arange(5) * 1e-9)


def test_scale_bar_lengths_and_readout_units() -> None:
    assert nice_length(36e-9) == pytest.approx(5e-9)
    assert nice_length(4e-9) == pytest.approx(0.5e-9)
    assert nice_length(100e-9) == pytest.approx(20e-9)
    with pytest.raises(ValueError, match="span"):
        nice_length(0.0)
    assert format_value(1.234e-10, "m") == "123.4 pm"
    assert format_value(2.5e-11, "A") == "25 pA"
    assert format_value(float("nan"), "m") == "not measured"


def test_levels_ignore_nan_and_colormaps_exist() -> None:
    data = np.linspace(0, 1, 1000)
    data[:10] = np.nan
    lo, hi = robust_levels(data)
    assert 0 < lo < 0.02 and 0.98 < hi < 1
    assert robust_levels(np.zeros(4))[0] < robust_levels(np.zeros(4))[1]
    # a flat Z channel (all zero after levelling) is shown around 0 to the picometre, not ±1 m
    assert max(abs(v) for v in robust_levels(np.zeros(4))) <= 1e-12
    assert max(abs(v) for v in symmetric_levels(np.zeros(4))) <= 1e-12
    lo, hi = robust_levels(np.full(4, 2e-9))
    assert lo < 2e-9 < hi and hi - lo < 1e-11
    assert symmetric_levels(np.array([-3.0, 1.0, np.nan]), pct=100) == (-3.0, 3.0)
    for name in COLORMAP_NAMES:
        lut = colormap(name).getLookupTable(nPts=16)
        assert lut.shape[0] == 16
    with pytest.raises(ValueError, match="colormap"):
        colormap("jet")


def test_devices_and_models_on_offer(tmp_path: Path) -> None:
    from stmdenoise.gui.tasks import list_devices, list_models, user_models_dir

    devices = list_devices()
    assert [d.device for d in devices[:2]] == ["auto", "cpu"]
    assert all(d.device.startswith("cuda:") and "GiB free" in d.label for d in devices[2:])
    # a folder is a model when it has config.json and weights; the user's folder is searched
    folder = user_models_dir() / "mine"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    assert "mine" not in [m.name for m in list_models()]
    (folder / "weights.safetensors").write_bytes(b"")
    mine = [m for m in list_models() if m.name == "mine"]
    assert len(mine) == 1 and mine[0].origin == "user" and mine[0].path == folder
