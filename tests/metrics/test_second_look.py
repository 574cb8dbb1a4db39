"""The negated other direction as the second look of a feedback-error current."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from stmdenoise.denoise import two_direction_denoise
from stmdenoise.metrics.second_look import negated_look
from stmdenoise.safety import FEEDBACK_ERROR_CAVEAT, judge
from stmdenoise.scan import Scan

PX = 0.1e-9
ON = {"Z-Controller>Controller status": "ON"}


def _error_images(flip: bool, n: int = 160, seed: int = 0) -> tuple[Scan, Scan, np.ndarray]:
    """A feedback-error current: the slope of a surface, with its sign flipped in the backward
    frame when ``flip`` (what the feedback lag does), plus independent noise."""
    rng = np.random.default_rng(seed)
    z = ndimage.gaussian_filter(rng.normal(size=(n, n)), 4) * 100
    err = np.gradient(z, axis=1)
    noise = 0.3 * float(np.std(err))
    f = 100 + err + noise * rng.normal(size=err.shape)
    b = 100 + (-err if flip else err) + noise * rng.normal(size=err.shape)
    fwd = Scan(1e-12 * f, pixel_size=(PX, PX), channel="Current", unit="A", header=ON)
    return fwd, fwd.with_data(1e-12 * b, direction="backward"), 1e-12 * (100 + err)


def test_the_flipped_error_image_is_found_and_the_unflipped_one_is_not() -> None:
    fwd, bwd, _ = _error_images(flip=True)
    found = negated_look(fwd, bwd)
    assert found is not None and found[2] > 0.95
    offset, look, _ = found
    assert max(abs(offset[0]), abs(offset[1])) < 0.5 and look.direction == "backward"
    same_fwd, same_bwd, _ = _error_images(flip=False)
    assert negated_look(same_fwd, same_bwd) is None


def test_the_judge_measures_a_feedback_error_current_against_the_negated_frame() -> None:
    fwd, bwd, truth = _error_images(flip=True)
    good = fwd.with_data(truth)
    _, v = judge(fwd, good, bwd)
    assert v.model is not None and FEEDBACK_ERROR_CAVEAT not in v.notices
    assert any("judged against the backward current negated" in n for n in v.notices)
    assert v.delivered == "model" and v.model.overall.error < 0.3
    # where the other direction, negated, is no second look, nothing is judged (as before)
    ufwd, ubwd, _ = _error_images(flip=False)
    _, u = judge(ufwd, ufwd.with_data(truth), ubwd)
    assert u.model is None and FEEDBACK_ERROR_CAVEAT in u.notices


def test_the_two_direction_filter_measures_the_noise_from_the_negated_frame() -> None:
    fwd, bwd, truth = _error_images(flip=True)
    out = two_direction_denoise(fwd, bwd)
    raw_err = float(np.mean((np.asarray(fwd.data) - truth) ** 2))
    assert float(np.mean((out - truth) ** 2)) < 0.5 * raw_err


@pytest.mark.realdata
def test_five_constant_current_files_have_a_negated_second_look(shared_dir: Path) -> None:
    """bench/feedback_error.py, second table: the Createc and four Nanonis constant-current
    currents; pySPM_test's current (feedback on) does not, nor any constant-height current."""
    from stmdenoise.io.feedback import feedback_error_channel
    from stmdenoise.training.real_fidelity import two_direction_frames

    real = shared_dir / "realdata"
    expected = {
        "createc_scan_step_20nm.dat": True,
        "CO_img_0050.sxm": True,
        "STM_nanonis_generic_4_5.sxm": True,
        "TR_img_0249.sxm": True,
        "img_0071.sxm": True,
        "pySPM_test.sxm": False,
        "A151216.123306-02602.sxm": False,
    }
    for name, found in expected.items():
        path = next(real.rglob(name))
        [(_, fwd, bwd)] = two_direction_frames(path, ["Current"])
        assert feedback_error_channel(fwd) or not found
        assert (negated_look(fwd, bwd) is not None) is found, name


def test_gain_training_can_take_the_negated_frame_as_the_target() -> None:
    """train-gain --negate-feedback-error: the Noise2Noise target of a feedback-error current is its
    other direction negated (the training pairs then agree: positive cross-power), not as stored."""
    from stmdenoise.model.spectral_gain import BASE_ONLY
    from stmdenoise.training.spectral_gain import real_examples

    fwd, bwd, _ = _error_images(flip=True, n=128)

    def agreement(negate: bool) -> float:
        [(_, ex)] = real_examples([("x", fwd, bwd)], BASE_ONLY, negate_feedback_error=negate)
        x, t = ex["X"].numpy(), ex["T"].numpy()
        return float((x * t).sum() / np.sqrt((x**2).sum() * (t**2).sum()))

    negated, stored = agreement(True), agreement(False)
    # as stored, registration can only find a shift where the flipped image half agrees
    assert negated > 0.8 and negated > stored + 0.3, (negated, stored)


def test_one_denoise_registers_the_pair_once_and_a_new_pair_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan, the two-direction Wiener and the judge all ask second_look about the same two
    scans; the offset is measured once. Scans equal in data but other objects are measured again."""
    import dataclasses

    import stmdenoise.metrics.second_look as sl
    from stmdenoise.denoise import Denoiser, default_model_dir

    calls: list[int] = []
    real = sl.register_frames

    def counted(*args: object, **kwargs: object) -> tuple[float, float]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sl, "register_frames", counted)
    fwd, bwd, _ = _error_images(flip=True)
    checked = Denoiser.from_folder(default_model_dir()).denoise_checked(fwd, partner=bwd)
    assert checked.verdict.model is not None  # judged against the negated look
    assert checked.model is not None
    assert checked.model.steps[-1].params.get("noise_from") == "backward"
    assert len(calls) == 1
    first = sl.second_look(fwd, bwd)
    assert len(calls) == 1 and first is not None
    again = sl.second_look(dataclasses.replace(fwd), dataclasses.replace(bwd))
    assert len(calls) == 2 and again is not None and again[0] == first[0]
    # the remembered answer rebuilds the same negated look (equal data, no image kept alive)
    np.testing.assert_array_equal(np.asarray(first[1].data), np.asarray(negated_look(fwd, bwd)[1].data))  # type: ignore[index]


def test_the_memo_is_bounded_and_keeps_no_scan_alive() -> None:
    import gc
    import weakref

    import stmdenoise.metrics.second_look as sl

    fwd, bwd, _ = _error_images(flip=False, n=96)
    plain = [
        (fwd.with_data(np.asarray(fwd.data) + k), bwd.with_data(np.asarray(bwd.data) + k)) for k in range(6)
    ]
    for a, b in plain:
        sl.second_look(a, b)
    assert len(sl._memo) <= sl.MEMO_SIZE
    gone = weakref.ref(plain[-1][1])
    del plain, a, b, bwd
    gc.collect()
    assert gone() is None
