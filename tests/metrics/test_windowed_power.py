"""The one levelled, Hann-windowed power spectrum the spectral checks read."""

from __future__ import annotations

import numpy as np

from stmdenoise.metrics.registration import hann_window, windowed_power


def test_a_slope_adds_nothing_and_a_stripe_is_one_pair_of_peaks() -> None:
    """A plane under stripes 8 px apart: the plane is levelled away (the spectrum equals the
    stripes' alone to rounding), the largest bins are the stripes' frequency, and a window passed
    in gives the same numbers as the one made inside."""
    y, x = np.mgrid[0:64, 0:48].astype(float)
    stripes = np.cos(2 * np.pi * x / 8)
    p = windowed_power(stripes + 0.3 * x - 0.2 * y + 5.0)
    assert np.allclose(p, windowed_power(stripes), atol=1e-9 * p.max())
    top = {tuple(int(i) for i in np.unravel_index(j, p.shape)) for j in np.argsort(p, axis=None)[-2:]}
    assert top == {(0, 6), (0, 42)}
    assert np.array_equal(windowed_power(stripes, hann_window(stripes.shape)), windowed_power(stripes))
