"""Crash-consistent datasets: a finished mark never covers data that did not reach the file (issue 16).

SIGKILL during ``simulate`` left images marked finished whose data never reached the disk; the
rerun skipped them and exited 0 with all-zero images. Here the state such a kill leaves is made
directly (an image marked finished, its data zero) and the rerun must repair it.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from stmdenoise.physics import dataset as dataset_module
from stmdenoise.physics import image_rng, open_dataset, sample_pair, simulate_dataset

KW = {"pixels": 16, "size": 3e-9, "preset": "typical", "seed": 3, "workers": 1}


def test_finished_marks_that_cover_lost_data_are_redone(tmp_path: Path) -> None:
    out = tmp_path / "d.h5"
    part = tmp_path / "d.h5.part"
    for rec in simulate_dataset(out, count=4, **KW):  # type: ignore[arg-type]
        if rec.done >= 3:
            break  # closes the generator: the work file stays behind, 3 images marked
    with h5py.File(part, "a") as f:
        assert int(f["completed"][:].sum()) == 3
        f["clean"][1] = 0.0  # what a kill left: marked finished, data never written
        f["noisy"][1] = 0.0
    recs = list(simulate_dataset(out, count=4, **KW))  # type: ignore[arg-type]
    assert recs[0].message == "2 to simulate"
    with open_dataset(out) as ds:
        expected = sample_pair(image_rng(3, 1), pixels=16, size=3e-9, preset="typical")
        np.testing.assert_allclose(ds[1].clean, expected.clean.astype(np.float32))
        assert all(np.any(ds.clean([i])) for i in range(4))


def test_images_are_marked_only_after_their_data_is_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every mark on disk follows a flush of that image's data (checked at each flush)."""
    seen: list[tuple[int, bool]] = []
    real_mark = dataset_module._mark

    def spy(f: h5py.File, pending: list[int]) -> None:
        for i in pending:  # the data is written, its mark is not yet set
            seen.append((i, bool(f["completed"][i])))
        real_mark(f, pending)

    monkeypatch.setattr(dataset_module, "_mark", spy)
    list(simulate_dataset(tmp_path / "d.h5", count=3, **KW))  # type: ignore[arg-type]
    assert sorted(i for i, _ in seen) == [0, 1, 2]
    assert not any(marked for _, marked in seen)
    with h5py.File(tmp_path / "d.h5", "r") as f:
        assert list(f["completed"][:]) == [1, 1, 1] and "checksum" in f


def test_a_file_whose_string_heap_a_kill_broke_is_salvaged(tmp_path: Path) -> None:
    """SIGKILL inside HDF5's heap update left a .part that opened but failed on the next write
    ("bad global heap collection signature"); the rerun exited 2 (found by the fault harness)."""
    out = tmp_path / "d.h5"
    part = tmp_path / "d.h5.part"
    for rec in simulate_dataset(out, count=4, **KW):  # type: ignore[arg-type]
        if rec.done >= 2:
            break
    with h5py.File(part, "a") as f:
        f.attrs["writing"] = 1  # as a killed run leaves it
    raw = bytearray(part.read_bytes())
    heap = raw.index(b"GCOL")
    raw[heap : heap + 4] = b"\0\0\0\0"
    part.write_bytes(bytes(raw))
    list(simulate_dataset(out, count=4, **KW))  # type: ignore[arg-type]
    reference = tmp_path / "ref.h5"
    list(simulate_dataset(reference, count=4, **KW))  # type: ignore[arg-type]
    with open_dataset(out) as a, open_dataset(reference) as b:
        np.testing.assert_array_equal(a.clean(slice(None)), b.clean(slice(None)))
        assert [a[i].params for i in range(4)] == [b[i].params for i in range(4)]
    assert not list(tmp_path.glob(".*"))  # no salvage leftovers
