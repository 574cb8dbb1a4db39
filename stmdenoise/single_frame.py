"""The do-no-harm judge's single-frame path: what can be said of a model's output on a frame alone.

Without a second look (a scan saved without its other direction) the error cannot be estimated;
:func:`stmdenoise.safety.judge` delivers the model's output with the notices made here, unless
:func:`single_frame_harm` finds harm one frame shows for sure (a lattice removed, structure
removed along the scan lines), and repairs what it can (a lattice's peaks, a lattice's broad
periods). Split from :mod:`stmdenoise.safety`, which had grown past the house style's ~600 lines.
"""

from __future__ import annotations

import math

from stmdenoise.fallback import (
    LATTICE_REPAIR_BELOW,
    LatticeScales,
    keep_lattice_scales,
    restore_lattices,
    restore_line_bands,
)
from stmdenoise.metrics._input import NotScorableError
from stmdenoise.scan import Scan

__all__ = [
    "LATTICE_RESTORED_NOTICE",
    "LATTICE_SCALES_NOTICE",
    "LINE_BANDS_RESTORED_NOTICE",
    "NO_PARTNER_HINT",
    "NO_SECOND_LOOK_NOTICE",
    "residual_notices",
    "single_frame_harm",
]


def residual_notices(raw: Scan, model_out: Scan) -> list[str]:
    """Signs that what the model removed from a frame alone is not only pixel noise (the residual
    follows the image, correlates with it, is smooth from line to line or far above the noise
    floor: :func:`stmdenoise.metrics.stm.residual_stats`), as one notice; [] where there are none."""
    from stmdenoise.metrics.stm import residual_stats

    try:
        res = residual_stats(raw, model_out)
    except (NotScorableError, ValueError) as exc:
        return [f"the residual could not be checked ({exc})"]
    # what white pixel noise leaves behind: no structure, no correlation with the image, no
    # line-to-line smoothness, about the noise floor's size (metrics.stm.ResidualStats)
    signs = []
    if math.isfinite(res.structure_r2) and res.structure_r2 > 0.3:
        signs.append(f"{res.structure_r2:.0%} of it follows the image's values, slopes and curvature")
    if math.isfinite(res.signal_correlation) and res.signal_correlation > 0.2:
        signs.append(f"it correlates with the denoised image ({res.signal_correlation:.2f})")
    if math.isfinite(res.autocorr_slow) and res.autocorr_slow > 0.3:
        signs.append(
            f"it is smooth from line to line (correlation {res.autocorr_slow:.2f}), unlike pixel noise"
        )
    if math.isfinite(res.rms_to_noise_floor) and res.rms_to_noise_floor > 2.0:
        signs.append(f"it is {res.rms_to_noise_floor:.1f}x the scan's pixel-noise level")
    if not signs:
        return []
    return [
        "what the model removed is not only noise: "
        + "; ".join(signs)
        + ". It may have changed real features"
    ]


#: The verdict's notice on an output no second look can measure.
NO_SECOND_LOOK_NOTICE = "no second look (backward frame) to measure fidelity against: the error is unknown"
#: Added where the scan came without its other direction: what recording both would give. On the
#: shared scans each frame alone was delivered further from the surface than the best classical
#: filter beyond 2 paired SE on 9 of 17 channels forward, with its backward frame on 1
#: (``python bench/fidelity.py --single-frame`` against ``python bench/fidelity.py``; README).
NO_PARTNER_HINT = (
    "; recorded with both scan directions, the noise is measured from their difference and the "
    "output checked against the other direction"
)


#: The verdict's notice where a frame alone gets a lattice's peaks back (:func:`single_frame_harm`).
LATTICE_RESTORED_NOTICE = (
    "the scan shows a {kind} lattice at {period} (periodic structure pixel noise cannot make): "
    "the model's output kept {kept:.0%} of the power at its peaks, and the raw scan's content there "
    "is delivered instead"
)


def single_frame_harm(
    raw: Scan, model_out: Scan, *, repair: bool, keep_scales: bool
) -> tuple[Scan, str | None, list[str]]:
    """Harm one frame shows for sure: a lattice the output removes (:mod:`metrics.lattice`), else
    structure removed along the scan lines beyond the noise neighbouring lines show
    (:mod:`metrics.line_noise`). Returns the output to deliver, the harm (None when neither) and
    notices. With ``repair`` (the judge's restoring policies), where neither is found, every
    lattice the scan shows of which the output keeps less than
    :data:`~stmdenoise.fallback.LATTICE_REPAIR_BELOW` of the power gets the raw scan's content at
    its peaks back (:func:`~stmdenoise.fallback.restore_lattices`; docs/model-selection.md,
    candidate EE), rectangles whose next combinations fade included (``Lattice.sure`` False:
    repaired, never refused; candidate EF).

    Where the output removes a lattice for sure, with ``keep_scales`` (the ``fallback`` policy),
    the raw scan's content goes back at every strong peak of the spectrum, in every band the
    output took more than the noise from (through its own noise floor's Wiener gain) and at the
    longest periods
    (:func:`~stmdenoise.fallback.keep_lattice_scales`); that repair is delivered, with the harm it
    mends said, only if both checks pass on it, else the harm stands (the raw scan is delivered;
    candidates EG and EJ)."""
    from stmdenoise.metrics import lattice, line_noise

    px = None if raw.pixel_size is None else math.sqrt(raw.pixel_size[0] * raw.pixel_size[1])
    line_px = None if raw.pixel_size is None else raw.pixel_size[1]
    kept = lattice.lattice_kept(raw.data, model_out.data, px, repair=True)
    removed = lattice.lost_notice(kept)  # sure lattices only
    why = removed if removed is not None else line_noise.removal_notice(raw.data, model_out.data, line_px)
    if removed is not None and keep_scales and px is not None:
        scales = keep_lattice_scales(model_out, raw)
        again = lattice.lattice_kept(raw.data, scales.scan.data, px, [lat for lat, _ in kept])
        if (
            lattice.lost_notice(again) is None
            and line_noise.removal_notice(raw.data, scales.scan.data, line_px) is None
        ):
            return scales.scan, None, [_scales_notice(removed, scales)]
        return model_out, why, []
    if why is not None or not repair:
        return model_out, why, []
    lost = [(lat, share) for lat, share in kept if share < LATTICE_REPAIR_BELOW]
    repaired = restore_lattices(model_out, raw, [lat for lat, _ in lost])
    said = [
        LATTICE_RESTORED_NOTICE.format(kind=lat.kind, period=lat.describe(), kept=share)
        for lat, share in lost
    ]
    # candidate EH: on a frame with strong spectral peaks, the octaves along the lines from which
    # the (repaired) output removed surface with the noise get the raw scan's content back (through
    # its own noise floor's Wiener gain: candidate EL)
    bands = line_noise.surface_removed_bands(raw.data, repaired.data)
    if bands and lattice.strong_peaks(raw.data, px):
        repaired = restore_line_bands(repaired, raw, [(b.short_px, b.long_px) for b in bands])
        said.append(
            LINE_BANDS_RESTORED_NOTICE.format(
                bands=", ".join(b.describe(line_px) for b in bands),
                ratio=max(b.ratio for b in bands),
            )
        )
    return repaired, None, said


#: The verdict's notice where a frame alone gets octaves along its lines back (candidate EH).
LINE_BANDS_RESTORED_NOTICE = (
    "along the scan lines at periods of {bands}, the model removed up to {ratio:.1f}x the noise "
    "power that neighbouring lines show there (more than twice: surface went with the noise) from a "
    "scan whose spectrum holds sharp peaks; the raw scan's content, through a Wiener gain against its "
    "own noise floor, is delivered there instead"
)


#: The verdict's notice where a frame alone whose lattice the output removed gets the raw scan's
#: content at its peaks and broad periods (:func:`single_frame_harm`, candidate EG).
LATTICE_SCALES_NOTICE = (
    "{removed}. So the raw scan's content is delivered at the {peaks} strong peaks of its spectrum{scales}"
)


def _scales_notice(removed: str, scales: LatticeScales) -> str:
    if scales.bands:  # shortest first; the last is the broadest, the raw scan's whole
        *narrow, broadest = scales.bands
        runs: list[list[float]] = []  # [short, long] of contiguous bands, metres
        for b in narrow:
            if runs and math.isclose(runs[-1][1], b.short):
                runs[-1][1] = b.long
            else:
                runs.append([b.short, b.long])
        longest = f"{broadest.short * 1e10:.3g} Å and more"
        broad = (
            (
                f", through a Wiener gain against its own noise floor at periods of "
                f"{', '.join(f'{s * 1e10:.3g}-{lg * 1e10:.3g} Å' for s, lg in runs)} (where the output "
                f"took away more than the noise there) and whole at {longest}"
            )
            if runs
            else f" and at periods of {longest} (where the output took away more than the noise)"
        ) + "; the model's output elsewhere"
    else:
        broad = "; the model's output elsewhere"
    text = removed[0].upper() + removed[1:]
    return LATTICE_SCALES_NOTICE.format(removed=text, peaks=scales.peaks, scales=broad)
