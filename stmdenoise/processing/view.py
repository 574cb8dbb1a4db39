"""The view's corrections: the background and line correction the app applies before display and
denoising, in one place, so that a batch picture is processed exactly as the app's view.

The app's toolbar offers :data:`BACKGROUNDS` and :data:`ROW_METHODS`; :func:`correct_view` applies
the chosen pair (the line correction first, then the background). The batch job
(:mod:`stmdenoise.batch`) and the app's session call the same function.
"""

from __future__ import annotations

from stmdenoise.processing.levelling import (
    align_rows,
    level_facet,
    level_plane,
    level_poly,
    level_rows,
    level_three_points,
)
from stmdenoise.scan import Scan

__all__ = ["BACKGROUNDS", "ROW_METHODS", "correct_view", "view_method"]

#: Background choices of the views (key -> label shown in the toolbar).
BACKGROUNDS: dict[str, str] = {
    "none": "None",
    "plane": "Plane",
    "poly2": "Poly 2",
    "poly3": "Poly 3",
    "facet": "Facet",
    "three_points": "3 points",
}
#: Line (row) corrections of the views (key -> label).
ROW_METHODS: dict[str, str] = {
    "none": "None",
    "median": "Median",
    "median_diff": "Median diff",
    "poly0": "Poly 0",
    "poly1": "Poly 1",
    "poly2": "Poly 2",
    "poly3": "Poly 3",
}


def view_method(value: bool | str, *, true: str, choices: dict[str, str], name: str) -> str:
    """The key ``value`` stands for: ``True`` means ``true``, ``False`` ``"none"``; else a key of ``choices``.

    Examples
    --------
    >>> view_method(True, true="plane", choices=BACKGROUNDS, name="level")
    'plane'
    """
    method = (true if value else "none") if isinstance(value, bool) else value
    if method not in choices:
        raise ValueError(f"{name} must be a bool or one of {list(choices)}, got {value!r}")
    return method


def correct_view(
    scan: Scan,
    *,
    level: bool | str = "none",
    align: bool | str = "none",
    points: tuple[tuple[float, float], ...] = (),
) -> Scan:
    """Apply the view's corrections: the line correction first, then the background.

    Parameters
    ----------
    scan : Scan
        The frame as read.
    level : bool or str
        True means ``"plane"``, else a key of :data:`BACKGROUNDS`.
    align : bool or str
        True means ``"median"``, else a key of :data:`ROW_METHODS`.
    points : tuple of (float, float)
        The three (row, col) pixels of ``"three_points"`` (without them that background is skipped).

    Returns
    -------
    Scan
        The corrected frame; each correction is recorded as a processing step.
    """
    background = view_method(level, true="plane", choices=BACKGROUNDS, name="level")
    rows = view_method(align, true="median", choices=ROW_METHODS, name="align")
    out = scan
    if rows == "median":
        out = align_rows(out, method="median")
    elif rows == "median_diff":
        out = align_rows(out, method="median_diff")
    elif rows != "none":
        out = level_rows(out, order=int(rows[-1]))
    if background == "plane":
        out = level_plane(out)
    elif background in ("poly2", "poly3"):
        out = level_poly(out, order=int(background[-1]))
    elif background == "facet":
        out = level_facet(out)
    elif background == "three_points" and len(points) == 3:
        out = level_three_points(out, points=tuple(points), radius=1)
    return out
