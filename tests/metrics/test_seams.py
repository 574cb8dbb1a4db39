"""Seams at the two-direction Wiener's band boundaries (stmdenoise.metrics.seams) and the verdict
that names them."""

from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.metrics.seams import RAW_CALM, SEAM_RATIO, boundary_ratios, row_ratios, seams_of


def _pair(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A raw scan with noise and a smooth 'denoised' output of it, both 256 x 128."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:256, 0:128]
    surface = np.sin(xx / 6.0) + 0.05 * np.cos(yy / 11.0)
    return surface + 0.1 * rng.standard_normal(surface.shape), surface + 0.002 * rng.standard_normal(
        surface.shape
    )


def test_a_band_the_output_lifts_is_named_at_both_of_its_boundaries() -> None:
    raw, out = _pair()
    out[128:192] += 0.1  # the raw noise's size: invisible in the raw scan, a line in the output
    found = seams_of(raw, out, 64)
    assert [s.row for s in found] == [128, 192]
    assert all(s.ratio > SEAM_RATIO and s.raw < RAW_CALM for s in found)
    assert seams_of(raw, _pair()[1], 64) == []  # the same output without the lift: nothing


def test_a_step_the_raw_scan_has_at_the_boundary_is_not_a_seam() -> None:
    """A tip change or a step edge along the lines at a boundary row is in the scan itself."""
    raw, out = _pair(1)
    raw[64:] += 2.0
    out[64:] += 2.0
    assert seams_of(raw, out, 64) == []


def test_rows_with_unmeasured_pixels_are_left_out_and_bad_input_refused() -> None:
    raw, out = _pair(2)
    out[128:] += 0.05
    raw_nan, out_nan = raw.copy(), out.copy()
    raw_nan[250:] = np.nan  # an aborted scan's last rows
    out_nan[250:] = np.nan
    assert [s.row for s in seams_of(raw_nan, out_nan, 64)] == [128]
    assert row_ratios(np.zeros((4, 8))).size == 3 and np.isnan(row_ratios(np.zeros((4, 8)))).all()
    with pytest.raises(ValueError, match="band"):
        boundary_ratios(raw, 0)
    with pytest.raises(ValueError, match="shape"):
        seams_of(raw, out[:, 1:], 64)


@pytest.mark.realdata
def test_the_verdict_names_the_seam_where_the_two_direction_output_is_delivered(realdata_dir) -> None:  # type: ignore[no-untyped-def]
    """Au_mica_2023_Y_A_diPAMY_195 Current: a burst of row noise in one band makes the two-direction
    output step at row 64 forward (8x the rows around it; model card, known limits). Forward that
    output is delivered and the seam named; backward the single-frame output is delivered, and the
    notice about the two-direction output is not shown."""
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.training.real_fidelity import two_direction_frames

    ((_, fwd, bwd),) = two_direction_frames(
        realdata_dir / "nanonis" / "Au_mica_2023_Y_A_diPAMY_195.sxm", ["Current"]
    )
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    forward = den.denoise_checked(fwd, partner=bwd)
    said = [n for n in forward.verdict.notices if "jumps between rows" in n]
    assert forward.verdict.delivered == "model" and len(said) == 1 and "rows 63 and 64 (" in said[0]
    backward = den.denoise_checked(bwd, partner=fwd)
    assert backward.verdict.delivered != "model"
    assert not any("jumps between rows" in n for n in backward.verdict.notices)
