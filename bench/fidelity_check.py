"""The forward/backward fidelity estimate against ground truth, on simulated two-direction scans.

    python bench/fidelity_check.py [--scans 5] [--seed 1015] [--model DIR] [--out DIR]

``stmdenoise.metrics.fidelity.pair_fidelity`` estimates a denoised frame's error against the
surface from a second look (the backward frame), relative to the raw frame's error. It cannot
see noise that trace and retrace share: that counts as signal (its documented bias). Here the
surface is known. Scan ``i`` = ``stmdenoise.physics.sample_scan(image_rng(seed, i))`` (256 px,
36 nm, the simulator's trace/retrace model: clean, forward and mirrored backward frame; seed
1015 by default). The forward frame is denoised by each method:

* raw (1.00 / 1.00 by definition);
* Gaussian σ = 0.5, 1, 2 px and median 3 px (``stmdenoise.evaluation.BASELINES``' functions, on the
  forward frame as read: both are linear or order statistics, so scale does not matter);
* the shipped model's bare output (``Denoiser.denoise``, one pass): G_D
  (``which="simulated"``, what Table I uses) and its experimental path on the forward frame alone
  (the spectral gain), plane restored as the Denoiser does;
* the two-direction Wiener (``stmdenoise.denoise.two_direction_denoise``), which reads the
  backward frame too, cross-fitted: its ``est / true`` beside the single-frame filters' shows
  whether the estimate stays fair for a filter that measured its noise from the same look;
  and the same filter forced to the 16-row bands small feedback-error currents get
  (``two_direction_wiener(..., band=SMALL_BAND)``, offset as the judge registers): thinner bands
  put more rows next to a band of the other parity, so noise correlated from line to line would
  show here as an optimistic estimate.

For each output two numbers, both relative to the raw frame (raw = 1, 0 = the surface):

``est``
    ``pair_fidelity(out, forward, backward, pixel_size=px).overall.error``, the offset between
    the frames measured as the product measures it;
``true``
    power of (out − clean) / power of (forward − clean), every frequency but zero, each
    difference plane-levelled and Hann-windowed as the estimator does (the helper
    ``_true_error`` of tests/metrics/test_fidelity.py). ``clean`` is the surface where the
    forward frame saw it (``physics.raster_warp``: drift and creep applied).

and ``est / true``: above 1 the estimate is pessimistic, below 1 optimistic.

Five artefact models and a sixth with a noise burst, on the same scans (same seeds: the same
surfaces and, since a term is switched off by setting it to 1e-9 of its typical value rather than
to 0, which would skip its random draws, the same noise realisations):

(a) ``typical``;
(b) ``typical`` without its trace/retrace-shared line-to-line noise: ``flicker_noise`` (1/f
    noise along the raster time: its slow part is common to the trace and retrace of a line)
    and ``tip_change_jump`` (a tip change lifts both frames from one line on). This simulator
    draws per-line *offsets* and slopes independently for trace and retrace, so they are not
    shared here and stay on;
(c) (b) without the partly resolved atomic lattice (``lattice``): the simulator adds it to both
    frames but not to the clean map, so it is noise to the ground truth and signal to the
    estimate (on a real scan it is real signal);
(d) (c) without tip blur and double tips (``tip_blur``, ``double_tip_weight``): both frames
    see the same blurred tip, so the estimate cannot credit a deblurring. Only the surface is
    common to the frames, the estimator's premise;
(e) (d) without feedback ringing, drift and creep: the feedback lags behind the tip in the
    direction of travel, so trace and retrace see the surface displaced by a lag that depends
    on the spatial frequency (no single offset registers them), and drift moves it between
    trace and retrace. Here the frames differ by independent noise alone: what remains of
    est / true is the estimator's own error (finite samples, registration, levelling);
(f) (e) with a burst of noise 15x the frame's noise RMS in rows 96-111 of both frames, independent
    in each (a trace line and its retrace are recorded one after the other, so a burst of tip or
    electronics noise hits both at the same rows, as on the uneven realdata currents): how the
    estimate behaves when the noise is that uneven (docs/model-selection.md, candidate AJ);
(g) (e) with 8 scars per scan at 15 contrast units (:data:`SCARS`; ``typical`` has 2 at 3, which
    lie in its streak noise of 2): pieces of one line pulled off in one direction, which candidates
    DI and DJ filled before filtering (not shipped; docs/model-selection.md).

The "shared" line under each table is the share of the raw frame's error power (forward −
clean) that is common to the backward frame's error (their windowed, levelled cross-power over
the forward's power): the part of the raw error the estimator cannot see.

Prints Markdown (per model: one row per method, ``est / true`` for every scan and the means;
then the estimate per band); ``--out DIR`` writes fidelity_check.md and fidelity_check.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stmdenoise.denoise import Denoiser, default_model_dir, two_direction_denoise  # noqa: E402
from stmdenoise.evaluation import BASELINES  # noqa: E402
from stmdenoise.metrics.fidelity import Band, default_bands, pair_fidelity, trace_retrace_max_shift  # noqa: E402
from stmdenoise.metrics.registration import hann_window, levelled, register_frames  # noqa: E402
from stmdenoise.model.two_direction import SMALL_BAND, two_direction_wiener  # noqa: E402
from stmdenoise.physics import PRESETS, ArtefactConfig, image_rng, raster_warp, sample_scan  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402

Array = NDArray[np.float64]
PIXELS = 256
SIZE = 36e-9
PX = SIZE / PIXELS
#: A switched-off artefact is this fraction of its typical value (see variants()).
OFF = 1e-9
#: Variant (g)'s scars: ``scar_rate`` and ``scar_amplitude`` (contrast units).
SCARS = {"scar_rate": 8.0, "scar_amplitude": 15.0}


def variants() -> dict[str, ArtefactConfig]:
    """The five artefact models (see the module docstring)."""
    typical = PRESETS["typical"]

    def off(cfg: ArtefactConfig, *names: str) -> ArtefactConfig:
        # 1e-9 of the typical value, not 0: a zero amplitude skips random draws and would give
        # every later artefact a new realisation; this way all variants share one
        return dataclasses.replace(cfg, **{n: OFF * getattr(typical, n) for n in names})

    no_line = off(typical, "flicker_noise", "tip_change_jump")
    no_lattice = off(no_line, "lattice")
    no_tip = off(no_lattice, "tip_blur", "double_tip_weight")
    still = off(no_tip, "ringing_strength", "drift", "creep")
    return {
        "(a) typical": typical,
        "(b) typical without shared line-to-line noise (flicker, tip-change jumps)": no_line,
        "(c) (b) without the atomic lattice": no_lattice,
        "(d) (c) without tip blur and double tips (only the surface shared)": no_tip,
        "(e) (d) without feedback ringing, drift and creep (frames differ by noise alone)": still,
    }


def methods(den: Denoiser) -> dict[str, Callable[[Array, Array], Array]]:
    """Output makers, each ``f(forward, backward) -> output`` on the forward frame's grid (only the
    two-direction Wiener reads the backward frame)."""
    g, m = BASELINES["gaussian"].apply, BASELINES["median"].apply

    def model(which: str) -> Callable[[Array, Array], Array]:
        def run(fwd: Array, _bwd: Array) -> Array:
            scan = Scan(fwd, pixel_size=(PX, PX), header={"simulated": which == "simulated"})
            return np.asarray(den.denoise(scan, which=which).data, dtype=np.float64)  # type: ignore[arg-type]

        return run

    def two_direction(fwd: Array, bwd: Array) -> Array:
        f = Scan(fwd, pixel_size=(PX, PX))
        return np.asarray(two_direction_denoise(f, Scan(bwd, pixel_size=(PX, PX), direction="backward")))

    def short_bands(fwd: Array, bwd: Array) -> Array:
        offset = register_frames(fwd, bwd, max_shift=trace_retrace_max_shift(fwd.shape))
        return two_direction_wiener(fwd, bwd, offset, band=SMALL_BAND)

    return {
        "raw": lambda x, _b: x,
        "Gaussian 0.5 px": lambda x, _b: g(x, 0.5),
        "Gaussian 1 px": lambda x, _b: g(x, 1.0),
        "Gaussian 2 px": lambda x, _b: g(x, 2.0),
        "median 3 px": lambda x, _b: m(x, 3.0),
        "model G_D (simulated)": model("simulated"),
        "model, experimental path: spectral gain (one frame)": model("experimental"),
        "model, experimental path: two-direction Wiener (cross-fitted)": two_direction,
        f"two-direction Wiener, {SMALL_BAND}-row bands": short_bands,
    }


def band_masks(shape: tuple[int, int], bands: Sequence[Band], px: float = PX) -> list[NDArray[np.bool_]]:
    """Every frequency but zero, then each band's (periods in metres, ``px`` metres per pixel)."""
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    k = np.hypot(ky, kx)
    period = np.where(k > 0, px / np.where(k > 0, k, 1), np.inf)
    finite = np.isfinite(period)
    return [finite] + [finite & (period <= b.long) & (period > b.short) for b in bands]


def windowed_spectrum(e: Array) -> NDArray[np.complex128]:
    """Fourier transform of ``e`` plane-levelled and Hann-windowed, as the fidelity estimate sees it."""
    return np.asarray(np.fft.fft2(levelled(e) * hann_window(e.shape)))


def true_errors(out: Array, raw: Array, clean: Array, masks: Sequence[NDArray[np.bool_]]) -> list[float]:
    """Error power of ``out`` against ``clean`` over that of ``raw``, in each mask (as ``_true_error``)."""
    po, pr = np.abs(windowed_spectrum(out - clean)) ** 2, np.abs(windowed_spectrum(raw - clean)) ** 2
    return [float(po[m].sum() / pr[m].sum()) for m in masks]


def shared_share(fwd: Array, bwd: Array, clean_f: Array, clean_b: Array, mask: NDArray[np.bool_]) -> float:
    """Share of the forward frame's error power common to the backward frame's error."""
    ef, eb = windowed_spectrum(fwd - clean_f), windowed_spectrum(bwd - clean_b)
    return float(np.real(ef * np.conj(eb))[mask].sum() / (np.abs(ef) ** 2)[mask].sum())


@dataclass
class Cell:
    """Estimated and true error of one method on one scan, overall then per band."""

    est: list[float]
    true: list[float]


#: Variant (f): rows of the noise burst both frames get (as a trace line and its retrace, recorded
#: one after the other, share one) and its amplitude over the forward frame's noise RMS.
BURST_ROWS = slice(96, 112)
BURST_FACTOR = 15.0


def with_burst(fwd: Array, bwd: Array, clean_f: Array, rng: np.random.Generator) -> tuple[Array, Array]:
    """``fwd`` and ``bwd`` with independent white noise of :data:`BURST_FACTOR` times the forward
    frame's noise RMS added to the same rows :data:`BURST_ROWS` of each."""
    sigma = BURST_FACTOR * float(np.std(fwd - clean_f))
    f, b = fwd.copy(), bwd.copy()
    for x in (f, b):
        x[BURST_ROWS] += rng.normal(0.0, sigma, x[BURST_ROWS].shape)
    return f, b


def run_variant(
    cfg: ArtefactConfig,
    *,
    scans: int,
    seed: int,
    makers: dict[str, Callable[[Array, Array], Array]],
    burst: bool = False,
) -> tuple[dict[str, list[Cell]], list[float], list[str], list[tuple[float, float]]]:
    """Cells per method (one per scan), the shared share per scan, band labels, measured offsets;
    ``burst``: both frames get a noise burst at the same rows (:func:`with_burst`)."""
    cells: dict[str, list[Cell]] = {name: [] for name in makers}
    shared, offsets = [], []
    bands = default_bands(PX, (PIXELS, PIXELS))
    masks = band_masks((PIXELS, PIXELS), bands)
    for i in range(scans):
        s = sample_scan(image_rng(seed, i), pixels=PIXELS, size=SIZE, preset=cfg)
        art = s.params["artefacts"]
        clean_f = raster_warp(s.clean, art)
        clean_b = raster_warp(s.clean, art, retrace=True)
        fwd, bwd = np.asarray(s.forward), np.asarray(s.backward)
        if burst:
            fwd, bwd = with_burst(fwd, bwd, clean_f, np.random.default_rng([seed, i, 7]))
        shared.append(shared_share(fwd, bwd, clean_f, clean_b, masks[0]))
        offset = pair_fidelity(fwd, fwd, bwd, pixel_size=PX, bands=bands).offsets[0]
        offsets.append(offset)
        for name, make in makers.items():
            out = make(fwd, bwd)
            rep = pair_fidelity(out, fwd, bwd, pixel_size=PX, bands=bands, offset=offset)
            est = [rep.overall.error] + [b.error for b in rep.bands]
            cells[name].append(Cell(est, true_errors(out, fwd, clean_f, masks)))
    return cells, shared, ["all"] + [b.label for b in bands], offsets


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 and math.isfinite(a) else "n/a"


def variant_markdown(
    title: str, cells: dict[str, list[Cell]], shared: Sequence[float], labels: Sequence[str]
) -> str:
    """Overall table (est / true per scan, means, ratio) and a per-band table of the means."""
    n = len(next(iter(cells.values())))
    lines = [
        f"### {title}",
        "",
        "Overall error relative to raw, `est / true` per scan (est: forward/backward estimate; "
        "true: against the clean surface).",
        "",
        "| method | "
        + " | ".join(f"scan {i}" for i in range(n))
        + " | mean est | mean true | est / true | scans est > 1 (true > 1) |",
        "|---|" + "---:|" * (n + 4),
    ]
    for name, cs in cells.items():
        per = " | ".join(f"{c.est[0]:.2f} / {c.true[0]:.2f}" for c in cs)
        me, mt = float(np.mean([c.est[0] for c in cs])), float(np.mean([c.true[0] for c in cs]))
        above = sum(c.est[0] > 1 for c in cs) if name != "raw" else 0
        above_t = sum(c.true[0] > 1 for c in cs) if name != "raw" else 0
        lines.append(f"| {name} | {per} | {me:.2f} | {mt:.2f} | {_ratio(me, mt)} | {above} ({above_t}) |")
    lines += [
        "",
        "Shared share of the raw frame's error (common to trace and retrace, invisible to the "
        f"estimate): {' · '.join(f'{v:.2f}' for v in shared)} (mean {float(np.mean(shared)):.2f}).",
        "",
        "Per band, mean over the scans, `est / true`:",
        "",
        "| method | " + " | ".join(labels[1:]) + " |",
        "|---|" + "---:|" * (len(labels) - 1),
    ]
    for name, cs in cells.items():
        if name == "raw":
            continue
        row = []
        for k in range(1, len(labels)):
            e = float(np.nanmean([c.est[k] for c in cs]))
            t = float(np.mean([c.true[k] for c in cs]))
            row.append(f"{e:.2f} / {t:.2f}")
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _finite(v: Any) -> Any:
    """``v`` with every non-finite float replaced by None (strict JSON)."""
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=5, help="simulated scans per artefact model (default 5)")
    ap.add_argument("--seed", type=int, default=1015, help="base seed: scan i uses image_rng(seed, i)")
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped default)")
    ap.add_argument("--device", default="cpu", help="device for the model (default cpu)")
    ap.add_argument("--out", type=Path, help="write fidelity_check.md and fidelity_check.json here")
    args = ap.parse_args(argv)
    if args.scans < 1:
        ap.error(f"--scans must be >= 1, got {args.scans}")
    t0 = time.perf_counter()
    model_dir = args.model or default_model_dir()
    makers = methods(Denoiser.from_folder(model_dir, device=args.device))
    head = (
        f"# Forward/backward fidelity estimate vs ground truth (`{model_dir.name}`)\n\n"
        f"Scans i = 0..{args.scans - 1}: sample_scan(image_rng({args.seed}, i)), {PIXELS} px, "
        f"{SIZE * 1e9:g} nm; raw = 1.00, 0 = the surface; est / true > 1: pessimistic estimate.\n"
    )
    print(head, flush=True)
    md = [head]
    data: dict[str, Any] = {"seed": args.seed, "scans": args.scans, "model": str(model_dir), "variants": {}}
    runs = [(title, cfg, False) for title, cfg in variants().items()]
    still = runs[-1][1]
    runs.append((
        f"(f) (e) with a noise burst in both frames at rows {BURST_ROWS.start}-{BURST_ROWS.stop - 1} "
        f"({BURST_FACTOR:g}x the noise RMS, independent in each frame)", still, True,
    ))  # fmt: skip
    runs.append((
        f"(g) (e) with {SCARS['scar_rate']:g} scars per scan at {SCARS['scar_amplitude']:g} contrast units",
        dataclasses.replace(still, **SCARS), False,
    ))  # fmt: skip
    for title, cfg, burst in runs:
        cells, shared, labels, offsets = run_variant(
            cfg, scans=args.scans, seed=args.seed, makers=makers, burst=burst
        )
        md.append(variant_markdown(title, cells, shared, labels))
        print(md[-1], flush=True)
        data["variants"][title] = {
            "config": cfg.to_dict(),
            "bands": labels,
            "shared_share": shared,
            "offsets_px": [list(o) for o in offsets],
            "methods": {name: [dataclasses.asdict(c) for c in cs] for name, cs in cells.items()},
        }
    tail = f"(bench/fidelity_check.py, {time.perf_counter() - t0:.0f} s)"
    print(tail)
    md.append(tail + "\n")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "fidelity_check.md").write_text("\n".join(md), encoding="utf-8")
        text = json.dumps(_finite(data), indent=1, allow_nan=False)
        (args.out / "fidelity_check.json").write_text(text + "\n", encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
