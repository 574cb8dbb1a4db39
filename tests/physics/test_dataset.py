"""HDF5 datasets: deterministic whatever the workers or resume point, resumable, readable."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

from stmdenoise.cli.main import main
from stmdenoise.physics import image_rng, open_dataset, sample_pair, simulate_dataset

KW = {"pixels": 32, "size": 5e-9, "preset": "typical", "seed": 7}


def _run(path: Path, **kw: object) -> list[object]:
    return list(simulate_dataset(path, **{**KW, **kw}))  # type: ignore[arg-type]


def test_layout_and_reader(tmp_path: Path) -> None:
    out = tmp_path / "d.h5"
    records = _run(out, count=3, workers=1)
    assert records[-1].done == 3 and records[-1].message == "complete"  # type: ignore[attr-defined]
    with h5py.File(out, "r") as f:
        assert f["clean"].shape == f["noisy"].shape == (3, 32, 32)
        assert f["clean"].dtype == np.float32 and f["params"].shape == (3,)
        assert f.attrs["pixel_size"] == pytest.approx(5e-9 / 32)
        for k in ("size", "pixels", "preset", "seed", "count"):
            assert k in f.attrs
    with open_dataset(out) as ds:
        assert len(ds) == 3
        pair = ds[1]
        assert pair.params["index"] == 1
        expected = sample_pair(image_rng(7, 1), pixels=32, size=5e-9, preset="typical")
        np.testing.assert_allclose(pair.clean, expected.clean.astype(np.float32))
        np.testing.assert_allclose(pair.noisy, expected.noisy.astype(np.float32))
        assert ds.clean([2, 0]).shape == (2, 32, 32)
        np.testing.assert_array_equal(ds.noisy([2, 0])[1], ds.noisy(slice(0, 1))[0])
        json.dumps(pair.params)


def test_same_images_whatever_the_worker_count_and_resume(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    _run(a, count=5, workers=1)
    _run(b, count=5, workers=2)
    # c: cancelled after two images, then resumed; then extended from 5 to 6 images
    cancel = threading.Event()
    for rec in simulate_dataset(c, count=5, workers=1, cancel=cancel, **KW):  # type: ignore[arg-type]
        if rec.done >= 2:
            cancel.set()
    assert not c.exists() and (tmp_path / "c.h5.part").exists()
    with h5py.File(tmp_path / "c.h5.part", "r") as f:
        assert int(f["completed"][:].sum()) == 2
    recs = _run(c, count=5, workers=1)
    assert recs[0].message == "3 to simulate"  # type: ignore[attr-defined]
    assert c.exists() and not (tmp_path / "c.h5.part").exists()
    with open_dataset(a) as da, open_dataset(b) as db, open_dataset(c) as dc:
        for name in ("clean", "noisy"):
            np.testing.assert_array_equal(getattr(da, name)(slice(None)), getattr(db, name)(slice(None)))
            np.testing.assert_array_equal(getattr(da, name)(slice(None)), getattr(dc, name)(slice(None)))
    assert _run(c, count=5)[-1].message == "already complete"  # type: ignore[attr-defined]
    _run(c, count=6, workers=1)
    with open_dataset(c) as dc, open_dataset(a) as da:
        assert len(dc) == 6
        np.testing.assert_array_equal(dc.clean(slice(0, 5)), da.clean(slice(None)))


def test_mismatched_settings_and_missing_files(tmp_path: Path) -> None:
    out = tmp_path / "d.h5"
    _run(out, count=1, workers=1)
    with pytest.raises(ValueError, match="seed"):
        _run(out, count=2, seed=8)
    with pytest.raises(FileNotFoundError):
        open_dataset(tmp_path / "nothing.h5")
    with pytest.raises(ValueError, match="preset"):
        _run(tmp_path / "e.h5", count=1, preset="brutal")


def test_corrupt_part_file_is_set_aside(tmp_path: Path) -> None:
    out = tmp_path / "d.h5"
    (tmp_path / "d.h5.part").write_bytes(b"not an hdf5 file")
    _run(out, count=1, workers=1)
    assert out.exists() and (tmp_path / "d.h5.part.corrupt").exists()


def test_cli_simulate(tmp_path: Path) -> None:
    out = tmp_path / "cli.h5"
    rc = main(
        [
            "simulate",
            "--count",
            "2",
            "--pixels",
            "32",
            "--size-nm",
            "5",
            "--seed",
            "7",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert rc == 0
    with open_dataset(out) as ds, open_dataset(_ref(tmp_path)) as ref:
        np.testing.assert_array_equal(ds.noisy(slice(None)), ref.noisy(slice(None)))
        assert ds.attrs["size"] == pytest.approx(5e-9)
    assert (
        main(["simulate", "--count", "2", "--out", str(tmp_path / "x.h5"), "--pixels", "4", "--quiet"]) == 2
    )


def _ref(tmp_path: Path) -> Path:
    p = tmp_path / "ref.h5"
    _run(p, count=2, workers=1)
    return p
