"""An independent simulator: the shipped model and the classical filters on surfaces and artefacts
that ``stmdenoise.physics`` did not make.

    python bench/independent_sim.py [--pairs 40] [--seed 4242] [--out DIR]

Issue 15 measured the shipped model on "40 pairs from a separately written Green's-function
simulator and artefact model" and found it tied with classical filters, its margin on our own
test set coming from matching our own artefact model. That simulator is not ours to run; this
script is a second one, written for this check without importing ``stmdenoise.physics`` (nothing
of the training simulator's code, presets or random streams), so the model meets surfaces and
artefacts drawn from other formulas. Its numbers are reported, not used to pick anything, with
two exceptions (docs/model-selection.md): the scar detector (``stmdenoise.metrics.scars``,
candidate DI) was designed on the first 16 pairs of seed 4242, the reported run's; and candidate
DO (filling scars before the two-direction Wiener) took seed 5353 as its rule's evidence, because
no other check held scars standing this far above their noise. Any other seed is unused.

**Clean surface** (256 x 256 px at 0.1406 nm/px, the model's grid; heights in metres): a
Cu(111) surface state (E0 = -0.44 eV, m* = 0.38 m_e) scattered by 8-30 point defects, each an
s-wave T-matrix scatterer with its own phase shift: the LDOS change at the sample bias is
-Im[(e^(2i delta) - 1) H0(kr)^2] / pi summed over the defects (single scattering; Hankel function
H0 = J0 + i Y0 of the first kind), k from the bias (5-30 mV of either sign, as the trained
range); the topograph is that LDOS map scaled to a corrugation of 2-6 pm at its 99th percentile
of |change|, plus each defect's own apparent shape, a Gaussian of radius 2.5-4 Angstrom: an
adatom bump (25 %, 20-80 pm), a vacancy- or CO-like dip (15 %, -10 to -40 pm) or a subsurface
defect that shows mostly through its waves (60 %, +-1-5 pm); and, in a quarter of the
surfaces, one monatomic step (208 pm) along a random straight line with its own reflected
standing waves (a line scatterer: cos(2 k d + phase) / sqrt(k d)).

**Artefacts** (applied in this order; time runs along the raster, 256 px per line, the line
time drawn from 0.1-0.4 s): tip blur (Gaussian, sigma 0.5-2.5 Angstrom); a double tip in 30 %
(a copy 20-50 % as strong, 3-10 Angstrom away); a tip change in 20 % (from a random line on,
a new blur and a height jump of 5-30 pm); the feedback loop's response along each line (the
height reaches a change through a damped oscillation: second-order low-pass, 0.3-1.5 px time
constant, damping 0.3-0.7: a lag and an overshoot at tall features and steps); 1/f noise in
time (0.3-1.5 pm RMS); random telegraph noise (two levels 1-4 pm apart, switching every
50-2000 px on average); mains pick-up at 50 Hz (0.2-1.5 pm); scars (2-8 per image: 5-40 px of a
line pulled 10-60 pm off); line offsets (0.3-2 pm RMS per line, plus a slow random walk); white
noise (0.5-2 pm). These ranges were set before the
shipped model was scored on 40 pairs, after one 4-pair look (seed 77) showed noise well above
the issue's raw level (raw PSNR 21.9 dB there against its 27.3) with steps in half the scenes.
The feedback's time constant was first drawn from 1-6 px, which low-passes and shifts the
standing waves (10.5 px apart) so far that a frame barely correlated with its surface (0.07 to
0.16 where the tip alone leaves 0.91; `tests/evaluation/test_independent_sim.py` found it); no
scan that smeared shows its waves, so it was cut to 0.3-1.5 px before the numbers below.
Every method then sees the noisy image plane-levelled with each line's median offset removed
(row alignment), as the issue did.

**Scores**: Table I's (PSNR and SSIM on the 0-255 scale, each image min-max scaled;
``stmdenoise.metrics``) and the RMS error in picometres (``stmdenoise.evaluation.rmse_pm``),
against the clean map levelled the same way. Methods: raw; every classical baseline of
``stmdenoise.evaluation.BASELINES`` at every grid parameter (BM3D only with ``--bm3d``), the
best chosen on these pairs per metric (an oracle); G_D (``which="simulated"``: what the
Simulation panel and Table I use); the default experimental path on the single frame (the
spectral gain; a scan it declines as quiet counts as raw); and, with a second look drawn from the
same surface with its own artefacts (the backward frame, ringing in the other direction), the
two-direction Wiener (``Denoiser.denoise(scan, partner=...)``), and what the app and the CLI deliver
with that second look (``Denoiser.denoise_checked``: the model's output, or the Gaussian
fallback the backward frame shows to be better).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, signal, special

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sweeps' classical filter runner
os.environ.setdefault("OMP_NUM_THREADS", "2")

from sweeps import classical  # noqa: E402

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.evaluation import BASELINES, rmse_pm  # noqa: E402
from stmdenoise.metrics import psnr, ssim  # noqa: E402
from stmdenoise.metrics.registration import register_frames, trace_retrace_max_shift  # noqa: E402
from stmdenoise.metrics.scars import scars_of  # noqa: E402
from stmdenoise.processing import level_plane  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402

Array = NDArray[np.float64]

PIXELS = 256
PX = 0.140625e-9  # m per pixel (the model's grid)
HBAR = 1.054571817e-34
ME = 9.1093837015e-31
EV = 1.602176634e-19
E0 = -0.44  # eV, Cu(111) surface-state band bottom
MSTAR = 0.38  # effective mass / m_e
STEP = 208e-12  # Cu(111) monatomic step, m


def k_of(bias: float) -> float:
    """Surface-state wave vector (1/m) at ``bias`` volts."""
    return math.sqrt(2 * MSTAR * ME * (bias - E0) * EV) / HBAR


# --------------------------------------------------------------------------- clean surface


def clean_surface(rng: np.random.Generator) -> tuple[Array, dict[str, Any]]:
    """One clean topograph (metres) and what was drawn."""
    n = PIXELS
    yy, xx = np.mgrid[0:n, 0:n] * PX
    bias = float(rng.choice([-1, 1]) * rng.uniform(0.005, 0.03))
    k = k_of(bias)
    count = int(rng.integers(8, 31))
    pos = rng.uniform(-0.05, 1.05, (count, 2)) * n * PX
    phase = rng.uniform(0.2, 1.4, count)  # s-wave phase shifts, rad
    ldos = np.zeros((n, n))
    for (py, px), d in zip(pos, phase, strict=True):
        r = np.maximum(np.hypot(yy - py, xx - px), 0.6 * PX)
        h = special.hankel1(0, k * r)
        ldos += -np.imag((np.exp(2j * d) - 1) * h * h) / np.pi
    step = None
    if rng.random() < 0.25:  # one straight step with its reflected waves
        angle = rng.uniform(0, np.pi)
        c = rng.uniform(0.25, 0.75) * n * PX
        dist = (xx - c) * math.cos(angle) + (yy - c) * math.sin(angle)
        dd = np.maximum(np.abs(dist), 0.5 * PX)
        ldos += 0.8 * np.cos(2 * k * dd + rng.uniform(0, 2 * np.pi)) / np.sqrt(k * dd)
        step = (float(angle), float(c))
    corrugation = rng.uniform(2e-12, 6e-12)
    z = ldos / np.percentile(np.abs(ldos), 99) * corrugation
    if step is not None:
        z += STEP * ndimage.gaussian_filter((dist > 0).astype(float), 0.7)
    kinds = []
    for py, px in pos:  # adatoms, vacancy-like dips, subsurface defects (waves, barely a bump)
        kind = rng.choice(["bump", "dip", "subsurface"], p=[0.25, 0.15, 0.6])
        height = {
            "bump": rng.uniform(20e-12, 80e-12),
            "dip": -rng.uniform(10e-12, 40e-12),
            "subsurface": float(rng.choice([-1, 1]) * rng.uniform(1e-12, 5e-12)),
        }[str(kind)]
        radius = rng.uniform(2.5e-10, 4e-10)
        z += height * np.exp(-((yy - py) ** 2 + (xx - px) ** 2) / (2 * radius**2))
        kinds.append(str(kind))
    return z, {"bias": bias, "defects": count, "step": step is not None, "corrugation_pm": corrugation * 1e12}


# --------------------------------------------------------------------------- artefacts


@dataclass
class Tip:
    """What one frame's tip does (drawn once per surface, shared by both directions)."""

    blur: float
    double: tuple[float, float, float] | None  # weight, dy, dx (px)
    change_row: int | None
    change_blur: float
    change_jump: float
    line_time: float
    ringing: tuple[float, float] = field(default=(2.0, 0.4))  # time constant (px), damping


def draw_tip(rng: np.random.Generator) -> Tip:
    double = None
    if rng.random() < 0.3:
        d = rng.uniform(3e-10, 10e-10) / PX
        a = rng.uniform(0, 2 * np.pi)
        double = (float(rng.uniform(0.2, 0.5)), d * math.sin(a), d * math.cos(a))
    change = int(rng.integers(20, PIXELS - 20)) if rng.random() < 0.2 else None
    return Tip(
        blur=rng.uniform(0.5e-10, 2.5e-10) / PX,
        double=double,
        change_row=change,
        change_blur=rng.uniform(0.5e-10, 2.5e-10) / PX,
        change_jump=float(rng.choice([-1, 1]) * rng.uniform(5e-12, 30e-12)),
        line_time=rng.uniform(0.1, 0.4),
        ringing=(float(rng.uniform(0.3, 1.5)), float(rng.uniform(0.3, 0.7))),
    )


def _tipped(z: Array, blur: float, double: tuple[float, float, float] | None) -> Array:
    out = ndimage.gaussian_filter(z, blur, mode="nearest")
    if double is not None:
        w, dy, dx = double
        out = (out + w * ndimage.shift(out, (dy, dx), order=1, mode="nearest")) / (1 + w)
    return out


def _feedback(z: Array, tau: float, damping: float) -> Array:
    """Each line through a second-order low-pass (the loop's damped response), left to right."""
    w0 = 1.0 / tau
    b, a = signal.bilinear([w0 * w0], [1.0, 2 * damping * w0, w0 * w0])
    zi = signal.lfilter_zi(b, a)
    return np.stack([signal.lfilter(b, a, row, zi=zi * row[0])[0] for row in z])


def _time_noise(rng: np.random.Generator, n: int, line_time: float) -> Array:
    """1/f, telegraph and mains noise as one raster-ordered series (n samples), metres."""
    f = np.fft.rfftfreq(n)
    spec = np.zeros_like(f)
    spec[1:] = 1 / np.sqrt(f[1:])
    pink = np.fft.irfft(spec * np.exp(2j * np.pi * rng.random(len(f))), n)
    pink *= rng.uniform(0.3e-12, 1.5e-12) / pink.std()
    mean_dwell = rng.uniform(50, 2000)
    flips = np.cumsum(rng.exponential(mean_dwell, int(3 * n / mean_dwell) + 10))
    state = np.searchsorted(flips, np.arange(n)) % 2
    tele = (state - 0.5) * rng.uniform(1e-12, 4e-12)
    t = np.arange(n) * (line_time / PIXELS)
    mains = rng.uniform(0.2e-12, 1.5e-12) * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 2 * np.pi))
    return np.asarray(pink + tele + mains)


def noisy_frame(
    z: Array,
    tip: Tip,
    rng: np.random.Generator,
    backward: bool,
    scars: list[tuple[int, int, int]] | None = None,
) -> Array:
    """One scan direction of ``z`` (the backward frame is recorded right to left, returned left to
    right). ``scars``, where given, receives each scar's (row, first column, length) as returned."""
    x = _tipped(z, tip.blur, tip.double)
    if tip.change_row is not None:
        after = _tipped(z, tip.change_blur, tip.double) + tip.change_jump
        x[tip.change_row :] = after[tip.change_row :]
    if backward:
        x = x[:, ::-1]
    x = _feedback(x, *tip.ringing)
    x = x + _time_noise(rng, x.size, tip.line_time).reshape(x.shape)
    for _ in range(int(rng.integers(2, 9))):  # scars
        r, c0 = int(rng.integers(0, PIXELS)), int(rng.integers(0, PIXELS))
        length = int(rng.integers(5, 41))
        x[r, c0 : c0 + length] += float(rng.choice([-1, 1]) * rng.uniform(10e-12, 60e-12))
        if scars is not None:  # the columns as returned (a backward frame is flipped back)
            stop = min(c0 + length, PIXELS)
            scars.append((r, PIXELS - stop, stop - c0) if backward else (r, c0, stop - c0))
    offsets = rng.normal(0, rng.uniform(0.3e-12, 2e-12), PIXELS) + np.cumsum(rng.normal(0, 0.2e-12, PIXELS))
    x = x + offsets[:, None] + rng.normal(0, rng.uniform(0.5e-12, 2e-12), x.shape)
    return np.asarray(x[:, ::-1] if backward else x)


#: What :func:`scar_tally` counts for one pair.
Tally = tuple[int, int, int, int, int, int]


def scar_tally(noisy: Array, back: Array, drawn: list[tuple[int, int, int]]) -> Tally:
    """What the do-no-harm verdict's scar check (:func:`stmdenoise.metrics.scars.scars_of`, the
    backward frame registered as the judge registers it) finds of the forward frame's ``drawn``
    scars: (scars drawn, found with any pixel marked, their pixels, of them marked, pixels marked,
    scars named)."""
    offset = register_frames(noisy, back, max_shift=trace_retrace_max_shift(noisy.shape))
    found = scars_of(noisy, back, offset)
    truth = np.zeros(noisy.shape, dtype=bool)
    for r, c0, n in drawn:
        truth[r, c0 : c0 + n] = True
    hit = sum(bool(found.mask[r, c0 : c0 + n].any()) for r, c0, n in drawn)
    return (len(drawn), hit, int(truth.sum()), int((truth & found.mask).sum()), found.pixels, found.count)


def scar_summary(counts: list[Tally]) -> str:
    """One sentence on the scars found over the pairs (:func:`scar_tally`)."""
    drawn, hit, pixels, marked_true, marked, _named = (sum(c[k] for c in counts) for k in range(6))
    named = sum(c[5] > 0 for c in counts)
    return (
        f"Scars (`stmdenoise.metrics.scars`, what the verdict names): {drawn} drawn in the forward "
        f"frames, {hit} found; {marked_true / max(pixels, 1):.0%} of their pixels marked, "
        f"{marked_true / max(marked, 1):.0%} of the marked pixels on a drawn scar; named on {named} of "
        f"{len(counts)} pairs."
    )


def aligned(x: Array) -> Array:
    """Plane-levelled, then each line's median offset from the image median removed."""
    y = np.asarray(level_plane(x), dtype=np.float64)
    return np.asarray(y - (np.median(y, axis=1) - np.median(y))[:, None])


# --------------------------------------------------------------------------- scoring


def _figure_row(images: list[Array]) -> NDArray[np.uint8]:
    """The central 128 x 128 px of the images side by side, on the clean map's 1-99 % range, 8-bit."""
    lo, hi = np.percentile(images[0], [1, 99])
    c = slice(PIXELS // 2 - 64, PIXELS // 2 + 64)
    return np.hstack([(np.clip((im[c, c] - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8) for im in images])


def scores(clean: Array, out: Array) -> dict[str, float]:
    return {"PSNR": psnr(clean, out), "SSIM": ssim(clean, out), "RMSE_pm": rmse_pm(clean, out)}


#: The rows of this model (every other row but raw is a swept classical baseline).
OURS = (
    "G_D (simulated path)",
    "default, single frame",
    "default, with the backward frame",
    "delivered (do-no-harm check, backward frame)",
)


def mean_score(per: dict[str, list[dict[str, float]]], name: str, metric: str) -> float:
    """The mean of ``metric`` over the pairs of row ``name``."""
    return float(np.mean([s[metric] for s in per[name]]))


def best_classical(per: dict[str, list[dict[str, float]]]) -> dict[str, str]:
    """The swept baseline with the best mean of each metric (an oracle), never a row of ours: what
    the app delivers is one of ours even where it is a Gaussian (until 2026-12-06 it could be
    crowned best classical, and the model was then compared with its own delivered output)."""
    classical_names = [n for n in per if n != "raw" and n not in OURS]
    best: dict[str, str] = {}
    for metric in ("PSNR", "SSIM", "RMSE_pm"):
        ranked = sorted(classical_names, key=functools.partial(mean_score, per, metric=metric))
        best[metric] = ranked[0] if metric == "RMSE_pm" else ranked[-1]
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--bm3d", action="store_true", help="sweep BM3D too (about 10 s per call on a CPU)")
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped default)")
    ap.add_argument("--out", type=Path, help="write independent_sim.md and .json here")
    ap.add_argument(
        "--figure", type=Path,
        help="PNG: central 128 px of the first --figure-pairs pairs (clean, raw, G_D, gain, 2-dir, median)",
    )  # fmt: skip
    ap.add_argument("--figure-pairs", type=int, default=3)
    args = ap.parse_args(argv)
    if args.pairs < 2:
        ap.error("--pairs must be >= 2")
    t0 = time.perf_counter()
    model_dir = args.model or default_model_dir()
    den = Denoiser.from_folder(model_dir, device="cpu")
    baselines = [b for b in BASELINES.values() if b.name != "bm3d" or args.bm3d]
    per: dict[str, list[dict[str, float]]] = {}
    figure_rows: list[NDArray[np.uint8]] = []
    drawn = []
    declined = 0
    scar_counts: list[Tally] = []

    def add(name: str, clean: Array, out: Array) -> None:
        per.setdefault(name, []).append(scores(clean, out))

    for i in range(args.pairs):
        rng = np.random.default_rng([args.seed, i])
        z, info = clean_surface(rng)
        tip = draw_tip(rng)
        drawn_scars: list[tuple[int, int, int]] = []
        fwd, bwd = noisy_frame(z, tip, rng, False, drawn_scars), noisy_frame(z, tip, rng, True)
        clean, noisy, back = aligned(z), aligned(fwd), aligned(bwd)
        scar_counts.append(scar_tally(noisy, back, drawn_scars))
        drawn.append(info)
        add("raw", clean, noisy)
        for b in baselines:
            for prm in b.grid:
                add(f"{b.label} ({prm:g})", clean, classical(b, prm, noisy))
        sim = Scan(noisy, pixel_size=(PX, PX), header={"simulated": True})
        g_d = np.asarray(den.denoise(sim, which="simulated").data)
        add("G_D (simulated path)", clean, g_d)
        exp = Scan(noisy, pixel_size=(PX, PX))
        partner = Scan(back, pixel_size=(PX, PX), direction="backward")
        if den.quiet_refusal(exp):
            declined += 1
            single = noisy
        else:
            single = np.asarray(den.denoise(exp).data)
        add("default, single frame", clean, single)
        two = np.asarray(den.denoise(exp, partner=partner).data)
        add("default, with the backward frame", clean, two)
        if args.figure is not None and i < args.figure_pairs:
            median = classical(BASELINES["median"], 3.0, noisy)
            figure_rows.append(_figure_row([clean, noisy, g_d, single, two, median]))
        checked = den.denoise_checked(exp, partner=partner)  # what the app and the CLI deliver
        add("delivered (do-no-harm check, backward frame)", clean, np.asarray(checked.delivered.data))
        print(f"pair {i + 1}/{args.pairs} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

    lines = [
        f"# Independent simulator: `{model_dir.name}` and classical filters ({args.pairs} pairs, seed "
        f"{args.seed})\n",
        "Surfaces and artefacts of `bench/independent_sim.py` (not `stmdenoise.physics`); every method "
        "sees the plane-levelled, row-aligned noisy image; best classical chosen on these pairs per "
        f"metric (oracle). The single-frame default declined {declined} of {args.pairs} as quiet "
        "(scored as raw).\n",
        "| method | PSNR (dB) | SSIM | RMS error (pm) |",
        "|---|---:|---:|---:|",
    ]
    best = best_classical(per)
    shown = ["raw", *dict.fromkeys(best.values()), *OURS]
    for name in shown:
        tag = (
            " **(best classical: " + ", ".join(m for m, n in best.items() if n == name) + ")**"
            if name in best.values()
            else ""
        )
        psnr_, ssim_, rmse_ = (mean_score(per, name, m) for m in ("PSNR", "SSIM", "RMSE_pm"))
        lines.append(f"| {name}{tag} | {psnr_:.2f} | {ssim_:.4f} | {rmse_:.2f} |")
    lines.append("\nModel minus best classical, mean over pairs ± twice the paired standard error:\n")
    lines.append("| method | PSNR (dB) | SSIM | RMS error (pm) |")
    lines.append("|---|---:|---:|---:|")
    for name in OURS:
        cells = []
        for m in ("PSNR", "SSIM", "RMSE_pm"):
            d = np.array([a[m] - b[m] for a, b in zip(per[name], per[best[m]], strict=True)])
            digits = 4 if m == "SSIM" else 2
            cells.append(f"{d.mean():+.{digits}f} ± {2 * d.std(ddof=1) / math.sqrt(len(d)):.{digits}f}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    steps = np.array([d["step"] for d in drawn])
    lines.append("\nBy scene (mean PSNR / SSIM / RMS error in pm):\n")
    lines.append(
        "| method | "
        + " | ".join(f"{lab} ({int(m.sum())})" for lab, m in (("with a step", steps), ("no step", ~steps)))
        + " |"
    )
    lines.append("|---|---:|---:|")
    for name in shown:
        cells = []
        for scene in (steps, ~steps):
            kept = [sc for sc, keep in zip(per[name], scene, strict=True) if keep]
            vals = [
                float(np.mean([sc[k] for sc in kept])) if kept else math.nan
                for k in ("PSNR", "SSIM", "RMSE_pm")
            ]
            cells.append(f"{vals[0]:.2f} / {vals[1]:.4f} / {vals[2]:.2f}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines.append("\n" + scar_summary(scar_counts))
    lines.append(f"\n(bench/independent_sim.py, {time.perf_counter() - t0:.0f} s)\n")
    md = "\n".join(lines)
    print(md)
    if figure_rows and args.figure is not None:
        from PIL import Image  # only for the figure

        args.figure.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.vstack(figure_rows)).save(args.figure)
        print(f"figure written to {args.figure}", file=sys.stderr)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "independent_sim.md").write_text(md, encoding="utf-8")
        data = {
            "seed": args.seed,
            "pairs": args.pairs,
            "model": str(model_dir),
            "drawn": drawn,
            "scores": per,
            "scars": scar_counts,
        }
        (args.out / "independent_sim.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
