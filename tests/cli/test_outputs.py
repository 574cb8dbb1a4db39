"""The output plan, folder expansion and per-file error catching of the batch commands (issue 16).

Data loss through output names: ``export d/scan.dat -o d --format sxm`` replaced an unrelated
``d/scan.sxm``; ``denoise d1/img.sxm d2/img.sxm -o out`` printed four paths and left two.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from stmdenoise.cli.main import main
from stmdenoise.cli.outputs import OutputPlan, expand_inputs, plan_stems, run_batch
from stmdenoise.io import read_scan, write_sxm
from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder
from stmdenoise.model.pdanet import ArchConfig, build_generators
from stmdenoise.scan import Scan
from tests.hostile import createc_bytes


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sxm(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    z = Scan(rng.normal(size=(40, 40)) * 1e-10, pixel_size=(1.4e-10, 1.4e-10), channel="Z", unit="m")
    return write_sxm(path, [z])


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4)
    g_d, g_da = build_generators(arch, "supervised")
    info = ModelInfo(arch=arch, variant="supervised", normalization=NormalizationSpec(), pixel_size=1.4e-10)
    return save_model_folder(tmp_path / "model", info, g_d, g_da)


def test_export_never_replaces_an_unrelated_file_of_the_output_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "scan.dat").write_bytes(createc_bytes())
    raw = _sxm(d / "scan.sxm", 1)  # the user's raw scan, not an input of this run
    before = _digest(raw)
    assert main(["export", str(d / "scan.dat"), "-o", str(d), "--format", "sxm"]) == 1
    err = capsys.readouterr().err
    assert f"{raw}: exists and was not written by this run; pass --overwrite" in err
    assert _digest(raw) == before
    # explicit --overwrite replaces it (it is not an input) ...
    assert main(["export", str(d / "scan.dat"), "-o", str(d), "--format", "sxm", "--overwrite"]) == 0
    assert read_scan(raw).shape == (12, 16)
    # ... but never an input, even with --overwrite
    before = _digest(raw)
    assert main(["export", str(raw), "-o", str(d), "--format", "sxm", "--overwrite"]) == 1
    assert "refusing to overwrite an input file" in capsys.readouterr().err
    assert _digest(raw) == before
    # both as inputs: each gets its extension in the name, nothing is replaced
    assert main(["export", str(d / "scan.dat"), str(raw), "-o", str(d), "--format", "sxm"]) == 0
    assert sorted(p.name for p in d.iterdir()) == ["scan.dat", "scan.sxm", "scan_dat.sxm", "scan_sxm.sxm"]
    assert _digest(raw) == before


def test_same_stem_in_two_folders_and_two_formats_gives_distinct_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _sxm(tmp_path / "d1" / "img.sxm", 1), _sxm(tmp_path / "d2" / "img.sxm", 2)
    (tmp_path / "d1" / "img.dat").write_bytes(createc_bytes())
    out = tmp_path / "out"
    assert main(["export", str(a), str(b), str(tmp_path / "d1" / "img.dat"), "-o", str(out),
                 "--format", "tiff"]) == 0  # fmt: skip
    printed = capsys.readouterr().out.split()
    names = sorted(p.name for p in out.iterdir())
    assert sorted(Path(p).name for p in printed) == names  # every printed path exists
    assert names == ["d1_img_sxm_Z_forward.tiff", "d2_img_sxm_Z_forward.tiff", "img_dat_Current_forward.tiff",
                     "img_dat_Z_forward.tiff"]  # fmt: skip
    np.testing.assert_array_equal(read_scan(out / "d2_img_sxm_Z_forward.tiff").data, read_scan(b).data)


def test_denoise_same_stems_keep_every_output(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _sxm(tmp_path / "d1" / "img.sxm", 1), _sxm(tmp_path / "d2" / "img.sxm", 2)
    out = tmp_path / "out"
    code = main(["denoise", str(a), str(b), "-o", str(out), "--model", str(tiny_model),
                 "--format", "tiff,npy",
                 "--device", "cpu", "-q"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.split()
    assert len(printed) == 4 and all(Path(p).is_file() for p in printed)
    assert len(set(printed)) == 4
    # a rerun refuses to replace them silently
    assert (
        main(
            [
                "denoise",
                str(a),
                "-o",
                str(out),
                "--model",
                str(tiny_model),
                "--device",
                "cpu",
                "-q",
                "--format",
                "npy",
            ]
        )
        == 0
    )  # fmt: skip  (a single input: its own stem, a new name)
    capsys.readouterr()
    assert main(["denoise", str(a), str(b), "-o", str(out), "--model", str(tiny_model), "--format", "npy",
                 "--device", "cpu", "-q"]) == 1  # fmt: skip
    assert "pass --overwrite" in capsys.readouterr().err


def test_denoise_and_info_expand_folders(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "scans"
    _sxm(src / "a.sxm", 1)
    _sxm(src / "sub" / "b.sxm", 2)
    (src / "notes.txt").write_text("not a scan")
    (src / ".a.sxm.123-deadbeef.tmp.sxm").write_bytes(b"hidden")
    assert main(["info", str(src)]) == 0
    out = capsys.readouterr().out
    assert "a.sxm" in out and "b.sxm" in out and "notes" not in out and "deadbeef" not in out
    code = main(["denoise", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model), "--format",
                 "npy", "--device", "cpu", "-q"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a_Z_forward_denoised.npy", "b_Z_forward_denoised.npy"
    ]  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["info", str(empty)]) == 1
    assert "folder holds no scan files" in capsys.readouterr().err


def test_special_paths_are_named_precisely(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.sxm"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.sxm"
    os.symlink(loop, loop)
    good = _sxm(tmp_path / "good.sxm", 1)
    assert main(["info", str(fifo), str(loop), str(tmp_path / "none.sxm"), str(good)]) == 1
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert lines == [
        f"stmdenoise info: error: {fifo}: is a FIFO (named pipe), not a regular file",
        f"stmdenoise info: error: {loop}: symbolic link loop",
        f"stmdenoise info: error: {tmp_path / 'none.sxm'}: no such file",
    ]
    assert "good.sxm" in cap.out


def test_one_unexpected_exception_does_not_stop_the_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    done: list[Path] = []

    def work(path: Path, written: list[Path]) -> None:
        written.append(path.with_suffix(".first"))  # one output written before the failure
        if path.name == "b":
            raise ZeroDivisionError("float division by zero")
        done.append(path)

    assert run_batch("export", files, {}, work) == 1
    cap = capsys.readouterr()
    assert done == [files[0], files[2]]
    (line,) = cap.err.strip().splitlines()
    assert line.startswith(
        f"stmdenoise export: error: {files[1]}: unexpected ZeroDivisionError: float division"
    )
    assert "(traceback in " in line and "Traceback" not in cap.err
    log = Path(line.split("(traceback in ")[1].rstrip(")"))
    assert "ZeroDivisionError" in log.read_text()
    assert str(files[1].with_suffix(".first")) in cap.out.split()  # the partial output is listed


def test_partial_exports_are_listed_when_a_later_format_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _sxm(tmp_path / "in" / "s.sxm", 1)
    out = tmp_path / "out"
    (out / "s_Z_forward.npy").mkdir(parents=True)  # a folder where the last format's file goes
    assert main(["export", str(src), "-o", str(out), "--format", "tiff,npy", "--overwrite"]) == 1
    cap = capsys.readouterr()
    assert cap.out.split() == [str(out / "s_Z_forward.tiff")]
    assert "s.sxm" in cap.err and len(cap.err.strip().splitlines()) == 1


def test_leftover_temporary_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    src = _sxm(tmp_path / "in" / "s.sxm", 1)
    out = tmp_path / "out"
    out.mkdir()
    dead = out / ".s_Z_forward.tiff.999999999-0badc0de.tmp.tiff"  # no process has this id
    dead.write_bytes(b"half a file")
    alive = out / f".s_Z_forward.tiff.{os.getpid()}-0badc0de.tmp.tiff"  # a live writer's
    alive.write_bytes(b"being written")
    user = out / ".my.tmp"
    user.write_bytes(b"not ours")
    assert main(["export", str(src), "-o", str(out), "--format", "tiff"]) == 0
    assert not dead.exists() and alive.exists() and user.exists()


def test_plan_stems_are_distinct_and_predictable() -> None:
    paths = [Path("x/a.sxm"), Path("y/A.SXM"), Path("x/a.dat"), Path("b.sxm"), Path("z/x/a.sxm")]
    stems = plan_stems(paths)
    assert len({s.lower() for s in stems.values()}) == len(paths)
    assert stems[Path("b.sxm")] == "b" and stems[Path("x/a.dat")] == "a_dat"
    assert stems == plan_stems(paths)  # the same arguments give the same names
    plan = OutputPlan(Path("/tmp") / "unused-plan-check", paths)
    with pytest.raises(FileExistsError, match="two outputs"):
        plan.claim(paths[0], ["n.tiff", "n.tiff"])
    plan.claim(paths[0], ["n.tiff"])
    with pytest.raises(FileExistsError, match="already written by this run"):
        plan.claim(paths[1], ["n.tiff"])
    os.rmdir(plan.out_dir)


def test_expand_inputs_keeps_argument_order(tmp_path: Path) -> None:
    a = _sxm(tmp_path / "f" / "a.sxm", 1)
    b = _sxm(tmp_path / "b.sxm", 2)
    files, problems = expand_inputs([str(b), str(tmp_path / "missing.sxm"), str(tmp_path / "f")])
    assert files == [b, tmp_path / "missing.sxm", a]
    assert list(problems) == [tmp_path / "missing.sxm"]


def test_output_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _sxm(tmp_path / "s.sxm", 1)
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    assert main(["export", str(src), "-o", str(target)]) == 2
    assert f"{target}: output is not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_one_folder_walk_for_cli_batch_gui_and_training(tmp_path: Path) -> None:
    """CLI inputs, batch, the app's drops and training all read folders with folder_files."""
    from stmdenoise.gui.entries import expand_paths as gui_paths
    from stmdenoise.gui.entries import skipped_files
    from stmdenoise.outputs import folder_files
    from stmdenoise.training.data import expand_paths as training_paths

    src = tmp_path / "in"
    (src / "b").mkdir(parents=True)
    (src / ".git").mkdir()
    (src / "out").mkdir()
    for name in ("b/2.SXM", "1.sxm", "notes.txt", ".1.sxm.tmp.sxm", ".git/x.sxm", "out/o.sxm"):
        (src / name).write_bytes(b"x")
    (src / "b" / "loop").symlink_to(src, target_is_directory=True)  # never followed
    every = [src / "1.sxm", src / "b/2.SXM", src / "notes.txt", src / "out/o.sxm"]
    assert folder_files(src) == sorted(every)
    assert folder_files(src, (".sxm",)) == sorted([src / "1.sxm", src / "b/2.SXM", src / "out/o.sxm"])
    assert folder_files(src, (".sxm",), exclude=src / "out") == [src / "1.sxm", src / "b/2.SXM"]
    assert training_paths([src]) == sorted(every)
    assert gui_paths([src], suffixes=(".sxm",)) == sorted([src / "1.sxm", src / "b/2.SXM", src / "out/o.sxm"])
    assert skipped_files([src], suffixes=(".sxm",)) == 1  # notes.txt; hidden files are not counted
