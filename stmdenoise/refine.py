"""The model's output refined by total variation, where the second look puts it closer.

On a scan with its other direction the do-no-harm judge (:func:`stmdenoise.safety.judge`) also scores
one Bregman iteration of Chambolle's total variation *of the model's output* (:func:`bregman_tv`) at
each weight of :data:`REFINE_TV_WEIGHTS` times the raw scan's noise level (:func:`refinements`). The
lowest of those estimated closer than the model's output beyond twice the paired standard error,
harming no band with signal (measured, or predicted from the transfer it realised ring by ring, as
a total-variation fallback) and keeping the strong features' heights as the model's output does,
takes the output's place for everything the judge does next (:func:`best_refinement`): a flat
terrace with a few defects, where the two-direction Wiener's one gain per tile leaves noise around
them, or a smooth terrace under strong noise. It refines what is delivered and never changes the
judge's choice: only where the judge delivers the model's two-direction output with it and without
it (:func:`stmdenoise.safety.judge`; a refinement that beat a Gaussian fallback by the noise it
removed took a 7x7 frame's adatoms or a moiré's crests with it), and only where it keeps that
output's signal (:func:`keeps_what_it_displaces`): no less of the second look's signal overall, and
no band with signal further from the surface. :class:`Refined` is what the verdict records. Plain
total variation lowered lone defects' heights by up to a sixth; the Bregman iteration gives that
back (docs/model-selection.md, candidates EN, EN2, EO and EO2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stmdenoise import fallback
from stmdenoise.fallback import (
    SIGNAL_BAND_COHERENCE,
    band_reasons,
    fallback_name,
    in_threads,
    plus_minus,
    predicted_harm,
)
from stmdenoise.metrics.fidelity import ErrorDifference, FidelityReport, PairedLooks
from stmdenoise.metrics.heights import strong_contrast
from stmdenoise.processing.smoothing import tv_smooth
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "REFINE_HEIGHTS_SLACK",
    "REFINE_KEPT_SLACK",
    "REFINE_TV_WEIGHTS",
    "Refined",
    "best_refinement",
    "bregman_tv",
    "keeps_what_it_displaces",
    "refinement_name",
    "refinements",
]

#: Weights (times the *raw* scan's noise level: the model's output holds far less) of the total
#: variation the judge tries on the model's output (:func:`refinements`, one Bregman iteration): on
#: flat terraces the largest were the closer, on fine structure none (docs/model-selection.md,
#: candidates EN, EN2).
REFINE_TV_WEIGHTS = (4.0, 8.0, 16.0, 32.0)
#: How much less of the strong broad features' heights (:func:`~stmdenoise.metrics.heights.strong_contrast`
#: against the raw scan) a refinement may keep than the model's output before it is refused: plain
#: total variation took up to a sixth of a lone defect's height (candidate EN), its Bregman
#: iteration keeps it (EN2).
REFINE_HEIGHTS_SLACK = 0.01
#: How much less of the second look's signal, overall, a refinement may keep than the model's
#: output it refines (beyond twice the paired standard error too) before it is refused
#: (:func:`keeps_what_it_displaces`): the 0.02 the features-against-the-truth test of candidate EO
#: allows, fixed before its runs (docs/model-selection.md).
REFINE_KEPT_SLACK = 0.02


def refinements(raw: Scan, model_out: Scan) -> list[Scan]:
    """:func:`bregman_tv` of ``model_out`` at each weight of :data:`REFINE_TV_WEIGHTS`, in that order;
    none on a scan of more than :data:`~stmdenoise.fallback.TV_MAX_PIXELS` (the fallbacks' cost)."""
    if np.asarray(raw.data).size > fallback.TV_MAX_PIXELS:  # read at the call: tests lower it
        return []
    return in_threads(lambda w: bregman_tv(model_out, raw, w), REFINE_TV_WEIGHTS)


def bregman_tv(out: Scan, raw: Scan, weight: float) -> Scan:
    """One Bregman iteration of total variation (Osher et al. 2005) of ``out`` at ``weight`` times
    ``raw``'s noise level: u1 = TV(out), then TV(out + (out - u1)), what the first pass took added
    back before the second (:func:`~stmdenoise.processing.smoothing.tv_smooth` with
    ``noise_of=raw``). Plain total variation lowers a lone feature's height by its perimeter over
    its area times the weight; the second pass gives that back, the noise mostly not
    (docs/model-selection.md, candidate EN2). Unmeasured pixels stay unmeasured.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = np.zeros((64, 64)); s[28:36, 28:36] = 10.0
    >>> raw = Scan(s + rng.normal(size=s.shape), pixel_size=(1e-10, 1e-10))
    >>> out = bregman_tv(raw, raw, 8.0)
    >>> once = tv_smooth(np.asarray(raw.data), 8.0)
    >>> bool(out.data[28:36, 28:36].mean() > once[28:36, 28:36].mean() + 0.5)
    True
    """
    m = np.asarray(out.data, dtype=np.float64)
    first = np.asarray(tv_smooth(m, weight, noise_of=raw), dtype=np.float64)
    second = np.asarray(tv_smooth(m + (m - first), weight, noise_of=raw), dtype=np.float64)
    return out.with_data(
        second,
        ProcessingStep("tv_refine", {"weight": float(weight), "bregman_iterations": 1, "noise_of": "raw"}),
    )


def refinement_name(weight: float) -> str:
    """How the verdict names a refinement: ``"total variation 8x noise"`` (in units of the raw
    scan's noise level, as :func:`~stmdenoise.fallback.fallback_name` names a total-variation
    fallback).

    >>> refinement_name(REFINE_TV_WEIGHTS[1])
    'total variation 8x noise'
    """
    return fallback_name("total variation", weight)


def best_refinement(
    raw: Scan,
    outputs: Sequence[Scan],
    reps: Sequence[FidelityReport],
    paired: PairedLooks,
    model: int,
    refined: Sequence[int],
) -> int | None:
    """Index of the refinement (``outputs[i]`` for ``i`` in ``refined``, :func:`refinements` in
    order) to deliver in place of the model's output (``outputs[model]``), or None: of those
    estimated lower than the model's output beyond twice the paired standard error that harm no
    band with signal, by the estimate or by the prediction from the transfer each realised ring by
    ring (as a total-variation fallback, :func:`~stmdenoise.fallback.best_fallback`), and keep the
    strong broad features no less than the model's output does (less
    :data:`REFINE_HEIGHTS_SLACK`), the lowest estimate;
    ``paired``/``reps``: the pair ``outputs`` were scored on and their reports in order
    (docs/model-selection.md, candidates EN and EN2)."""
    best: int | None = None
    base = _kept(raw, outputs[model]) if refined else None
    for i in refined:
        rep = reps[i]
        if not math.isfinite(rep.overall.error) or band_reasons(rep):
            continue
        gap = paired.difference(i, model)[-1]
        if not (math.isfinite(gap.difference) and math.isfinite(gap.se) and gap.difference < -2.0 * gap.se):
            continue
        if predicted_harm(paired, rep, paired.ring_transfer(i)):
            continue
        if (
            base is not None
            and (kept := _kept(raw, outputs[i])) is not None
            and kept < base - REFINE_HEIGHTS_SLACK
        ):
            continue
        if best is None or rep.overall.error < reps[best].overall.error:
            best = i
    return best


def keeps_what_it_displaces(
    paired: PairedLooks, reps: Sequence[FidelityReport], refined: int, otherwise: int
) -> bool:
    """Whether ``outputs[refined]`` (a refinement) may take the place of ``outputs[otherwise]`` (the
    model's output it refines) on ``paired``: it keeps overall no less of the second look's signal
    (:meth:`~stmdenoise.metrics.fidelity.PairedLooks.kept_difference`) than that, less
    :data:`REFINE_KEPT_SLACK` or twice the paired standard error, whichever is more, and is
    estimated further from the surface in no band with signal (``reps[otherwise]``'s coherence at
    least :data:`~stmdenoise.fallback.SIGNAL_BAND_COHERENCE`) beyond twice the paired standard
    error (so True where the two are one output). Against what the judge would deliver otherwise, on
    the probe seeds, EN2's refinement kept 0.09 less than a total variation of a sparse terrace (its
    defects 0.99 → 0.90 of their height), 0.05 less than a 2 px Gaussian of a 7x7-like frame and
    0.18 less than a 4 px Gaussian of a moiré; where it was as good it kept at most 0.015 less
    (docs/model-selection.md, candidates EO and EO2)."""
    kept = paired.kept_difference(refined, otherwise)[-1]
    if math.isfinite(kept.difference) and kept.difference < -max(REFINE_KEPT_SLACK, 2.0 * kept.se):
        return False
    for d, b in zip(paired.difference(refined, otherwise)[:-1], reps[otherwise].bands, strict=True):
        if b.coherent >= SIGNAL_BAND_COHERENCE and d.difference > 2.0 * d.se:
            return False
    return True


def _kept(raw: Scan, out: Scan) -> float | None:
    """What ``out`` keeps of ``raw``'s strong broad features (the verdict's heights measure), None
    where there are none or it cannot be measured."""
    try:
        found = strong_contrast(raw.data, out.data)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return None if found is None else found.kept


@dataclass(frozen=True)
class Refined:
    """The model's output refined by total variation (:func:`best_refinement`), as delivered.

    Attributes
    ----------
    name : str
        :func:`refinement_name` of the weight chosen.
    unrefined : FidelityReport
        The model's output's own fidelity, before the refinement.
    gap : ErrorDifference
        The refined output's estimated error minus the unrefined one's, overall, with the paired SE.
    """

    name: str
    unrefined: FidelityReport
    gap: ErrorDifference

    def words(self) -> str:
        """The verdict's words: what was applied and what it gained."""
        gain, two_se = plus_minus(-self.gap.difference, 2 * self.gap.se, 3)
        return (
            f"{self.name} (in units of the raw scan's noise level) applied to the model's output: its "
            f"estimated error was {self.unrefined.overall.error:.2f}x raw before, lower by "
            f"{gain} ± {two_se} (twice the paired standard error)"
        )
