"""Scars found against the second look (stmdenoise.metrics.scars) and named by the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from stmdenoise.metrics.scars import MIN_LENGTH, SCARS_NOTICE, find_scars, scars_of
from stmdenoise.safety import judge
from stmdenoise.scan import Scan


def _surface(rows: int = 128, cols: int = 160) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    return np.cos(2 * np.pi * np.hypot(yy - 50, xx - 70) / 16.0) + 0.3 * np.sin(2 * np.pi * yy / 37.0)


def _looks(seed: int = 0, noise: float = 0.1, rows: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = _surface(rows)
    return s, s + noise * rng.standard_normal(s.shape), s + noise * rng.standard_normal(s.shape)


def test_a_scar_in_one_direction_is_found() -> None:
    _s, f, b = _looks()
    f[40, 30:70] += 1.5  # one line pulled up over 40 px, 15x the noise
    f[90:92, 100:125] -= 1.0  # two lines pulled down over 25 px
    mask = find_scars(f, b)
    assert mask[40, 32:68].all() and mask[90:92, 102:123].all()
    truth = np.zeros_like(mask)
    truth[40, 30:70] = truth[90:92, 100:125] = True
    assert not (mask & ~truth).any()  # nothing else: the lines beside a scar are not scars
    assert (truth & ~mask).sum() <= 4 * 3  # the run's averaging leaves at most 2 px at each end


def test_structure_both_directions_hold_is_kept() -> None:
    """A thin ridge along one line (a row of adatoms, a step's bright edge) is in both looks: not a
    scar, even at 20x the noise; Gwyddion's one-frame rule would take it."""
    _s, f, b = _looks(seed=1)
    f[60, 20:120] += 2.0
    b[60, 20:120] += 2.0
    assert not find_scars(f, b).any()


def test_rows_of_a_noise_burst_are_not_scars() -> None:
    """A burst of noise 20x the frame's over 16 rows of one direction: each of its lines stands far
    off its neighbours, but they swing about zero and differ from each other as much."""
    rng = np.random.default_rng(2)
    _s, f, b = _looks(seed=2)
    f[50:66] += 2.0 * rng.standard_normal((16, f.shape[1]))
    assert not find_scars(f, b).any()


def test_a_scar_shorter_than_the_run_or_below_the_threshold_is_left() -> None:
    _s, f, b = _looks(seed=3)
    f[30, 40 : 40 + MIN_LENGTH - 3] += 2.0
    f[70, 40:90] += 0.2  # 2x the noise
    assert not find_scars(f, b).any()


def test_unmeasured_pixels_are_not_judged() -> None:
    _s, f, b = _looks(seed=4)
    f[40, 30:70] += 1.5
    f[110:] = np.nan  # a stopped scan
    b[:, :12] = np.nan
    mask = find_scars(f, b)
    assert mask[40, 32:68].all() and not mask[105:].any() and not mask[:, :12].any()


def test_scars_of_registers_the_look_and_counts_runs() -> None:
    _s, f, b = _looks(seed=5)
    f[40, 30:70] += 1.5
    f[80, 100:140] -= 1.5
    moved = np.full_like(b, np.nan)
    moved[:-1, 2:] = b[1:, :-2]  # the look as read: a row up and 2 columns right of the frame
    found = scars_of(f, moved, (1.0, -2.0))
    assert found.count == 2 and found.rows == (40, 80) and 60 <= found.pixels <= 80
    text = found.notice("backward frame")
    assert text == SCARS_NOTICE.format(
        count=2, s="s", pixels=found.pixels, rows="40, 80", look="backward frame", them="them"
    )
    assert scars_of(f, b, (0.0, 0.0)).count == 2
    with pytest.raises(ValueError, match="one shape"):
        scars_of(f, b[:, 1:], (0.0, 0.0))


def _scan(data: np.ndarray, direction: str = "forward", **kw: object) -> Scan:
    return Scan(data * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m", direction=direction, **kw)  # type: ignore[arg-type]


def test_the_verdict_names_the_scars_of_the_frame_and_not_of_a_clean_one() -> None:
    s, f, b = _looks(seed=6)
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(f, 1.0)
    scarred = f.copy()
    scarred[40, 30:70] += 1.5
    _out, v = judge(_scan(scarred), _scan(ndimage.gaussian_filter(scarred, 1.0)), _scan(b, "backward"))
    said = [n for n in v.notices if "scar" in n]
    assert len(said) == 1 and "1 scar (" in said[0] and "rows 40)" in said[0] and "backward frame" in said[0]
    _out, clean = judge(_scan(f), _scan(smooth), _scan(b, "backward"))
    assert not any("scar" in n for n in clean.notices)


def test_a_feedback_error_current_is_not_judged_for_scars() -> None:
    """With the Z feedback on, the current's other direction is the feedback error negated, not a
    second look at one surface: the verdict does not look for scars against it."""
    from scipy import ndimage

    s, f, b = _looks(seed=7)
    f[40, 30:70] += 1.5
    on = {"Z-Controller>Controller status": "ON"}

    def current(data: np.ndarray, direction: str) -> Scan:
        return Scan(
            data * 1e-12,
            pixel_size=(1e-10, 1e-10),
            channel="Current",
            unit="A",
            direction=direction,
            header=on,
        )  # type: ignore[arg-type]

    raw = current(f, "forward")
    _out, v = judge(raw, current(ndimage.gaussian_filter(f, 1.0), "forward"), current(b - 2 * s, "backward"))
    assert "negated" in " ".join(v.notices) or "feedback" in " ".join(v.notices).lower()
    assert not any("scar" in n for n in v.notices)
