"""Batch throughput: scans per minute of ``stmdenoise batch`` at 256^2 and 512^2 on this machine.

Run: PYTHONPATH=. .venv/bin/python bench/bench_batch.py [--files N] [--device cpu]

Synthetic Nanonis scans (forward + backward Z, at the shipped model's pixel size so that the
network really runs) are written to a temporary folder. Rows per size:

* ``read + write only`` -- the baseline measured in the same run: ``stmdenoise export`` of the
  same files to PNG, TIFF and HDF5 (no model, no scores);
* ``batch, policy off`` -- the network and every output, no do-no-harm check;
* ``batch (default)`` -- what ``stmdenoise batch`` does: network, do-no-harm judged against the
  backward frame, BRISQUE/PIQE/line-artefact scores, picture, TIFF, HDF5, .sxm, report.

The model is loaded and one scan denoised before timing (a warm start, as in a long batch).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _scans(folder: Path, n: int, size: int, pixel: float) -> list[Path]:
    import numpy as np

    from stmdenoise.io import write_sxm
    from stmdenoise.scan import Scan

    folder.mkdir(parents=True)
    out = []
    for k in range(n):
        rng = np.random.default_rng(k)
        yy, xx = np.mgrid[0:size, 0:size] * pixel
        z = 3e-11 * np.cos(2 * np.pi * np.hypot(yy - 4e-9, xx - 5e-9) / 1.5e-9) + 2e-10 * xx / 1e-8
        frames = [
            Scan(z + 5e-12 * rng.standard_normal(z.shape), pixel_size=(pixel, pixel), channel="Z", unit="m",
                 direction=d, bias=0.1, setpoint=1e-10)
            for d in ("forward", "backward")
        ]  # fmt: skip
        out.append(write_sxm(folder / f"scan_{k:03d}.sxm", frames))
    return out


def _run_batch(files: list[Path], out: Path, device: str, policy: str) -> float:
    from stmdenoise.batch import BatchRequest, denoise_batch

    req = BatchRequest(inputs=tuple(files), out_dir=out, device=device, policy=policy)
    t0 = time.perf_counter()
    job = denoise_batch(req, threading.Event())
    while True:
        try:
            next(job)
        except StopIteration as stop:
            result = stop.value
            break
    dt = time.perf_counter() - t0
    if result.counts["done"] != len(files):
        raise RuntimeError(f"batch did not finish every scan: {result.counts}")
    return dt


def _run_export(files: list[Path], out: Path) -> float:
    from stmdenoise.cli.export import export_file
    from stmdenoise.cli.outputs import OutputPlan

    plan = OutputPlan(out, files)
    t0 = time.perf_counter()
    for f in files:
        export_file(f, out, formats=["png", "tiff", "h5"], plan=plan, scale_bar=True, colour_bar=True)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=6, help="scans per size (default 6)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="256,512")
    args = parser.parse_args()
    os.environ.setdefault("STMDENOISE_USER_DIR", tempfile.mkdtemp(prefix="bench_batch_"))
    import torch

    from stmdenoise.denoise import default_model_dir
    from stmdenoise.model.folder import read_model_info

    pixel = read_model_info(default_model_dir()).pixel_size
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    print(f"model {default_model_dir().name} at {pixel * 1e9:.3f} nm/px, device {args.device}, "
          f"torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}")  # fmt: skip
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            files = _scans(tmp / f"in{size}", args.files + 1, size, pixel)
            warm, timed = files[:1], files[1:]
            _run_batch(warm, tmp / f"warm{size}", args.device, "fallback")  # model loaded, caches warm
            base = _run_export(timed, tmp / f"export{size}")
            off = _run_batch(timed, tmp / f"off{size}", args.device, "off")
            full = _run_batch(timed, tmp / f"full{size}", args.device, "fallback")
            for name, dt in (("read + write only (export)", base), ("batch, policy off", off),
                             ("batch (default)", full)):  # fmt: skip
                rows.append((f"{size}^2", name, len(timed), dt, 60 * len(timed) / dt, dt / base))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'size':>6}  {'what':<28} {'scans':>5} {'seconds':>8} {'scans/min':>10} {'x baseline':>10}")
    for size, name, n, dt, rate, ratio in rows:
        print(f"{size:>6}  {name:<28} {n:>5} {dt:>8.2f} {rate:>10.1f} {ratio:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
