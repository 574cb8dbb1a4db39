"""bench/lone_defect.py: its halo, kept-volume and error measures read what was drawn."""

from __future__ import annotations

import numpy as np

from tests.bench_loader import load_bench


def test_the_measures_read_a_drawn_moat_and_a_whole_defect() -> None:
    lone = load_bench("lone_defect")
    clean, fwd, bwd, d = lone.make_case("lines-indep", 0)
    again = lone.make_case("lines-indep", 0)
    assert np.array_equal(fwd, again[1]) and np.array_equal(bwd, again[2])  # a seed is one scene
    assert not np.array_equal(fwd - clean - (bwd - clean), np.zeros_like(fwd))
    # the truth itself: no halo, the defect whole, no error
    same = lone.measures(clean, fwd, clean, d)
    assert same["halo"] < 1e-9 and abs(same["kept"] - 1.0) < 1e-9 and same["err"] < 1e-12
    # the raw frame: its line offsets are not a halo, its white noise averages out over the rings
    raw = lone.measures(fwd, fwd, clean, d)
    assert raw["halo"] < 0.02 and abs(raw["err"] - 1.0) < 1e-12
    # a moat of 5 % of the height drawn from 2 to 4 sigma round the defect reads as such
    yy, xx = np.mgrid[0 : clean.shape[0], 0 : clean.shape[1]]
    r = np.hypot(yy - d["cy"], xx - d["cx"])
    moat = np.where((r > 2 * d["width"]) & (r < 4 * d["width"]), -0.05 * d["height"], 0.0)
    drawn = lone.measures(clean + moat, fwd, clean, d)
    assert 0.04 < drawn["halo"] < 0.051
    assert abs(lone.measures(clean * 0.8, fwd, clean, d)["kept"] - 0.8) < 0.01


def test_the_registration_measure_reads_a_known_shift() -> None:
    """bench/lone_defect.py's registration line: the same frame as its own second look sits 0 px
    off; the look moved by 2 rows reads 2 px off (the app's second look registers it back)."""
    lone = load_bench("lone_defect")
    clean, fwd, _bwd, _d = lone.make_case("white", 1)
    off, followed = lone.registered(fwd, fwd)
    assert off < 1e-9 and not followed
    moved = np.roll(fwd, 2, axis=0)
    off, _ = lone.registered(fwd, moved)
    assert abs(off - 2.0) < 0.2
    rows = [{"kind": "white", "registered_off": v, "followed": False} for v in (0.1, 1.5)]
    assert "white median 0.80 px, 1 px or more on 1 of 2 (max 1.50)" in lone.registration_summary(rows)


def test_the_single_frame_output_s_measures_are_summarised_per_texture() -> None:
    """What the judge trades when it delivers the single-frame output instead: its means per texture."""
    lone = load_bench("lone_defect")
    rows = [
        {"kind": "lines-indep", "single": {"halo": h, "kept": k, "err": e}}
        for h, k, e in ((0.01, 0.9, 0.5), (0.03, 0.7, 0.3))
    ]
    said = lone.single_summary(rows)
    assert "lines-indep 0.0200 / 0.8000 / 0.4000" in said and "white" not in said
