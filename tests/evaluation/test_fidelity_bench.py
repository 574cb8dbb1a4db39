"""bench/fidelity.py's count of channels whose output is above raw in a band with signal."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from stmdenoise.scan import Scan
from stmdenoise.training.real_fidelity import Method, pair_rows
from tests.bench_loader import load_bench

PX = 0.5e-10


def _pair(seed: int) -> tuple[Scan, Scan]:
    """A 1.5 Å-period lattice at 0.5 Å/px (3 px), seen twice with independent noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:160, :160].astype(float)
    surface = sum(np.cos(2 * np.pi * (x * np.cos(a) + y * np.sin(a)) / 3.2) for a in (0.0, 2.09, 4.19))
    looks = [surface + 0.3 * rng.normal(size=surface.shape) for _ in range(2)]
    fwd = Scan(looks[0], pixel_size=(PX, PX), channel="Z", unit="m")
    return fwd, fwd.with_data(looks[1], direction="backward")


def test_an_output_that_blurs_the_lattice_away_counts_beyond_2_se_and_a_mild_one_does_not() -> None:
    fidelity = load_bench("fidelity")
    fwd, bwd = _pair(0)
    methods = [
        Method("blurred", "model", lambda s, _o: gaussian_filter(np.asarray(s.data), 2.0)),
        Method("kept", "delivered", lambda s, _o: np.asarray(s.data)),
    ]
    rows = pair_rows(methods, "lattice Z", fwd, bwd)
    above, beyond = fidelity.bands_above_raw([rows], "model")
    assert above == beyond == ["lattice Z"]
    assert fidelity.bands_above_raw([rows], "delivered") == ([], [])  # the raw scan itself: never above
    text = fidelity.summary_table([rows], {"lattice Z": None})
    assert "Model output above raw in a band with signal on 1 of 1 channels; beyond 2 SE" in text
    assert "Delivered output above raw in a band with signal on 0 of 1 channels; beyond 2 SE" in text
    assert "(the judge's harm test) on 0." in text
    d = rows[1].to_dict()
    assert d["error_se[all]"] is not None and d["error_se[all]"] > 0
