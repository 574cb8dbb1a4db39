"""One defect on a flat metal terrace, two directions, truth known: does the app paint a halo round it?

    python bench/lone_defect.py [--seeds 6] [--model DIR] [--out DIR] [--figure PNG]

Issue 15: on a real Createc metal scan with one defect and no standing waves, the first model
drew rings that are not in the scan. A filter with one gain for the whole frame can do the same:
the frame's noise swamps the defect's own longest periods, so the gain removes them, and what is
left is the defect's core sitting in a shallow moat with a faint ring beyond it. This bench builds
such scans (256² at 0.5 Å/px: one Gaussian bump or dip of 0.5-2 Å, sigma 3-9 px, 0.03-0.1 Å of
white noise, a slope of 0.1 Å per 100 px) in three noise textures:

``white``
    white noise only.
``lines-indep``
    plus slow line noise, a random walk of 0.01 Å per line, drawn anew for each direction (a
    trace and its retrace at different offsets: creep, tip changes between them).
``lines-shared``
    plus one such random walk common to both directions (drift between lines).

For the model's output and what the app delivers (``Denoiser.denoise_checked``, the backward frame
as the second look, the default policy), against the truth, each frame's error taken without its
lines' medians (line offsets are not halos):

``halo``
    the largest |mean error| over 3 px rings from 2 sigma to 70 px from the defect, over the defect's
    height (0: nothing drawn round it).
``kept``
    the defect's volume within 2 sigma in the output over the truth's (each above the frame's
    median; the line offsets in the defect's rows move it too, so compare it between versions,
    scene by scene).
``err``
    the whole frame's error variance over the raw frame's, lines included (what slow line noise the
    filter removes counts here).

The same three measures of the forward frame's single-frame output (the model on that frame alone,
what the judge can deliver in the two-direction output's place), means per texture: what a judge
that prefers it trades (docs/model-selection.md, candidate DT).

Registration: how far the app's second look (``stmdenoise.metrics.second_look``) puts the backward
frame from where it truly sits (the same place here), and whether it made the look follow a piezo
hysteresis the scene does not have (summary line). A lone smooth defect gives the
cross-correlation a broad peak whose top the noise moves (docs/model-selection.md, after DQ).

``--figure``: for the first three scenes with independent line noise, the raw frame and the error
of the raw frame, the model's output and what is delivered (each line's median removed, smoothed
by a 2 px Gaussian, grey from -5 % to +5 % of the defect's height): a moat or ring shows as a dark
or light annulus round the defect.

Nothing here was used to build or choose a model before candidate DQ (docs/model-selection.md),
whose rule names it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import _grey as grey_panel  # noqa: E402
from quality import figure  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.metrics.second_look import FOLLOW_STEP, second_look  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402

KINDS = ("white", "lines-indep", "lines-shared")
PIXELS = 256
PX = 0.5e-10  # 0.5 Å per pixel
ANGSTROM = 1e-10


def program_version() -> str:
    """The version in this checkout's pyproject.toml (a worktree of an older commit names its own,
    whatever package the environment has installed)."""
    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    return found.group(1) if found else "unknown"


def make_case(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """(truth, forward, backward) in Å and the defect's centre, height and width."""
    rng = np.random.default_rng(1000 + seed)
    yy, xx = np.mgrid[0:PIXELS, 0:PIXELS]
    cy, cx = rng.uniform(90, 166, 2)
    height = float(rng.choice([-0.5, 0.5, 1.0, 2.0]))
    width = float(rng.uniform(3, 9))
    sigma = float(rng.uniform(0.03, 0.1))
    clean = height * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width**2)) + 0.001 * xx
    shared = np.cumsum(rng.normal(0, 0.01, PIXELS))[:, None] if kind == "lines-shared" else 0.0

    def look() -> np.ndarray:
        own = np.cumsum(rng.normal(0, 0.01, PIXELS))[:, None] if kind == "lines-indep" else 0.0
        return np.asarray(clean + rng.normal(0, sigma, (PIXELS, PIXELS)) + own + shared)

    fwd, bwd = look(), look()
    return (
        clean,
        fwd,
        bwd,
        {"cy": float(cy), "cx": float(cx), "height": height, "width": width, "noise": sigma},
    )


def line_error(out: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """``out`` minus the truth, each line's median removed (line offsets are not halos)."""
    e = out - clean
    return np.asarray(e - np.median(e, axis=1, keepdims=True))


def measures(out: np.ndarray, raw: np.ndarray, clean: np.ndarray, d: dict[str, float]) -> dict[str, float]:
    """``halo``, ``kept`` and ``err`` (module docstring) of ``out``."""
    yy, xx = np.mgrid[0 : out.shape[0], 0 : out.shape[1]]
    r = np.hypot(yy - d["cy"], xx - d["cx"])
    e = line_error(out, clean)
    rings = [float(np.mean(e[(r >= a) & (r < a + 3)])) for a in np.arange(2 * d["width"], 70, 3)]
    core = r < 2 * d["width"]
    kept = float(np.sum(out[core] - np.median(out)) / np.sum(clean[core] - np.median(clean)))
    err = float(np.var(out - clean) / np.var(raw - clean))
    return {"halo": max(abs(v) for v in rings) / abs(d["height"]), "kept": kept, "err": err}


def _scan(a: np.ndarray, direction: Literal["forward", "backward"] = "forward") -> Scan:
    return Scan(a * ANGSTROM, pixel_size=(PX, PX), channel="Z", unit="m", direction=direction)


def _pair(fwd: np.ndarray, bwd: np.ndarray) -> tuple[Scan, Scan]:
    return _scan(fwd), _scan(bwd, "backward")


def registered(fwd: np.ndarray, bwd: np.ndarray) -> tuple[float, bool]:
    """How far (px) the app's second look (``stmdenoise.metrics.second_look``) registers the
    backward frame from where it truly sits (the same place: no drift, lag or hysteresis here), and
    whether it made the look follow a hysteresis there is none of."""
    found = second_look(*_pair(fwd, bwd))
    assert found is not None
    (dy, dx), look, _ = found
    return float(np.hypot(dy, dx)), bool(look.steps and look.steps[-1].name == FOLLOW_STEP)


def outputs(den: Denoiser, fwd: np.ndarray, bwd: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The model's output and what the app delivers for this pair (Å), and what was delivered."""
    f, b = _pair(fwd, bwd)
    checked = den.denoise_checked(f, partner=b)
    assert checked.model is not None
    model = np.asarray(checked.model.data, dtype=np.float64) / ANGSTROM
    delivered = np.asarray(checked.delivered.data, dtype=np.float64) / ANGSTROM
    return model, delivered, checked.verdict.delivered


def single_frame(den: Denoiser, fwd: np.ndarray) -> np.ndarray:
    """The model's output for the forward frame alone (Å): the single-frame output the judge can
    deliver in place of the two-direction one (the raw frame where the plan declines it)."""
    alone = den.denoise_checked(_scan(fwd))
    return fwd if alone.model is None else np.asarray(alone.model.data, dtype=np.float64) / ANGSTROM


def error_map(out: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """:func:`line_error` smoothed by a 2 px Gaussian."""
    return np.asarray(gaussian_filter(line_error(out, clean), 2.0))


def draw(den: Denoiser, path: Path, title: str) -> None:
    """The ``--figure`` sheet (module docstring)."""
    panels = []
    for seed in range(3):
        clean, fwd, bwd, d = make_case("lines-indep", seed)
        model, delivered, what = outputs(den, fwd, bwd)
        v = 0.05 * abs(d["height"])
        panels.append((f"{title} scene {seed}: raw", grey_panel(fwd)))
        for name, out in (
            ("raw error", fwd),
            ("model error", model),
            (f"delivered ({what[:18]})", delivered),
        ):
            panels.append((name, grey_panel(error_map(out, clean), -v, v)))
    figure(panels, path, cols=4)


def run_case(den: Denoiser, kind: str, seed: int) -> dict[str, Any]:
    clean, fwd, bwd, d = make_case(kind, seed)
    model, delivered, what = outputs(den, fwd, bwd)
    off, followed = registered(fwd, bwd)
    return {
        "kind": kind, "seed": seed, **d, "delivered": what, "registered_off": off, "followed": followed,
        "model": measures(model, fwd, clean, d), "app": measures(delivered, fwd, clean, d),
        "single": measures(single_frame(den, fwd), fwd, clean, d),
    }  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| noise | seed | height Å | sigma px | noise Å | model halo / kept / err | delivered "
        "| halo / kept / err |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        m, a = r["model"], r["app"]
        out.append(
            f"| {r['kind']} | {r['seed']} | {r['height']:g} | {r['width']:.1f} | {r['noise']:.3f} "
            f"| {m['halo']:.4f} / {m['kept']:.3f} / {m['err']:.4f} | {r['delivered']} "
            f"| {a['halo']:.4f} / {a['kept']:.3f} / {a['err']:.4f} |"
        )
    return "\n".join(out)


def _means(measured: list[dict[str, float]]) -> list[float]:
    """The mean ``halo``, ``kept`` and ``err`` over ``measured`` (outputs of :func:`measures`)."""
    return [statistics.fmean(m[k] for m in measured) for k in ("halo", "kept", "err")]


def summary(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| noise | cases | model halo | model kept | model err | delivered halo | delivered kept "
        "| delivered err |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        cells = _means([r["model"] for r in sel]) + _means([r["app"] for r in sel])
        lines.append(f"| {kind} | {len(sel)} | " + " | ".join(f"{v:.4f}" for v in cells) + " |")
    return (
        "Means per noise texture (halo: 0 = none drawn; kept: 1 = the defect whole; err: raw = 1):\n\n"
        + "\n".join(lines)
        + "\n\n"
        + single_summary(rows)
        + "\n\n"
        + registration_summary(rows)
    )


def single_summary(rows: list[dict[str, Any]]) -> str:
    """The single-frame output's means per texture: what the judge trades for overall error when it
    delivers that output instead (docs/model-selection.md, candidate DT)."""
    parts = []
    for kind in KINDS:
        sel = [r["single"] for r in rows if r["kind"] == kind and "single" in r]
        if sel:
            parts.append(f"{kind} " + " / ".join(f"{v:.4f}" for v in _means(sel)))
    return "The forward frame alone (the single-frame output), halo / kept / err: " + "; ".join(parts) + "."


def registration_summary(rows: list[dict[str, Any]]) -> str:
    """How far the app's registration put the backward frame from where it is (module docstring)."""
    parts = []
    for kind in KINDS:
        off = [r["registered_off"] for r in rows if r["kind"] == kind]
        if off:
            followed = sum(r["followed"] for r in rows if r["kind"] == kind)
            parts.append(
                f"{kind} median {statistics.median(off):.2f} px, 1 px or more on {sum(v >= 1 for v in off)} "
                f"of {len(off)} (max {max(off):.2f}), made to follow a hysteresis on {followed}"
            )
    return "The backward frame as the app registers it, off where it truly sits: " + "; ".join(parts) + "."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=6, help="draws per noise texture (default %(default)s)")
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped default)")
    ap.add_argument("--out", type=Path, default=None, help="write lone_defect.md and lone_defect.json here")
    ap.add_argument(
        "--figure", type=Path, default=None, help="also draw the error maps (module docstring) here"
    )
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be >= 1")
    t0 = time.perf_counter()
    model_dir = args.model or default_model_dir()
    den = Denoiser.from_folder(model_dir, device="cpu")
    rows = [run_case(den, kind, seed) for kind in KINDS for seed in range(args.seeds)]
    text = "\n\n".join([
        f"# One defect on a flat terrace, two directions, truth known (`{model_dir.name}`)",
        table(rows), summary(rows), f"(bench/lone_defect.py, {time.perf_counter() - t0:.0f} s)\n",
    ])  # fmt: skip
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "lone_defect.md").write_text(text)
        (args.out / "lone_defect.json").write_text(json.dumps(rows, indent=1))
        print(f"written to {args.out}")
    if args.figure is not None:
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        draw(den, args.figure, f"program {program_version()}")
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
