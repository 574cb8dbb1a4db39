"""The do-no-harm verdict a delivered scan carries, read back as the rows users see.

:func:`stmdenoise.safety.judge` records its verdict (:meth:`stmdenoise.safety.Verdict.to_dict`)
as the parameters of a ``do_no_harm`` processing step on the delivered scan; it travels into
every export. The app's Quality panel, ``stmdenoise score`` and the batch report read it back
here, from the scan alone: nothing is measured again, and nothing here needs the judge, the
model or torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from stmdenoise.metrics.noise_share import UNEQUAL_LOOKS_MARK
from stmdenoise.scan import Scan

__all__ = ["verdict_of", "verdict_rows"]


def verdict_rows(params: Mapping[str, Any]) -> list[tuple[str, float, float, str]]:
    """Quality-table rows ``(name, raw, delivered, note)`` from a ``do_no_harm`` step's parameters.

    The same figures for the app's Quality panel and ``stmdenoise score``: estimated error
    against the surface (raw = 1.00) overall and per band, and the signal kept, of what was
    delivered; and what it keeps of the strong broad features (heights). Empty when nothing was
    measured.
    """
    rep = params.get("delivered_fidelity")
    if not rep:
        return _heights_rows(params)
    restored = [str(b.get("band", "")) for b in params.get("restored_bands") or ()]
    also = f", the raw scan's content in {', '.join(restored)}" if restored else ""
    note = f"delivered: {_delivered(params)}{also}; forward/backward estimate"
    overall = rep["overall"]
    nan = math.nan
    unequal = any(UNEQUAL_LOOKS_MARK in str(n) for n in params.get("notices", ()))

    def num(v: Any) -> float:
        return nan if v is None else float(v)

    def err_note(b: Mapping[str, Any]) -> str:
        """The row's note with twice its standard error, and what an estimate below 0 means."""
        err, se = num(b.get("error")), num(b.get("error_se"))
        out = note if not math.isfinite(se) else f"{note}; ± {2 * se:.2f} (twice its standard error)"
        if err < 0 and unequal:
            out += (
                "; below 0: this frame is the noisier direction and the estimate takes the two as "
                "equally noisy, so it reads low here (see the Denoise panel's notice)"
            )
        elif err < 0:
            out += "; below 0: closer to the surface than this second look can measure (the estimate's noise)"
        return out

    rows = [("Est. error vs surface, all (raw = 1)", 1.0, num(overall["error"]), err_note(overall))]
    rows += [(f"Est. error, {b['band']}", 1.0, num(b["error"]), err_note(b)) for b in rep["bands"]]
    rows.append(("Signal kept (raw = 1)", 1.0, num(overall["kept"]), note))
    return rows + _heights_rows(params)


def _heights_rows(params: Mapping[str, Any]) -> list[tuple[str, float, float, str]]:
    """The Quality row of what the delivered output keeps of the strong broad features."""
    h = params.get("delivered_heights")
    if not h:
        return []
    note = (
        f"delivered: {_delivered(params)}; its {h['components']} Fourier components of broad "
        "features standing over 300x the noise, on the raw scan's (removing noise alone keeps 1.00; "
        "below 0.99 heights measured on it read low)"
    )
    return [("Heights kept, tall features (raw = 1)", 1.0, float(h["kept"]), note)]


def _delivered(params: Mapping[str, Any]) -> str:
    """What was delivered, as the verdict names it ("model + total variation 8x noise" where the
    model's output was refined; records written before 0.2.46 have no label: their ``delivered``)."""
    return str(params.get("delivered_label") or params.get("delivered", ""))


def verdict_of(scan: Scan | None) -> Mapping[str, Any] | None:
    """The do-no-harm verdict a delivered scan carries (its last ``do_no_harm`` step's
    parameters, :meth:`Verdict.to_dict`), or None for a scan that went through no verdict."""
    if scan is None:
        return None
    step = next((st for st in reversed(scan.steps) if st.name == "do_no_harm"), None)
    return None if step is None else step.params
