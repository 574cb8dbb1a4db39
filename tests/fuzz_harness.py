"""Hostile-input harness: mutate scan files and model configs, read them in a memory-capped child.

Used by ``tests/io/test_fuzz_capped.py`` (small, in CI) and run by hand at a larger size for the
figures of issue 16::

    .venv/bin/python tests/fuzz_harness.py --files 1000 --configs 200

prints the table tried / clean error / accepted / other exception / hang / memory blow-up /
input changed. The child (``python tests/fuzz_harness.py --child MODE FILE...``) runs under
``resource.setrlimit(RLIMIT_AS)`` and reports one JSON line per file; a file that does not
finish within the time limit is a hang, a MemoryError (or a child killed by the cap) a memory
blow-up.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.hostile import (  # noqa: E402
    HOSTILE_NUMBERS,
    createc_bytes,
    grid_bytes,
    model_config,
    npy_claiming,
    png_bomb,
    small_images,
    spectrum_bytes,
    sxm_bytes,
    zlib_bomb_createc,
)

#: Address-space cap of the child: a reader must refuse a hostile file before allocating more.
MEM_MB = 3072
#: Seconds one file may take in the child before it counts as a hang.
FILE_TIMEOUT_S = 10.0
OUTCOMES = ("clean", "accepted", "other", "hang", "memory", "input changed")


def seed_files() -> dict[str, bytes]:
    """Valid files of every format the readers know (suffix in the key)."""
    seeds = {
        "createc.dat": createc_bytes(),
        "scan.sxm": sxm_bytes(),
        "grid.3ds": grid_bytes(),
        "spectrum.dat": spectrum_bytes(),
    }
    for ext, raw in small_images().items():
        seeds["image" + ext] = raw
    real = ROOT.parent / "shared" / "realdata"
    for rel in ("nanonis/img_0071.sxm", "nanonis/TR_dIdV_00006.dat", "nanonis/Grid Experiment2001.3ds",
                "createc/createc_scan_step_20nm.dat"):  # fmt: skip
        if (real / rel).is_file():
            seeds["real_" + Path(rel).name.replace(" ", "_")] = (real / rel).read_bytes()
    return seeds


_NUMBER = re.compile(rb"(?<=[=\t :\"])-?[0-9][0-9.eE+-]*")


def mutate(raw: bytes, rng: np.random.Generator) -> bytes:
    """One hostile change: a header number replaced, bytes flipped, cut, extended or zeroed."""
    kind = int(rng.integers(6))
    head_end = min(len(raw), 64 << 10)
    if kind <= 1:  # a header number -> a hostile value (twice as likely: where the audit found most)
        sites = [m for m in _NUMBER.finditer(raw, 0, head_end)]
        if sites:
            m = sites[int(rng.integers(len(sites)))]
            value = HOSTILE_NUMBERS[int(rng.integers(len(HOSTILE_NUMBERS)))].encode()
            return raw[: m.start()] + value + raw[m.end() :]
    if kind == 2 and raw:  # flip a few bytes
        buf = bytearray(raw)
        for _ in range(int(rng.integers(1, 8))):
            buf[int(rng.integers(len(buf)))] ^= int(rng.integers(1, 256))
        return bytes(buf)
    if kind == 3:  # truncate
        return raw[: int(rng.integers(len(raw) + 1))]
    if kind == 4:  # extend
        return raw + rng.bytes(int(rng.integers(1, 4096)))
    buf = bytearray(raw)  # zero a run
    if buf:
        start = int(rng.integers(len(buf)))
        n = int(rng.integers(1, 512))
        buf[start : start + n] = bytes(len(buf[start : start + n]))
    return bytes(buf)


def special_files() -> dict[str, bytes]:
    """Hand-made hostile files of the audit that random mutation rarely hits."""
    return {
        "bomb.dat": zlib_bomb_createc(),
        "bomb.png": png_bomb(),
        "claims.npy": npy_claiming(),
        "dac.dat": createc_bytes({"DAC-Type": "100000000000bit"}),
        "gain.dat": createc_bytes({"Gainpreamp / GainPre 10^": "1000"}),
        "select.dat": createc_bytes({"Channelselectval / Channelselectval": "inf"}),
    }


def make_files(folder: Path, n: int, seed: int) -> list[Path]:
    """``n`` mutated files in ``folder`` (plus the special ones when ``n`` is large enough)."""
    rng = np.random.default_rng(seed)
    seeds = seed_files()
    names = sorted(seeds)
    out = []
    extra = special_files() if n >= 20 else {}
    for name, raw in extra.items():
        p = folder / f"special_{name}"
        p.write_bytes(raw)
        out.append(p)
    for i in range(n - len(extra)):
        name = names[int(rng.integers(len(names)))]
        raw = seeds[name]
        for _ in range(int(rng.integers(1, 3))):
            raw = mutate(raw, rng)
        p = folder / f"{i:05d}_{name}"
        p.write_bytes(raw)
        out.append(p)
    return out


def make_configs(folder: Path, n: int, seed: int) -> list[Path]:
    """``n`` model folders whose config.json has one or two hostile values (tiny valid weights)."""
    import torch

    from stmdenoise.model.folder import WEIGHTS_NAME, ModelInfo, save_model_folder
    from stmdenoise.model.pdanet import build_generators

    rng = np.random.default_rng(seed)
    base = model_config()
    info = ModelInfo.from_dict(base, path=folder)
    torch.manual_seed(0)
    g_d, g_da = build_generators(info.arch, info.variant)
    weights = save_model_folder(folder / "_valid", info, g_d, g_da) / WEIGHTS_NAME
    keys = ["architecture.ngf", "architecture.n_blocks", "architecture.ndf", "architecture.skip_blur",
            "architecture.residual", "architecture.channels", "pixel_size_m", "normalization.scale",
            "normalization.squash", "normalization.low_pct", "normalization.high_pct", "steps",
            "variant"]  # fmt: skip
    values: list[Any] = [
        0,
        -1,
        1,
        2,
        1e9,
        100000,
        1e-12,
        1e308,
        float("nan"),
        float("inf"),
        True,
        None,
        "64",
        [],
        {},
    ]
    out = []
    for i in range(n):
        changes = {}
        for _ in range(int(rng.integers(1, 3))):
            changes[keys[int(rng.integers(len(keys)))]] = values[int(rng.integers(len(values)))]
        d = folder / f"m{i:04d}"
        d.mkdir()
        (d / "config.json").write_text(json.dumps(model_config(**changes)))
        (d / WEIGHTS_NAME).write_bytes(weights.read_bytes())
        out.append(d)
    return out


# ------------------------------------------------------------------------------------- child
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _classify(exc: BaseException, clean: tuple[type[BaseException], ...]) -> tuple[str, str]:
    if isinstance(exc, MemoryError):
        return "memory", "MemoryError"
    if isinstance(exc, clean):
        return "clean", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return "other", f"{type(exc).__name__}: {exc}"[:300]


def _child_readers(paths: list[Path]) -> None:
    from stmdenoise.io import ScanFormatError, list_channels, read_all, read_grid, read_spectrum

    for p in paths:
        print(json.dumps({"start": str(p)}), flush=True)
        before = _digest(p)
        t0 = time.monotonic()
        outcome, detail = "accepted", ""
        try:
            for fn in (read_all, list_channels):
                try:
                    fn(p)
                except ScanFormatError as exc:
                    if "point spectrum" not in exc.reason:
                        raise
            if p.suffix == ".dat" and b"[DATA]" in p.read_bytes()[: 1 << 16]:
                read_spectrum(p)
            if p.suffix == ".3ds":
                read_grid(p)
        except BaseException as exc:  # noqa: BLE001 -- every outcome is recorded
            outcome, detail = _classify(exc, (ScanFormatError,))
        if _digest(p) != before:
            outcome, detail = "input changed", ""
        print(json.dumps({"file": str(p), "outcome": outcome, "detail": detail,
                          "seconds": round(time.monotonic() - t0, 3)}), flush=True)  # fmt: skip


def _child_models(paths: list[Path]) -> None:
    from stmdenoise.model.folder import ModelFolderError, load_model_folder

    for p in paths:
        print(json.dumps({"start": str(p)}), flush=True)
        t0 = time.monotonic()
        outcome, detail = "accepted", ""
        try:
            load_model_folder(p)
        except BaseException as exc:  # noqa: BLE001 -- every outcome is recorded
            outcome, detail = _classify(exc, (ModelFolderError,))
        print(json.dumps({"file": str(p), "outcome": outcome, "detail": detail,
                          "seconds": round(time.monotonic() - t0, 3)}), flush=True)  # fmt: skip


def _child_cli(paths: list[Path], out_dir: Path) -> None:
    """``info`` and ``export`` over all files at once: one clean line per bad file, inputs unchanged."""
    from stmdenoise.cli.main import main

    before = {p: _digest(p) for p in paths}
    for argv in (["info", *map(str, paths)],
                 ["export", *map(str, paths), "-o", str(out_dir), "--format", "tiff,sxm"]):  # fmt: skip
        err, out = io.StringIO(), io.StringIO()
        t0 = time.monotonic()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(argv)
            except BaseException as exc:  # noqa: BLE001 -- the batch itself must not fail
                code = -1
                print(f"batch died: {type(exc).__name__}: {exc}", file=sys.stderr)
        lines = err.getvalue().strip().splitlines()
        bad = [
            ln for ln in lines if not ln.startswith(f"stmdenoise {argv[0]}: error: ") or "unexpected" in ln
        ]
        print(json.dumps({"file": argv[0], "outcome": "clean" if code in (0, 1) and not bad else "other",
                          "detail": (bad or [f"exit {code}"])[0][:300], "errors": len(lines),
                          "seconds": round(time.monotonic() - t0, 3)}), flush=True)  # fmt: skip
    changed = [str(p) for p in paths if _digest(p) != before[p]]
    print(json.dumps({"file": "inputs", "outcome": "input changed" if changed else "clean",
                      "detail": ", ".join(changed)[:300]}), flush=True)  # fmt: skip


def run_child(mode: str, paths: list[Path], *, mem_mb: int = MEM_MB, file_timeout: float = FILE_TIMEOUT_S,
              out_dir: Path | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Run the child on ``paths``; a hang or a child killed by the cap is recorded, the rest go on."""
    results: list[dict[str, Any]] = []
    todo = list(paths)
    while todo:
        args = [__file__, "--child", mode, *(["--out", str(out_dir)] if out_dir else []), *map(str, todo)]

        def cap() -> None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))

        user_dir = os.environ.get("STMDENOISE_USER_DIR", tempfile.gettempdir())
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "STMDENOISE_USER_DIR": user_dir}  # fmt: skip
        timeout = file_timeout * (len(todo) if mode != "cli" else 2 * len(todo)) + 30
        errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child never blocks on it
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, preexec_fn=cap,
                                stdout=subprocess.PIPE, stderr=errors)  # fmt: skip
        started: str | None = None
        done_files: set[str] = set()
        deadline = time.monotonic() + timeout
        t_start = time.monotonic()
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buffer = b""
        hung = False
        fd = proc.stdout.fileno()
        while True:
            limit = (file_timeout if mode != "cli" else timeout) - (time.monotonic() - t_start)
            if started is not None and limit <= 0 or time.monotonic() > deadline:
                hung = True
                break
            if not sel.select(timeout=max(0.05, min(limit, 1.0))):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                rec = json.loads(line)
                if "start" in rec:
                    started, t_start = rec["start"], time.monotonic()
                    continue
                results.append(rec)
                done_files.add(rec["file"])
                started, t_start = None, time.monotonic()
        sel.close()
        if hung:
            proc.kill()
        proc.wait()
        errors.seek(0)
        stderr = errors.read()[-4000:].decode("utf-8", "replace")
        errors.close()
        if mode == "cli" or not started:
            if proc.returncode not in (0, None) and not results:
                results.append({"file": "child", "outcome": "other", "detail": stderr[-300:]})
            break
        # the child stopped inside a file: a hang (killed by us) or a memory blow-up (killed by the cap)
        outcome = "hang" if hung else "memory"
        if "MemoryError" in stderr:
            outcome = "memory"
        results.append({"file": started, "outcome": outcome, "detail": stderr[-300:]})
        done_files.add(started)
        todo = [p for p in todo if str(p) not in done_files]
    return results


def table(rows: dict[str, Counter[str]]) -> str:
    """Markdown table of outcome counts per harness part."""
    head = "| part | tried | " + " | ".join(OUTCOMES) + " |\n|---|---|" + "---|" * len(OUTCOMES) + "\n"
    body = ""
    for part, counts in rows.items():
        body += (
            f"| {part} | {sum(counts.values())} | "
            + " | ".join(str(counts.get(o, 0)) for o in OUTCOMES)
            + " |\n"
        )
    return head + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", choices=("readers", "models", "cli"))
    parser.add_argument("--out")
    parser.add_argument("--files", type=int, default=200, help="mutated scan files (default 200)")
    parser.add_argument("--configs", type=int, default=50, help="mutated model configs (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    if args.child:
        paths = [Path(p) for p in args.paths]
        if args.child == "readers":
            _child_readers(paths)
        elif args.child == "models":
            _child_models(paths)
        else:
            _child_cli(paths, Path(args.out))
        return 0
    rows: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "files").mkdir()
        files = make_files(folder / "files", args.files, args.seed)
        res = run_child("readers", files)
        rows["readers (read_all, list_channels, read_spectrum/read_grid)"] = Counter(
            r["outcome"] for r in res
        )
        for r in res:
            if r["outcome"] not in ("clean", "accepted"):
                print(r, file=sys.stderr)
        cli: Counter[str] = Counter()
        for k in range(0, len(files), 50):
            out = folder / f"out{k}"
            for r in run_child("cli", files[k : k + 50], out_dir=out):
                cli[r["outcome"]] += 1
                if r["outcome"] != "clean":
                    print(r, file=sys.stderr)
        rows["CLI batches (info + export of 50 files, inputs checked)"] = cli
        (folder / "models").mkdir()
        configs = make_configs(folder / "models", args.configs, args.seed)
        res = run_child("models", configs, mem_mb=MEM_MB + 1024)
        rows["model folders (load_model_folder)"] = Counter(r["outcome"] for r in res)
        for r in res:
            if r["outcome"] not in ("clean", "accepted"):
                print(r, file=sys.stderr)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
