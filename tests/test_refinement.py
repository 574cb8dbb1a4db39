"""Candidate EN: the judge refines the model's output by total variation where the second look says so.

Total variation of the model's output, at weights in units of the *raw* scan's noise level
(:func:`stmdenoise.refine.refinements`), takes the output's place where it is estimated closer
beyond twice the paired standard error and harms no band with signal, measured or predicted
(:func:`stmdenoise.refine.best_refinement`), under the ``fallback`` and ``refuse`` policies only
(docs/model-selection.md, candidate EN); where that changes what is delivered, only if it keeps what
would be delivered otherwise (:func:`stmdenoise.refine.keeps_what_it_displaces`, candidate EO).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

import stmdenoise.fallback as fb
import stmdenoise.refine as rf
from stmdenoise.gui.view_parts import denoised_title
from stmdenoise.processing.smoothing import tv_smooth
from stmdenoise.quality_rows import verdict_rows
from stmdenoise.safety import judge
from stmdenoise.scan import Scan

PX = 1e-10


def _flat_with_bumps(seed: int = 4, n: int = 160) -> tuple[Scan, Scan, np.ndarray]:
    """Four lone bumps on a flat field, two looks with their own white noise."""
    rng = np.random.default_rng(seed)
    s = np.zeros((n, n))
    for y, x in rng.integers(20, n - 20, size=(4, 2)):
        s[y, x] = 1000.0
    s = ndimage.gaussian_filter(s, 4.0)
    fwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="forward")
    bwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="backward")
    return fwd, bwd, s


def _error(a: object, s: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, dtype=np.float64) - s) ** 2))


def test_a_model_output_that_keeps_noise_is_delivered_refined_and_closer() -> None:
    fwd, bwd, s = _flat_with_bumps()
    model = fwd.with_data(s + 0.1 * (fwd.data - s))  # keeps 10 % of the noise on a flat field
    out, v = judge(fwd, model, bwd)
    assert v.delivered == "model" and v.harmful is False and v.refined is not None
    assert v.delivered_label == f"model + {v.refined.name}" and v.refined.name.startswith("total variation")
    assert _error(out.data, s) < 0.3 * _error(model.data, s)  # truth: far closer
    assert v.model is not None and v.model.overall.error < v.refined.unrefined.overall.error
    assert v.refined.gap.difference < -2 * v.refined.gap.se
    # the record says so: summary, provenance, the view's title, the step that made it
    assert v.summary().startswith(f"model output, then {v.refined.name}")
    assert "applied to the model's output" in v.reason
    rec = out.steps[-1].params
    assert rec["refined"]["name"] == v.refined.name and rec["refined"]["difference"] < 0
    assert rec["delivered_fidelity"]["overall"]["error"] == pytest.approx(v.model.overall.error)
    assert denoised_title(out, "cu111-default") == f"Denoised — cu111-default + {v.refined.name}"
    assert all(f"delivered: model + {v.refined.name}" in note for *_, note in verdict_rows(rec))
    made = out.steps[-2]
    assert (
        made.name == "tv_refine"
        and made.params["noise_of"] == "raw"
        and made.params["bregman_iterations"] == 1
    )


def test_warn_and_off_deliver_the_model_output_as_it_is() -> None:
    fwd, bwd, s = _flat_with_bumps()
    model = fwd.with_data(s + 0.1 * (fwd.data - s))
    for policy in ("warn", "off"):
        out, v = judge(fwd, model, bwd, policy=policy)
        assert v.refined is None and np.array_equal(out.data, model.data)
    # no second look: nothing to choose a weight by
    out, v = judge(fwd, model, None)
    assert v.refined is None and np.array_equal(out.data, model.data)


def test_no_refinement_of_a_lattice_that_total_variation_would_flatten() -> None:
    """A hexagonal lattice of 7 Å (at 1 Å/px) under white noise, the model's output a mild
    Gaussian: every total variation of it takes lattice with the noise; none is delivered."""
    rng = np.random.default_rng(3)
    n = 160
    y, x = np.mgrid[0:n, 0:n].astype(float)
    k = 2 * np.pi / 7.0
    s = sum(np.cos(k * (x * np.cos(a) + y * np.sin(a))) for a in (0.2, 0.2 + np.pi / 3, 0.2 + 2 * np.pi / 3))
    s = np.asarray(s) * 3.0
    fwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="forward")
    bwd = Scan(s + rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="backward")
    model = fwd.with_data(ndimage.gaussian_filter(np.asarray(fwd.data), 0.7))
    _, v = judge(fwd, model, bwd)
    assert v.refined is None
    # the heaviest would flatten it
    assert _error(rf.bregman_tv(model, fwd, rf.REFINE_TV_WEIGHTS[-1]).data, s) > _error(model.data, s)


def test_a_scan_over_the_total_variation_budget_gets_no_refinement(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fwd, bwd, s = _flat_with_bumps()
    model = fwd.with_data(s + 0.1 * (fwd.data - s))
    monkeypatch.setattr(fb, "TV_MAX_PIXELS", fwd.data.size - 1)
    assert rf.refinements(fwd, model) == []
    _, v = judge(fwd, model, bwd)
    assert v.refined is None


def test_tv_smooth_with_the_data_as_its_own_unit_is_tv_smooth() -> None:
    fwd, _, _ = _flat_with_bumps()
    same = tv_smooth(fwd, 2.0, noise_of=fwd.with_data(np.asarray(fwd.data).copy()))
    assert np.array_equal(same.data, tv_smooth(fwd, 2.0).data)
    with pytest.raises(ValueError, match=r"noise_of has shape \(10, 10\), data \(160, 160\)"):
        tv_smooth(fwd, 2.0, noise_of=np.zeros((10, 10)))
    # in the raw scan's units the weight does far more to an output that holds less noise
    quiet = fwd.with_data(ndimage.gaussian_filter(np.asarray(fwd.data), 1.0))
    own = np.asarray(tv_smooth(quiet, 4.0).data)
    raw_units = np.asarray(tv_smooth(quiet, 4.0, noise_of=fwd).data)
    assert np.std(raw_units - np.asarray(quiet.data)) > 2 * np.std(own - np.asarray(quiet.data))


def test_the_total_variations_run_in_threads_give_what_one_thread_gives(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fallbacks' and the refinements' total variations run on one thread per core
    (``fallback.in_threads``); the judge's choice and output are the same to the bit on one."""
    fwd, bwd, s = _flat_with_bumps()
    model = fwd.with_data(s + 0.1 * (fwd.data - s))
    many, v_many = judge(fwd, model, bwd)
    monkeypatch.setattr(fb.os, "cpu_count", lambda: 1)
    one, v_one = judge(fwd, model, bwd)
    assert np.array_equal(many.data, one.data) and v_many.reason == v_one.reason
    assert fb.in_threads(lambda w: fwd.with_data(np.full((2, 2), w)), [3.0, 1.0])[0].data[0, 0] == 3.0


def _weak_moire(seed: int = 5, n: int = 160) -> tuple[Scan, Scan, np.ndarray]:
    """A weak hexagonal moiré of 30 Å (at 1 Å/px) under white noise five times its amplitude."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:n, 0:n].astype(float)
    k = 2 * np.pi / 30.0
    s = 0.3 * sum(
        np.cos(k * (x * np.cos(a) + y * np.sin(a))) for a in (0.1, 0.1 + np.pi / 3, 0.1 + 2 * np.pi / 3)
    )
    s = np.asarray(s)
    fwd = Scan(s + 1.5 * rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="forward")
    bwd = Scan(s + 1.5 * rng.normal(size=s.shape), pixel_size=(PX, PX), channel="Z", direction="backward")
    return fwd, bwd, s


def _kept_of_truth(out: object, s: np.ndarray) -> float:
    """The least-squares factor of ``out`` on the truth (1: the moiré's amplitude kept)."""
    a = np.asarray(out, dtype=np.float64)
    return float(np.sum((a - a.mean()) * s) / np.sum(s * s))


def test_a_refinement_that_would_displace_a_fallback_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Candidates EO and EO2: the model's output took a quarter of the moiré's amplitude and kept
    half the noise, so a Gaussian fallback is delivered; total variation of the output removes the
    noise and is estimated closer than that Gaussian, but it would deliver three quarters of the
    moiré where the Gaussian keeps more. The refinement never changes the judge's choice (EO2),
    and the second look sees the signal it would lose besides (EO): the Gaussian stays."""
    from stmdenoise import safety
    from stmdenoise.fallback import raw_bands
    from stmdenoise.metrics.fidelity import PairedLooks

    fwd, bwd, s = _weak_moire()
    model = fwd.with_data(0.75 * s + 0.5 * (fwd.data - s))
    out, v = judge(fwd, model, bwd)
    assert v.refined is None and v.delivered.startswith("gaussian") and v.harmful is True
    # the choice rule alone refuses it
    monkeypatch.setattr(safety, "keeps_what_it_displaces", lambda *a: True)
    _, v_choice_only = judge(fwd, model, bwd)
    assert v_choice_only.refined is None and v_choice_only.delivered == v.delivered
    # without either (EN2) the refinement would take the Gaussian's place, keeping less of the truth
    monkeypatch.setattr(safety, "_delivers", lambda *a: True)
    out_en2, v_en2 = judge(fwd, model, bwd)
    assert v_en2.refined is not None and v_en2.delivered == "model"
    assert _kept_of_truth(out_en2.data, s) < _kept_of_truth(out.data, s) - 0.03  # the truth: it keeps less
    assert _kept_of_truth(out.data, s) > 0.8
    # and the kept test alone sees it against the Gaussian
    monkeypatch.undo()
    paired = PairedLooks([out_en2, out], fwd, bwd, bands=raw_bands(fwd))
    assert not rf.keeps_what_it_displaces(paired, paired.reports(), 0, 1)


def test_the_kept_test_against_what_would_be_delivered_otherwise() -> None:
    """``keeps_what_it_displaces`` on one prepared pair: an output is kept against itself; one that
    keeps 0.85 of a lone strong bump against one that keeps it whole is refused (0.15 less, beyond
    0.02 and twice the SE); one that keeps 0.99 is not (within 0.02)."""
    from stmdenoise.fallback import raw_bands
    from stmdenoise.metrics.fidelity import PairedLooks

    fwd, bwd, s = _flat_with_bumps()
    whole = fwd.with_data(s)
    outs = [whole, fwd.with_data(0.85 * s), fwd.with_data(0.99 * s)]
    paired = PairedLooks(outs, fwd, bwd, bands=raw_bands(fwd))
    reps = paired.reports()
    assert rf.keeps_what_it_displaces(paired, reps, 0, 0)
    assert not rf.keeps_what_it_displaces(paired, reps, 1, 0)
    assert rf.keeps_what_it_displaces(paired, reps, 2, 0)
    d = paired.kept_difference(1, 0)[-1]
    assert -0.2 < d.difference < -0.1 and 0 < d.se < 0.01
