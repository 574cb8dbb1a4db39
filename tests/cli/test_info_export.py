"""``stmdenoise info`` and ``stmdenoise export``: output, JSON, bad files reported and skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.cli.main import main
from stmdenoise.io import read_scan, read_sxm_all, write_sxm
from stmdenoise.scan import Scan

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim_sxm(tmp_path: Path, rng: np.random.Generator) -> Path:
    z = Scan(rng.normal(size=(24, 32)) * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m",
             bias=0.2, setpoint=5e-11, scan_direction="up")  # fmt: skip
    data = z.data.copy()
    data[:6] = np.nan
    cur = Scan(data * 0 + 1e-10, pixel_size=(1e-10, 1e-10), channel="Current", unit="A", bias=0.2,
               setpoint=5e-11, scan_direction="up")  # fmt: skip
    (tmp_path / "in").mkdir()
    return write_sxm(tmp_path / "in" / "sim.sxm", [z, cur, cur.replace(direction="backward")])


def test_info_text(sim_sxm: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(sim_sxm)]) == 0
    out = capsys.readouterr().out
    assert "channel Z" in out and "channel Current" in out and "forward/backward" in out
    assert "pixels 32 x 24 (cols x rows)" in out
    assert "size 3.2 nm x 2.4 nm" in out
    assert "bias 200 mV, setpoint 50 pA, scan direction up" in out
    assert "NaN fraction (Z): 0.0%" in out


def test_info_json(sim_sxm: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json", str(sim_sxm)]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert d["pixels"] == {"rows": 24, "cols": 32}
    assert d["size_m"]["width"] == pytest.approx(3.2e-9)
    assert d["bias_V"] == pytest.approx(0.2) and d["setpoint_A"] == pytest.approx(5e-11)
    assert d["scan_direction"] == "up"
    assert [c["name"] for c in d["channels"]] == ["Z", "Current"]
    assert d["channels"][0]["directions"] == ["forward"]


def test_info_reports_bad_files_and_goes_on(
    sim_sxm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sxm"
    bad.write_bytes(sim_sxm.read_bytes()[:-10])
    missing = tmp_path / "missing.sxm"
    assert main(["info", str(bad), str(missing), str(sim_sxm)]) == 1
    cap = capsys.readouterr()
    errors = cap.err.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"stmdenoise info: error: {bad}: data block holds")
    assert "needs" in errors[0]
    assert errors[1].startswith(f"stmdenoise info: error: {missing}:")
    assert "Traceback" not in cap.err
    assert "channel Z" in cap.out  # the good file was still described


@pytest.mark.realdata
def test_info_on_real_files(realdata_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in realdata_dir.rglob("*") if p.suffix in (".sxm", ".dat", ".3ds"))
    assert main(["info", "--json", *files]) == 1  # the corrupted file fails, the rest are described
    cap = capsys.readouterr()
    (err,) = cap.err.strip().splitlines()
    assert "img_0244_truncated_by_line_ending_rewrite.sxm: data block holds 524283 bytes" in err
    by_name = {Path(d["file"]).name: d for d in json.loads(cap.out)}
    assert len(by_name) == len(files) - 1
    assert by_name["img_0244.sxm"]["nan_fraction"] == pytest.approx(0.508, abs=0.001)
    assert by_name["img_0045.sxm"]["pixels"] == {"rows": 168, "cols": 144}
    assert by_name["createc_scan_step_20nm.dat"]["format"] == "createc"
    assert by_name["TR_dIdV_00006.dat"]["kind"] == "spectrum"
    assert by_name["Grid Experiment2001.3ds"]["sweep"]["points"] == 256


def test_export_all_formats(sim_sxm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["export", str(sim_sxm), "-o", str(out), "--format", "png,png16,tiff,h5,sxm,npy",
                 "--direction", "both", "--colormap", "viridis", "--scale-bar"])  # fmt: skip
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"sim_{c}_{d}{e}" for c, d in (("Z", "forward"), ("Current", "forward"), ("Current", "backward"))
         for e in (".png", ".16.png", ".tiff", ".h5", ".npy")] + ["sim.sxm"]
    )  # fmt: skip
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == names
    original = read_scan(sim_sxm, channel="Current", direction="backward")
    for ext in (".tiff", ".h5"):
        back = read_scan(out / f"sim_Current_backward{ext}")
        np.testing.assert_array_equal(back.data, original.data)
        assert back.unit == "A" and back.direction == "backward"
    assert (out / "sim.sxm").read_bytes() == sim_sxm.read_bytes()  # all frames: the same file again
    assert [s.channel for s in read_sxm_all(out / "sim.sxm")] == ["Z", "Current", "Current"]


def test_export_backward_frames_to_sxm(sim_sxm: Path, tmp_path: Path) -> None:
    """A .sxm needs forward frames: exported backward frames become its images, data unchanged."""
    out = tmp_path / "out"
    code = main(["export", str(sim_sxm), "-o", str(out), "--format", "sxm", "--channel", "Current",
                 "--direction", "backward"])  # fmt: skip
    assert code == 0
    frames = read_sxm_all(out / "sim.sxm")
    assert [(s.channel, s.direction) for s in frames] == [("Current", "forward")]
    original = read_scan(sim_sxm, channel="Current", direction="backward")
    np.testing.assert_array_equal(frames[0].data, original.data)


def test_export_channel_selection_and_bad_files(
    sim_sxm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    code = main(
        ["export", str(bad), str(sim_sxm), "-o", str(out), "--format", "tiff", "--channel", "current"]
    )
    assert code == 1
    cap = capsys.readouterr()
    (err,) = cap.err.strip().splitlines()
    assert err.startswith(f"stmdenoise export: error: {bad}:")
    assert sorted(p.name for p in out.iterdir()) == ["sim_Current_forward.tiff"]
    assert main(["export", str(sim_sxm), "-o", str(out), "--channel", "Nope"]) == 1
    assert "channel 'Nope' is not in the file" in capsys.readouterr().err


def test_export_never_overwrites_its_input(sim_sxm: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sim_sxm.read_bytes()
    assert main(["export", str(sim_sxm), "-o", str(sim_sxm.parent), "--format", "sxm"]) == 1
    assert "refusing to overwrite an input file" in capsys.readouterr().err
    assert sim_sxm.read_bytes() == before


def test_export_rejects_unknown_formats(sim_sxm: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["export", str(sim_sxm), "-o", str(tmp_path), "--format", "png,jpeg"])


def test_console_entry_runs(sim_sxm: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "stmdenoise", "info", str(sim_sxm)], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "pixels 32 x 24" in res.stdout
