"""The Quality and Denoise panels show the do-no-harm verdict and never a stale or duplicate row."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.gui.tasks import ScoreRecord
from stmdenoise.gui.workers import Tagged
from stmdenoise.safety import SINGLE_FRAME, judge
from stmdenoise.scan import Scan
from tests.gui.conftest import wait_idle

PX = 1e-10


def _judged(harm: bool, blur: float = 4.0) -> tuple[Scan, Scan]:
    rng = np.random.default_rng(0)
    s = ndimage.gaussian_filter(rng.normal(size=(128, 128)), 3.0) * 12.0
    fwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="forward")
    bwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="backward")
    out = fwd.with_data(ndimage.gaussian_filter(np.asarray(fwd.data), blur) if harm else s)
    delivered, _ = judge(fwd, out, bwd)
    return fwd, delivered


def test_quality_panel_shows_the_fidelity_and_drops_late_rows(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    raw, delivered = _judged(harm=False)
    s, q = window.session, window.quality
    s.raw, s.denoised = raw, delivered
    q.recompute()
    q.recompute()  # a quick second request (arrow-key navigation): the first one's rows are dropped
    name = "Est. error vs surface, all (raw = 1)"
    qtbot.waitUntil(lambda: "Residual RMS (raw − denoised)" in q.scores, timeout=60000)
    wait_idle(qtbot, window)
    raw_v, den_v, note = q.scores[name]
    assert raw_v == 1.0 and 0 <= den_v < 0.5 and "delivered: model" in note
    labels = [q.table.verticalHeaderItem(r).text() for r in range(q.table.rowCount())]
    assert len(labels) == len(set(labels)) == len(q.scores)  # no duplicate row
    assert labels[0] == name and "BRISQUE (no-reference hint)" in labels
    rows = q.table.rowCount()
    key = s.view_key
    q._record(Tagged(key, ScoreRecord(1, 1, "from an older request", 1.0, 2.0, "", q._generation - 1)))
    q._record(Tagged("another view", ScoreRecord(1, 1, "from another view", 1.0, 2.0, "", q._generation)))
    assert q.table.rowCount() == rows and not {"from an older request", "from another view"} & set(q.scores)
    assert "reward smoothness" in q.explain.text() and "trace and retrace" in q.explain.toolTip()


def test_denoise_panel_says_what_was_delivered_and_why(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = window.denoise_panel
    raw, delivered = _judged(harm=True)
    window.session.raw = raw
    window.session.raw_changed.emit(raw)
    window.session.denoised_changed.emit(delivered)
    text = panel.verdict_label.text()
    assert text.startswith("Harm found.") and "classical fallback" in text and "x raw" in text
    # the classical filter the estimate puts closest: a Gaussian or, since candidate EM, a total variation
    assert window.views.den.plot.titleLabel.text.startswith(
        ("Fallback: gaussian", "Fallback: total variation")
    )
    _, better = _judged(harm=True, blur=0.5)  # below raw (0.42x), but a Gaussian measures 0.09x
    window.session.denoised_changed.emit(better)
    assert panel.verdict_label.text().startswith("Better filter found.")
    _, good = _judged(harm=False)
    window.session.denoised_changed.emit(good)
    assert panel.verdict_label.text().startswith("Checked.") and "kept" in panel.verdict_label.text()
    # the model's single-frame output delivered in place of a worse two-direction output's
    # fallback (candidate DH): the model's own output, not a better filter
    fwd, bwd, s = _looks_for_single()
    worse = fwd.with_data(ndimage.gaussian_filter(np.asarray(fwd.data), 0.6))
    single, verdict = judge(fwd, worse, bwd, alternative=fwd.with_data(s + 0.02 * (fwd.data - s)))
    assert verdict.delivered == SINGLE_FRAME and verdict.harmful
    window.session.raw = fwd
    window.session.raw_changed.emit(fwd)
    window.session.denoised_changed.emit(single)
    assert panel.verdict_label.text().startswith("Checked. model output (single frame)")
    assert window.views.den.plot.titleLabel.text.endswith("(single frame)")
    window.session.denoised_changed.emit(None)
    assert panel.verdict_label.text() == ""
    assert math.isfinite(good.steps[-1].params["model_fidelity"]["overall"]["error"])


def _looks_for_single() -> tuple[Scan, Scan, np.ndarray]:
    """Lone bumps on a flat field (tests/test_single_frame_choice.py's scene)."""
    rng = np.random.default_rng(3)
    s = np.zeros((160, 160))
    for y, x in rng.integers(20, 140, size=(4, 2)):
        s[y, x] = 400.0
    s = ndimage.gaussian_filter(s, 2.5)
    fwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="forward")
    bwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="backward")
    return fwd, bwd, s


def test_model_tooltip_shows_architecture_and_pixel_size(window) -> None:  # type: ignore[no-untyped-def]
    """The model box tooltip comes from the one config.json reader (it used wrong keys before)."""
    from stmdenoise.gui.tasks import list_models, model_pixel_size, model_summary

    models = list_models()
    assert models
    text = model_summary(models[0])
    assert "ngf=" in text and "blocks=" in text and "pixel size=0.1406 nm" in text
    assert model_pixel_size(models[0]) == pytest.approx(1.40625e-10)
    assert window.denoise_panel.model_box.itemData(0, 3) == text
