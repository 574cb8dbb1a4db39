"""Held-out judgement and model card of a fine-tuned model (part of :mod:`~stmdenoise.training.finetune`)."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stmdenoise import __version__
from stmdenoise.model.folder import ModelInfo
from stmdenoise.training.finetune_scans import ScanCheck
from stmdenoise.training.real_pairs import file_sha256, primary_channel

__all__ = ["base_error_on_scans", "evaluate_holdout", "model_card"]


def _num(v: float) -> str:
    return f"{v:.2f}" if math.isfinite(v) else "n/a"


def model_card(
    req: Any,
    base_info: ModelInfo,
    checks: Sequence[ScanCheck],
    train: Sequence[Path],
    held: Sequence[Path],
    pixel_size: float,
    steps: int,
    table: str,
    flagged: bool,
    flag_reason: str,
    losses: Mapping[str, float],
    *,
    start: str = "",
    native_range: tuple[float, float] | None = None,
) -> str:
    by_path = {c.path: c for c in checks}
    lines = [
        f"# {Path(req.out).name}: fine-tuned from {Path(req.base).name}",
        "",
        f"Written by `stmdenoise finetune` (stmdenoise {__version__}), self-supervised on the user's scans "
        "(Noise2Noise forward/backward, blind-spot, simulated anchor; ours, not the paper's method).",
        "",
        "**Flagged: worse than the base model or the raw scan on the held-out scans "
        f"({flag_reason}). Not to be made the default without a reason.**"
        if flagged
        else "Not flagged.",
        "",
        "## Base model",
        f"- folder `{req.base}`, variant {base_info.variant}, {base_info.steps} steps, "
        f"pixel size {base_info.pixel_size * 1e9:.4g} nm",
        f"- start: {start or 'base'}; identity = the Up block's last layer zeroed, the residual skip alone ("
        "`stmdenoise.training.finetune.choose_start`)",
        "",
        "## Scans (SHA-256)",
        "",
        "| role | file | channel | SHA-256 | note |",
        "|---|---|---|---|---|",
    ]
    for role, paths in (("train", train), ("held out", held)):
        for p in paths:
            c = by_path.get(p)
            lines.append(
                f"| {role} | {p.name} | {c.channel if c else ''} | `{c.sha256 if c else file_sha256(p)}` "
                f"| {c.reason if c else ''} |"
            )
    for c in checks:
        if not c.usable:
            lines.append(f"| not used | {c.path.name} | {c.channel} | `{c.sha256}` | {c.reason} |")
    lines += [
        "",
        "## Settings",
        "",
        f"- working pixel size {pixel_size * 1e12:.4g} pm (median of the training scans; the anchor's "
        "simulated pairs are drawn at it)",
        (
            f"- native pixel-size range {native_range[0] * 1e12:.4g}-{native_range[1] * 1e12:.4g} pm: the "
            "training scans trained on their own grids, and the Denoiser runs scans in this range on "
            "their own grid; others are resampled to the working pixel size"
            if native_range is not None
            else "- no native range (the training scans span more than 2x): the Denoiser resamples every "
            "scan to the working pixel size"
        ),
        f"- steps {steps}; "
        + ", ".join(f"{k} {v}" for k, v in req.to_dict().items() if k not in ("scans", "holdout_scans")),
        "- final losses: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(losses.items())),
        "",
        "## Held-out scans: forward/backward fidelity",
        "",
        "Estimated error against the surface (the backward frame is the second look), relative to the raw "
        "forward frame (1.00); kept = real signal kept. Lower error is better.",
        "",
        table,
    ]
    return "\n".join(lines) + "\n"


def evaluate_holdout(
    base: str, out: Path, held: Sequence[Path], device: str, cancel: threading.Event | None
) -> tuple[list[Any], dict[str, float], str]:
    from stmdenoise.denoise import Denoiser
    from stmdenoise.training.real_fidelity import (
        Method,
        best_classical,
        classical_methods,
        fidelity_markdown,
        pair_rows,
        two_direction_frames,
    )

    def bare(d: Denoiser) -> Any:
        # with the backward frame as the app gives it: a folder that measures noise from both
        # directions is judged as it would run (cross-fitted, so the judgement stays fair)
        return lambda scan, other: np.asarray(d.denoise(scan, partner=other).data)

    base_d = Denoiser.from_folder(base, device=device, backend="torch")
    new_d = Denoiser.from_folder(out, device=device, backend="torch")
    methods = [
        *classical_methods(),
        Method(f"base: {Path(base).name} (model output)", "model", bare(base_d)),
        Method(f"fine-tuned: {out.name} (model output)", "model", bare(new_d)),
    ]
    rows: list[Any] = []
    tables = []
    per: dict[str, list[float]] = {"base": [], "finetuned": [], "best_classical": []}
    lines = []
    for path in held:
        ch = None
        try:
            from stmdenoise.io import read_all

            ch = primary_channel(read_all(path))
        except (OSError, ValueError):
            pass
        for name, fwd, bwd in two_direction_frames(path, [ch] if ch else None):
            r = pair_rows(methods, name, fwd, bwd, cancel=cancel)
            rows += r
            tables.append(fidelity_markdown(r, title=name))
            by = {x.method: x for x in r}
            best = best_classical(r)
            for key, label in (("base", methods[-2].label), ("finetuned", methods[-1].label)):
                row = by.get(label)
                per[key].append(row.mean("all") if row is not None and row.reports else math.nan)
            per["best_classical"].append(best.mean("all") if best is not None else math.nan)
            b, f, c = per["base"][-1], per["finetuned"][-1], per["best_classical"][-1]
            lines.append(
                f"| {name} | 1.00 | {_num(b)} | {_num(f)} | {_num(c)} ({best.method if best else 'n/a'}) |"
            )
    summary = {
        k: float(np.nanmean(v)) if any(math.isfinite(x) for x in v) else math.nan for k, v in per.items()
    }
    both = [
        (b, f)
        for b, f in zip(per["base"], per["finetuned"], strict=True)
        if math.isfinite(b) and math.isfinite(f)
    ]
    summary["base_scans"] = float(len(both))
    summary["base_where_both"] = float(np.mean([b for b, _ in both])) if both else math.nan
    summary["finetuned_where_both"] = float(np.mean([f for _, f in both])) if both else math.nan
    head = "\n".join(
        [
            "| held-out scan (overall error, raw = 1.00) | raw | base | fine-tuned | best classical |",
            "|---|---:|---:|---:|---|",
            *lines,
            f"| **mean of {len(lines)}** | 1.00 | {_num(summary['base'])} | {_num(summary['finetuned'])} "
            f"| {_num(summary['best_classical'])} |",
        ]
    ) + (
        f"\n\nThe base model could serve {len(both)} of {len(lines)} held-out scan(s) (n/a: it refuses a "
        "scan that is under 32 px on its grid)."
    )
    return rows, summary, head + "\n" + "\n".join(tables)


def base_error_on_scans(base: str, paths: Sequence[Path], device: str) -> float:
    """Mean overall forward/backward estimated error (raw = 1.00) of ``base``'s output on ``paths``.

    Each scan's primary channel, forward frame denoised, judged against the look
    :func:`evaluate_holdout`'s rows use (:func:`~stmdenoise.training.real_fidelity.judging_look`:
    the backward frame, negated for a feedback-error current where that agrees). NaN when
    no scan could be judged (no backward frame, or the base model refuses every scan).
    """
    from stmdenoise.denoise import Denoiser
    from stmdenoise.io import read_all
    from stmdenoise.metrics.fidelity import NotScorableError, pair_fidelity
    from stmdenoise.training.real_fidelity import judging_look, two_direction_frames

    d = Denoiser.from_folder(base, device=device, backend="torch")
    errors = []
    for path in paths:
        try:
            ch = primary_channel(read_all(path))
        except (OSError, ValueError):
            continue
        for _name, fwd, bwd in two_direction_frames(path, [ch] if ch else None):
            try:
                # the network the fine-tune starts from (G_D), also when real scans go to a spectral gain
                out = np.asarray(d.denoise(fwd, which="simulated" if d.gain is not None else "auto").data)
                offset, look = judging_look(fwd, bwd)  # a feedback-error current: its negated look
                err = pair_fidelity(out, fwd, look, offset=offset).band("all").error
            except (NotScorableError, ValueError):
                continue
            if math.isfinite(err):
                errors.append(err)
    return float(np.mean(errors)) if errors else math.nan
