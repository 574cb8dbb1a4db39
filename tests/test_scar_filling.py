"""Scars filled before the two-direction Wiener (stmdenoise.pairing; docs/model-selection.md,
candidates DI and DO) and the fill itself (stmdenoise.processing.nan.fill_along_columns)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.metrics.scars import SCARS_FILLED_NOTICE, SCARS_NOTICE, scars_of
from stmdenoise.pairing import denoise_pair, prepare_pair
from stmdenoise.processing.nan import fill_along_columns
from stmdenoise.scan import Scan

PX = 1e-10


def _looks(seed: int, n: int = 192) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth random surface (Å) and two looks at it with independent noise of 1 Å."""
    rng = np.random.default_rng(seed)
    s = ndimage.gaussian_filter(rng.normal(size=(n, n)), 4.0) * 20.0
    return s, s + rng.normal(size=s.shape), s + rng.normal(size=s.shape)


def _z(data: np.ndarray, direction: str = "forward") -> Scan:
    return Scan(data * 1e-10, pixel_size=(PX, PX), channel="Z", unit="m", direction=direction)  # type: ignore[arg-type]


def _wiener(f: Scan, b: Scan) -> tuple[np.ndarray, dict[str, object]]:
    report: dict[str, object] = {}
    out = denoise_pair(f, prepare_pair(f, b), report=report)
    return out, report


# ----------------------------------------------------------------------------- the fill


def test_the_fill_interpolates_along_the_column_between_the_unmarked_lines() -> None:
    z = np.arange(5 * 3, dtype=float).reshape(5, 3) * 1.0
    z[1:3, 1] = 100.0
    marked = np.zeros(z.shape, dtype=bool)
    marked[1:3, 1] = True
    out = fill_along_columns(z, marked)
    assert out[1, 1] == pytest.approx(z[0, 1] + (z[3, 1] - z[0, 1]) / 3)
    assert out[2, 1] == pytest.approx(z[0, 1] + 2 * (z[3, 1] - z[0, 1]) / 3)
    assert np.array_equal(out[~marked], z[~marked])  # nothing else moves
    assert z[1, 1] == 100.0  # a copy


def test_the_fill_keeps_nan_takes_the_nearest_line_at_an_edge_and_leaves_a_column_without_anchors() -> None:
    z = np.array([[9.0, 1.0, 5.0], [9.0, np.nan, 5.0], [2.0, 3.0, 5.0]])
    marked = np.array([[True, False, True], [False, True, True], [False, False, True]])
    out = fill_along_columns(z, marked)
    assert out[0, 0] == 9.0  # the nearest unmarked line below: (1, 0)
    assert np.isnan(out[1, 1])  # unmeasured stays unmeasured
    assert np.array_equal(out[:, 2], z[:, 2])  # no unmarked pixel in the column: left alone
    with pytest.raises(ValueError, match="shape"):
        fill_along_columns(z, marked[:, :2])


# ----------------------------------------------------------------------------- the two-direction path


def test_a_scar_in_one_direction_is_filled_before_the_filter_and_recorded() -> None:
    """A scar 15x the noise over 50 px of one line, and one of two lines: the filter alone keeps
    most of them (one gain per tile spectrum takes them for a little extra noise); filled from the
    lines around them first, the output there is as close to the surface as elsewhere."""
    s, f, b = _looks(seed=0)
    scarred = f.copy()
    scarred[100, 40:90] += 15.0
    scarred[150:152, 120:170] -= 12.0
    fwd, bwd = _z(scarred), _z(b, "backward")
    pair = prepare_pair(fwd, bwd)
    report: dict[str, object] = {}
    out = denoise_pair(fwd, pair, report=report) / 1e-10
    mask = scars_of(fwd.data, pair.look, pair.offset).mask  # what the filter finds, as it reads
    assert report["scars_filled"] == int(mask.sum()) >= 130
    on_scars = np.abs(out - s)[mask].mean()
    elsewhere = np.abs(out - s)[~mask].mean()
    assert on_scars < 3 * elsewhere  # without the fill: 3.6 Å off there, 11x elsewhere
    plain = fill_along_columns(scarred, np.zeros_like(mask))
    assert np.array_equal(plain, scarred)


def test_a_ridge_both_looks_hold_is_not_filled() -> None:
    """A thin ridge along one line (a row of adatoms, a step edge) is in both looks: the surface,
    kept by the filter as without the scar check."""
    s, f, b = _looks(seed=1)
    f[80, 20:170] += 10.0
    b[80, 20:170] += 10.0
    out, report = _wiener(_z(f), _z(b, "backward"))
    assert "scars_filled" not in report
    kept = (out / 1e-10)[80, 30:160] - (s[79, 30:160] + s[81, 30:160]) / 2
    assert kept.mean() > 7.0


def test_a_feedback_error_current_is_not_searched_for_scars() -> None:
    """With the Z feedback on, the current's other direction is the feedback error negated, not a
    second look at one surface: nothing is filled from it."""
    s, f, b = _looks(seed=2)
    f[100, 40:90] += 15.0
    on = {"Z-Controller>Controller status": "ON"}

    def current(data: np.ndarray, direction: str) -> Scan:
        return Scan(
            data * 1e-12, pixel_size=(PX, PX), channel="Current", unit="A", direction=direction, header=on
        )  # type: ignore[arg-type]

    report: dict[str, object] = {}
    fwd, bwd = current(f, "forward"), current(-b, "backward")
    denoise_pair(fwd, prepare_pair(fwd, bwd), report=report)
    assert "scars_filled" not in report


def test_the_verdict_says_the_two_direction_output_filled_the_scars() -> None:
    """Through the shipped model's checked path: the step records the filled pixels and the
    verdict's scar notice says they were filled (the raw scan and a fallback keep them)."""
    from stmdenoise.denoise import Denoiser, default_model_dir

    s, f, b = _looks(seed=3, n=256)
    f[100, 40:90] += 15.0
    checked = Denoiser.from_folder(default_model_dir(), device="cpu").denoise_checked(
        _z(f), partner=_z(b, "backward")
    )
    assert checked.model.steps[-1].params.get("scars_filled", 0) > 40
    said = [n for n in checked.verdict.notices if "scar" in n]
    assert len(said) == 1 and "has it filled from the lines above and below" in said[0]
    assert SCARS_FILLED_NOTICE.split("{")[0] == SCARS_NOTICE.split("{")[0]  # same opening words


@pytest.mark.realdata
def test_where_the_single_frame_output_is_delivered_the_verdict_says_it_keeps_the_scars(realdata_dir) -> None:  # type: ignore[no-untyped-def]
    """Au_mica_2023_Y_A_diPAMY_195 Current backward: the two-direction output fills its 6 scars but
    the judge delivers the single-frame output, which keeps them; the notice says what is delivered
    does (forward, where the two-direction output is delivered, it says they were filled)."""
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.training.real_fidelity import two_direction_frames

    ((_, fwd, bwd),) = two_direction_frames(
        realdata_dir / "nanonis" / "Au_mica_2023_Y_A_diPAMY_195.sxm", ["Current"]
    )
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    backward = den.denoise_checked(bwd, partner=fwd)
    assert backward.model.steps[-1].params.get("scars_filled", 0) > 0
    said = [n for n in backward.verdict.notices if "scar" in n]
    assert backward.verdict.delivered != "model" and len(said) == 1
    assert "The denoised result keeps most of them" in said[0] and "filled" not in said[0]
    forward = den.denoise_checked(fwd, partner=bwd)
    said = [n for n in forward.verdict.notices if "scar" in n]
    assert forward.verdict.delivered == "model" and "has them filled" in said[0]
