"""The do-no-harm fallback: the Gaussian (or the raw scan) the judge may deliver instead of a model's.

:func:`stmdenoise.safety.judge` scores the model's output and a Gaussian of each width of
:data:`FALLBACK_SIGMAS` against the scan's second look. A band *holds signal* where at least
:data:`SIGNAL_BAND_COHERENCE` of its raw power is common to the looks; an output is harmful in such
a band when its estimated error is above raw's by more than two standard errors
(:func:`harmful_bands`). A Gaussian qualifies as the fallback only if it harms no band so, and
none by the error *predicted* from its known transfer either (:func:`best_fallback`; the measured
estimate's SE is too wide where a strong signal is, as on a moiré: docs/model-selection.md,
candidates BX and BY), on the raw scan's own bands (:func:`raw_bands`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stmdenoise.metrics._input import scored_rows
from stmdenoise.metrics.bands import Band, default_bands
from stmdenoise.metrics.fidelity import SIGNAL_COHERENCE, BandFidelity, FidelityReport, PairedLooks
from stmdenoise.processing.smoothing import GAUSSIAN_WIDTHS, gaussian_smooth, gaussian_transfer
from stmdenoise.scan import Scan

__all__ = [
    "FALLBACK_SIGMAS",
    "SIGNAL_BAND_COHERENCE",
    "best_fallback",
    "fallbacks",
    "band_reasons",
    "harmful_bands",
    "raw_bands",
]

#: Widths (pixels of the scan's own grid) of the Gaussian fallback; 0 is the raw scan.
FALLBACK_SIGMAS = GAUSSIAN_WIDTHS
#: Share of a band's raw power that must be common to the looks before the band counts as
#: holding signal (the fidelity module's rule, also used by ``FidelityReport.worst_band``).
SIGNAL_BAND_COHERENCE = SIGNAL_COHERENCE


def harmful_bands(rep: FidelityReport) -> list[BandFidelity]:
    """Bands with signal where ``rep`` is further from the surface than raw by more than 2 SE.

    The do-no-harm criterion of :func:`stmdenoise.safety.judge` per band (also the gate of
    docs/model-selection.md)."""
    return [
        b
        for b in rep.bands
        if b.coherent >= SIGNAL_BAND_COHERENCE and math.isfinite(b.error) and b.error > 1.0 + 2 * b.error_se
    ]


def band_reasons(rep: FidelityReport) -> list[str]:
    """:func:`harmful_bands` as the reasons a verdict gives."""
    out = []
    for b in harmful_bands(rep):
        kept = "" if not math.isfinite(b.kept) else f", keeping {b.kept:.0%} of the signal"
        out.append(f"in the {b.band.label} band it is {b.error:.2f}x further from the surface than raw{kept}")
    return out


def fallbacks(raw: Scan) -> list[Scan]:
    """The Gaussian fallback of each width of :data:`FALLBACK_SIGMAS` (0: ``raw`` itself)."""
    return [raw if sigma == 0 else gaussian_smooth(raw, sigma) for sigma in FALLBACK_SIGMAS]


def raw_bands(raw: Scan) -> tuple[Band, ...] | None:
    """The bands the judge scores on: the raw scan's own (its complete rows' shape), not the
    registered pair's, whose crop of a pixel or two would drop the longest octave from the check
    (docs/model-selection.md, candidate BY). None without a pixel size (the pair then refuses)."""
    if raw.pixel_size is None:
        return None
    a = np.asarray(raw.data, dtype=np.float64)
    dy, dx = raw.pixel_size
    return default_bands(math.sqrt(dy * dx), (a[scored_rows(a)].shape[0], a.shape[1]))


def _predicted_harm(paired: PairedLooks, rep: FidelityReport, sigma: float) -> bool:
    """Whether a Gaussian of ``sigma`` px is further from the surface than raw in a band with
    signal by more than 2 SE of its *predicted* error (:meth:`PairedLooks.predicted`: from its
    known transfer; the measured estimate's SE is too wide where the signal is strong, as on a
    moiré; docs/model-selection.md, candidate BX)."""
    predicted = paired.predicted(lambda k: gaussian_transfer(sigma, k))
    return any(
        b.coherent >= SIGNAL_BAND_COHERENCE and math.isfinite(p.difference) and p.difference > 2 * p.se
        for b, p in zip(rep.bands, predicted[:-1], strict=True)
    )


def best_fallback(
    smoothed: Sequence[Scan], reps: Sequence[FidelityReport], paired: PairedLooks
) -> tuple[str, int]:
    """Name and index of the Gaussian width (0 = raw) of lowest estimated error among those
    harming no band, by the estimate or by the prediction from the Gaussian's transfer;
    ``smoothed``: :func:`fallbacks`, ``reps`` their reports in that order, ``paired`` the
    prepared pair they were scored on."""
    best: tuple[str, int] | None = None
    for k, (sigma, rep) in enumerate(zip(FALLBACK_SIGMAS, reps[: len(smoothed)], strict=True)):
        if sigma > 0 and (rep.overall.error > 1.0 or band_reasons(rep)):
            continue
        if sigma > 0 and _predicted_harm(paired, rep, sigma):
            continue
        if best is None or rep.overall.error < reps[best[1]].overall.error:
            best = ("raw" if sigma == 0 else f"gaussian {sigma:g} px", k)
    assert best is not None  # FALLBACK_SIGMAS is not empty and its 0 is never skipped
    return best
