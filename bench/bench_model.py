"""Speed of PDA-Net training and inference on this machine (prints Markdown tables).

    python bench/bench_model.py [--quick] [--model DIR] [--device cpu|cuda]

Training: images per second (per domain, batch 4, 128 px crops, variant pdanet, on-the-fly
simulation) for the paper's size (ngf 64, 9 blocks) and compact ones. Inference: seconds per
256^2 and 512^2 scan through :class:`stmdenoise.denoise.Denoiser`, eager PyTorch vs ONNX Runtime
(same weights, ratio in the same run; the network path, G_D). With --model a folder that has a
spectral gain, also the seconds of its real-scan paths (the gain on one frame, the two-direction
Wiener on a frame and its other direction, and that pair through ``Denoiser.denoise_checked``,
the Wiener and the do-no-harm judge as the app runs them) against the network's ONNX time, in the
same run (the issue-15 speed target). Tiling: PSNR of tiled vs whole-image inference on a
2048^2 scan (pooled instance-norm statistics shared by all tiles). Weights are random unless
--model is given: speed does not depend on them; agreement is checked on both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stmdenoise.denoise import Denoiser, two_direction_denoise  # noqa: E402
from stmdenoise.model.folder import ModelInfo, NormalizationSpec, save_model_folder  # noqa: E402
from stmdenoise.model.pdanet import ArchConfig, build_generators, init_weights  # noqa: E402
from stmdenoise.physics import sample_pair  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training import TrainConfig, Trainer  # noqa: E402

CONFIGS = [("paper", 64, 9), ("compact", 32, 6), ("small", 16, 6), ("tiny", 16, 4)]
PX = 36e-9 / 256


def _model(folder: Path, ngf: int, blocks: int) -> Path:
    torch.manual_seed(0)
    arch = ArchConfig(ngf=ngf, n_blocks=blocks)
    g_d, g_da = build_generators(arch, "pdanet")
    init_weights(g_d)
    init_weights(g_da)
    info = ModelInfo(
        arch=arch, variant="pdanet", normalization=NormalizationSpec(), pixel_size=PX, name="bench"
    )
    return save_model_folder(folder, info, g_d, g_da)


def _scan(n: int, seed: int = 0) -> Scan:
    pair = sample_pair(np.random.default_rng(seed), pixels=n, size=n * PX)
    return Scan(pair.noisy, pixel_size=(PX, PX), unit="m")


def median_seconds(f: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``f`` after one warm-up call (which also builds
    an ONNX session); ``bench/bench_lattice.py`` times with it too."""
    f()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def bench_training(configs, steps: int, device: str, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    real = [_scan(256, seed=100 + i) for i in range(2)]  # simulated stand-ins for I_E (speed only)
    print(f"\n### Training throughput ({device}, batch 4, crop 128, pdanet, {steps} timed steps)\n")
    print("| config | ngf | blocks | s/step | images/s |\n|---|---:|---:|---:|---:|")
    for name, ngf, blocks in configs:
        cfg = TrainConfig.from_dict(dict(
            variant="pdanet", steps=steps + 1, crop=128, batch=4, ngf=ngf, blocks=blocks, sim_pool=8,
            real=("bench",), out=str(tmp / f"train-{name}"), device=device, seed=int(rng.integers(1000)),
        ))  # fmt: skip
        tr = Trainer(cfg, sim_sampler=None, real_scans=real, resume=False)
        tr.train_step()  # warm-up
        if tr.device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(steps):
            tr.train_step()
        if tr.device.type == "cuda":
            torch.cuda.synchronize()
        dt = (time.perf_counter() - t) / steps
        print(f"| {name} | {ngf} | {blocks} | {dt:.2f} | {4 / dt:.2f} |")
        tr.close()


def bench_inference(  # type: ignore[no-untyped-def]
    configs, repeats: int, device: str, tmp: Path, model: Path | None, passes: tuple[int, ...] = (1,)
) -> None:
    print(
        f"\n### Inference per scan ({device}; median of {repeats}; torch threads {torch.get_num_threads()})\n"
    )
    print("| config | size | passes | PyTorch s | ONNX Runtime s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    items = [(model.name, model)] if model else [(n, _model(tmp / f"m-{n}", g, b)) for n, g, b in configs]
    for name, folder in items:
        eager = Denoiser.from_folder(folder, device=device, backend="torch")
        fast = Denoiser.from_folder(folder, device=device, backend="auto")
        for n in (256, 512):
            scan = _scan(n)
            for k in passes:
                # new scan objects each time: the Denoiser keeps the last scan's grid (wave matching)
                te = median_seconds(
                    lambda s=scan, d=eager, k=k: d.denoise(replace(s), passes=k, which="simulated"), repeats
                )
                if fast.device.type == "cpu":
                    to = median_seconds(
                        lambda s=scan, d=fast, k=k: d.denoise(replace(s), passes=k, which="simulated"),
                        repeats,
                    )
                    a = eager.denoise(scan, passes=k, which="simulated").data
                    b = fast.denoise(scan, passes=k, which="simulated").data
                    agree = float(np.max(np.abs(a - b)) / np.ptp(a))
                    print(
                        f"| {name} | {n}² | {k} | {te:.3f} | {to:.3f} | {te / to:.2f}x "
                        f"(max diff {agree:.1e} of range) |"
                    )
                else:
                    print(f"| {name} | {n}² | {k} | {te:.3f} | - | - |")
        if fast.gain is not None:
            bench_gain_path(fast, repeats)


def bench_gain_path(den: Denoiser, repeats: int) -> None:
    """The folder's real-scan path (spectral gain) against its network on ONNX Runtime, same scans."""
    print(f"\n### Real-scan path of {den.info.name}: spectral gain vs network (CPU, median of {repeats})\n")
    print(
        "| size | network G_D, ONNX Runtime s | spectral gain s | ratio (gain / network) "
        "| two-direction Wiener s | ratio (two-direction / network) | checked (Wiener + do-no-harm judge) s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in (256, 512, 1024):
        scan = _scan(n)
        noise = np.random.default_rng(n).normal(0.0, float(np.std(scan.data)) / 4, scan.shape)
        other = replace(scan, data=scan.data + noise, direction="backward")  # a second look
        tn = median_seconds(lambda s=scan: den.denoise(replace(s), which="simulated"), repeats)
        tg = median_seconds(lambda s=scan: den.denoise(replace(s), which="experimental"), repeats)
        tw = median_seconds(lambda s=scan, o=other: two_direction_denoise(s, o), repeats)
        # new scan objects each time: second_look remembers the offset of the same two objects
        tc = median_seconds(
            lambda s=scan, o=other: den.denoise_checked(replace(s), partner=replace(o)), repeats
        )
        print(f"| {n}² | {tn:.3f} | {tg:.3f} | {tg / tn:.2f} | {tw:.3f} | {tw / tn:.2f} | {tc:.3f} |")
    bench_strip_levels(repeats)


def bench_strip_levels(repeats: int) -> None:
    """The two-direction Wiener on a pair whose noise is 225x louder in 16 rows of both looks, at
    0.3 Å per pixel: shift-invariant (no levels) vs each strip's level below 2 Å (version 2.7: per
    row, the larger of the tile's mean level and the row's own strip's; versions 2.8-2.11: the
    levels measured below 2 Å, per third of the fast-axis frequencies, on 8-row strips), the
    levels' measurement included."""
    from stmdenoise.model.two_direction import two_direction_wiener
    from stmdenoise.pairing import filter_levels

    print(
        f"\n### Two-direction Wiener, per-strip levels (uneven noise, 0.3 Å/px; CPU, median of {repeats})\n"
    )
    print("| size | shift-invariant s | per-strip levels below 2 Å s | ratio |\n|---|---:|---:|---:|")
    px = (0.3e-10, 0.3e-10)
    for n in (256, 512, 1024):
        rng = np.random.default_rng(n)
        surface = np.asarray(_scan(n).data, dtype=np.float64)
        amp = np.full((n, 1), 0.05 * float(np.std(surface)))
        amp[n // 4 : n // 4 + 16] *= 15.0
        f, b = (surface + amp * rng.standard_normal(surface.shape) for _ in range(2))
        assert filter_levels(f, b, (0.0, 0.0), px) is not None  # the levels' gate opens
        t0 = median_seconds(lambda f=f, b=b: two_direction_wiener(f, b, (0.0, 0.0)), repeats)
        t1 = median_seconds(
            lambda f=f, b=b: two_direction_wiener(
                f, b, (0.0, 0.0), pixel_size=px, strip_levels=filter_levels(f, b, (0.0, 0.0), px)
            ),
            repeats,
        )
        print(f"| {n}² | {t0:.3f} | {t1:.3f} | {t1 / t0:.2f}x |")


def bench_tiling(device: str, tmp: Path, model: Path | None) -> None:
    folder = model or _model(tmp / "m-tiling", 32, 6)
    scan = _scan(2048, seed=7)
    whole = Denoiser.from_folder(folder, device=device, backend="torch", tile=4096)
    t = time.perf_counter()
    a = whole.denoise(scan).data
    t_whole = time.perf_counter() - t
    print(f"\n### Tiled vs whole-image inference, 2048² scan ({folder.name}, {device})\n")
    print("| tile | passes (statistics + tiles) | time s | PSNR vs whole (dB) |\n|---:|---:|---:|---:|")
    print(f"| whole | 1 | {t_whole:.1f} | - |")
    for tile in (1024, 512):
        den = Denoiser.from_folder(folder, device=device, backend="torch", tile=tile)
        calls: list[int] = []
        t = time.perf_counter()
        b = den.denoise(scan, progress=lambda d, n, c=calls: c.append(n)).data
        dt = time.perf_counter() - t
        psnr = 10 * np.log10(np.ptp(a) ** 2 / np.mean((a - b) ** 2))
        print(f"| {tile} | {calls[-1]} | {dt:.1f} | {psnr:.1f} |")


def bench_headroom(n: int = 30) -> None:
    """How far beyond the robust range the simulated images reach (why the normalisation leaves headroom)."""
    from stmdenoise.processing import level_plane, robust_normalize

    rng = np.random.default_rng(5)
    pairs = [sample_pair(rng, pixels=256) for _ in range(n)]
    print(f"\n### Headroom: max |normalised value| over {n} simulated 256² pairs (plane-levelled)\n")
    print("| percentiles | clean median | clean p90 | clean max | noisy median | noisy p90 |")
    print("|---|---:|---:|---:|---:|---:|")
    for lo, hi in ((0.5, 99.5), (0.1, 99.9), (0.02, 99.98)):

        def peak(a: np.ndarray, lo: float = lo, hi: float = hi) -> float:
            return float(np.abs(robust_normalize(level_plane(a), low_pct=lo, high_pct=hi)[0]).max())

        v = np.array([[peak(p.clean), peak(p.noisy)] for p in pairs])
        c, z = v[:, 0], v[:, 1]
        print(
            f"| {lo}/{hi} | {np.median(c):.2f} | {np.percentile(c, 90):.2f} | {c.max():.2f} "
            f"| {np.median(z):.2f} | {np.percentile(z, 90):.2f} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats, skip the paper-size training")
    p.add_argument("--model", type=Path, help="a trained model folder for inference and tiling")
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip", default="", help="sections to skip: training,inference,tiling,headroom")
    p.add_argument("--passes", default="1", help="network passes to time, comma-separated (1,2,4)")
    args = p.parse_args()
    skip = set(args.skip.split(","))
    print(f"torch {torch.__version__}, device {args.device}, CPU threads {torch.get_num_threads()}")
    configs = CONFIGS[1:] if args.quick else CONFIGS
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "training" not in skip:
            bench_training(configs, 2 if args.quick else 3, args.device, tmp)
        if "inference" not in skip:
            passes = tuple(int(k) for k in args.passes.split(","))
            bench_inference(configs, 2 if args.quick else 3, args.device, tmp, args.model, passes)
        if "tiling" not in skip:
            bench_tiling(args.device, tmp, args.model)
        if "headroom" not in skip:
            bench_headroom()


if __name__ == "__main__":
    main()
