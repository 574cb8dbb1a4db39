"""`stmdenoise batch` over the real scans: every readable scan written, the bad one named, rerun skips."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stmdenoise.batch.manifest import file_sha256
from stmdenoise.cli.main import main
from stmdenoise.io import detect_format, read_all

pytestmark = pytest.mark.realdata


def _readable(root: Path) -> list[Path]:
    found = []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in (".sxm", ".dat", ".3ds"):
            continue
        try:
            if detect_format(p) != "spectrum" and read_all(p):
                found.append(p)
        except ValueError:
            continue
    return found


def test_batch_over_realdata_then_a_rerun_skips_everything_done(
    realdata_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = sorted(p for p in realdata_dir.rglob("*") if p.is_file())
    before = {p: file_sha256(p) for p in inputs}
    readable = _readable(realdata_dir)
    assert any(p.suffix == ".sxm" for p in readable) and any(p.parent.name == "createc" for p in readable)
    out = tmp_path / "out"
    rc = main(["batch", str(realdata_dir), "-o", str(out), "--device", "cpu", "-q", "--level", "plane"])
    err = capsys.readouterr().err
    assert rc == 1  # the corrupted file failed; the batch went on
    assert "img_0244_truncated_by_line_ending_rewrite.sxm" in err and "data block holds" in err

    rows = list(csv.DictReader((out / "report.csv").open(encoding="utf-8")))
    by_file: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_file.setdefault(Path(r["file"]).name, []).append(r)
    bad = by_file["img_0244_truncated_by_line_ending_rewrite.sxm"]
    assert [r["status"] for r in bad] == ["failed"] and "needs 524288" in bad[0]["reason"]
    spectra = [r for r in rows if r["status"] == "skipped" and "point spectrum" in r["reason"]]
    assert len(spectra) == 2
    for p in readable:  # every readable scan: its picture, TIFF and HDF5 in the mirrored folder
        rel = p.parent.relative_to(realdata_dir.parent)
        (row,) = by_file[p.name]
        assert row["status"] == "done", (p, row["reason"])
        for name in row["outputs"].split(";"):
            assert (out / name).is_file() and (out / name).parent == out / rel
        suffixes = sorted(Path(n).suffix for n in row["outputs"].split(";"))
        assert suffixes == (
            [".h5", ".png", ".sxm", ".tiff"] if p.suffix == ".sxm" else [".h5", ".png", ".tiff"]
        )
    assert {p: file_sha256(p) for p in inputs} == before  # inputs byte-identical

    written = {
        p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and not p.name.startswith("report.")
    }
    rc = main(["batch", str(realdata_dir), "-o", str(out), "--device", "cpu", "-q", "--level", "plane"])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"({len(readable)} file(s) finished by an earlier run, kept)" in err
    assert {p: p.stat().st_mtime_ns for p in written} == written  # nothing rewritten
    again = list(csv.DictReader((out / "report.csv").open(encoding="utf-8")))
    assert [(r["file"], r["status"], r["fidelity_error"]) for r in again] == [
        (r["file"], r["status"], r["fidelity_error"]) for r in rows
    ]
    assert {p: file_sha256(p) for p in inputs} == before
