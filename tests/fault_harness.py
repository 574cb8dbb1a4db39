"""SIGKILL at a random point of ``simulate``, ``train`` and ``export``, then rerun/resume (issue 16).

Each trial runs the command in a subprocess, kills it with SIGKILL after a random delay, checks
that every item the killed run left as finished is intact, reruns (``--resume`` for training,
``--overwrite`` for export) and compares the result with an uninterrupted run. Used by
``tests/faults/test_sigkill.py`` (one or two trials each, in CI) and by hand for the figures::

    .venv/bin/python tests/fault_harness.py --kills 10
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIM = {"count": 12, "pixels": 16, "size_nm": 16 * 0.14, "seed": 3}
TRAIN_STEPS = 4


@dataclass(frozen=True)
class Trial:
    """Outcome of one kill: when, what the killed run left, and whether the rerun matched."""

    command: str
    delay_s: float
    killed: bool  # False when the run finished before the kill
    finished_items: int  # items the killed run left marked finished / written
    corrupt_items: int  # of those, how many differ from the uninterrupted run
    rerun_ok: bool  # rerun exited 0
    equal: bool  # final result equals the uninterrupted run


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stmdenoise", *args]


def _kill_after(cmd: list[str], ready: Path, delay: float, timeout: float = 120.0) -> bool:
    """Start ``cmd``; once ``ready`` exists wait ``delay`` s and SIGKILL it. True when it was killed."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_end = time.monotonic() + timeout
    while not ready.exists() and proc.poll() is None and time.monotonic() < t_end:
        time.sleep(0.02)
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return killed


# ------------------------------------------------------------------------------------ simulate
def simulate_reference(folder: Path) -> Path:
    from stmdenoise.physics import simulate_dataset

    ref = folder / "ref.h5"
    if not ref.exists():
        for _ in simulate_dataset(ref, count=SIM["count"], pixels=SIM["pixels"], size=SIM["size_nm"] * 1e-9,
                                  seed=SIM["seed"], workers=1):  # fmt: skip
            pass
    return ref


def kill_simulate(folder: Path, rng: np.random.Generator) -> Trial:
    import h5py

    ref = simulate_reference(folder)
    out = folder / f"sim{rng.integers(1 << 30)}.h5"
    part = out.with_name(out.name + ".part")
    args = ["simulate", "--count", str(SIM["count"]), "--pixels", str(SIM["pixels"]), "--size-nm",
            str(SIM["size_nm"]), "--seed", str(SIM["seed"]), "--workers", "1", "--out", str(out),
            "--quiet"]  # fmt: skip
    delay = float(rng.uniform(0.3, 2.5))
    killed = _kill_after(_cli(*args), part, delay)
    finished = corrupt = 0
    left = part if part.exists() else out
    with h5py.File(ref, "r") as r:
        try:
            with h5py.File(left, "r") as f:
                done = np.flatnonzero(np.asarray(f["completed"][:], dtype=bool))
                finished = int(done.size)
                for i in done:
                    if not (
                        np.array_equal(f["clean"][i], r["clean"][i])
                        and np.array_equal(f["noisy"][i], r["noisy"][i])
                    ):
                        corrupt += 1
        except OSError:
            pass  # unopenable: the rerun sets it aside and starts afresh (nothing marked finished is lost)
    res = subprocess.run(_cli(*args), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    equal = False
    if res.returncode == 0:
        with h5py.File(ref, "r") as r, h5py.File(out, "r") as f:
            equal = all(np.array_equal(f[k][:], r[k][:]) for k in ("clean", "noisy", "completed"))
    return Trial("simulate", delay, killed, finished, corrupt, res.returncode == 0, equal)


# ------------------------------------------------------------------------------------ train
def _train_args(folder: Path, out: Path, steps: int) -> list[str]:
    return ["train", "--variant", "cyclegan", "--steps", str(steps), "--sim", str(folder / "train_sim.h5"),
            "--out", str(out), "--crop", "32", "--batch", "1", "--ngf", "4", "--blocks", "1", "--ndf", "4",
            "--device", "cpu", "--checkpoint-every", "1", "-q"]  # fmt: skip


def train_reference(folder: Path) -> Path:
    from stmdenoise.physics import simulate_dataset

    data = folder / "train_sim.h5"
    if not data.exists():
        for _ in simulate_dataset(data, count=3, pixels=40, size=40 * 0.14e-9, seed=0, workers=1):
            pass
    ref = folder / "train_ref"
    if not (ref / "weights.safetensors").exists():
        subprocess.run(_cli(*_train_args(folder, ref, TRAIN_STEPS)), cwd=ROOT, env=_env(), check=True,
                       capture_output=True, timeout=600)  # fmt: skip
    return ref


def _weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "weights.safetensors"))


def kill_train(folder: Path, rng: np.random.Generator) -> Trial:
    from stmdenoise.training.checkpoint import checkpoint_exists, read_checkpoint_meta

    ref = train_reference(folder)
    out = folder / f"train{rng.integers(1 << 30)}"
    delay = float(rng.uniform(0.0, 3.0))
    killed = _kill_after(_cli(*_train_args(folder, out, TRAIN_STEPS)), out / "checkpoint", delay)
    finished = corrupt = 0
    if checkpoint_exists(out):
        finished = 1
        try:
            read_checkpoint_meta(out)
        except ValueError:
            corrupt = 1
    args = _train_args(folder, out, TRAIN_STEPS) + (["--resume"] if checkpoint_exists(out) else [])
    res = subprocess.run(_cli(*args), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    equal = False
    if res.returncode == 0:
        a, b = _weights(ref), _weights(out)
        equal = a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=1e-5, atol=1e-6) for k in a)
    return Trial("train", delay, killed, finished, corrupt, res.returncode == 0, equal)


# ------------------------------------------------------------------------------------ export
def export_inputs(folder: Path, n: int = 24) -> list[Path]:
    from stmdenoise.io import write_sxm
    from stmdenoise.scan import Scan

    src = folder / "export_in"
    if not src.exists():
        src.mkdir()
        rng = np.random.default_rng(0)
        for i in range(n):
            z = Scan(rng.normal(size=(64, 64)) * 1e-10, pixel_size=(1e-10, 1e-10), channel="Z", unit="m")
            write_sxm(src / f"s{i:02d}.sxm", [z, z.replace(channel="Current", unit="A")])
    return sorted(src.iterdir())


def _export_args(files: list[Path], out: Path) -> list[str]:
    return ["export", *map(str, files), "-o", str(out), "--format", "tiff,h5,png16,sxm"]


def _same_outputs(out: Path, ref: Path) -> tuple[int, int]:
    """(files in ``out`` not hidden, how many of them differ from ``ref``)."""
    from stmdenoise.io import read_all

    n = bad = 0
    for p in sorted(out.iterdir()):
        if p.name.startswith("."):
            continue
        n += 1
        try:
            a, b = read_all(p), read_all(ref / p.name)
            same = len(a) == len(b) and all(
                np.array_equal(x.data, y.data, equal_nan=True) for x, y in zip(a, b, strict=True)
            )
        except (OSError, ValueError):
            same = False
        bad += not same
    return n, bad


def kill_export(folder: Path, rng: np.random.Generator) -> Trial:
    files = export_inputs(folder)
    ref = folder / "export_ref"
    if not ref.exists():
        subprocess.run(_cli(*_export_args(files, ref)), cwd=ROOT, env=_env(), check=True, capture_output=True)
    out = folder / f"export{rng.integers(1 << 30)}"
    delay = float(rng.uniform(0.0, 1.5))
    killed = _kill_after(_cli(*_export_args(files, out)), out, delay)
    finished, corrupt = _same_outputs(out, ref) if out.exists() else (0, 0)
    res = subprocess.run(_cli(*_export_args(files, out), "--overwrite"), cwd=ROOT, env=_env(),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    n, bad = _same_outputs(out, ref)
    hidden = [p for p in out.iterdir() if p.name.startswith(".")]
    equal = res.returncode == 0 and bad == 0 and n == len(list(ref.iterdir())) and not hidden
    return Trial("export", delay, killed, finished, corrupt, res.returncode == 0, equal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=5, help="kills per command (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    counts: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, fn in (("simulate", kill_simulate), ("train", kill_train), ("export", kill_export)):
            c: Counter[str] = Counter()
            for _ in range(args.kills):
                t = fn(folder, rng)
                c["tried"] += 1
                c["killed"] += t.killed
                c["finished items checked"] += t.finished_items
                c["finished items corrupt"] += t.corrupt_items
                c["rerun failed"] += not t.rerun_ok
                c["result differs"] += not t.equal
            counts[name] = c
    cols = [
        "tried",
        "killed",
        "finished items checked",
        "finished items corrupt",
        "rerun failed",
        "result differs",
    ]
    print("| command | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    for name, c in counts.items():
        print(f"| {name} | " + " | ".join(str(c.get(k, 0)) for k in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
