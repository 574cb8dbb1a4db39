"""Candidate for issue 15: a learned spectral gain (tile-wise Wiener filter whose gains a tiny MLP predicts).

    python bench/spectral_gain.py [--steps 400] [--sim-pairs 40] [--lofo] [--table1 N]
        [--classical runs/fidelity-all/fidelity.json] [--out DIR] [--weights FILE] [--no-real | --no-sim]

Why this shape. The complaints about the shipped network are that it redraws standing waves,
erases other materials' structure and paints rings that are not in the scan. A filter that
multiplies each Fourier coefficient of a tile by a gain in [0, 1] cannot add structure that is
not in the scan, works on any pixel size (its features are in cycles per pixel and relative
to the scan's own noise floor; nothing is resampled) and needs no GPU. What is
learnt is only *how much* of each coefficient to keep, from features of the scan itself:

- per tile (64 x 64 px, 50 % overlap, sqrt-Hann analysis and synthesis windows): the
  smoothed power at the coefficient (1 and 3 bins) relative to the tile's high-frequency floor,
  its height above the median and 20th percentile of its ring (|k|), the ring's spread;
- per scan (context): the same height on the whole scan's spectrum at that frequency, the
  scan's signal-to-floor ratio and the tile's floor relative to the scan's.

Training (Noise2Noise in the Fourier domain): for a real two-direction scan the target is
the registered backward frame, for a simulated pair (``stmdenoise.physics.variety.BROAD``) the
clean image; the loss per image is sum |g X - T|^2 / sum |X - T|^2, whose minimiser is the
Wiener gain S / (S + N) since the target's noise is independent of X's. Real scans come only
from ``../shared/realdata`` (never the Ko frames: they are the test, read only to score).

Reports, on the real-scan fidelity measures of ``bench/fidelity.py``:
1. Ko Cu(111) frames 01-03, leave-one-out (test: never trained on), per Cu(111) band.
2. Every two-direction scan of ``../shared/realdata``: in-sample (the model trained on all of
   them) and, with ``--lofo``, leave-one-file-out (the model retrained without that file): the
   selection numbers of docs/model-selection.md. The gate of that rule: overall < 1.00 and no
   band with signal above raw by more than 2 standard errors.
With ``--classical FILE`` (the fidelity.json that ``bench/fidelity.py --out`` writes) the best
classical filter per scan is shown beside.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import CU_BANDS, KO_DIR, KO_NM_PER_PX, REAL_DIR, two_direction_scans  # noqa: E402

from stmdenoise.io import read_plain_image  # noqa: E402
from stmdenoise.metrics.fidelity import FidelityReport, pair_fidelity  # noqa: E402
from stmdenoise.metrics.registration import hann_window, levelled  # noqa: E402
from stmdenoise.physics.variety import sample_varied_pair  # noqa: E402
from stmdenoise.safety import harmful_bands  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training.real_fidelity import Method, pair_rows, stack_rows  # noqa: E402

TILE = 64
STRIDE = TILE // 2
_W1 = np.sin(np.pi * (np.arange(TILE) + 0.5) / TILE)
#: sqrt-Hann: analysis x synthesis windows sum to 1 at 50 % overlap
WINDOW = np.outer(_W1, _W1)
RINGS = 24
N_FEATURES = 10
#: Octaves of |k| (cycles per pixel) whose error the optional band hinge keeps at or below raw.
HINGE_EDGES = (0.0, 0.0625, 0.125, 0.25, 0.75)

Array = np.ndarray


# --------------------------------------------------------------------------- features


def _ring_index(shape: tuple[int, int], rings: int) -> tuple[Array, Array]:
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    r = np.hypot(ky, kx)
    return r, np.minimum((r / 0.5 * rings).astype(int), rings)


def _spectral_stats(x_f: Array, rings: int = RINGS) -> tuple[Array, Array, Array, Array, Array]:
    """Smoothed log power (1 and 3 bins) over the high-frequency floor, ring median and 20th percentile.

    ``x_f`` is one spectrum (rows, cols) or a stack (n, rows, cols); every output has its shape
    except the floor: one value per spectrum (shape () or (n,))."""
    xs = x_f if x_f.ndim == 3 else x_f[None]
    p = np.abs(xs) ** 2
    r, ri = _ring_index(xs.shape[1:], rings)
    floor = np.median(p[:, r > 0.3], axis=1) + 1e-30
    f1 = np.log10(gaussian_filter(p, (0, 1.0, 1.0), mode="wrap") / floor[:, None, None] + 1e-12)
    f3 = np.log10(gaussian_filter(p, (0, 3.0, 3.0), mode="wrap") / floor[:, None, None] + 1e-12)
    med = np.zeros((len(xs), ri.max() + 1))
    lo = np.zeros((len(xs), ri.max() + 1))
    for i in range(ri.max() + 1):
        sel = ri == i
        if sel.any():
            v = f1[:, sel]
            med[:, i], lo[:, i] = np.median(v, axis=1), np.percentile(v, 20, axis=1)
    out = (f1, f3, med[:, ri], lo[:, ri], floor)
    return out if x_f.ndim == 3 else (out[0][0], out[1][0], out[2][0], out[3][0], out[4][0])


@dataclass(frozen=True)
class _Context:
    height: Array  # whole-scan f1 - ring 20th percentile
    spread: Array  # whole-scan ring median - 20th percentile
    snr: float
    floor: float
    shape: tuple[int, int]
    window_power: float  # mean squared whole-scan window over mean squared tile window
    coherence: Array | None  # even/odd-row coherence per |kx| (rfft bins), when asked for


def _line_spectra(lev: Array) -> tuple[Array, Array]:
    """Windowed fast-axis spectra (rfft per line) of the even and of the odd lines of ``lev``."""
    n = lev.shape[0] // 2 * 2
    a, b = lev[0:n:2], lev[1:n:2]
    w = np.hanning(a.shape[1] + 2)[1:-1]
    return np.fft.rfft(a * w, axis=1), np.fft.rfft(b * w, axis=1)


def row_coherence(lev: Array) -> Array:
    """Coherence of the even and the odd scan lines per fast-axis frequency (rfft bins, 5-bin smoothed).

    Adjacent lines look at nearly the same surface with independent noise, so on an oversampled,
    quiet scan they agree up to high frequencies and on a noisy one they do not: a single-frame
    hint of how much of the fine detail is signal."""
    fa, fb = _line_spectra(lev)
    box = np.ones(5) / 5
    c = np.convolve(np.real(fa * np.conj(fb)).sum(0), box, mode="same")
    p = np.convolve(((np.abs(fa) ** 2 + np.abs(fb) ** 2) / 2).sum(0), box, mode="same")
    return np.clip(c / np.maximum(p, 1e-30), -1.0, 1.0)


#: Fast-axis band (cycles per pixel) of the scan-level line coherence behind --refuse-quiet.
QUIET_BAND = (0.2, 0.35)


def line_coherence(z: Array) -> float:
    """Scan-level coherence of the even and the odd lines of ``z`` (measured rows, levelled) in QUIET_BAND.

    Near 0 when the fine detail along the lines is noise (independent from line to line), near 1
    when adjacent lines repeat it (an oversampled scan with almost no noise to remove)."""
    z = np.asarray(z, dtype=np.float64)
    fa, fb = _line_spectra(levelled(z[np.isfinite(z).all(axis=1)]))
    k = np.fft.rfftfreq(z.shape[1])
    m = (k >= QUIET_BAND[0]) & (k < QUIET_BAND[1])
    c = float(np.real(fa[:, m] * np.conj(fb[:, m])).sum())
    p = float(((np.abs(fa[:, m]) ** 2 + np.abs(fb[:, m]) ** 2) / 2).sum())
    return c / p if p > 0 else 1.0


def _context(lev: Array, with_coherence: bool) -> _Context:
    window = hann_window(lev.shape)
    x_f = np.fft.fft2(lev * window)
    f1, _f3, med, lo, floor = _spectral_stats(x_f)
    snr = math.log10(float((np.abs(x_f) ** 2).sum()) / (float(floor) * x_f.size))
    window_power = float(np.mean(window**2)) / float(np.mean(WINDOW**2))
    coh = row_coherence(lev) if with_coherence else None
    return _Context(f1 - lo, med - lo, snr, float(floor), lev.shape, window_power, coh)


def _tile_features(x_f: Array, ctx: _Context) -> Array:
    """Features (n, TILE, TILE, N_FEATURES [+1]) of a stack of tile spectra (n, TILE, TILE)."""
    f1, f3, med, lo, floor = _spectral_stats(x_f)
    rows, cols = ctx.shape
    iy = np.round(np.fft.fftfreq(TILE)[:, None] * rows).astype(int) % rows
    ix = np.round(np.fft.fftfreq(TILE)[None, :] * cols).astype(int) % cols
    level = np.log10(floor / ctx.floor * (rows * cols) / TILE**2 * ctx.window_power)
    feats = [f1, f3, f1 - med, f1 - lo, f3 - lo, med - lo]
    feats += [np.broadcast_to(ctx.height[iy, ix], f1.shape), np.broadcast_to(ctx.spread[iy, ix], f1.shape)]
    feats += [np.full(f1.shape, ctx.snr / 4), np.broadcast_to(level[:, None, None], f1.shape)]
    if ctx.coherence is not None:
        kx = np.round(np.abs(np.fft.fftfreq(TILE)) * cols).astype(int)
        coh = ctx.coherence[np.minimum(kx, ctx.coherence.size - 1)]
        feats.append(np.broadcast_to(coh[None, None, :], f1.shape))
    return np.stack(feats, -1).astype(np.float32)


#: Tiles transformed at once (bounds the feature stack: about 170 kB per tile).
CHUNK = 256


def _tile_spectra(v: Array, pos: list[tuple[int, int]]) -> Array:
    return np.fft.fft2(np.stack([v[i : i + TILE, j : j + TILE] for i, j in pos]) * WINDOW)


def _tiles(u: Array) -> tuple[Array, list[tuple[int, int]]]:
    rows, cols = u.shape
    v = np.pad(u, ((STRIDE, STRIDE + (-rows) % STRIDE), (STRIDE, STRIDE + (-cols) % STRIDE)), mode="reflect")
    pos = [
        (i, j)
        for i in range(0, v.shape[0] - TILE + 1, STRIDE)
        for j in range(0, v.shape[1] - TILE + 1, STRIDE)
    ]
    return v, pos


# --------------------------------------------------------------------------- model


class GainNet(torch.nn.Module):
    """Features of one Fourier coefficient -> its gain in (0, 1) (starts near 1: keep)."""

    def __init__(self, row_coherence: bool = False, hidden: int = 32) -> None:
        super().__init__()
        self.row_coherence = row_coherence
        self.net = torch.nn.Sequential(
            torch.nn.Linear(N_FEATURES + int(row_coherence), hidden),
            torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.SiLU(),
            torch.nn.Linear(hidden, 1),
        )

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(f)[..., 0] + 2.0)


def denoise(net: GainNet, z: Array) -> Array:
    """Apply the gain model to an image (unmeasured rows stay NaN); output on the input's grid."""
    z = np.asarray(z, dtype=np.float64)
    rows = np.isfinite(z).all(axis=1)
    out = z.copy()
    y = z[rows]
    lev = levelled(y)
    plane = y - lev
    ctx = _context(lev, net.row_coherence)
    v, pos = _tiles(lev)
    acc = np.zeros_like(v)
    wsum = np.zeros_like(v)
    for c in range(0, len(pos), CHUNK):
        part = pos[c : c + CHUNK]
        x_f = _tile_spectra(v, part)
        # every feature is even in k (a real tile's power spectrum is; up to rounding of the
        # whole-scan lookup on odd sizes), so is the gain: evaluate the network on the half-plane
        # that irfft2 needs
        half = TILE // 2 + 1
        feats = np.ascontiguousarray(_tile_features(x_f, ctx)[:, :, :half])
        with torch.no_grad():
            g = net(torch.from_numpy(feats)).numpy().astype(np.float64)
        g[:, 0, 0] = 1.0
        out_t = np.fft.irfft2(x_f[:, :, :half] * g, s=(TILE, TILE)) * WINDOW
        for (i, j), o in zip(part, out_t, strict=True):
            acc[i : i + TILE, j : j + TILE] += o
            wsum[i : i + TILE, j : j + TILE] += WINDOW**2
    h, w = lev.shape
    out[rows] = plane + (acc / np.maximum(wsum, 1e-12))[STRIDE : STRIDE + h, STRIDE : STRIDE + w]
    return out


def example(x: Array, target: Array, row_coherence: bool) -> dict[str, torch.Tensor]:
    """Training tensors of one image: features, tile coefficients of ``x`` and of ``target``, |k|."""
    lev = levelled(x)
    t = target - (x - lev)
    t = t - t.mean()
    ctx = _context(lev, row_coherence)
    vx, pos = _tiles(lev)
    vt, _ = _tiles(t)
    keep = np.ones((TILE, TILE), dtype=bool)
    keep[0, 0] = False
    radius = np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.fftfreq(TILE)[None, :])[keep]
    fs, xs, ts = [], [], []
    for c in range(0, len(pos), CHUNK):
        part = pos[c : c + CHUNK]
        x_f, t_f = _tile_spectra(vx, part), _tile_spectra(vt, part)
        fs.append(_tile_features(x_f, ctx)[:, keep].reshape(-1, N_FEATURES + int(row_coherence)))
        xs.append(np.stack([x_f.real[:, keep].ravel(), x_f.imag[:, keep].ravel()], -1))
        ts.append(np.stack([t_f.real[:, keep].ravel(), t_f.imag[:, keep].ravel()], -1))
    return {
        "F": torch.from_numpy(np.concatenate(fs)),
        "X": torch.from_numpy(np.concatenate(xs)).float(),
        "T": torch.from_numpy(np.concatenate(ts)).float(),
        "R": torch.from_numpy(np.tile(radius, len(pos))).float(),
    }


def train(
    examples: list[dict[str, torch.Tensor]],
    steps: int,
    *,
    row_coherence: bool = False,
    hinge: float = 0.0,
    seed: int = 0,
    bins: int = 6000,
) -> GainNet:
    """Adam on the mean over images of the Noise2Noise spectral loss (``bins`` coefficients per image
    per step), plus ``hinge`` x the excess over raw of each |k| octave's error (HINGE_EDGES)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = GainNet(row_coherence)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(steps):
        opt.zero_grad()
        total = torch.zeros(())
        for ex in examples:
            n = ex["F"].shape[0]
            idx = torch.randint(0, n, (min(bins, n),), generator=gen)
            g = net(ex["F"][idx])[:, None]
            x, t = ex["X"][idx], ex["T"][idx]
            e, e0 = ((g * x - t) ** 2).sum(-1), ((x - t) ** 2).sum(-1)
            total = total + e.sum() / e0.sum()
            if hinge > 0:
                r = ex["R"][idx]
                for lo, hi in zip(HINGE_EDGES, HINGE_EDGES[1:], strict=False):
                    m = (r >= lo) & (r < hi)
                    if int(m.sum()) > 50:
                        total = total + hinge * torch.relu(e[m].sum() / e0[m].sum() - 1.0)
        (total / len(examples)).backward()
        opt.step()
    return net


# --------------------------------------------------------------------------- data


def real_examples(
    scans: list[tuple[str, Scan, Scan]], row_coherence: bool
) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """(scan name, tensors) of each ``(name, forward, backward)``: the forward frame against the
    registered backward frame."""
    out = []
    for name, fwd, bwd in scans:
        try:
            dy, dx = pair_fidelity(fwd, fwd, bwd).offsets[0]
        except ValueError:  # NotScorableError is one: no contrast, too few rows in common
            continue
        x, b = np.asarray(fwd.data, float), np.asarray(bwd.data, float)
        sy, sx = int(round(dy)), int(round(dx))
        h, w = x.shape
        r0, r1, c0, c1 = max(0, sy), min(h, h + sy), max(0, sx), min(w, w + sx)
        xc, bc = x[r0:r1, c0:c1], b[r0 - sy : r1 - sy, c0 - sx : c1 - sx]
        ok = np.isfinite(xc).all(1) & np.isfinite(bc).all(1)
        if ok.sum() >= 32 and xc.shape[1] >= 32:
            out.append((name, example(xc[ok], bc[ok], row_coherence)))
    return out


def sim_examples(n: int, seed: int, row_coherence: bool) -> list[dict[str, torch.Tensor]]:
    """Clean/noisy pairs of the broad world at 128-256 px and 0.05-0.3 nm/px."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        px = int(rng.choice([128, 192, 256]))
        size = px * float(np.exp(rng.uniform(np.log(0.05e-9), np.log(0.3e-9))))
        p = sample_varied_pair(rng, pixels=px, size=size)
        out.append(example(np.asarray(p.noisy, float), np.asarray(p.clean, float), row_coherence))
    return out


# --------------------------------------------------------------------------- report


def _harmful(rep: FidelityReport) -> list[str]:
    """The gate of docs/model-selection.md (``stmdenoise.safety.harmful_bands``), as short labels."""
    return [f"{b.band.label} {b.error:.2f}" for b in harmful_bands(rep)]


def _classical(path: Path | None) -> dict[str, tuple[str, float, dict[str, float]]]:
    """Best classical row per scan name from a bench/fidelity.py fidelity.json (``"Ko"`` for the stack)."""
    if path is None:
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for rows in [data["stack"], *data["pairs"]]:
        cands = [r for r in rows if r["family"] == "classical" and r.get("error[all]") is not None]
        if cands:
            best = min(cands, key=lambda r: r["error[all]"])
            name = "Ko" if rows is data["stack"] else best["scan"]
            bands = {k[6:-1]: v for k, v in best.items() if k.startswith("error[") and v is not None}
            out[name] = (best["method"], best["error[all]"], bands)
    return out


def table_one(net: GainNet, count: int) -> str:
    """Table I rows (PSNR, SSIM on the 0-255 scale of ``stmdenoise.metrics``) on the first ``count``
    pairs of the seed-1001 test set: raw, this candidate and the shipped model, all on levelled pairs."""
    from quality import TEST_SEED, ensure_dataset

    from stmdenoise import metrics
    from stmdenoise.denoise import Denoiser, default_model_dir
    from stmdenoise.evaluation.tables import load_pairs
    from stmdenoise.processing import level_plane

    h5 = ensure_dataset(ROOT / "runs" / "qdata" / f"sim_test_seed{TEST_SEED}.h5", count=count, seed=TEST_SEED)
    pairs, px = load_pairs(h5, count=count)
    pairs = [(level_plane(c), level_plane(n)) for c, n in pairs]
    shipped = Denoiser.from_folder(default_model_dir(), device="cpu")
    runs = {
        "Raw input": lambda z: z,
        "spectral gain": lambda z: denoise(net, z),
        "cu111-default": lambda z: np.asarray(shipped.denoise(Scan(z, pixel_size=(px, px))).data),
    }
    lines = [
        f"## Table I, first {len(pairs)} pairs of seed {TEST_SEED}\n",
        "| method | PSNR | SSIM |",
        "|---|---:|---:|",
    ]
    for name, fn in runs.items():
        outs = [(c, fn(n)) for c, n in pairs]
        psnr = np.mean([metrics.psnr(c, o) for c, o in outs])
        ssim = np.mean([metrics.ssim(c, o) for c, o in outs])
        lines.append(f"| {name} | {psnr:.2f} | {ssim:.4f} |")
    return "\n".join(lines) + "\n"


def speed(net: GainNet, size: int = 512, repeat: int = 3) -> str:
    """Median seconds to denoise one ``size``^2 image on this CPU (after one warm-up)."""
    z = np.random.default_rng(0).normal(size=(size, size))
    denoise(net, z)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        denoise(net, z)
        times.append(time.perf_counter() - t)
    med = np.median(times)
    return f"{size}^2 on CPU: median {med:.2f} s over {repeat} runs (numpy + torch MLP, 2 threads)\n"


def _method(net: GainNet, refuse_quiet: float | None = None) -> Method:
    """The model as a fidelity method; with ``refuse_quiet`` it refuses scans whose line coherence
    reaches it (the row then has no report: rule 2 counts it as raw, 1.00)."""

    def run(scan: Scan, _other: Scan | None) -> Array:
        z = np.asarray(scan.data)
        if refuse_quiet is not None and (q := line_coherence(z)) >= refuse_quiet:
            raise ValueError(f"refused: a quiet scan (line coherence {q:.2f} >= {refuse_quiet:g})")
        return denoise(net, z)

    return Method("spectral gain", "model", run)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--sim-pairs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--lofo", action="store_true", help="also retrain without each realdata file and score it"
    )
    ap.add_argument(
        "--classical", type=Path, help="fidelity.json of bench/fidelity.py --out (best classical)"
    )
    ap.add_argument("--out", type=Path, help="write spectral_gain.md and the weights here")
    ap.add_argument("--weights", type=Path, help="load these weights instead of training the all-data model")
    ap.add_argument("--table1", type=int, default=0, metavar="N", help="also Table I on N seed-1001 pairs")
    ap.add_argument("--no-real", action="store_true", help="ablation: train on the simulated pairs only")
    ap.add_argument("--no-sim", action="store_true", help="ablation: train on the real pairs only")
    ap.add_argument("--row-coherence", action="store_true", help="add the even/odd-line coherence feature")
    ap.add_argument("--hinge", type=float, default=0.0, help="weight of the per-octave 'not above raw' hinge")
    ap.add_argument("--real-weight", type=int, default=1, help="count each real scan this many times")
    ap.add_argument(
        "--refuse-quiet", type=float, default=None, metavar="Q",
        help="refuse scans whose even/odd-line coherence (QUIET_BAND) is at least Q",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if not KO_DIR.is_dir() or not REAL_DIR.is_dir():
        print(f"needs {KO_DIR} and {REAL_DIR} (../shared beside the repository)", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    best = _classical(args.classical)
    scans = two_direction_scans(REAL_DIR)
    real = [] if args.no_real else real_examples(scans, args.row_coherence)
    sim = [] if args.no_sim else sim_examples(args.sim_pairs, args.seed, args.row_coherence)
    opts = {"row_coherence": args.row_coherence, "hinge": args.hinge}

    def fit(real_part: list[dict[str, torch.Tensor]]) -> GainNet:
        return train(real_part * args.real_weight + sim, args.steps, **opts)

    if args.weights:
        net = GainNet(args.row_coherence)
        net.load_state_dict(torch.load(args.weights))
    else:
        net = fit([e for _, e in real])
    md = [
        f"# Learned spectral gain: {len(real)} real two-direction channels (x{args.real_weight}) + "
        f"{len(sim)} simulated pairs, {args.steps} steps, row coherence {args.row_coherence}, "
        f"hinge {args.hinge:g} (raw = 1.00)\n"
    ]
    frames = [read_plain_image(p, nm_per_px=KO_NM_PER_PX) for p in sorted(KO_DIR.glob("*.jpg"))]
    stack = stack_rows([_method(net, args.refuse_quiet)], "Ko", frames, bands=CU_BANDS)
    labels = [b.label for b in CU_BANDS] + ["all"]
    md += ["## Ko Cu(111) frames 01-03, leave-one-out (test; never trained on)\n"]
    md += ["| method | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for row in stack:
        md.append(f"| {row.method} | " + " | ".join(f"{row.mean(lb):.2f}" for lb in labels) + " |")
    if "Ko" in best:
        m, _e, bands = best["Ko"]
        md.append(
            f"| best classical: {m} | " + " | ".join(f"{bands.get(lb, math.nan):.2f}" for lb in labels) + " |"
        )
    harm = [h for r in stack[1].reports for h in _harmful(r)] if stack[1].reports else ["n/a"]
    md.append(f"\nBands above raw by > 2 SE on a Ko frame: {', '.join(harm) or 'none'}.\n")
    if args.table1:
        md.append(table_one(net, args.table1))
    md.append("## Speed\n\n" + speed(net))
    print("\n".join(md), flush=True)

    names = sorted({n.rsplit(" ", 1)[0] for n, *_ in scans})
    lofo = {}
    if args.lofo:
        for f in names:
            lofo[f] = fit([e for n, e in real if not n.startswith(f + " ")])
            print(f"trained without {f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    md2 = ["## Forward/backward, ../shared/realdata (selection; overall error, raw = 1.00)\n"]
    head = "| scan | line coherence | best classical | spectral gain, in-sample | gate (in-sample) |"
    head += " leave-one-file-out | gate (LOFO) |" if args.lofo else ""
    md2 += [head, "|---|---:|---:|---:|---|" + ("---:|---|" if args.lofo else "")]
    sel = []
    for name, fwd, bwd in scans:
        models = [_method(net, args.refuse_quiet)]
        if args.lofo:
            models.append(_method(lofo[name.rsplit(" ", 1)[0]], args.refuse_quiet))
        rows = pair_rows(models, name, fwd, bwd)
        if len(rows) < 2:
            continue
        b = best.get(name)
        cells = [name, f"{line_coherence(np.asarray(fwd.data)):.2f}"]
        cells.append("n/a" if b is None else f"{b[1]:.2f} ({b[0]})")
        for r in rows[1:]:
            if not r.reports:
                refused = r.note.startswith("refused")
                cells += ["refused" if refused else "n/a", "not run (1.00)" if refused else r.note[:50]]
                continue
            e = r.mean("all")
            bad = _harmful(r.reports[0])
            ok = e < 1.0 and not bad
            cells += [f"{e:.2f}", "pass" if ok else "FAIL: " + (", ".join(bad) or f"overall {e:.2f}")]
        if args.lofo:
            sel.append(rows[-1].mean("all") if rows[-1].reports else 1.0)
        md2.append("| " + " | ".join(cells) + " |")
    if sel:
        md2.append(
            f"\nMean leave-one-file-out overall error (rule 2; not run = 1.00): {np.mean(sel):.3f} "
            f"over {len(sel)} channels."
        )
    md2.append(f"\n{time.perf_counter() - t0:.0f} s.\n")
    print("\n".join(md2), flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "spectral_gain.md").write_text("\n".join(md + md2) + "\n", encoding="utf-8")
        torch.save(net.state_dict(), args.out / "spectral_gain.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
