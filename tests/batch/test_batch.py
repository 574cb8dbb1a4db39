"""The batch job: outputs per scan, the app's picture, resume after cancel, never a user's file replaced."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from PIL import Image

from stmdenoise.batch import BatchProgress, BatchRequest, BatchResult, DisplayOptions, denoise_batch
from stmdenoise.batch.manifest import file_sha256, read_manifest
from stmdenoise.io import read_h5, read_scan, read_sxm_all
from stmdenoise.io.render import render_scan
from stmdenoise.processing.view import correct_view
from tests.batch.conftest import write_scans


def run_all(job: Generator[BatchProgress, None, BatchResult]) -> tuple[list[BatchProgress], BatchResult]:
    records = []
    while True:
        try:
            records.append(next(job))
        except StopIteration as stop:
            return records, stop.value


def _request(inputs: list[Path], out: Path, model: Path, **kw: Any) -> BatchRequest:
    return BatchRequest(inputs=tuple(inputs), out_dir=out, model=model, device="cpu", **kw)


def _visible_outputs(out: Path) -> set[Path]:
    return {p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")} - {
        out / "report.csv",
        out / "report.html",
    }


def test_outputs_per_scan_mirror_the_folder_and_carry_provenance(tmp_path: Path, tiny_model: Path) -> None:
    src = tmp_path / "in"
    write_scans(src / "day1", 2)
    (src / "notes.txt").write_text("not a scan")
    out = tmp_path / "out"
    _, res = run_all(
        denoise_batch(_request([src], out, tiny_model, directions=("forward", "backward")), threading.Event())
    )
    assert res.counts["done"] == 4 and not res.cancelled
    folder = out / "in" / "day1"
    for k in range(2):
        for d in ("forward", "backward"):
            assert (folder / f"scan_{k:02d}_Z_{d}.png").is_file()
            tif = read_scan(folder / f"scan_{k:02d}_Z_{d}_denoised.tiff")
            assert tif.pixel_size == pytest.approx((0.14e-9, 0.14e-9)) and tif.unit == "m"
        with h5py.File(folder / f"scan_{k:02d}_Z_forward.h5") as f:
            prov = json.loads(f.attrs["provenance"])
            assert prov["model"]["sha256"] and prov["model"]["name"] == "tiny"
            assert prov["source_sha256"] == file_sha256(src / "day1" / f"scan_{k:02d}.sxm")
            assert prov["do_no_harm"]["policy"] == "fallback"  # the verdict is part of the steps
            raw = np.asarray(f["raw/data"])
        den = read_h5(folder / f"scan_{k:02d}_Z_forward.h5")  # our reader reads the denoised scan
        assert den.shape == raw.shape == (64, 64)
        assert any(st.name == "do_no_harm" for st in den.steps)
        channels = [(s.channel, s.direction) for s in read_sxm_all(folder / f"scan_{k:02d}_denoised.sxm")]
        assert ("Z_denoised", "forward") in channels and ("Z_denoised", "backward") in channels
    rows = list(csv.DictReader((out / "report.csv").open(encoding="utf-8")))
    assert [r["status"] for r in rows] == ["done"] * 4 + ["skipped"]
    assert "not a scan file" in rows[-1]["reason"] and rows[-1]["file"].endswith("notes.txt")
    assert all(r["raw_brisque"] and r["denoised_piqe"] and r["raw_line_artefact_index"] for r in rows[:4])
    assert all(
        r["fidelity_error"] and r["fidelity_worst_band"] for r in rows[:4]
    )  # both directions: measured
    assert all("heights_kept" in r for r in rows)  # the delivered frame's heights, where measurable
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'src="in/day1/scan_00_Z_forward.png"' in html and "<th>heights kept</th>" in html


def test_the_picture_is_the_apps_view(tmp_path: Path, tiny_model: Path) -> None:
    """Raw panel = the renderer of the PNG export on the view-corrected frame, with the same settings."""
    (path,) = write_scans(tmp_path / "in", 1)
    display = DisplayOptions(
        level="plane", align="median", colormap="viridis", scale_bar=True, colour_bar=True
    )
    out = tmp_path / "out"
    run_all(denoise_batch(_request([path], out, tiny_model, display=display), threading.Event()))
    picture = np.asarray(Image.open(out / "scan_00_Z_forward.png").convert("RGB"))
    raw = read_sxm_all(path)[0]
    want = render_scan(correct_view(raw, level="plane", align="median"), colormap="viridis", scale_bar=True,
                       colour_bar=True).rgb  # fmt: skip
    top = picture.shape[0] - want.shape[0]  # the title strip
    assert np.array_equal(picture[top:, : want.shape[1]], want)
    assert picture.shape[1] > 3 * want.shape[1]  # raw | denoised | difference


def test_cancel_leaves_whole_files_only_and_a_rerun_resumes(tmp_path: Path, tiny_model: Path) -> None:
    inputs = write_scans(tmp_path / "in", 4)
    before = {p: file_sha256(p) for p in inputs}
    out = tmp_path / "out"
    cancel = threading.Event()
    job = denoise_batch(_request([tmp_path / "in"], out, tiny_model), cancel)
    while True:
        try:
            rec = next(job)
        except StopIteration as stop:
            res = stop.value
            break
        if rec.status:  # the first file is finished: cancel mid-batch
            cancel.set()
    assert res.cancelled and res.counts["cancelled"] == 3
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]  # no half-written file
    manifests = [read_manifest(m) for m in out.rglob(".*.batch.json")]
    assert len(manifests) == 1 and manifests[0] is not None and manifests[0]["state"] == "done"
    listed = {out / o["path"] for o in manifests[0]["outputs"]}
    assert _visible_outputs(out) == listed  # every file there belongs to a finished scan
    rows = list(csv.DictReader((out / "report.csv").open(encoding="utf-8")))
    assert [r["status"] for r in rows] == ["done", "cancelled", "cancelled", "cancelled"]

    stamps = {p: p.stat().st_mtime_ns for p in listed}
    _, res = run_all(denoise_batch(_request([tmp_path / "in"], out, tiny_model), threading.Event()))
    assert res.resumed == 1 and res.counts["done"] == 4 and not res.cancelled
    assert {p: p.stat().st_mtime_ns for p in listed} == stamps  # the finished scan was not redone
    assert len(_visible_outputs(out)) == 4 * 4  # png, tiff, h5, sxm per scan
    assert {p: file_sha256(p) for p in inputs} == before


def test_a_kill_while_writing_is_resumed_and_a_users_file_is_never_replaced(
    tmp_path: Path, tiny_model: Path
) -> None:
    inputs = write_scans(tmp_path / "in", 2)
    out = tmp_path / "out"
    req = _request(inputs, out, tiny_model, formats=("png", "tiff"))
    run_all(denoise_batch(req, threading.Event()))
    # a kill after the first output of scan_00: its manifest still says pending, one output is missing
    manifest = out / ".scan_00.batch.json"
    data = json.loads(manifest.read_text())
    data["state"], data["rows"] = "pending", []
    manifest.write_text(json.dumps(data))
    (out / "scan_00_Z_forward_denoised.tiff").unlink()
    # the user replaced an output of scan_01 with their own edit
    (out / "scan_01_Z_forward.png").write_bytes(b"my annotated picture")
    _, res = run_all(denoise_batch(req, threading.Event()))
    by_file = {Path(r.file).name: r for r in res.rows}
    assert by_file["scan_00.sxm"].status == "done"  # redone: its pending outputs were ours
    assert (out / "scan_00_Z_forward_denoised.tiff").is_file()
    assert by_file["scan_01.sxm"].status == "failed"
    assert "was not written by this run" in by_file["scan_01.sxm"].reason
    assert (out / "scan_01_Z_forward.png").read_bytes() == b"my annotated picture"


def test_foreign_reports_and_bad_options_are_refused_before_anything_is_written(
    tmp_path: Path, tiny_model: Path
) -> None:
    (path,) = write_scans(tmp_path / "in", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.csv").write_text("my own table")
    with pytest.raises(FileExistsError, match="not written by a batch"):
        next(denoise_batch(_request([path], out, tiny_model), threading.Event()))
    assert sorted(p.name for p in out.iterdir()) == ["report.csv"]
    with pytest.raises(ValueError, match="three_points"):
        DisplayOptions(level="three_points")
    with pytest.raises(ValueError, match="colormap"):
        DisplayOptions(colormap="difference")  # the difference panel's map, not a view map
    with pytest.raises(ValueError, match="formats"):
        _request([path], out, tiny_model, formats=("npy",))


def test_an_output_folder_inside_the_input_folder_is_not_read_back(tmp_path: Path, tiny_model: Path) -> None:
    src = tmp_path / "scans"
    write_scans(src, 1)
    req = _request([src], src / "denoised", tiny_model, formats=("png", "tiff", "h5"))
    for _ in range(2):
        _, res = run_all(denoise_batch(req, threading.Event()))
        assert [(Path(r.file).name, r.status) for r in res.rows] == [("scan_00.sxm", "done")]
    assert res.resumed == 1
