"""``stmdenoise evaluate``: Tables I (simulated MSE/PSNR/SSIM) and II (real BRISQUE/PIQE)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from stmdenoise.cli.progress import drive

__all__ = ["add_parser", "run"]


def _names(text: str) -> list[str]:
    from stmdenoise.evaluation.baselines import BASELINES

    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in BASELINES and n != "none"]
    if bad:
        raise argparse.ArgumentTypeError(f"--baselines must list some of {', '.join(BASELINES)} (or none)")
    return [n for n in names if n != "none"]


def run(args: argparse.Namespace) -> int:
    """Evaluate; print Markdown tables and write them (and CSV) to --out."""
    from stmdenoise.evaluation import (
        BASELINES,
        EXTRA,
        EvalResult,
        available_baselines,
        evaluate,
        load_pairs,
        tables_csv,
        tables_markdown,
    )
    from stmdenoise.training.data import load_real_scans

    baselines = args.baselines if args.baselines is not None else list(available_baselines())
    unavailable = [n for n in baselines if not BASELINES[n].available]
    if unavailable:
        raise ValueError(
            f"--baselines {','.join(unavailable)}: their packages are not installed "
            f"(pip install 'stmdenoise[{EXTRA}]')"
        )

    test: list[Any] = []
    val: list[Any] = []
    pixel_size = None
    if args.sim_test:
        if args.sim_val:
            test, pixel_size = load_pairs(args.sim_test, count=args.test_count)
            val, _ = load_pairs(args.sim_val, count=args.val_count)
        else:  # one file: the last val_count pairs validate, the first test_count pairs test
            from stmdenoise.physics import open_dataset

            with open_dataset(args.sim_test) as ds:
                n = len(ds)
            n_val = min(args.val_count, max(n - 1, 0))
            test, pixel_size = load_pairs(args.sim_test, count=min(args.test_count, n - n_val))
            if n_val:
                val, _ = load_pairs(args.sim_test, start=n - n_val, count=n_val)
    if pixel_size is None:
        if args.pixel_size_nm is None:
            raise ValueError("without --sim-test pass --pixel-size-nm (the simulation's pixel size)")
        pixel_size = args.pixel_size_nm * 1e-9
    real = load_real_scans(args.real, nm_per_px=args.real_nm_per_px) if args.real else []
    if not test and not real and not args.stack:
        raise ValueError("nothing to evaluate: pass --sim-test, --real and/or --stack")
    result = EvalResult()
    missing = [BASELINES[n].label for n in BASELINES if args.baselines is None and n not in baselines]
    if missing:
        result.notes.append(
            f"{', '.join(missing)} left out: their packages are not installed "
            f"(pip install 'stmdenoise[{EXTRA}]')"
        )
    if args.sim_test and not args.sim_val:
        result.notes.append(
            f"validation = last {len(val)} pairs of {Path(args.sim_test).name}, "
            f"test = first {len(test)} (disjoint)"
        )

    def job(cancel: threading.Event) -> Any:
        return evaluate(
            models=args.models or [],
            test_pairs=test,
            val_pairs=val,
            pixel_size=pixel_size,
            real_scans=real,
            baselines=baselines,
            device=args.device,
            passes=args.passes,
            cancel=cancel,
            result=result,
        )

    _, completed = drive(job, description="evaluate", quiet=args.quiet)
    if not completed:
        return 130
    md = tables_markdown(result)
    fidelity_rows: list[Any] = []
    if args.real or args.stack:
        fid_md, fidelity_rows = _fidelity_tables(args, baselines)
        md += "\n" + fid_md
    print(md)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "tables.md").write_text(md, encoding="utf-8")
        (out / "table1.csv").write_text(tables_csv(result.table1), encoding="utf-8")
        (out / "table2.csv").write_text(tables_csv(result.table2), encoding="utf-8")
        (out / "evaluation.json").write_text(
            json.dumps({"table1": result.table1, "table2": result.table2, "tuned": result.tuned,
                        "notes": result.notes, "fidelity": [r.to_dict() for r in fidelity_rows]},
                       indent=2) + "\n", encoding="utf-8",
        )  # fmt: skip
        print(f"written to {out}", file=sys.stderr)
    if args.write_metrics:
        _write_metrics(args, result)
    return 0


def _fidelity_tables(args: argparse.Namespace, baselines: list[str]) -> tuple[str, list[Any]]:
    """Real-scan fidelity (no ground truth) of raw, the baselines swept and the models.

    Every two-direction file among --real (forward denoised, backward as the second look) and
    the --stack frames (leave-one-out): see stmdenoise.training.real_fidelity.
    """
    from stmdenoise.denoise import Denoiser
    from stmdenoise.training.data import expand_paths, load_real_scans
    from stmdenoise.training.real_fidelity import (
        classical_methods,
        fidelity_markdown,
        model_methods,
        pair_rows,
        stack_rows,
        two_direction_frames,
    )

    methods = classical_methods(baselines)
    for folder in args.models or []:
        den = Denoiser.from_folder(folder, device=args.device)
        methods += model_methods(den, Path(folder).name, passes=args.passes)
    parts, rows = ["## Real-scan fidelity (estimated error / signal kept, raw = 1.00; docs/metrics.md)\n"], []
    for f in expand_paths(args.real or []):
        for name, fwd, bwd in two_direction_frames(f):  # none for plain images and spectra
            new = pair_rows(methods, name, fwd, bwd)
            rows += new
            parts.append(fidelity_markdown(new, title=f"Forward/backward: {name}"))
    if args.stack:
        frames = load_real_scans([args.stack], nm_per_px=args.real_nm_per_px)
        new = stack_rows(methods, Path(args.stack).name, frames)
        rows += new
        parts.append(
            fidelity_markdown(new, title=f"Frame stack: {args.stack} ({len(frames)} frames, leave-one-out)")
        )
    if len(parts) == 1:
        parts.append("(no two-direction scan among --real and no --stack: nothing to measure)\n")
    return "\n".join(parts), rows


def _write_metrics(args: argparse.Namespace, result: Any) -> None:
    """Store each model's rows of both tables in its config.json ``metrics``."""
    from stmdenoise.model.folder import without_machine_paths

    for folder in args.models or []:
        cfg = Path(folder) / "config.json"
        d = json.loads(cfg.read_text(encoding="utf-8"))
        name = Path(folder).name
        mine = {
            "table1": [r for r in result.table1 if r["method"].startswith(f"{name} (")],
            "table2": [r for r in result.table2 if r["method"].startswith(f"{name} (")],
            "sim_test": args.sim_test,
            "real": args.real or [],
            "baselines": {"table1": result.table1, "table2": result.table2, "tuned": result.tuned},
        }
        d["metrics"] = without_machine_paths(mine)
        tmp = cfg.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(d, indent=2) + "\n", encoding="utf-8")
        tmp.replace(cfg)
        print(f"metrics written into {cfg}", file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``evaluate``."""
    p = sub.add_parser(
        "evaluate",
        help="Tables I and II: raw, classical baselines and models on simulated pairs and real scans",
        description=(
            "Table I: MSE/PSNR/SSIM (0-255 scale) on simulated test pairs from an HDF5 of `stmdenoise "
            "simulate`. Table II: BRISQUE/PIQE on experimental scans. Baselines (Gaussian, median, "
            "non-local means, total variation, wavelet, BM3D) have their strength tuned by PSNR on a "
            "validation set disjoint from the test set (--sim-val, or the last --val-count pairs of "
            "--sim-test). Real-scan fidelity (no ground truth): every two-direction scan among --real "
            "(backward frame as the second look) and the frames of --stack (leave-one-out), for raw, "
            "each baseline at each parameter of its grid, each model's output and what it delivers under "
            "the do-no-harm policy. Markdown on stdout; with --out also tables.md, table1.csv, table2.csv."
        ),
    )
    p.add_argument("--models", nargs="*", metavar="DIR", help="model folders")
    p.add_argument("--sim-test", metavar="H5", help="simulated test pairs")
    p.add_argument("--sim-val", metavar="H5", help="simulated validation pairs (baseline tuning)")
    p.add_argument("--test-count", type=int, default=200, help="test pairs used (default 200)")
    p.add_argument("--val-count", type=int, default=20, help="validation pairs used (default 20)")
    p.add_argument("--real", nargs="*", metavar="DIR_OR_FILE", help="experimental scans (Table II)")
    p.add_argument("--real-nm-per-px", type=float, help="pixel size of plain JPEG/PNG images, nm")
    p.add_argument(
        "--stack", metavar="DIR",
        help="frames of one area (a frame stack) for the leave-one-out real-scan fidelity table",
    )  # fmt: skip
    p.add_argument("--pixel-size-nm", type=float, help="simulation pixel size when no --sim-test is given")
    p.add_argument(
        "--baselines", type=_names, default=None, metavar="LIST",
        help="comma-separated baselines (default: all whose packages are installed; wavelet and bm3d "
        "come with pip install 'stmdenoise[baselines]'; 'none' for models only)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="device for the models")
    p.add_argument(
        "--passes", type=int, choices=(1, 2, 4), default=1,
        help="network passes averaged per image, over mirrored copies (default 1)",
    )  # fmt: skip
    p.add_argument(
        "--out", metavar="DIR", help="write tables.md, table1.csv, table2.csv, evaluation.json here"
    )
    p.add_argument(
        "--write-metrics", action="store_true", help="store the tables in each model's config.json"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
