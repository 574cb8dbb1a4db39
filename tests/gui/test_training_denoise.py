"""Train a tiny model from the panel, register it, denoise and score with it; cancel and responsiveness."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from stmdenoise.gui.tasks import BRISQUE_ROW, PIQE_ROW, user_models_dir
from tests.gui.conftest import file_mime, wait_idle
from tests.training.conftest import TINY_SIZES

pytest.importorskip("torch")
pytestmark = pytest.mark.realdata

# small enough for a shared 2-core CI machine: the sizes of tests/training
TINY = dict(**TINY_SIZES, preview_every=2, checkpoint_every=0)


def _real_folder(realdata_dir: Path, tmp_path: Path) -> Path:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.sxm").symlink_to(realdata_dir / "nanonis" / "img_0071.sxm")
    return real


def _setup(panel, real: Path, *, steps: int, name: str) -> None:  # type: ignore[no-untyped-def]
    panel.real_edit.setText(str(real))
    panel.steps_box.setValue(steps)
    panel.crop_box.setValue(32)
    panel.batch_box.setValue(2)
    panel.device_box.setCurrentIndex(1)  # CPU
    panel.name_edit.setText(name)


def test_train_register_denoise_and_score(qtbot, window, realdata_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = window.training
    _setup(panel, _real_folder(realdata_dir, tmp_path), steps=4, name="gui-tiny")
    request = panel.request(**TINY)
    assert Path(request.run.out) == user_models_dir() / "gui-tiny" and request.run.device == "cpu"
    with qtbot.waitSignal(panel.model_registered, timeout=240000) as signal:
        assert panel.start(request)
    wait_idle(qtbot, window)
    model_dir = Path(signal.args[0])
    assert model_dir == Path(request.run.out) and (model_dir / "config.json").is_file()
    # live feedback arrived: loss curves, progress, a preview of the domain-adapted generator
    assert panel.progress.value() == 4 and panel.curves
    assert any(c.getData()[0] is not None and len(c.getData()[0]) >= 2 for c in panel.curves.values())
    assert panel.preview_items[1].image is not None
    # the new model is offered for denoising, next to nothing else (no model is shipped yet)
    window.denoise_panel.auto_box.setChecked(True)
    assert window.denoise_panel.select_model("gui-tiny")
    assert window.session.model is not None and window.session.model.origin == "user"

    # a 1.5 nm atomic-resolution scan would be shrunk 9x onto the model's grid: the model is not
    # run, and the panel says so before and after; no Gaussian picked against the backward frame
    # keeps its atomic lattice (all signal), so the raw scan is shown
    idle = window.denoise_panel
    refused = dict(timeout=120000, check_params_cb=lambda m: "showing the raw scan" in m)
    with qtbot.waitSignal(window.session.denoise_status, **refused):
        window.scan_list.drop_mime(file_mime([realdata_dir / "nanonis" / "img_0071.sxm"]))
    wait_idle(qtbot, window)
    fallback = window.session.denoised
    assert fallback is not None and fallback.steps[-1].name == "do_no_harm"
    assert fallback.steps[-1].params["delivered"] == "raw"
    verdict = idle.verdict_label.text()
    assert "model not run" in verdict and "shrunk 9" in verdict
    assert "estimated error" in verdict
    window.session.denoised_changed.emit(None)  # before a run, the plan says the same
    idle._show_plan()
    assert "Model not run" in idle.plan_label.text() and "shrunk 9" in idle.plan_label.text()
    window.session.denoised_changed.emit(fallback)
    assert idle.progress.maximum() > 0 and not idle.cancel_button.isEnabled()  # no busy bar left
    # the example scan is on the model's grid; this 4-step model is judged harmful against the
    # backward frame, so the fallback is shown unless the user asks to see the model's output
    assert idle.policy_box.currentData() == "fallback"
    idle.policy_box.setCurrentIndex(1)
    assert window.session.policy == "warn"
    example = Path(__file__).resolve().parents[2] / "resources" / "examples" / "cu111_simulated_typical.sxm"
    window.scan_list.drop_mime(file_mime([example]))
    qtbot.waitUntil(
        lambda: window.session.raw is not None and window.session.raw.source == example, timeout=60000
    )
    qtbot.waitUntil(lambda: window.session.denoised is not None, timeout=120000)
    wait_idle(qtbot, window)
    assert idle.progress.maximum() > 0 and not idle.cancel_button.isEnabled()
    assert "enlarged 1.004x" in idle.plan_label.text() and "not run" not in idle.plan_label.text()
    raw, den = window.session.raw, window.session.denoised
    assert den.steps[-1].params["delivered"] == "model", den.steps[-1].params
    assert den.shape == raw.shape and den.unit == raw.unit and den.pixel_size == raw.pixel_size
    assert not np.array_equal(den.data, raw.data, equal_nan=True)
    np.testing.assert_allclose(window.views.diff.image.image, raw.data - den.data)
    assert len(window.views.den_curve.getData()[1]) > 10
    # cached per scan/channel/model: showing it again starts no job
    assert window.session.result_key() in window.session.results
    window.session.select(1)
    assert not window.session.pool.busy and window.session.denoised is den
    # four mirrored passes: a result of its own; back to one pass shows the cached one, no job
    idle.passes_box.setCurrentIndex(2)
    assert window.session.passes == 4 and window.session.result_key().passes == 4

    def four_passes() -> bool:
        d = window.session.denoised
        return d is not None and any(st.name == "denoise" and st.params.get("passes") == 4 for st in d.steps)

    qtbot.waitUntil(four_passes, timeout=120000)
    wait_idle(qtbot, window)
    assert np.nanmax(np.abs(window.session.denoised.data - den.data)) > 1e-4 * np.nanmax(np.abs(den.data))
    idle.passes_box.setCurrentIndex(0)
    assert not window.session.pool.busy and window.session.denoised is den

    # scores for raw and denoised, computed in the background
    def scored() -> bool:
        s = window.quality.scores
        return BRISQUE_ROW in s and PIQE_ROW in s and not math.isnan(s[BRISQUE_ROW][1])

    qtbot.waitUntil(scored, timeout=120000)
    wait_idle(qtbot, window)
    scores = window.quality.scores
    for name in (BRISQUE_ROW, PIQE_ROW, "Line-artefact index", "Noise floor"):
        raw_v, den_v, _ = scores[name]
        assert math.isfinite(raw_v) and math.isfinite(den_v), name
    assert "photographs" in window.quality.explain.text()


def test_event_loop_answers_while_training_and_cancel_keeps_a_checkpoint(
    qtbot, window, realdata_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.training.checkpoint import checkpoint_exists

    panel = window.training
    _setup(panel, _real_folder(realdata_dir, tmp_path), steps=100000, name="gui-cancel")
    request = panel.request(**TINY)
    assert panel.start(request)
    qtbot.waitUntil(lambda: sum(1 for r in panel.records if getattr(r, "losses", None)) >= 2, timeout=240000)
    # the GUI thread keeps processing events while the job runs: a 10 ms timer keeps firing and
    # the worker's records keep arriving (how long the loop stalls is measured by bench/bench_gui.py)
    ticks = [0]

    def tick() -> None:
        ticks[0] += 1

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    before = len(panel.records)
    qtbot.waitUntil(lambda: len(panel.records) >= before + 2 and ticks[0] >= 20, timeout=240000)
    timer.stop()
    assert "train" in window.session.pool.names()  # still training while we watched
    panel.cancel()
    wait_idle(qtbot, window, timeout=120000)
    assert panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert checkpoint_exists(request.run.out)
    assert panel.progress.value() < 100000
    assert panel.records[-1].cancelled and panel.result.cancelled
    assert panel.status.text().startswith("cancelled at step")
