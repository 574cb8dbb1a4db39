"""``report.csv`` and ``report.html`` of a batch: one row per scan frame, with its status and scores.

Columns (:data:`COLUMNS`): the file (relative to the output folder's inputs), channel, direction,
status (``done``, ``skipped``, ``failed``, ``refused``, ``cancelled``), reason, what was delivered
(model, the model refined as "model + total variation 8x noise", classical fallback, raw), the
no-reference scores of the raw and the delivered frame
(BRISQUE, PIQE, line-artefact index; lower is better), the forward/backward fidelity of what was
delivered (estimated error relative to the raw frame's -- raw = 1 --, signal kept, worst band and
its error; see :mod:`stmdenoise.metrics.fidelity`), the share of the tall broad features it keeps
(heights; 1 where removing noise alone would leave them, :mod:`stmdenoise.metrics.heights`) and
the picture written.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from stmdenoise.batch.manifest import write_text

__all__ = ["COLUMNS", "ScanRow", "write_csv", "write_html"]

#: Columns of ``report.csv``, in order.
COLUMNS: tuple[str, ...] = (
    "file",
    "channel",
    "direction",
    "status",
    "reason",
    "delivered",
    "raw_brisque",
    "denoised_brisque",
    "raw_piqe",
    "denoised_piqe",
    "raw_line_artefact_index",
    "denoised_line_artefact_index",
    "fidelity_error",
    "fidelity_kept",
    "fidelity_worst_band",
    "fidelity_worst_error",
    "heights_kept",
    "picture",
    "outputs",
)


@dataclass(frozen=True)
class ScanRow:
    """One row of the report: one frame (channel, direction) of one input file.

    Numbers are None where they do not apply or could not be measured; the columns are
    described in the module docstring.
    """

    file: str
    channel: str = ""
    direction: str = ""
    status: str = "done"
    reason: str = ""
    delivered: str = ""
    raw_brisque: float | None = None
    denoised_brisque: float | None = None
    raw_piqe: float | None = None
    denoised_piqe: float | None = None
    raw_line_artefact_index: float | None = None
    denoised_line_artefact_index: float | None = None
    fidelity_error: float | None = None
    fidelity_kept: float | None = None
    fidelity_worst_band: str = ""
    fidelity_worst_error: float | None = None
    heights_kept: float | None = None
    picture: str = ""
    outputs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (NaN as None)."""
        d = asdict(self)
        d["outputs"] = list(self.outputs)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScanRow:
        """Inverse of :meth:`to_dict` (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        d = {k: v for k, v in data.items() if k in names}
        d["outputs"] = tuple(d.get("outputs") or ())
        return cls(**d)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], *, inputs: Sequence[Path] = ()) -> Path:
    """Write the rows as CSV (UTF-8, header line :data:`COLUMNS`), atomically."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in COLUMNS])
    text = buf.getvalue()
    return write_text(path, text, inputs=inputs)


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td, tr.refused td { background: #fff0f0; }
tr.skipped td, tr.cancelled td { background: #f7f7f7; color: #555; }
img { max-height: 140px; }
"""


def write_html(
    path: Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    summary: str,
    inputs: Sequence[Path] = (),
) -> Path:
    """Write an HTML summary: counts, then one table row per frame with its picture as thumbnail.

    Thumbnails are the batch pictures themselves (relative links, shown small), so the report
    stays valid when the output folder is moved as a whole.
    """
    e = html.escape
    heads = ("", "file", "channel", "dir.", "status", "reason / delivered", "BRISQUE raw→den.",
             "PIQE raw→den.", "line artefacts raw→den.", "error vs raw", "kept", "worst band",
             "heights kept")  # fmt: skip
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{e(summary)}</p>",
        "<p>Scores: BRISQUE and PIQE (photographic, lower is better), line-artefact index (row "
        "offsets over contrast, lower is better). Fidelity: the delivered frame's error against the "
        "surface estimated from the other scan direction, relative to the raw frame's (raw = 1, "
        "lower is better), and the share of the signal kept. Heights kept: the share of the tall, "
        "broad features (over 300x the noise) the delivered frame keeps; removing noise alone keeps "
        "1, below 0.99 heights measured on it read low.</p>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr>",
    ]

    def pair(a: str, b: str) -> str:
        x, y = _cell(rows_i.get(a)), _cell(rows_i.get(b))
        return f"{x} → {y}" if x or y else ""

    for rows_i in rows:
        pic = str(rows_i.get("picture") or "")
        thumb = f'<a href="{e(pic)}"><img src="{e(pic)}" alt="{e(pic)}"></a>' if pic else ""
        reason = _cell(rows_i.get("reason"))
        delivered = _cell(rows_i.get("delivered"))
        text = e(reason) + (f"<br><b>delivered:</b> {e(delivered)}" if delivered else "")
        worst = _cell(rows_i.get("fidelity_worst_band"))
        if worst:
            worst += f" ({_cell(rows_i.get('fidelity_worst_error'))})"
        status = _cell(rows_i.get("status"))
        cells = [
            thumb, e(_cell(rows_i.get("file"))), e(_cell(rows_i.get("channel"))),
            e(_cell(rows_i.get("direction"))), f"<b>{e(status)}</b>", text,
        ]  # fmt: skip
        nums = [
            pair("raw_brisque", "denoised_brisque"),
            pair("raw_piqe", "denoised_piqe"),
            pair("raw_line_artefact_index", "denoised_line_artefact_index"),
            _cell(rows_i.get("fidelity_error")),
            _cell(rows_i.get("fidelity_kept")),
            worst,
            _cell(rows_i.get("heights_kept")),
        ]
        out.append(
            f'<tr class="{e(status)}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "".join(f'<td class="num">{e(c)}</td>' for c in nums)
            + "</tr>"
        )
    out.append("</table></body></html>")
    text = "\n".join(out) + "\n"
    return write_text(path, text, inputs=inputs)
