"""Do no harm: what the network will do to a scan before it runs, and whether to deliver its output.

Two decisions live here, both numpy-only (the GUI calls them without loading torch):

:func:`plan_denoise` (from :mod:`stmdenoise.plan`, re-exported here)
    The working grid: the network works at its model's pixel size, so a scan is resampled
    first (unless its pixel sides lie in the model's native range: then its own grid). The
    plan says by how much, how many pixels that makes, roughly how long it takes,
    and refuses what the model cannot serve faithfully: enlarging or shrinking by more than
    :data:`MAX_ZOOM` (a 195 pm/px scan blown up 14x, a 22 pm/px scan shrunk 6x), fewer than
    :data:`MIN_MODEL_PIXELS` per side, more than :data:`MAX_WORK_PIXELS` in all.

:func:`judge`
    The do-no-harm policy. When the scan has a second look at the same area (the backward
    frame of every Nanonis and Createc scan), the model's output is scored against it with
    :func:`stmdenoise.metrics.fidelity.pair_fidelity`, beside a conservative classical filter
    (a Gaussian whose width is picked from :data:`FALLBACK_SIGMAS`, or a total variation whose
    weight is picked from :data:`~stmdenoise.fallback.FALLBACK_TV_WEIGHTS`, by the same estimate,
    the raw scan included as width 0). The model is *harmful* when its estimated error is above the
    raw scan's, above the classical filter's, or above the raw scan's in any band that holds
    signal (by more than two standard errors). What is delivered then depends on the policy:

    ``fallback`` (default)
        deliver the classical filter's output (or the raw scan, when no width beats it). Where
        the model's output came from both looks (the two-direction Wiener), the model's output
        from the frame alone (the single-frame gain) is weighed too: delivered
        (:data:`SINGLE_FRAME`) when it is not harmful and its estimated error is lower than what
        would be delivered otherwise beyond twice the paired standard error (a flat field with a
        few lone features, where one gain for the whole frame does worse; docs/model-selection.md,
        candidate DH);
    ``warn``
        deliver the model's output, marked harmful, with the figures;
    ``refuse``
        deliver nothing: :class:`HarmError` with the figures;
    ``off``
        deliver the model's output unchecked.

    Under ``fallback`` and ``refuse``, where the model's output is what would be delivered, it may
    be *refined*: one Bregman iteration of total variation of it at 4 to 32 times the raw scan's
    noise level (:func:`stmdenoise.refine.refinements`) takes its place where it is estimated
    closer beyond twice the paired standard error, harms no band with signal, measured or
    predicted from its realised transfer, keeps the strong features' heights as the model's output
    does (:func:`stmdenoise.refine.best_refinement`), would itself be delivered (it never changes
    the choice between the model's output, the single-frame output and the fallbacks) and keeps
    the output's signal (:func:`stmdenoise.refine.keeps_what_it_displaces`): a flat terrace with a
    few defects or a smooth moiré, where the two-direction Wiener's one gain per tile leaves noise
    (docs/model-selection.md, candidates EN to EO2). The verdict names it (:attr:`Verdict.refined`).

    Under ``fallback`` and ``refuse``, whatever is then delivered other than the raw scan is
    compared with the raw scan against the same look by the paired difference, band by band,
    outside the shared column of the spectrum (:func:`stmdenoise.fallback.above_raw`: slow noise
    along the lines, which trace and retrace record alike, reads as surface there); in each band
    with signal where it is above beyond twice the paired SE, the raw scan's content of that band
    is put back (:func:`stmdenoise.fallback.restore_bands`) and the verdict names the band, with
    the repaired output's figures as what was delivered (docs/model-selection.md, candidate DL).

    Without a second look the error cannot be measured: the model's output is delivered with
    out-of-domain notices (resampling factor, residual that follows the image's structure,
    residual far above the noise floor) that say why it may not be trusted, unless, at the peaks
    of a hexagonal, square or rectangular lattice the scan shows (:mod:`stmdenoise.metrics.lattice`:
    periodic structure pixel noise cannot make), it is further from the surface than the raw
    scan, or resampling would erase periodic detail; then it is harmful and the policy applies
    (``fallback``: the raw scan). When the plan
    refused the model, the raw scan (or, with a second look, the classical filter) is delivered
    with the reason.

    A current recorded with the Z feedback on (:func:`stmdenoise.io.feedback.feedback_error_channel`)
    is the feedback error, whose sign flips with the scan direction: it is judged against the
    other direction negated when that agrees with it
    (:func:`stmdenoise.metrics.second_look.negated_look`), and otherwise the other direction is
    not used as a second look at all (no classical filter is picked by an estimate that would
    reward blurring the signal away); the verdict says which.

    Whatever is delivered (unless the policy is ``off``), the verdict says where it keeps less than
    99 % of the features standing far above the noise (:mod:`stmdenoise.metrics.heights`): heights
    measured on it read low.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from stmdenoise.fallback import (
    FALLBACK_SIGMAS,
    Restored,
    above_raw,
    band_reasons,
    best_fallback,
    fallbacks,
    harmful_bands,
    plus_minus,
    raw_bands,
    restore_bands,
)
from stmdenoise.io.feedback import feedback_error_channel
from stmdenoise.metrics._input import NotScorableError
from stmdenoise.metrics.contrast import CONTRAST_NOTICE, contrast_of
from stmdenoise.metrics.fidelity import (
    FIDELITY_CAVEAT,
    ErrorDifference,
    FidelityReport,
    PairedLooks,
)
from stmdenoise.metrics.heights import StrongContrast, notice_for, strong_contrast
from stmdenoise.metrics.noise_share import (
    UNEQUAL_LOOKS_NOTICE,
    UNEQUAL_NOISE,
    fine_power_ratio,
)
from stmdenoise.metrics.registration import halves_offsets
from stmdenoise.metrics.scars import scars_of
from stmdenoise.metrics.seams import Seam, seams_of
from stmdenoise.metrics.second_look import FEEDBACK_ERROR_CAVEAT, FOLLOW_STEP, second_look
from stmdenoise.metrics.uneven import LEVEL_STRIP, STRIP, UNEVEN_NOTICE, uneven_noise
from stmdenoise.plan import (
    MAX_WORK_PIXELS,
    MAX_ZOOM,
    MIN_MODEL_PIXELS,
    DenoisePlan,
    periodic_detail_lost,
    plan_denoise,
)
from stmdenoise.refine import (
    REFINE_TV_WEIGHTS,
    Refined,
    best_refinement,
    keeps_what_it_displaces,
    refinement_name,
    refinements,
)
from stmdenoise.scan import ProcessingStep, Scan
from stmdenoise.single_frame import (
    NO_PARTNER_HINT,
    NO_SECOND_LOOK_NOTICE,
    residual_notices,
    single_frame_harm,
)
from stmdenoise.verdict import POLICIES, SINGLE_FRAME, HarmError, Verdict

__all__ = [
    "FALLBACK_SIGMAS",
    "FEEDBACK_ERROR_CAVEAT",
    "HarmError",
    "MAX_WORK_PIXELS",
    "MAX_ZOOM",
    "MIN_MODEL_PIXELS",
    "POLICIES",
    "SINGLE_FRAME",
    "DenoisePlan",
    "Verdict",
    "harmful_bands",
    "judge",
    "partner_of",
    "periodic_detail_lost",
    "plan_denoise",
]


def partner_of(scan: Scan, frames: Sequence[Scan]) -> Scan | None:
    """The other scan direction of ``scan``'s channel among ``frames`` (same shape), or None."""
    for f in frames:
        if (
            f is not scan
            and f.channel == scan.channel
            and f.direction != scan.direction
            and f.shape == scan.shape
            and f.source == scan.source
        ):
            return f
    return None


def _gap_words(gap: ErrorDifference | None, fallback_name: str) -> str:
    """How far the model's output and the fallback are apart, in words with the figures ("" when
    unmeasured): the difference and twice its paired standard error, within or beyond them."""
    if gap is None or not (math.isfinite(gap.difference) and math.isfinite(gap.se)):
        return ""
    apart = "beyond" if abs(gap.difference) > 2 * gap.se else "within"
    difference, two_se = plus_minus(gap.difference, 2 * gap.se, 2, sign=True)
    return (
        f"; model minus {fallback_name}: {difference} ± {two_se}, {apart} "
        "what this scan's second look can resolve"
    )


def _harm_reasons(model: FidelityReport, fallback: FidelityReport, fallback_name: str) -> list[str]:
    reasons = []
    e = model.overall.error
    if e > 1.0:
        reasons.append(f"its estimated error is {e:.2f}x the raw scan's")
    elif e > fallback.overall.error and fallback_name != "raw":
        fb = fallback.overall.error
        reasons.append(f"its estimated error ({e:.2f}x raw) is above {fallback_name}'s ({fb:.2f}x)")
    return reasons + band_reasons(model)


def _single_frame_chosen(
    paired: PairedLooks, reps: list[FidelityReport], m: int, s: int, k: int, harmful: bool, fallback_name: str
) -> str | None:
    """Whether to deliver the model's single-frame output (``reps[s]``) instead of what would
    be delivered otherwise (the model's output ``m``, refined or not, or the fallback ``k`` where
    ``harmful``): when it is not harmful itself and its estimated error is lower beyond twice the
    paired standard error (docs/model-selection.md, candidate DH). Returns the reason, else None."""
    rep_single = reps[s]
    if not math.isfinite(rep_single.overall.error) or _harm_reasons(rep_single, reps[k], fallback_name):
        return None
    current, what = (k, fallback_name) if harmful else (m, "the two-direction output")
    if harmful and fallback_name == "raw":
        what = "the raw scan"
    gap = paired.difference(s, current)[-1]
    if not (math.isfinite(gap.difference) and math.isfinite(gap.se) and gap.difference < -2.0 * gap.se):
        return None
    why = (
        f"the model's single-frame output delivered: estimated error {rep_single.overall.error:.2f}x raw, "
        f"lower than {what}'s ({reps[current].overall.error:.2f}x) by {-gap.difference:.3f} "
        f"± {2 * gap.se:.3f} (twice the paired standard error)"
    )
    if harmful:
        why += f"; the two-direction output ({reps[m].overall.error:.2f}x) was harmful"
    return (
        why + ". The two-direction filter measures the noise from the other direction but applies one "
        "gain to the whole frame; the single-frame gain adapts to each part of it"
    )


def _delivers(
    paired: PairedLooks, reps: list[FidelityReport], i: int, k: int, fallback_name: str, s: int | None
) -> bool:
    """Whether the judge would deliver output ``i`` as the model's output (before restoring bands):
    not harmful against the fallback ``k``, and the single-frame output ``s`` (where weighed) not
    chosen over it. A refinement of the model's output is made only where the model's output is
    delivered, and kept only where it would be delivered itself: it never changes the choice
    between the model's output, the single-frame output and the fallbacks; every failure of the
    refinement on the constructed runs was such a change (docs/model-selection.md, candidates EN2,
    EN3, EO and EO2)."""
    if _harm_reasons(reps[i], reps[k], fallback_name):
        return False  # a fallback would be delivered
    return s is None or _single_frame_chosen(paired, reps, i, s, k, False, fallback_name) is None


def _judge(
    raw: Scan,
    model_out: Scan | None,
    partner: Scan | None,
    *,
    policy: str = "fallback",
    plan: DenoisePlan | None = None,
    alternative: Scan | None = None,
) -> tuple[Scan, Verdict]:
    """The policy of :func:`judge`, before the provenance step is attached."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    notices: list[str] = []
    if plan is not None and plan.resampled and plan.runs:
        notices.append(plan.describe())
    if model_out is None:
        reason = plan.refusal if plan is not None and plan.refusal else "the model was not run"
        return _without_model(raw, partner, policy, reason, notices, plan)
    # imported here, not at the top: the app paints its window before anything loads torch
    from stmdenoise.model.two_direction import KIND, describe_step

    made = model_out.steps[-1].params if model_out.steps else {}
    if step_notice := describe_step(made, strip=LEVEL_STRIP):
        notices.append(step_notice)
    if policy == "off":
        return model_out, Verdict(
            policy, "model", None, "not checked (policy off)", tuple(notices), plan=plan
        )
    looks = _second_look(raw, partner, notices)
    if looks is None:
        # on the scan's own grid (native range) nothing is shrunk away
        lost = (
            periodic_detail_lost(raw, plan.model_pixel_size) if plan is not None and not plan.native else None
        )
        if lost is not None and plan is not None:
            why: str | None = (
                f"the scan holds periodic detail of period {lost[0] * 1e10:.3g} Å (a peak {lost[1]:.3g}x its "
                f"ring's median power), finer than the model's grid can hold "
                f"({2 * plan.model_pixel_size * 1e10:.3g} Å at {plan.model_pixel_size * 1e9:.3g} nm/px): "
                "the model would erase it"
            )
            repaired: list[str] = []
        else:
            model_out, why, repaired = single_frame_harm(
                raw, model_out, repair=policy in RESTORING, keep_scales=policy == "fallback"
            )
        if why is not None:
            if policy == "refuse":
                raise HarmError(f"{raw.describe()}: the model's output is refused: {why}")
            if policy == "fallback":
                delivered = _as_fallback(raw, raw, "raw", why)
                return delivered, Verdict(
                    policy, "raw", True, f"model output replaced: {why}", tuple(notices), plan=plan
                )
            notices.append(why)
        notices += repaired
        notices += residual_notices(raw, model_out)
        feedback = partner is not None and feedback_error_channel(raw)  # _second_look said why
        if not feedback:
            notices.append(NO_SECOND_LOOK_NOTICE + (NO_PARTNER_HINT if partner is None else ""))
        why = (
            "not measurable: the other direction differs by the feedback error"
            if feedback
            else ("not measurable without a second look")
        )
        return model_out, Verdict(policy, "model", None, why, tuple(notices), plan=plan)
    offset, partner_scan = looks
    seam_said = ""  # said only where the two-direction output is what is delivered
    scars_kept = ("", "")  # the scar notice for an output that kept them, and the filled one's
    try:
        # the model and every fallback against one prepared pair: reports, then the paired gap
        smoothed = fallbacks(raw)
        # the single-frame output is weighed only where the judge chooses what to deliver (DH)
        single = [alternative] if alternative is not None and policy == "fallback" else []
        outputs = [*smoothed, model_out, *single]
        paired = PairedLooks(outputs, raw, partner_scan, offset=offset, bands=raw_bands(raw))
        reps = paired.reports()
        name, k = best_fallback(smoothed, reps, paired)
        m0 = len(smoothed)  # the model's output; the single-frame output, if any, and the refined after it
        s_i, r0 = m0 + 1, m0 + 1 + len(single)
        s_w = s_i if single else None
        # the model's output refined by total variation, only where that output would be delivered
        # (EO2): made and scored, with everything else again on the same pair, only there
        refined = (
            refinements(raw, model_out)
            if policy in RESTORING and _delivers(paired, reps, m0, k, name, s_w)
            else []
        )
        if refined:
            outputs = [*outputs, *refined]
            paired = PairedLooks(outputs, raw, partner_scan, offset=offset, bands=raw_bands(raw))
            reps = paired.reports()
        chosen = best_refinement(raw, outputs, reps, paired, m0, range(r0, len(outputs)))
        if chosen is not None and not (
            _delivers(paired, reps, chosen, k, name, s_w)
            and keeps_what_it_displaces(paired, reps, chosen, m0)
        ):
            chosen = None  # it would change the judge's choice, or take the output's signal (EO2)
        refinement = None
        m = m0 if chosen is None else chosen  # the model's output as delivered
        if chosen is not None:
            refinement = Refined(
                refinement_name(REFINE_TV_WEIGHTS[chosen - r0]), reps[m0], paired.difference(chosen, m0)[-1]
            )
            model_out = outputs[chosen]
        fb_scan, rep_fb, rep_model = smoothed[k], reps[k], reps[m]
        gap = paired.difference(m, k)[-1]
        mismatch = contrast_of(*paired.transforms())  # the pair as prepared for the reports
        look = f"{partner_scan.direction} frame" + (" (negated)" if feedback_error_channel(raw) else "")
        if mismatch.named:
            notices.append(CONTRAST_NOTICE.format(
                look=look, ratio=mismatch.ratio, coherence=mismatch.coherence, share=mismatch.share,
            ))  # fmt: skip
        unequal = fine_power_ratio(raw.data, partner_scan.data)
        if math.isfinite(unequal) and not 1.0 / UNEQUAL_NOISE <= unequal <= UNEQUAL_NOISE:
            noisier = unequal > 1.0
            notices.append(UNEQUAL_LOOKS_NOTICE.format(
                ratio=unequal, look=look, way="lower" if noisier else "higher",
                below=" (below 0 is possible)" if noisier else " (closer to 1)",
            ))  # fmt: skip
        uneven = uneven_noise(raw, partner_scan, offset) if made.get("generator") == KIND else None
        if uneven is not None and uneven.named:
            notices.append(UNEVEN_NOTICE.format(
                strip=STRIP, look=look, ratio=uneven.ratio, first=uneven.rows[0], last=uneven.rows[1] - 1,
                share=uneven.share,
            ))  # fmt: skip
        band = made.get("band_rows") if made.get("generator") == KIND else None
        if isinstance(band, int) and band > 0 and (seams := seams_of(raw.data, model_out.data, band)):
            seam_said = Seam.notice(seams, band)  # a step at a band boundary is the filter's
            notices.append(seam_said)
        halves = halves_offsets(raw.data, partner_scan.data, offset)
        if halves is not None and halves.named:  # the look does not sit at one offset
            notices.append(halves.notice(look))
        if not feedback_error_channel(raw):  # a feedback-error current's look is no second look at it
            scars = scars_of(raw.data, partner_scan.data, offset)
            if scars.count:  # what the output keeps that the other direction shows is not there
                filled = int(made.get("scars_filled", 0))
                notices.append(scars.notice(look, filled))
                if filled:  # said of another output than the two-direction one: it keeps them
                    scars_kept = (scars.notice(look, 0), notices[-1])
    except (NotScorableError, ValueError) as exc:
        notices.append(f"fidelity not measurable: {exc}")
        return model_out, Verdict(policy, "model", None, "not measurable", tuple(notices), plan=plan)
    if not math.isfinite(rep_model.overall.error):
        notices.append("fidelity not measurable: the raw scan holds no noise the second look can see")
        return model_out, Verdict(policy, "model", None, "not measurable", tuple(notices), plan=plan)
    reasons = _harm_reasons(rep_model, rep_fb, name)
    figures = f"estimated error {rep_model.overall.error:.2f}x raw ({name}: {rep_fb.overall.error:.2f}x)"
    if refinement is not None:
        figures += f"; {refinement.words()}"
    apart = _gap_words(gap, name)
    rep_single = reps[s_i] if single else None  # recorded whether delivered or not
    scored = _Scored(raw, paired, reps, partner_scan, offset, look)
    if single and (why := _single_frame_chosen(paired, reps, m, s_i, k, bool(reasons), name)) is not None:
        # what the two-direction filter did is not what is delivered: its notice goes
        said = tuple(
            scars_kept[0] if n == scars_kept[1] else n for n in notices if n not in (step_notice, seam_said)
        )
        return scored.restored(single[0], s_i, "the model's single-frame output", Verdict(
            policy, SINGLE_FRAME, bool(reasons), why, said, rep_model, rep_fb, name, plan, gap,
            single=rep_single, refined=refinement,
        ))  # fmt: skip
    if not reasons:
        what = "the model's output" if refinement is None else f"the model's output after {refinement.name}"
        return scored.restored(model_out, m, what, Verdict(
            policy, "model", False, f"kept: {figures}{apart}", tuple(notices), rep_model, rep_fb, name, plan,
            gap, single=rep_single, refined=refinement,
        ))  # fmt: skip
    why = "; ".join(reasons) + apart
    if policy == "refuse":
        raise HarmError(f"{raw.describe()}: the model's output is refused: {why} ({FIDELITY_CAVEAT})")
    if policy == "warn":
        return model_out, Verdict(
            policy, "model", True, f"HARMFUL, delivered anyway (policy warn): {why}", tuple(notices),
            rep_model, rep_fb, name, plan, gap,
        )  # fmt: skip
    delivered = _as_fallback(raw, fb_scan, name, why)
    shown = tuple(n for n in notices if n != seam_said)
    return scored.restored(delivered, k, f"the {name} fallback", Verdict(
        policy, name, True, f"model output replaced: {why}", shown, rep_model, rep_fb, name,
        plan, gap, single=rep_single, refined=refinement,
    ))  # fmt: skip


#: The policies under which a band where what is delivered is above the raw scan gets the raw
#: scan's content back (``warn`` and ``off`` deliver the model's output as it is).
RESTORING = ("fallback", "refuse")


@dataclass(frozen=True)
class _Scored:
    """The judge's prepared pair with what :meth:`restored` needs to check what it delivers."""

    raw: Scan
    paired: PairedLooks
    reps: Sequence[FidelityReport]
    look: Scan
    offset: tuple[float, float]
    look_name: str

    def restored(self, out: Scan, i: int, what: str, verdict: Verdict) -> tuple[Scan, Verdict]:
        """``out`` (output ``i`` of the pair, delivered as ``verdict`` says) with the raw scan's
        content put back in each band with signal where it is further from the surface than the raw
        scan beyond twice the paired SE (:func:`~stmdenoise.fallback.above_raw`,
        :func:`~stmdenoise.fallback.restore_bands`), and the verdict saying so with the repaired
        output's fidelity; unchanged where no band is, under ``warn`` and ``off``, and for the raw
        scan itself (output 0: :data:`~stmdenoise.fallback.FALLBACKS` starts with it)."""
        if verdict.policy not in RESTORING or i == 0:
            return out, verdict
        found = above_raw(self.paired, self.reps, i, 0)
        if not found:
            return out, verdict
        repaired = restore_bands(out, self.raw, [d.band for d in found])
        report = PairedLooks(
            [repaired], self.raw, self.look, offset=self.offset, bands=raw_bands(self.raw)
        ).reports()[0]
        restored = Restored(tuple(found), report)
        said = (*verdict.notices, restored.notice(what, self.look_name))
        return repaired, replace(verdict, restored=restored, notices=said)


def judge(
    raw: Scan,
    model_out: Scan | None,
    partner: Scan | None,
    *,
    policy: str = "fallback",
    plan: DenoisePlan | None = None,
    alternative: Scan | None = None,
) -> tuple[Scan, Verdict]:
    """Decide what to deliver for ``raw``: the model's output, a classical fallback, or the raw scan.

    Parameters
    ----------
    raw : Scan
        The scan that was (or would have been) denoised.
    model_out : Scan or None
        The model's output on ``raw``'s grid; None when the plan refused to run the model.
    partner : Scan or None
        A second look at the same area (the other scan direction); None when there is none.
    policy : {"fallback", "warn", "refuse", "off"}
        What to do with a harmful output (module docstring).
    plan : DenoisePlan, optional
        The plan the model ran under (its refusal and resampling go into the notices).
    alternative : Scan, optional
        The model's output made from ``raw`` alone (the single-frame gain), where ``model_out``
        came from both looks: under the ``fallback`` policy it is delivered instead
        (:data:`SINGLE_FRAME`) when it is not harmful and its estimated error is lower than what
        would be delivered otherwise beyond twice the paired standard error.

    Returns
    -------
    delivered : Scan
        The scan to show and write, with a ``do_no_harm`` processing step whose parameters are
        :meth:`Verdict.to_dict` (what was delivered, why, and the figures).
    verdict : Verdict

    Raises
    ------
    HarmError
        ``policy="refuse"`` and the model's output is harmful (or the model was not run).
    """
    out, verdict = _judge(raw, model_out, partner, policy=policy, plan=plan, alternative=alternative)
    if policy != "off" and out is not raw and (kept := _heights(raw, out)) is not None:
        said = notice_for(kept)
        verdict = replace(verdict, heights=kept, notices=(*verdict.notices, *([said] if said else [])))
    return out.with_data(np.asarray(out.data), ProcessingStep("do_no_harm", verdict.to_dict())), verdict


def _heights(raw: Scan, out: Scan) -> StrongContrast | None:
    """What the delivered ``out`` keeps of the raw scan's strong broad features
    (:mod:`stmdenoise.metrics.heights`); None where there are none or it cannot be measured (a
    measure never stops a delivery)."""
    try:
        return strong_contrast(raw.data, out.data)
    except (ValueError, np.linalg.LinAlgError):
        return None


def _second_look(
    raw: Scan, partner: Scan | None, notices: list[str]
) -> tuple[tuple[float, float], Scan] | None:
    if partner is None:
        return None
    if partner.shape != raw.shape:
        notices.append(f"the other scan direction has another shape ({partner.shape} vs {raw.shape})")
        return None
    try:
        found = second_look(raw, partner)
    except (NotScorableError, ValueError) as exc:
        notices.append(f"fidelity not measurable: {exc}")
        return None
    if found is None:  # a feedback-error current whose other direction, negated, disagrees
        notices.append(FEEDBACK_ERROR_CAVEAT)
        return None
    offset, look, coherence = found
    if coherence is not None:
        notices.append(
            "This current was recorded with the Z feedback on: it is mostly the feedback error, whose "
            f"sign flips with the scan direction. It is judged against the {partner.direction} current "
            f"negated, which shows the same structure (coherence {coherence:.2f} at large scales)."
        )
    if look.steps and look.steps[-1].name == FOLLOW_STEP:
        said = str(look.steps[-1].params["description"])
        notices.append(said[:1].upper() + said[1:] + ".")
    return offset, look


def _as_fallback(raw: Scan, out: Scan, name: str, why: str) -> Scan:
    """The fallback's scan (``raw`` itself for "raw"); :func:`judge` adds the provenance step."""
    return raw if name == "raw" else out


def _without_model(
    raw: Scan, partner: Scan | None, policy: str, reason: str, notices: list[str], plan: DenoisePlan | None
) -> tuple[Scan, Verdict]:
    if policy == "refuse":
        raise HarmError(f"{raw.describe()}: not denoised: {reason}")
    looks = _second_look(raw, partner, notices)
    if looks is None:
        delivered = _as_fallback(raw, raw, "raw", reason)
        return delivered, Verdict(policy, "raw", None, f"not denoised: {reason}", tuple(notices), plan=plan)
    offset, partner_scan = looks
    try:
        smoothed = fallbacks(raw)
        paired = PairedLooks(smoothed, raw, partner_scan, offset=offset, bands=raw_bands(raw))
        reps = paired.reports()
        name, k = best_fallback(smoothed, reps, paired)
        fb_scan, rep_fb = smoothed[k], reps[k]
    except (NotScorableError, ValueError) as exc:
        notices.append(f"fidelity not measurable: {exc}")
        delivered = _as_fallback(raw, raw, "raw", reason)
        return delivered, Verdict(policy, "raw", None, f"not denoised: {reason}", tuple(notices), plan=plan)
    delivered = _as_fallback(raw, fb_scan, name, reason)
    text = f"model not run: {reason}; {name} delivered (estimated error {rep_fb.overall.error:.2f}x raw)"
    return delivered, Verdict(policy, name, None, text, tuple(notices), None, rep_fb, name, plan)
