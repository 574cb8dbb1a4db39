"""What a two-direction output's processing step says: its ``kind`` and the do-no-harm verdict's notice.

Split out of :mod:`stmdenoise.model.two_direction` (which re-exports every name here): the texts
of the notice and :func:`describe_step`, which assembles them from the step's ``params`` (where
the noise came from and each adjustment the filter made), beside each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stmdenoise.model.fine_levels import RESOLUTION
from stmdenoise.model.fourier_tiles import TILE

__all__ = [
    "KIND",
    "LINES_NOTICE",
    "LOOK_SHRUNK_NOTICE",
    "LOUDER_ROWS_NOTICE",
    "NOISE_SHARE_NOTICE",
    "SECTOR_NAMES",
    "SECTOR_SHARES_NOTICE",
    "PUT_BACK_NOTICE",
    "STRIP_LEVELS_NOTICE",
    "TWO_DIRECTION_NOTICE",
    "describe_step",
]

#: ``kind`` recorded in the processing step of a scan denoised this way.
KIND = "two-direction-wiener"
#: The do-no-harm verdict's notice of an output of this filter (formatted there).
TWO_DIRECTION_NOTICE = (
    "Noise measured from the {direction} frame: the filter took this scan's noise spectrum from "
    "the difference of its two directions instead of guessing it from one frame. Each {band}-row "
    "band was filtered with the noise of the other bands only, so the error estimate against the "
    "{direction} frame stays fair."
)
#: Added to it where the filter followed each strip's own noise levels below 2 Å (since version 2.6).
STRIP_LEVELS_NOTICE = (
    " At periods under {resolution:.3g} Å, finer than a tip resolves, each row was filtered with "
    "its own {strip}-row strip's noise level at those periods (one per third of the frequencies "
    "along the scan lines), or its {tile}-row neighbourhood's where that is higher (the noise "
    "here changes too fast from strip to strip for the bands to follow); each of a strip's levels "
    "averages a hundred or more Fourier coefficients, which keeps the estimate fair. A strip's "
    "level is this frame's own share of the two directions' noise there (version 2.27), so a burst "
    "in one direction only is not split between the two."
)

#: Added to it where the frame was the clearly louder direction and got its own share (version 2.12).
NOISE_SHARE_NOTICE = (
    " This frame is the noisier direction (about {ratio:.2g}x the {direction} frame's power at "
    "periods of 2-4 px), so it was filtered with its own share of their difference's noise, "
    "{percent:.0f} % of it instead of half."
)

#: Added to it where the frame is clearly the noisier direction at some frequencies of periods under
#: 4 px (versions 2.25 and 2.27, candidates DA and DD): the sectors where its share was raised,
#: from the fast axis to the slow one, with the largest share in each.
SECTOR_SHARES_NOTICE = (
    " Along {sectors} of its spectrum this frame is the noisier direction, so at periods under 4 px "
    "there it was filtered with up to {percent} of their difference's noise instead of half."
)
#: The sectors' names in :data:`SECTOR_SHARES_NOTICE` (``FINE_SECTORS``' order).
SECTOR_NAMES = ("the fast axis", "the diagonals", "the slow axis")

#: Added to it where one parity's own rows were clearly louder than its noise source's (version 2.14).
LOUDER_ROWS_NOTICE = (
    " Every other {band}-row band of this frame holds {ratio:.2g}x the power at periods of 2-4 px "
    "of the bands its noise was measured on (the noise changes along the scan), so their noise "
    "was raised by that much."
)

#: Added to it where the filter gave back what it removed where both directions hold it (version 2.22).
PUT_BACK_NOTICE = (
    " Where both directions showed that the filter had removed part of a feature (such as a lone adatom or "
    "defect, which one gain for the whole frame takes for noise), that part was put back: on "
    "{percent:.2g} % of the pixels."
)

#: Added to it where lines both directions share were fitted, kept out of the filter and added back
#: (:mod:`stmdenoise.model.lines`, version 2.37).
LINES_NOTICE = (
    " {count} sharp periodic {peaks} that both directions share and that {stand} alone in the spectrum "
    "(a lattice's or a superstructure's) {were} fitted as sine waves, kept out of the filter and added "
    "back whole, so that the filter's windows do not spread {them} over the noise around {them}."
)

#: Added to it where the filter read a second look shown at a clearly higher contrast shrunk to the
#: frame's (:mod:`stmdenoise.pairing`, version 2.13).
LOOK_SHRUNK_NOTICE = (
    " The {direction} frame shows the surface at {ratio:.2f}x this frame's contrast: the filter "
    "read it shrunk to this frame's, so that their difference holds noise, not surface."
)


def _listed(items: list[str]) -> str:
    """``items`` as an English list: "a", "a and b", "a, b and c".

    >>> _listed(["the fast axis"]), _listed(["a", "b", "c"])
    ('the fast axis', 'a, b and c')
    """
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_step(params: Mapping[str, Any], *, strip: int) -> str:
    """The do-no-harm verdict's notice of an output of this filter, from its processing step's
    ``params`` (``""`` for any other step): where the noise came from, and each adjustment the
    step records (per-strip levels on ``strip``-row strips, the frame's own share, louder rows, a
    shrunk second look, what was put back, lines kept out of the filter)."""
    if params.get("generator") != KIND:
        return ""
    direction = str(params.get("noise_from", "other"))
    band = params.get("band_rows", TILE)  # the step records it; TILE is BAND
    notice = TWO_DIRECTION_NOTICE.format(direction=direction, band=band)
    if params.get("strip_levels"):
        notice += STRIP_LEVELS_NOTICE.format(resolution=RESOLUTION * 1e10, strip=strip, tile=TILE)
    if (share := float(params.get("noise_share", 1.0))) != 1.0:
        notice += NOISE_SHARE_NOTICE.format(
            ratio=share / (2.0 - share), direction=direction, percent=50.0 * share
        )
    if sectors := [float(v) for v in params.get("sector_shares", ())]:
        base = float(params.get("noise_share", 1.0))
        louder = [(name, v) for name, v in zip(SECTOR_NAMES, sectors, strict=False) if v != base]
        if louder:
            notice += SECTOR_SHARES_NOTICE.format(
                sectors=_listed([name for name, _ in louder]),
                percent=_listed([f"{50.0 * v:.0f} %" for _, v in louder]),
            )
    if raised := [float(v) for v in params.get("louder_rows", ()) if float(v) != 1.0]:
        notice += LOUDER_ROWS_NOTICE.format(band=band, ratio=max(raised))
    if (shrunk := float(params.get("look_shrunk_from", 1.0))) != 1.0:
        notice += LOOK_SHRUNK_NOTICE.format(direction=direction, ratio=shrunk)
    if (given := float(params.get("put_back", 0.0))) > 0.0:
        notice += PUT_BACK_NOTICE.format(percent=100.0 * given)
    if (count := int(params.get("lines", 0))) > 0:
        one = count == 1
        notice += LINES_NOTICE.format(
            count=count,
            peaks="peak" if one else "peaks",
            stand="stands" if one else "stand",
            were="was" if one else "were",
            them="it" if one else "them",
        )
    return notice
