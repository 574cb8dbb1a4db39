"""What the do-no-harm judge decided (:func:`stmdenoise.safety.judge`): the record it returns and
writes into the provenance, the policies it applies and the names of what it may deliver.

Apart from the judging itself (:mod:`stmdenoise.safety`, which re-exports all of this), so that the
record and its serialisation stand in one module of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from stmdenoise.fallback import Restored, harmful_bands
from stmdenoise.metrics.fidelity import ErrorDifference, FidelityReport
from stmdenoise.metrics.heights import StrongContrast
from stmdenoise.plan import DenoisePlan
from stmdenoise.refine import Refined

__all__ = ["POLICIES", "SINGLE_FRAME", "HarmError", "Verdict"]

#: What :func:`~stmdenoise.safety.judge` may do with a harmful output (:mod:`stmdenoise.safety`'s docstring).
POLICIES = ("fallback", "warn", "refuse", "off")
#: :attr:`Verdict.delivered` when the judge delivered the model's single-frame output (the gain on
#: the frame alone) instead of its two-direction output (docs/model-selection.md, candidate DH).
SINGLE_FRAME = "model, single frame"


class HarmError(ValueError):
    """The ``refuse`` policy found the model's output further from the surface than allowed."""


@dataclass(frozen=True)
class Verdict:
    """What :func:`~stmdenoise.safety.judge` delivered and why.

    Attributes
    ----------
    policy : str
        One of :data:`POLICIES`.
    delivered : str
        ``"model"``, :data:`SINGLE_FRAME` (the model's output made from the frame alone, where it
        was estimated closer than the two-direction output beyond 2 SE), ``"gaussian 0.75 px"``
        (the classical fallback) or ``"raw"``.
    harmful : bool or None
        True when the model's output was judged harmful; None when it could not be judged
        (no second look, or the model was not run).
    reason : str
        Plain words with the figures: why the model's output was kept or replaced.
    notices : tuple of str
        Out-of-domain and measurement notices.
    model : FidelityReport or None
        The model output's fidelity against the second look.
    fallback : FidelityReport or None
        The classical fallback's fidelity (its best width).
    fallback_name : str
        Name of the classical fallback (``"raw"`` when no width beat the raw scan).
    plan : DenoisePlan or None
        The plan the model ran under.
    gap : ErrorDifference or None
        The model's estimated error minus the fallback's, overall, with the standard error of
        that paired difference (:func:`~stmdenoise.metrics.fidelity.error_difference`): within
        two of it the two cannot be told apart on this scan; the reason says which.
    heights : StrongContrast or None
        What the delivered output keeps of the raw scan's broad features standing far above the
        noise (:func:`stmdenoise.metrics.heights.strong_contrast`); None when the raw scan was
        delivered, the policy is ``off`` or there are none.
    single : FidelityReport or None
        The fidelity of the model's single-frame output, where the judge weighed it (``alternative``
        of :func:`~stmdenoise.safety.judge`).
    restored : Restored or None
        The bands where what is delivered was further from the surface than the raw scan beyond
        twice the paired SE and got the raw scan's content back, with the repaired output's
        fidelity (:class:`~stmdenoise.fallback.Restored`); None where no band was.
    refined : Refined or None
        Where the model's output was refined by total variation before it was judged
        (:class:`~stmdenoise.refine.Refined`: which weight, the unrefined output's fidelity and
        the gain); ``model`` is then the refined output's fidelity. None where it was not.
    """

    policy: str
    delivered: str
    harmful: bool | None
    reason: str
    notices: tuple[str, ...] = ()
    model: FidelityReport | None = None
    fallback: FidelityReport | None = None
    fallback_name: str = ""
    plan: DenoisePlan | None = field(default=None, compare=False)
    gap: ErrorDifference | None = None
    heights: StrongContrast | None = None
    single: FidelityReport | None = None
    restored: Restored | None = None
    refined: Refined | None = None

    @property
    def delivered_label(self) -> str:
        """:attr:`delivered` with the refinement where there was one: ``"model + total variation 8x
        noise"`` (the benches' tables name what was delivered so)."""
        if self.refined is None or self.delivered != "model":
            return self.delivered
        return f"{self.delivered} + {self.refined.name}"

    @property
    def measured(self) -> bool:
        """True when the fidelity was measured against a second look."""
        return self.model is not None or self.fallback is not None

    def summary(self) -> str:
        """One line for a status bar or a log."""
        if self.delivered == "model":
            head = "model output" + ("" if self.refined is None else f", then {self.refined.name}")
        elif self.delivered == SINGLE_FRAME:
            head = "model output (single frame)"
        elif self.delivered == "raw":
            head = "raw scan (not denoised)"
        else:
            head = f"classical fallback ({self.delivered})"
        if self.restored is not None:
            head += f", raw content in {', '.join(d.band.label for d in self.restored.bands)}"
        return f"{head}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (written into exported provenance)."""
        delivered = self.delivered_fidelity
        worst = None
        if delivered is not None:
            w = delivered.worst_band()
            worst = {"band": w.band.label, "error": w.error if math.isfinite(w.error) else None}
        return {
            "policy": self.policy,
            "delivered": self.delivered,
            "delivered_label": self.delivered_label,
            "harmful": self.harmful,
            "model_worse_than_raw": self.model_worse_than_raw,
            "reason": self.reason,
            "notices": list(self.notices),
            "model_fidelity": None if self.model is None else self.model.to_dict(),
            "fallback_fidelity": None if self.fallback is None else self.fallback.to_dict(),
            "fallback_name": self.fallback_name,
            "model_minus_fallback": None if self.gap is None else _gap_dict(self.gap),
            "single_frame_fidelity": None if self.single is None else self.single.to_dict(),
            "restored_bands": None
            if self.restored is None
            else [{"band": d.band.label, **_gap_dict(d)} for d in self.restored.bands],
            "refined": None
            if self.refined is None
            else {
                "name": self.refined.name,
                "unrefined_fidelity": self.refined.unrefined.to_dict(),
                **_gap_dict(self.refined.gap),
            },
            "plan": None if self.plan is None else self.plan.to_dict(),
            "summary": self.summary(),
            # what was delivered, measured: read by the Quality panel and `stmdenoise score`
            "delivered_fidelity": None if delivered is None else delivered.to_dict(),
            "delivered_worst_band": None if delivered is None else worst,
            "delivered_heights": None
            if self.heights is None
            else {"kept": self.heights.kept, "components": self.heights.components},
        }

    @property
    def model_worse_than_raw(self) -> bool | None:
        """True when the model's output is further from the surface than the raw scan (overall, or
        in a band with signal by 2 SE); False when it is not, even if a fallback was better and
        replaced it; None when it was not measured."""
        if self.model is None or not math.isfinite(self.model.overall.error):
            return None
        return self.model.overall.error > 1.0 or bool(harmful_bands(self.model))

    @property
    def delivered_fidelity(self) -> FidelityReport | None:
        """Fidelity of what was delivered (the model's or the fallback's report, or that of either
        with bands restored from the raw scan; None if unmeasured)."""
        if self.restored is not None:
            return self.restored.report
        if self.delivered == "model":
            return self.model
        if self.delivered == SINGLE_FRAME:
            return self.single
        return self.fallback if self.delivered == self.fallback_name else None


def _gap_dict(gap: ErrorDifference) -> dict[str, float | None]:
    def num(v: float) -> float | None:
        return v if math.isfinite(v) else None

    return {"difference": num(gap.difference), "se": num(gap.se)}
