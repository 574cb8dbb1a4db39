"""Was the Z feedback on while a scan was recorded? Read from the file's own header.

In constant-current mode (feedback on) the Current channel is the feedback *error*: the
controller keeps the current at its setpoint, and what is left is mostly the lag on slopes,
which has opposite signs in the two scan directions. Forward and backward frames of such a
channel differ by real signal, not only by noise, so the forward/backward fidelity estimate
(:mod:`stmdenoise.metrics.fidelity`) counts that signal as noise and favours filters that
smooth it away. :func:`feedback_error_channel` tells the fidelity verdict and the bench tables
when to say so.

Headers read:

- Nanonis ``.sxm``: the ``on`` column of the ``Z-CONTROLLER`` table (written when the scan
  starts), or ``Z-Controller>Controller status`` (``ON`` / ``OFF``) where a file has it;
- Createc ``.dat``: ``CHMode`` (0: constant current, 1: constant height).

>>> import numpy as np
>>> from stmdenoise.scan import Scan
>>> table = "\\tName\\ton\\tSetpoint\\n\\tlog Current\\t1\\t1.000E-10 A"
>>> s = Scan(np.zeros((2, 2)), channel="Current", unit="A", header={"Z-CONTROLLER": table})
>>> feedback_on(s), feedback_error_channel(s)
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stmdenoise.io.sxm import z_controller
from stmdenoise.scan import Scan

__all__ = ["feedback_error_channel", "feedback_on"]


def _nanonis(header: Mapping[str, Any]) -> bool | None:
    status = str(header.get("Z-Controller>Controller status", "")).strip().upper()
    if status in ("ON", "OFF"):
        return status == "ON"
    return {"1": True, "0": False}.get(z_controller(header).get("on", ""))


def _createc(header: Mapping[str, Any]) -> bool | None:
    for key, value in header.items():
        if "CHMode" in [p.strip() for p in str(key).split(" / ")]:
            v = str(value).strip()
            return {"0": True, "1": False}.get(v)
    return None


def feedback_on(scan: Scan) -> bool | None:
    """True when the file says the Z feedback was on (constant current), False when it was off
    (constant height), None when the header does not say."""
    header = scan.header
    found = _nanonis(header)
    return found if found is not None else _createc(header)


def feedback_error_channel(scan: Scan) -> bool:
    """True for a current channel (unit A) recorded with the Z feedback on: the feedback error."""
    return scan.unit == "A" and feedback_on(scan) is True
