"""bench/fidelity_regions.py: an output's estimated error split into the line strip and the rest."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from stmdenoise.metrics.fidelity import PairedLooks
from tests.bench_loader import load_bench


def test_removing_line_noise_both_directions_share_is_charged_to_the_line_strip() -> None:
    """Row offsets recorded alike in both looks count as surface to the forward/backward estimate:
    an output that subtracts them errs in the line strip, and far less in the rest (which holds
    only their periods over 16 lines); the strip reads as shared; a Gaussian errs less in both
    (it smooths the offsets only partly)."""
    regions = load_bench("fidelity_regions")
    rng = np.random.default_rng(3)
    offsets = 0.6 * rng.normal(size=(160, 1))
    surface = gaussian_filter(rng.normal(size=(160, 160)), 3) * 6 + offsets
    fwd, bwd = (surface + 0.3 * rng.normal(size=surface.shape) for _ in range(2))
    row_aligned = fwd - offsets
    smooth = gaussian_filter(fwd, 1.0)
    paired = PairedLooks([row_aligned, smooth], fwd, bwd, pixel_size=1e-10, offset=(0.0, 0.0))
    strip, rest = regions.regions(paired, 0)
    raw_strip, raw_rest = regions.regions(paired, None)
    assert abs(raw_strip + raw_rest - 1.0) < 1e-9
    assert strip > 5 * raw_strip and abs(rest - raw_rest) < 0.25 * (strip - raw_strip)
    assert regions.shared_in_strip(paired) > 0.8
    g_strip, g_rest = regions.regions(paired, 1)
    assert g_rest < raw_rest and g_strip < strip
    assert not regions.line_strip((64, 64))[0].any()  # the longest periods across lines are left out
    assert not regions.line_strip((64, 64), 0.0)[:, 2].any()  # width 0: the bins beside kx = 0 only
