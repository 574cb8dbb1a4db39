"""Train the spectral gain (:mod:`stmdenoise.model.spectral_gain`) and write it into a model folder.

Noise2Noise in the Fourier domain (ours, not the paper's): for a real two-direction scan the
target of the forward frame is the registered backward frame, for a simulated pair of the
broad world (:data:`stmdenoise.physics.variety.BROAD`) the clean image. The loss per image is
``sum |g X - T|^2 / sum |X - T|^2`` over sampled tile coefficients; since the target's noise
is independent of X's, its minimiser is the Wiener gain S / (S + N). An optional hinge keeps
each octave of |k| at or below raw.

The Ko group's Cu(111) frames are refused (:func:`stmdenoise.training.real_pairs.refuse_test_scene`):
they are the real test scene and no per-pixel loss may see them.

    stmdenoise train-gain ../shared/realdata --base models/cu111-default --out my-model

:func:`train_gain_model` is a job of :mod:`stmdenoise.jobs` (a generator of progress records).
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stmdenoise import __version__
from stmdenoise.io._common import atomic_write
from stmdenoise.io.feedback import feedback_error_channel
from stmdenoise.jobs import JobCancelled, Progress, reporting
from stmdenoise.metrics.fidelity import pair_fidelity
from stmdenoise.metrics.second_look import negated_look
from stmdenoise.model.folder import ModelInfo, load_model_folder, read_model_info, save_model_folder
from stmdenoise.model.spectral_gain import (
    BASE_ONLY,
    GAIN_BIAS,
    GainFeatures,
    GainSpec,
    GainWeights,
    tile_examples,
)
from stmdenoise.physics.terraces import step_heights
from stmdenoise.physics.variety import sample_varied_pair
from stmdenoise.processing import whole_pixels
from stmdenoise.scan import Scan
from stmdenoise.training.data import expand_paths
from stmdenoise.training.finetune_report import evaluate_holdout
from stmdenoise.training.noise_textures import scan_textures, textured_noise
from stmdenoise.training.real_fidelity import two_direction_frames
from stmdenoise.training.real_pairs import file_sha256, refuse_test_scene

__all__ = [
    "GainRequest",
    "GainResult",
    "HINGE_EDGES",
    "REAL_CHANNELS",
    "examples_of_pair",
    "real_examples",
    "sim_examples",
    "train_gain",
    "train_gain_model",
]

log = logging.getLogger(__name__)

#: Channels of a two-direction file used as training pairs.
REAL_CHANNELS = ("Z", "Current")
#: Octaves of |k| (cycles per pixel) whose error the optional band hinge keeps at or below raw.
HINGE_EDGES = (0.0, 0.0625, 0.125, 0.25, 0.75)
Examples = dict[str, torch.Tensor]
Array = np.ndarray


class _GainNet(torch.nn.Module):
    """The trainable twin of :class:`~stmdenoise.model.spectral_gain.GainWeights`."""

    def __init__(self, features: GainFeatures, hidden: int = 32) -> None:
        super().__init__()
        self.features = features
        self.net = torch.nn.Sequential(
            torch.nn.Linear(features.count, hidden),
            torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.SiLU(),
            torch.nn.Linear(hidden, 1),
        )

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(f)[..., 0] + GAIN_BIAS)

    def weights(self) -> GainWeights:
        layers = [m for m in self.net if isinstance(m, torch.nn.Linear)]
        return GainWeights(
            tuple((m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in layers),
            self.features,
        )


def _tensors(ex: dict[str, Any]) -> Examples:
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in ex.items()}


def registered_pair(fwd: Scan, bwd: Scan) -> tuple[Array, Array] | None:
    """The forward frame and the backward frame shifted onto it by whole pixels, cropped to their
    common complete rows (None when the two cannot be registered or share fewer than 32 complete
    rows or columns).

    Whole pixels only: an interpolated target would be smoother than a second noisy look and
    teach the gain to over-smooth."""
    try:
        dy, dx = pair_fidelity(fwd, fwd, bwd).offsets[0]
    except ValueError:  # NotScorableError is one: no contrast, too few rows in common
        return None
    x, b = np.asarray(fwd.data, float), np.asarray(bwd.data, float)
    sy, sx = whole_pixels((dy, dx))
    h, w = x.shape
    r0, r1, c0, c1 = max(0, sy), min(h, h + sy), max(0, sx), min(w, w + sx)
    xc, bc = x[r0:r1, c0:c1], b[r0 - sy : r1 - sy, c0 - sx : c1 - sx]
    ok = np.isfinite(xc).all(1) & np.isfinite(bc).all(1)
    if ok.sum() < 32 or xc.shape[1] < 32:
        return None
    return xc[ok], bc[ok]


def examples_of_pair(fwd: Scan, bwd: Scan, features: GainFeatures) -> Examples | None:
    """Training tensors of a forward frame against its registered backward frame
    (:func:`registered_pair`; None when there is none)."""
    pair = registered_pair(fwd, bwd)
    return None if pair is None else _tensors(tile_examples(*pair, features))


def real_examples(
    pairs: Sequence[tuple[str, Scan, Scan]],
    features: GainFeatures,
    *,
    skip_feedback_error: bool = False,
    negate_feedback_error: bool = False,
) -> list[tuple[str, Examples]]:
    """``(name, tensors)`` of each ``(name, forward, backward)`` that can be registered; with
    ``skip_feedback_error`` not the currents recorded with the Z feedback on (their two directions
    differ by the feedback error, real signal: :mod:`stmdenoise.io.feedback`)."""
    out = []
    for name, fwd, bwd in pairs:
        if skip_feedback_error and feedback_error_channel(fwd):
            log.info("%s: not used (the feedback error: its directions differ by real signal)", name)
            continue
        if negate_feedback_error and feedback_error_channel(fwd):
            negated = negated_look(fwd, bwd)  # the feedback error flips sign with the direction
            if negated is not None:
                bwd = negated[1]
                log.info("%s: the other direction negated is its target (the feedback error)", name)
        ex = examples_of_pair(fwd, bwd, features)
        if ex is None:
            log.info("%s: not used (the two directions cannot be registered)", name)
        else:
            out.append((name, ex))
    return out


def sim_examples(
    n: int,
    seed: int,
    features: GainFeatures,
    terraces: float = 0.0,
    *,
    textures: Sequence[Array] = (),
    texture_share: float = 0.0,
) -> list[Examples]:
    """Clean/noisy pairs of the broad world at 128-256 px and 0.05-0.3 nm/px.

    With ``terraces`` (0-1) that share of the topographs, spread evenly over the ``n`` pairs, gets
    monatomic steps (:func:`~stmdenoise.physics.terraces.step_heights`) added to its clean and its
    noisy image alike, drawn from their own stream (``seed + 1``): the pairs are the same ones.

    With ``texture_share`` (0-1) and ``textures`` (unit-sum power spectra,
    :func:`~stmdenoise.training.noise_textures.noise_texture`) that share of the pairs, spread
    evenly, gets noise of a real scan's colour added to its noisy image only
    (:func:`~stmdenoise.training.noise_textures.textured_noise`, its own stream ``seed + 2``), at
    the RMS of the pair's own noise (noisy minus clean); the textures are taken in turn. The
    clean images and every other pair stay as they were."""
    if not 0.0 <= terraces <= 1.0:
        raise ValueError(f"terraces must be a share between 0 and 1, got {terraces}")
    if not 0.0 <= texture_share <= 1.0:
        raise ValueError(f"texture_share must be a share between 0 and 1, got {texture_share}")
    if texture_share > 0.0 and not textures:
        raise ValueError("texture_share needs at least one noise texture")
    rng = np.random.default_rng(seed)
    steps_rng = np.random.default_rng(seed + 1)
    texture_rng = np.random.default_rng(seed + 2)
    out = []
    textured = 0
    for i in range(n):
        px = int(rng.choice([128, 192, 256]))
        size = px * float(np.exp(rng.uniform(np.log(0.05e-9), np.log(0.3e-9))))
        p = sample_varied_pair(rng, pixels=px, size=size)
        noisy, clean = np.asarray(p.noisy, float), np.asarray(p.clean, float)
        if _in_share(i, terraces) and p.params.get("mode") == "topograph":
            step = step_heights(clean.shape, p.pixel_size, steps_rng)
            noisy, clean = noisy + step, clean + step
        if _in_share(i, texture_share):
            texture = textures[textured % len(textures)]
            textured += 1
            noisy = noisy + float(np.std(noisy - clean)) * textured_noise(texture, noisy.shape, texture_rng)
        out.append(_tensors(tile_examples(noisy, clean, features)))
    return out


def _in_share(i: int, share: float) -> bool:
    """Whether item ``i`` is among ``share`` (0-1) of the items, spread evenly (every second at 0.5)."""
    return math.floor((i + 1) * share) > math.floor(i * share)


def train_gain(
    examples: Sequence[Examples],
    steps: int,
    *,
    features: GainFeatures = BASE_ONLY,
    hinge: float = 0.0,
    seed: int = 0,
    bins: int = 6000,
    hidden: int = 32,
    device: str = "cpu",
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GainWeights:
    """Adam (lr 3e-3) on the mean over images of the Noise2Noise spectral loss (``bins`` sampled
    coefficients per image per step), plus ``hinge`` x each |k| octave's excess over raw.

    ``device`` "cuda" trains on a GPU (the same sampled coefficients; float rounding differs
    from the CPU's, so the weights are close, not identical)."""
    if not examples:
        raise ValueError("no training image: give real two-direction scans or simulated pairs")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    dev = torch.device(device)
    net = _GainNet(features, hidden).to(dev)
    examples = [{k: v.to(dev) for k, v in ex.items()} for ex in examples]
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(steps):
        if cancel is not None and cancel.is_set():
            raise JobCancelled("training cancelled")
        opt.zero_grad()
        total = torch.zeros(())
        for ex in examples:
            n = ex["F"].shape[0]
            idx = torch.randint(0, n, (min(bins, n),), generator=gen).to(dev)
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
        if progress is not None:
            progress(step + 1, steps)
    return net.cpu().weights()


@dataclass(frozen=True)
class GainRequest:
    """What ``stmdenoise train-gain`` does (recorded in the model folder's config.json)."""

    inputs: tuple[Path, ...]
    base: Path
    out: Path
    steps: int = 400
    sim_pairs: int = 40
    seed: int = 7  # simulated pairs
    train_seed: int = 0  # initial weights and coefficient sampling
    refuse_quiet: float | None = 0.42
    features: GainFeatures = BASE_ONLY
    #: Train on no current recorded with the Z feedback on (:func:`real_examples`).
    skip_feedback_error: bool = False
    #: Train a current recorded with the Z feedback on against its other direction negated, where
    #: that agrees with it (:func:`~stmdenoise.metrics.second_look.negated_look`).
    negate_feedback_error: bool = False
    hinge: float = 0.0
    #: Share of the simulated topographs given monatomic steps (:func:`sim_examples`).
    terraces: float = 0.0
    #: Share of the simulated pairs given extra noise of a real scan's colour (:func:`sim_examples`).
    noise_textures: float = 0.0
    #: Two-direction scans the noise textures come from (:func:`stmdenoise.training.noise_textures.
    #: scan_textures`; empty: the training inputs, held-out files excepted).
    texture_scans: tuple[Path, ...] = ()
    name: str = ""
    channels: tuple[str, ...] = field(default=REAL_CHANNELS)
    #: Files never trained on; after training, the new gain, the base and every classical filter
    #: are judged on them (forward vs backward) and the table goes into the folder's MODEL_CARD.md.
    holdout: tuple[Path, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [p.name for p in self.inputs],
            "base": self.base.name,
            "steps": self.steps,
            "sim_pairs": self.sim_pairs,
            "seed": self.seed,
            "train_seed": self.train_seed,
            "refuse_quiet": self.refuse_quiet,
            **self.features.to_dict(),
            "skip_feedback_error": self.skip_feedback_error,
            "negate_feedback_error": self.negate_feedback_error,
            "hinge": self.hinge,
            **({"terraces": self.terraces} if self.terraces else {}),
            **({"noise_textures": self.noise_textures} if self.noise_textures else {}),
            **({"texture_scans": [p.name for p in self.texture_scans]} if self.texture_scans else {}),
            "channels": list(self.channels),
            "holdout": [p.name for p in self.holdout],
        }


@dataclass(frozen=True)
class GainResult:
    """What :func:`train_gain_model` made: the folder and, with held-out scans, how it did there.

    ``rows`` (FidelityRow per method and scan), ``summary`` (mean overall error, raw = 1:
    ``base``, ``finetuned``, ``best_classical``, ``base_where_both``) and ``table`` (Markdown) are
    those of :func:`stmdenoise.training.finetune_report.evaluate_holdout`; empty without held-out
    scans. ``better`` says whether the new gain beat the base there (None: not judged).
    """

    out: Path
    real_pairs: tuple[str, ...]
    rows: tuple[Any, ...] = ()
    summary: dict[str, float] = field(default_factory=dict)
    table: str = ""

    @property
    def better(self) -> bool | None:
        base, new = self.summary.get("base_where_both", math.nan), self.summary.get("finetuned", math.nan)
        if not (math.isfinite(base) and math.isfinite(new)):
            return None
        return new < base and new < 1.0

    def verdict(self) -> str:
        """One plain sentence on the held-out scans ("" when none was judged)."""
        if self.better is None:
            return ""
        base, new = self.summary["base_where_both"], self.summary["finetuned"]
        if self.better:
            return (
                f"The new gain is closer to the surface than the base on the held-out scans ({new:.2f} "
                f"vs {base:.2f}x raw): use it for scans like these."
            )
        return (
            f"The new gain is not better than the base on the held-out scans ({new:.2f} vs {base:.2f}x "
            "raw): keep using the base."
        )


def _scan_pairs(
    paths: Sequence[Path], held: set[Path], channels: Sequence[str]
) -> tuple[list[Path], list[tuple[str, Scan, Scan]]]:
    """The files of ``paths`` (folders searched) but the ``held`` ones, the Ko test scene refused
    (ValueError), and their two-direction ``channels``."""
    listed = expand_paths([str(p) for p in paths]) if paths else []
    files = [f for f in listed if f.resolve() not in held]
    for f in files:
        refuse_test_scene(f)
    return files, [pair for f in files for pair in two_direction_frames(f, channels)]


def _textures(
    req: GainRequest, held: set[Path], pairs: list[tuple[str, Scan, Scan]]
) -> list[tuple[str, Array]]:
    """The noise textures of ``req.texture_scans`` (or of the training ``pairs``), never of a
    held-out file or the Ko test scene; ValueError when there is none."""
    if req.texture_scans:
        pairs = _scan_pairs(req.texture_scans, held, req.channels)[1]
    textures = scan_textures(pairs)
    if not textures:
        raise ValueError(
            "no noise texture: --noise-textures needs two-direction scans (not only currents "
            "recorded with the Z feedback on) whose directions can be registered"
        )
    return textures


def train_gain_model(req: GainRequest, cancel: threading.Event) -> Generator[Progress, None, GainResult]:
    """Job (:mod:`stmdenoise.jobs`): train the spectral gain on ``req.inputs`` (+ simulated pairs)
    and write a new model folder; yields :class:`~stmdenoise.jobs.Progress`, returns a
    :class:`GainResult`.

    ``req.out`` is a new folder: the base's G_D/G_DA and settings, plus the gain as its
    experimental path. It must not exist yet (nothing of the user's is replaced); it is written
    under a temporary name and renamed when complete, so a cancelled or failed run leaves nothing.

    Raises
    ------
    ValueError
        ``req.out`` exists, an input is the Ko test scene, there is nothing to train on, or
        ``req.noise_textures`` finds no noise texture.
    JobCancelled
        ``cancel`` was set (nothing written; a rerun starts over: the run takes minutes).
    """
    if req.out.exists():
        raise ValueError(f"{req.out}: already exists; give a new folder (nothing is overwritten)")
    info = read_model_info(req.base)  # a foreign base fails before any work
    held = {p.resolve() for p in req.holdout}
    files, pairs = _scan_pairs(req.inputs, held, req.channels)
    if files and not pairs:
        raise ValueError(
            f"none of the {len(files)} input files holds a forward and a backward frame of "
            f"{' or '.join(req.channels)}"
        )
    started = time.perf_counter()
    yield Progress(0, None, f"spectra of {len(pairs)} two-direction channels")
    real = real_examples(
        pairs,
        req.features,
        skip_feedback_error=req.skip_feedback_error,
        negate_feedback_error=req.negate_feedback_error,
    )
    if cancel.is_set():
        raise JobCancelled("training cancelled")
    textures = _textures(req, held, pairs) if req.noise_textures > 0 else []
    if cancel.is_set():
        raise JobCancelled("training cancelled")
    yield Progress(0, None, f"{req.sim_pairs} simulated pairs")
    sim = sim_examples(
        req.sim_pairs, req.seed, req.features, req.terraces,
        textures=[t for _, t in textures], texture_share=req.noise_textures,
    )  # fmt: skip

    def fit(report: Callable[[Progress], None]) -> GainWeights:
        return train_gain(
            [e for _, e in real] + sim, req.steps, features=req.features, hinge=req.hinge,
            seed=req.train_seed, cancel=cancel,
            progress=lambda done, total: report(Progress(done, total, "training")),
        )  # fmt: skip

    weights = yield from reporting(fit)
    _, g_d, g_da = load_model_folder(req.base)
    spec = GainSpec(
        features=req.features,
        refuse_line_coherence=req.refuse_quiet,
        # nothing of the two-direction Wiener is learnt: the new folder measures noise as its base did
        two_direction=info.experimental_path is not None and info.experimental_path.two_direction,
        training={
            "request": req.to_dict(),
            "real_pairs": [name for name, _ in real],
            "real_files": {
                f.name: file_sha256(f) for f in files if any(n.startswith(f"{f.name} ") for n, _ in real)
            },
            "simulated_pairs": len(sim),
            **({"noise_textures": [name for name, _ in textures]} if textures else {}),
            "seconds": round(time.perf_counter() - started, 1),
            "program_version": __version__,
            "loss": "Noise2Noise in the Fourier domain (stmdenoise.training.spectral_gain)",
        },
    )
    new = replace(info, name=req.name or req.out.name, experimental_path=spec, program_version=__version__)
    tmp = req.out.with_name(f".{req.out.name}.partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        save_model_folder(tmp, new, g_d, g_da, dtype=_stored_dtype(info), gain=weights)
        tmp.rename(req.out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    result = GainResult(req.out, tuple(name for name, _ in real))
    if req.holdout:
        yield Progress(0, None, f"judging {len(req.holdout)} held-out scan(s)")
        rows, summary, table = evaluate_holdout(str(req.base), req.out, list(req.holdout), "cpu", cancel)
        result = replace(result, rows=tuple(rows), summary=dict(summary), table=table)
        _write_card(req, spec, result)
    return result


def _write_card(req: GainRequest, spec: GainSpec, result: GainResult) -> None:
    """MODEL_CARD.md of a trained gain: what it learnt from and how it did on the held-out scans."""
    lines = [
        f"# {req.name or req.out.name}: spectral gain trained on your scans",
        "",
        f"Base: `{req.base.name}` (its G_D still denoises simulated images). Trained by "
        "`stmdenoise train-gain` (Noise2Noise between forward and backward frames, in the Fourier "
        f"domain) on {len(spec.training.get('real_pairs', []))} two-direction channel(s) and "
        f"{spec.training.get('simulated_pairs', 0)} simulated pairs, {req.steps} steps; quiet-scan "
        f"refusal at line coherence {req.refuse_quiet}.",
        "",
        *(
            [
                "Scans whose other direction is at hand still go to the two-direction Wiener (the "
                "noise measured from the two directions, nothing learnt), as in the base; the gain "
                "serves single frames, feedback-error currents and pairs too small for it.",
                "",
            ]
            if spec.two_direction
            else []
        ),
        "Training channels: " + ", ".join(spec.training.get("real_pairs", [])) + ".",
        "Held out (never trained on): " + ", ".join(p.name for p in req.holdout) + ".",
        "",
        f"**{result.verdict() or 'Not judged: no held-out scan could be scored.'}**",
        "",
        "Estimated error against the surface from the backward frame (raw = 1.00, lower is better; "
        "stmdenoise.metrics.fidelity):",
        "",
        result.table,
    ]
    text = "\n".join(lines) + "\n"

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(req.out / "MODEL_CARD.md", write)


def _stored_dtype(info: ModelInfo) -> torch.dtype:
    """The base folder's weight storage type (kept, so the new folder is no larger)."""
    return {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(str(info.weights_dtype), torch.float32)
