"""What identifies the view (:class:`ScanId`, :class:`ViewKey`) and the derived denoise status.

Qt-free value objects of :mod:`stmdenoise.gui.session` (see its docstring for how panels use them).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ScanId", "ViewKey", "DenoiseState"]


@dataclass(frozen=True)
class ScanId:
    """Which frame is shown: file, channel, direction and (for ``.3ds`` grids) the slice."""

    path: str
    channel: str
    direction: str
    index: int = 0


@dataclass(frozen=True)
class ViewKey:
    """Tag of everything computed for the view: the scan shown and the view's generation."""

    scan: ScanId | None
    generation: int


@dataclass(frozen=True)
class DenoiseState:
    """What the Denoise panel and the denoised view say, derived from the session's state.

    ``phase`` is one of ``"idle"`` (no scan), ``"unavailable"``, ``"no_model"``, ``"waiting"``
    (auto-denoise off, or queued), ``"running"``, ``"done"``, ``"failed"``, ``"cancelled"``.
    """

    phase: str
    text: str
    done: int = 0
    total: int = 0
    busy: bool = False  # a denoising job (for any scan) is still winding down
