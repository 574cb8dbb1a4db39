"""All no-reference scores of one image at once, for the ``score`` command and the GUI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from stmdenoise.metrics._input import NotScorableError, _as_array, scored_rows
from stmdenoise.metrics.brisque import brisque
from stmdenoise.metrics.piqe import piqe
from stmdenoise.metrics.stm import ResidualStats, line_artefact_index, noise_floor, residual_stats

__all__ = ["ImageScores", "score_image", "score_pair"]


@dataclass(frozen=True)
class ImageScores:
    """No-reference scores of one image; ``None`` where the image could not be scored.

    Attributes
    ----------
    piqe, brisque : float or None
        Photographic quality scores (lower is better) of the 8-bit rendering.
    line_artefact_index : float or None
        Row-offset spread over contrast (dimensionless, lower is better).
    noise_floor : float or None
        Pixel-noise estimate in the image's units.
    rows_used, rows_total : int
        Complete rows scored, and rows in the image.
    note : str
        Why scores are missing ("" when all are present).
    """

    piqe: float | None
    brisque: float | None
    line_artefact_index: float | None
    noise_floor: float | None
    rows_used: int
    rows_total: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Fields as a JSON-serialisable dict."""
        return asdict(self)


def score_image(image: Any) -> ImageScores:
    """PIQE, BRISQUE, line-artefact index and noise floor of one image.

    Never raises for an image that cannot be scored (too small, too few complete rows,
    constant): the scores are then ``None`` and :attr:`ImageScores.note` says why.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        The image in any units (metres for topography), NaN rows allowed.

    Returns
    -------
    ImageScores
    """
    data = _as_array(image, "image")
    total = int(data.shape[0])
    try:
        used_slice = scored_rows(data)
        used = used_slice.stop - used_slice.start
    except NotScorableError:
        used = 0
    values: dict[str, float | None] = {}
    notes: list[str] = []
    for name, fn in (
        ("piqe", piqe),
        ("brisque", brisque),
        ("line_artefact_index", line_artefact_index),
        ("noise_floor", noise_floor),
    ):
        try:
            values[name] = float(fn(data))
        except NotScorableError as exc:
            values[name] = None
            if str(exc) not in notes:
                notes.append(str(exc))
    return ImageScores(rows_used=int(used), rows_total=total, note="; ".join(notes), **values)


def score_pair(raw: Any, denoised: Any) -> tuple[ImageScores, ImageScores, ResidualStats | None, str]:
    """Scores of a raw scan, its denoised version and the residual statistics.

    Parameters
    ----------
    raw, denoised : Scan or array_like, shape (rows, cols)
        Same shape and units.

    Returns
    -------
    raw_scores, denoised_scores : ImageScores
    residual : ResidualStats or None
        ``None`` when the pair cannot be scored.
    note : str
        Why ``residual`` is missing ("" otherwise).
    """
    a = score_image(raw)
    b = score_image(denoised)
    try:
        res: ResidualStats | None = residual_stats(raw, denoised)
        note = ""
    except NotScorableError as exc:
        res, note = None, str(exc)
    return a, b, res, note
