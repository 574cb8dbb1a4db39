"""Evaluation of denoisers as the paper's Tables I and II, for raw input, classical filters and models.

Table I: MSE / PSNR / SSIM (0-255 scale, :mod:`stmdenoise.metrics`) on simulated test pairs.
Table II: BRISQUE / PIQE (lower is better) on experimental scans.

All images of Table I (clean references, noisy inputs) are plane-levelled first, as the
Denoiser levels its input. Classical baselines (:mod:`stmdenoise.evaluation.baselines`) run on
the robustly normalised image at the simulation's pixel size; each has one strength parameter,
chosen by mean PSNR on a **validation** set that is disjoint from the test set. Models run
through :class:`stmdenoise.denoise.Denoiser`
(G_D for simulated pairs, G_DA for experimental scans).
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.evaluation.baselines import BASELINES, apply_baseline, real_input
from stmdenoise.jobs import JobCancelled
from stmdenoise.processing import level_plane
from stmdenoise.scan import Scan

if TYPE_CHECKING:
    from stmdenoise.denoise import Denoiser, Which

__all__ = [
    "EvalProgress",
    "EvalResult",
    "evaluate",
    "load_pairs",
    "rmse_pm",
    "tables_markdown",
    "tables_csv",
]

log = logging.getLogger(__name__)
Array = NDArray[np.float64]


@dataclass(frozen=True)
class EvalProgress:
    """Progress record of :func:`evaluate`."""

    done: int
    total: int | None
    message: str = ""


@dataclass
class EvalResult:
    """Rows of Tables I and II, plus the tuned baseline parameters."""

    table1: list[dict[str, Any]] = field(default_factory=list)
    table2: list[dict[str, Any]] = field(default_factory=list)
    tuned: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Table I outputs per method name (baseline key or model folder name), kept only when this
    #: is a dict on entry (``EvalResult(outputs={})``): faithfulness checks reuse them.
    outputs: dict[str, list[Array]] | None = None


def load_pairs(
    path: str | Path, *, start: int = 0, count: int | None = None
) -> tuple[list[tuple[Array, Array]], float]:
    """Read ``(clean, noisy)`` pairs ``[start, start + count)`` and the pixel size of a simulated dataset."""
    from stmdenoise.physics import open_dataset

    with open_dataset(path) as ds:
        n = len(ds)
        stop = n if count is None else min(n, start + count)
        if start >= stop:
            raise ValueError(f"{path}: holds {n} pairs, none in [{start}, {stop})")
        clean = ds.clean(slice(start, stop)).astype(np.float64)
        noisy = ds.noisy(slice(start, stop)).astype(np.float64)
        px = float(ds.pixel_size)
    return list(zip(clean, noisy, strict=True)), px


def evaluate(
    *,
    models: Sequence[str | Path],
    test_pairs: Sequence[tuple[Array, Array]] = (),
    val_pairs: Sequence[tuple[Array, Array]] = (),
    pixel_size: float,
    real_scans: Sequence[Scan] = (),
    baselines: Sequence[str] = tuple(BASELINES),
    device: str = "auto",
    passes: int = 1,
    cancel: threading.Event | None = None,
    result: EvalResult | None = None,
) -> Iterator[EvalProgress]:
    """Fill ``result`` (an :class:`EvalResult`) with Tables I and II; yields progress records.

    Parameters
    ----------
    models : sequence of path
        Model folders; each gets a row in both tables.
    test_pairs, val_pairs : sequence of (clean, noisy) arrays
        Simulated test pairs (Table I) and a disjoint validation set (baseline tuning).
    pixel_size : float
        Pixel size of the simulated pairs, metres.
    real_scans : sequence of Scan
        Experimental scans (Table II).
    baselines : sequence of str
        Names from :data:`BASELINES`.
    passes : {1, 2, 4}
        Network passes each model averages (``Denoiser.denoise``); rows say when it is not 1.
    """
    from stmdenoise import metrics

    res = result if result is not None else EvalResult()
    # every method sees the plane-levelled noisy image and is scored against the levelled clean
    # one: a tilt is not noise, and the 8-bit min-max rendering of the metrics would let it
    # dominate every score (the Denoiser levels its input the same way)
    test_pairs = [(level_plane(c), level_plane(n)) for c, n in test_pairs]
    val_pairs = [(level_plane(c), level_plane(n)) for c, n in val_pairs]
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; known: {list(BASELINES)}")
    chosen = [BASELINES[b] for b in baselines]
    dens = _load_models(models, device)

    def model_label(name: str, den: Denoiser, path: str = "") -> str:
        kind = path or den.info.variant
        return f"{name} ({kind}{'' if passes == 1 else f', {passes} passes'})"

    # a folder with a spectral gain gets a second Table I row: what its experimental path (the one
    # real scans get) does to the simulated pairs, beside G_D (the one simulated images get)
    gains = sum(den.gain is not None for _, den in dens)
    work = (
        sum(len(b.grid) for b in chosen) * len(val_pairs)
        + (1 + len(chosen) + len(dens)) * (len(test_pairs) + len(real_scans))
        + gains * len(test_pairs)
    )
    done = 0

    def tick(msg: str) -> EvalProgress:
        nonlocal done
        if cancel is not None and cancel.is_set():
            raise JobCancelled("evaluation cancelled")
        done += 1
        return EvalProgress(done, work, msg)

    # ---- tune each baseline on the validation set (mean PSNR)
    for b in chosen:
        if not val_pairs:
            res.tuned[b.name] = b.grid[len(b.grid) // 2]
            res.notes.append(f"{b.label}: no validation set, middle of the grid ({res.tuned[b.name]})")
            continue
        scores = []
        for p in b.grid:
            vals = []
            for clean, noisy in val_pairs:
                vals.append(metrics.psnr(clean, apply_baseline(b, p, noisy)))
                yield tick(f"tuning {b.label}")
            scores.append(float(np.mean(vals)))
        res.tuned[b.name] = b.grid[int(np.argmax(scores))]
        log.info("%s: parameter %s (validation PSNR %s)", b.label, res.tuned[b.name], np.round(scores, 2))

    # ---- Table I
    def row1(method: str, outs: list[tuple[Array, Array]]) -> dict[str, Any]:
        psnr = [metrics.psnr(c, o) for c, o in outs]
        ssim = [metrics.ssim(c, o) for c, o in outs]
        return {
            "method": method,
            "MSE": float(np.mean([metrics.mse(c, o) for c, o in outs])),
            "PSNR": float(np.mean(psnr)),
            "PSNR_se": _standard_error(psnr),
            "SSIM": float(np.mean(ssim)),
            "SSIM_se": _standard_error(ssim),
            "RMSE_pm": float(np.mean([rmse_pm(c, o) for c, o in outs])),
            "n": len(outs),
        }

    if test_pairs:
        outs: list[tuple[Array, Array]] = []
        for clean, noisy in test_pairs:
            outs.append((clean, noisy))
            yield tick("Table I raw")
        res.table1.append(row1("Raw input", outs))
        for b in chosen:
            outs = []
            for clean, noisy in test_pairs:
                outs.append((clean, apply_baseline(b, res.tuned[b.name], noisy)))
                yield tick(f"Table I {b.label}")
            res.table1.append(row1(f"{b.label} ({res.tuned[b.name]:g})", outs))
            if res.outputs is not None:
                res.outputs[b.name] = [o for _, o in outs]
        for name, den in dens:
            # (which path, row label's kind, progress message); outputs kept for G_D's row
            paths: list[tuple[Which, str, str]] = [
                ("simulated", "G_D" if den.gain is not None else "", f"Table I {name}")
            ]
            if den.gain is not None:
                paths.append(
                    ("experimental", "spectral gain, real-scan path", f"Table I {name} spectral gain")
                )
            for which, kind, message in paths:
                outs = []
                for clean, noisy in test_pairs:
                    header = {"simulated": which == "simulated"}
                    scan = Scan(noisy, pixel_size=(pixel_size, pixel_size), header=header)
                    out = den.denoise(scan, which=which, passes=passes, cancel=cancel)
                    outs.append((clean, np.asarray(out.data)))
                    yield tick(message)
                res.table1.append(row1(model_label(name, den, kind), outs))
                if which == "simulated" and res.outputs is not None:
                    res.outputs[name] = [o for _, o in outs]

    # ---- Table II
    def row2(method: str, images: list[Array]) -> dict[str, Any]:
        return {
            "method": method,
            "BRISQUE": float(np.mean([metrics.brisque(im) for im in images])),
            "PIQE": float(np.mean([metrics.piqe(im) for im in images])),
            "n": len(images),
        }

    if real_scans:
        inputs = [real_input(s) for s in real_scans]
        ims: list[Array] = []
        for s in inputs:
            ims.append(np.asarray(s.data))
            yield tick("Table II raw")
        res.table2.append(row2("Raw input", ims))
        for b in chosen:
            ims = []
            for s in inputs:
                ims.append(apply_baseline(b, res.tuned[b.name], s, pixel_size))
                yield tick(f"Table II {b.label}")
            res.table2.append(row2(f"{b.label} ({res.tuned[b.name]:g})", ims))
        for name, den in dens:
            ims = []
            for s in inputs:
                out = den.denoise(s, which="experimental", passes=passes, cancel=cancel)
                ims.append(np.asarray(out.data))
                yield tick(f"Table II {name}")
            label = model_label(name, den, "spectral gain" if den.gain is not None else "")
            res.table2.append(row2(label, ims))
    yield EvalProgress(work, work, "done")


def _load_models(models: Sequence[str | Path], device: str) -> list[tuple[str, Denoiser]]:
    """``(folder name, Denoiser)`` of each model folder; torch is imported only when there is one."""
    if not models:
        return []
    from stmdenoise.denoise import Denoiser

    return [(Path(m).name, Denoiser.from_folder(m, device=device)) for m in models]


def _standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of per-pair scores (sample SD / sqrt(n)); NaN for fewer than 2."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def rmse_pm(clean: Array, out: Array) -> float:
    """RMS difference in picometres (simulated heights are in metres), each image's mean removed.

    Unlike the 8-bit scores it is in the data's units and does not rescale either image by its
    own two most extreme pixels.
    """
    ok = np.isfinite(clean) & np.isfinite(out)
    d = (out[ok] - out[ok].mean()) - (clean[ok] - clean[ok].mean())
    return float(np.sqrt(np.mean(d * d)) * 1e12)


def _fmt(v: Any, key: str) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if key.startswith("SSIM") else f"{v:.2f}"
    return str(v)


def tables_markdown(res: EvalResult) -> str:
    """Both tables as Markdown (with the tuned parameters and notes)."""
    out = io.StringIO()
    for title, rows, keys in (
        ("Table I: simulated test pairs (MSE/PSNR/SSIM on the 0-255 scale, higher PSNR/SSIM better; "
         "_se: standard error of the mean over the pairs; RMSE in pm, mean removed, lower better)",
         res.table1,
         ("MSE", "PSNR", "PSNR_se", "SSIM", "SSIM_se", "RMSE_pm", "n")),
        ("Table II: experimental scans (BRISQUE/PIQE, lower is better; no-reference hints made for "
         "photographs: they reward smoothness and cannot see real signal changed; the real-scan "
         "fidelity tables below can)", res.table2, ("BRISQUE", "PIQE", "n")),
    ):  # fmt: skip
        if not rows:
            continue
        out.write(f"### {title}\n\n| method | " + " | ".join(keys) + " |\n|---|" + "---:|" * len(keys) + "\n")
        for r in rows:
            out.write(f"| {r['method']} | " + " | ".join(_fmt(r[k], k) for k in keys) + " |\n")
        out.write("\n")
    if res.tuned:
        out.write("Baseline parameters (tuned on the validation set): ")
        out.write(", ".join(f"{BASELINES[k].label} {v:g}" for k, v in res.tuned.items()) + "\n")
    for n in res.notes:
        out.write(f"\nNote: {n}\n")
    return out.getvalue()


def tables_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """One table as CSV text."""
    if not rows:
        return ""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return out.getvalue()
