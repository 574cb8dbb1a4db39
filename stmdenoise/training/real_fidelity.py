"""Real-scan fidelity tables: raw, every classical filter swept, models, and what the app delivers.

The measures are :mod:`stmdenoise.metrics.fidelity`'s (no ground truth: a second look at the
same area). Two kinds of real data:

* **two-direction scans** (Nanonis, Createc): the forward frame is denoised, the backward frame
  is the second look (:func:`pair_rows`);
* **frame stacks** (several recordings of one area): each frame is denoised alone and judged
  against the mean of the others, leave-one-out (:func:`stack_rows`).

Classical filters run on each scan's own grid (as a user would run them), on the robustly
normalised image so that one parameter grid fits every scan; every parameter of the grid is a
row ("swept, not at one setting"). The best classical row of a scan is the one with the lowest
overall estimated error on that scan: an optimistic bar (chosen on the figure it is judged by),
which is the bar a model has to clear.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.io.feedback import feedback_error_channel
from stmdenoise.jobs import JobCancelled
from stmdenoise.metrics._input import NotScorableError
from stmdenoise.metrics.contrast import at_contrast, contrast_mismatch
from stmdenoise.metrics.fidelity import Band, FidelityReport, pair_fidelity
from stmdenoise.metrics.second_look import followed_look, negated_look
from stmdenoise.metrics.stack_fidelity import stack_fidelity
from stmdenoise.scan import Scan

__all__ = [
    "FidelityRow",
    "Method",
    "best_classical",
    "classical_methods",
    "fidelity_markdown",
    "judging_look",
    "model_methods",
    "pair_rows",
    "stack_rows",
    "two_direction_frames",
]

Array = NDArray[np.float64]
Runner = Callable[[Scan, "Scan | None"], Array]


@dataclass(frozen=True)
class Method:
    """A way of making an output from a scan (and, for the delivered output, its second look).

    Attributes
    ----------
    label : str
        Row label, e.g. ``"Gaussian (1)"`` or ``"cu111-default (delivered)"``.
    family : {"raw", "classical", "model", "delivered"}
    run : callable
        ``run(scan, second_look_or_None) -> array`` on the scan's grid.
    """

    label: str
    family: str
    run: Runner


@dataclass(frozen=True)
class FidelityRow:
    """One method on one scan (or one frame stack, averaged over its frames)."""

    scan: str
    method: str
    family: str
    reports: tuple[FidelityReport, ...]
    note: str = ""

    def mean(self, label: str, field: str = "error") -> float:
        """Mean over the reports of ``field`` in band ``label`` (``"all"``: overall); NaN when absent."""
        vals = [getattr(r.band(label), field) for r in self.reports]
        vals = [v for v in vals if math.isfinite(v)]
        return float(np.mean(vals)) if vals else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable row: overall and per-band means (``error_se``: the mean of the reports'
        standard errors of the error)."""
        d: dict[str, Any] = {
            "scan": self.scan,
            "method": self.method,
            "family": self.family,
            "note": self.note,
        }
        if self.reports:
            for b in (*self.reports[0].bands, self.reports[0].overall):
                for f in ("error", "error_se", "kept", "coherent"):
                    v = self.mean(b.band.label, f)
                    d[f"{f}[{b.band.label}]"] = v if math.isfinite(v) else None
        return d


def _normalised(fn: Callable[[Array, float], Array], param: float) -> Runner:
    def run(scan: Scan, _other: Scan | None) -> Array:
        from stmdenoise.evaluation.baselines import filter_normalised

        return filter_normalised(fn, param, np.asarray(scan.data))

    return run


def classical_methods(names: Sequence[str] | None = None) -> list[Method]:
    """Every baseline of :data:`stmdenoise.evaluation.BASELINES` at every parameter of its grid."""
    from stmdenoise.evaluation.baselines import BASELINES

    chosen = list(BASELINES) if names is None else list(names)
    unknown = [n for n in chosen if n not in BASELINES]
    if unknown:
        raise ValueError(f"names must be among {list(BASELINES)}, got {unknown}")
    return [
        Method(f"{BASELINES[n].label} ({p:g})", "classical", _normalised(BASELINES[n].apply, p))
        for n in chosen
        for p in BASELINES[n].grid
    ]


def model_methods(denoiser: Any, name: str, *, passes: int = 1, single_frame: bool = False) -> list[Method]:
    """The model's bare output (any resampling) and what the app delivers (do-no-harm policy).

    With ``single_frame`` the model never sees the other look: each frame is denoised (and
    judged by the do-no-harm policy) as a scan saved without its other direction is, while the
    rows are still judged against that look."""

    def bare(scan: Scan, other: Scan | None) -> Array:
        partner = None if single_frame else other
        return np.asarray(denoiser.denoise(scan, passes=passes, partner=partner).data)

    def delivered(scan: Scan, other: Scan | None) -> Array:
        partner = None if single_frame else other
        return np.asarray(denoiser.denoise_checked(scan, partner=partner, passes=passes).delivered.data)

    return [
        Method(f"{name} (model output)", "model", bare),
        Method(f"{name} (delivered)", "delivered", delivered),
    ]


def _raw() -> Method:
    return Method("Raw input", "raw", lambda scan, _other: np.asarray(scan.data))


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise JobCancelled("fidelity evaluation cancelled")


def two_direction_frames(path: Path, channels: Sequence[str] | None = None) -> list[tuple[str, Scan, Scan]]:
    """``(name, forward, backward)`` of each two-direction channel of ``path`` (first channel only
    when ``channels`` is None); empty for a file that cannot be read as frames (spectra, plain images)."""
    from stmdenoise.io import read_all
    from stmdenoise.safety import partner_of

    try:
        frames = read_all(path)
    except (OSError, ValueError):  # ScanFormatError is a ValueError
        return []
    wanted = list(channels) if channels is not None else [frames[0].channel] if frames else []
    out = []
    for ch in wanted:
        fwd = next((s for s in frames if s.channel == ch and s.direction == "forward"), None)
        bwd = partner_of(fwd, frames) if fwd is not None else None
        if fwd is not None and bwd is not None:
            out.append((f"{path.name} {ch}", fwd, bwd))
    return out


def judging_look(forward: Scan, backward: Scan, *, rescale: bool = False) -> tuple[tuple[float, float], Scan]:
    """The look the rows of :func:`pair_rows` are judged against and its offset: ``backward``
    negated for a feedback-error current where that agrees
    (:func:`~stmdenoise.metrics.second_look.negated_look`), else ``backward`` as stored; its
    columns following the piezo's hysteresis where that displaces them along the lines beyond the
    offset (:func:`~stmdenoise.metrics.second_look.followed_look`, as the app's judge does).
    With ``rescale``, where that look shows the surface at a contrast the judge names as
    different from the frame's (:func:`~stmdenoise.metrics.contrast.contrast_mismatch`), it is
    scaled to the frame's (:func:`~stmdenoise.metrics.contrast.at_contrast`), so that the mismatch
    is not counted as every output's error: which direction's contrast is the surface's the pair
    cannot tell, and the plain look rewards shrinking a frame towards a lower-contrast look
    (docs/model-selection.md, after candidate CN). The scaled look's noise scales too, which
    moves every output's estimate alike. Raises NotScorableError or ValueError when the pair
    cannot be scored (registered, or a look without contrast)."""
    negated = negated_look(forward, backward) if feedback_error_channel(forward) else None
    if negated is not None:
        offset, look = negated[0], negated[1]
    else:
        offset, look = pair_fidelity(forward, forward, backward).offsets[0], backward
    look = followed_look(forward, look, offset)
    if rescale and (m := contrast_mismatch(forward, look, offset)).named:
        look = look.with_data(at_contrast(look, m.ratio))
    return offset, look


def pair_rows(
    methods: Sequence[Method],
    name: str,
    forward: Scan,
    backward: Scan,
    *,
    bands: Sequence[Band] | None = None,
    cancel: threading.Event | None = None,
    rescale: bool = False,
) -> list[FidelityRow]:
    """Rows for one two-direction scan: raw first, then each method on the forward frame.

    Each method gets the backward frame as the app gives it; the outputs are judged against it,
    or, for a current recorded with the Z feedback on, against it negated when that agrees with
    the forward frame (:func:`~stmdenoise.metrics.second_look.negated_look`: the feedback error
    flips sign with the direction), as the do-no-harm judge does; with ``rescale``, against it
    at the frame's contrast where their contrasts differ clearly (:func:`judging_look`). A method
    that cannot serve the scan (too small for a model, say) gets a row with no report and the
    reason as its note.
    """
    try:
        offset, look = judging_look(forward, backward, rescale=rescale)
    except (NotScorableError, ValueError) as exc:
        return [FidelityRow(name, "Raw input", "raw", (), str(exc))]
    rows = []
    for m in (_raw(), *methods):
        _check(cancel)
        try:
            out = m.run(forward, backward)
            rep = pair_fidelity(out, forward, look, bands=bands, offset=offset)
        except (NotScorableError, ValueError) as exc:
            rows.append(FidelityRow(name, m.label, m.family, (), str(exc)))
            continue
        rows.append(FidelityRow(name, m.label, m.family, (rep,)))
    return rows


def stack_rows(
    methods: Sequence[Method],
    name: str,
    frames: Sequence[Scan],
    *,
    bands: Sequence[Band] | None = None,
    cancel: threading.Event | None = None,
) -> list[FidelityRow]:
    """Rows for one frame stack: each method applied to each frame alone, judged leave-one-out.

    The delivered output of a frame sees no second look (a single frame in the app has none).
    """
    rows = []
    for m in (_raw(), *methods):
        _check(cancel)
        try:
            outs = [m.run(f, None) for f in frames]
            reps = stack_fidelity(outs, frames, bands=bands)
        except (NotScorableError, ValueError) as exc:
            rows.append(FidelityRow(name, m.label, m.family, (), str(exc)))
            continue
        rows.append(FidelityRow(name, m.label, m.family, tuple(reps)))
    return rows


def best_classical(rows: Sequence[FidelityRow]) -> FidelityRow | None:
    """The classical row with the lowest overall estimated error (None when there is none)."""
    cands = [r for r in rows if r.family == "classical" and r.reports and math.isfinite(r.mean("all"))]
    return min(cands, key=lambda r: r.mean("all")) if cands else None


def _cell(row: FidelityRow | None, label: str) -> str:
    if row is None or not row.reports:
        return "n/a"
    e, k = row.mean(label), row.mean(label, "kept")
    ks = "–" if not math.isfinite(k) else f"{k:.2f}"
    return f"{e:.2f} / {ks}"


def fidelity_markdown(rows: Sequence[FidelityRow], *, title: str) -> str:
    """A Markdown table: one line per method, error / kept per band and overall (raw = 1.00)."""
    if not rows:
        return f"### {title}\n\n(no rows)\n"
    ref = next((r for r in rows if r.reports), None)
    labels = [b.band.label for b in ref.reports[0].bands] + ["all"] if ref else ["all"]
    head = "| method | " + " | ".join(f"{lab}: err / kept" for lab in labels) + " |"
    lines = [f"### {title}", "", head, "|---|" + "---:|" * len(labels)]
    best = best_classical(rows)
    for r in rows:
        mark = " **(best classical)**" if r is best else ""
        cells = " | ".join(_cell(r, lab) for lab in labels)
        note = f" ({r.note})" if r.note and not r.reports else ""
        lines.append(f"| {r.method}{mark}{note} | {cells} |")
    if ref is not None:
        coh = " · ".join(f"{lab} {ref.mean(lab, 'coherent'):.2f}" for lab in labels)
        lines += ["", f"Coherent (signal) share of the raw power per band: {coh}."]
    return "\n".join(lines) + "\n"
