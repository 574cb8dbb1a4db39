"""Fine-tune a model on the user's own scans, self-supervised (no clean image needed).

Job contract: ``finetune(request, cancel)`` is a generator of :class:`FinetuneProgress` records
that **returns** a :class:`FinetuneResult`.

What it does (see docs/finetune.md):

1. **Scans** are checked (:func:`check_scans`): readable, an image channel (the primary one,
   :func:`~stmdenoise.training.real_pairs.primary_channel`), not mostly NaN, at least 32 px a
   side, with or without a backward frame. The Ko group's Cu(111) test frames are refused.
2. **Held-out scans** (:func:`pick_holdout`, or chosen by the caller) are never trained on.
3. **Method**: the base model's G_D starts the new denoiser (saved as a ``paired`` model: one
   network for every scan), either as it is (``start="base"``) or with the last layer of its Up
   block zeroed (``start="identity"``: the residual skip alone, the 0.45 px-blurred input, a
   near do-nothing denoiser); ``start="auto"`` chooses by one rule, :func:`choose_start`.
   Per step: Noise2Noise between aligned forward and backward frames (both ways), a
   blind-spot term on the forward frames, and an **anchor**: the paired L1 on
   simulated Cu(111) pairs the base model was trained on, drawn at the working pixel size, with
   weight ``lambda_anchor``. The anchor keeps what the base model knows (clean targets, which
   the real scans cannot give) while the real terms pull it toward the user's surfaces; a high
   weight stays close to the base model, 0 trusts the real scans alone.
4. **Pixel size** (one rule, :func:`working_pixel_size` with :func:`native_pixel_size_range`):
   the median pixel size of the training scans becomes the new model's pixel size (kept at the
   base model's when within 1 %; the anchor's simulated pairs are drawn at it). When the usable
   training scans' pixel sizes span at most 2x, each trains on its own grid and the model gets
   ``native_pixel_size_range_m`` = [min / 1.5, max * 1.5]: the Denoiser's plan runs scans in
   that range on their own grid, no resampling. Otherwise every scan is resampled to the median.
5. **Budget**: ``minutes`` of training (steps counted against the clock), or a fixed ``steps``.
6. **Cancel** writes ``OUT/checkpoint/finetune.safetensors`` and an ``OUT/INCOMPLETE`` marker (no
   ``config.json``): it is resumable (``resume=True``) and never listed as a model.
7. **Result**: on the held-out scans, the forward/backward fidelity of raw, base model,
   fine-tuned model and every classical filter (:mod:`stmdenoise.training.real_fidelity`); the
   model folder gets a model card (base, scans by SHA-256, settings, the table) and a
   ``flagged`` verdict when the fine-tuned model is worse than the base or than raw there.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from stmdenoise import __version__
from stmdenoise.model.device import select_device
from stmdenoise.model.folder import ModelInfo, NormalizationSpec, load_model_folder, save_model_folder
from stmdenoise.model.pdanet import build_generators
from stmdenoise.scan import Scan
from stmdenoise.training.finetune_records import FinetuneProgress, FinetuneRequest, FinetuneResult
from stmdenoise.training.finetune_report import base_error_on_scans, evaluate_holdout, model_card
from stmdenoise.training.finetune_scans import (
    ScanCheck,
    check_scans,
    native_pixel_size_range,
    pick_holdout,
    working_pixel_size,
)
from stmdenoise.training.finetune_state import (
    INCOMPLETE_NAME,
    START_CHOICES,
    VALIDATE_EVERY,
    BestWeights,
    choose_start,
    clear_checkpoint,
    has_checkpoint,
    is_incomplete,
    load_checkpoint,
    save_checkpoint,
    validation_error,
    write_atomic,
    zero_up_output,
)
from stmdenoise.training.real_pairs import (
    RealPairs,
    SingleFrames,
    load_real_pairs,
    primary_channel,
    refuse_test_scene,
    to_network,
)
from stmdenoise.training.self_supervised import RealTerms, SimAnchor, n2n_loss

__all__ = [
    "INCOMPLETE_NAME",
    "START_CHOICES",
    "FinetuneProgress",
    "FinetuneRequest",
    "FinetuneResult",
    "ScanCheck",
    "check_scans",
    "choose_start",
    "finetune",
    "is_incomplete",
    "native_pixel_size_range",
    "pick_holdout",
    "working_pixel_size",
    "zero_up_output",
]

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]


# ---------------------------------------------------------------------- helpers
def _apply(gen: torch.nn.Module, data: NDArray[Any], spec: NormalizationSpec, device: torch.device) -> F32:
    """``gen`` on one finite image through the network-input transform; normalised data units out."""
    x, _ = to_network(data, spec)
    with torch.no_grad():
        out = gen(torch.from_numpy(x)[None, None].to(device))[0, 0].float().cpu().numpy()
    return np.asarray(spec.inverse(out), dtype=np.float32)


# ---------------------------------------------------------------------- the job
def finetune(
    request: FinetuneRequest, cancel: threading.Event | None = None
) -> Generator[FinetuneProgress, None, FinetuneResult]:
    """Fine-tune ``request.base`` on ``request.scans``; yields progress, returns a :class:`FinetuneResult`.

    Raises
    ------
    ValueError
        No usable training scan, an output folder that already holds a model, a checkpoint
        found without ``resume`` (or none with it), a base model that cannot be read.
    """
    req = request
    out = Path(req.out)
    if (out / "config.json").exists():
        raise ValueError(f"{out} already holds a model; choose another --out (models are never overwritten)")
    has_ckpt = has_checkpoint(out)
    if has_ckpt and not req.resume:
        raise ValueError(
            f"{out} holds an unfinished fine-tune; continue it with --resume or choose another --out"
        )
    if req.resume and not has_ckpt:
        raise ValueError(f"--resume: {out} holds no fine-tune checkpoint")

    yield FinetuneProgress(0, None, "checking scans", stage="check")
    checks = check_scans(req.scans)
    extra_held = [Path(p) for p in req.holdout_scans]
    for p in extra_held:
        refuse_test_scene(p)
    held = (
        [p.resolve() for p in extra_held]
        if extra_held
        else [p.resolve() for p in pick_holdout(checks, req.holdout)]
    )
    held_set = set(held)
    train_checks = [c for c in checks if c.usable and c.path.resolve() not in held_set]
    if not train_checks:
        raise ValueError(
            "no usable training scan left after the held-out choice: " + "; ".join(c.line() for c in checks)
        )
    if extra_held:
        checks = checks + [
            c for c in check_scans(extra_held) if c.path.resolve() not in {x.path.resolve() for x in checks}
        ]

    device = select_device(req.device)
    base_info, base_gd, _ = load_model_folder(req.base, device=device)
    spec = base_info.normalization
    pixel = working_pixel_size(train_checks, base_info.pixel_size)
    native = native_pixel_size_range(train_checks)  # None: every scan resampled to ``pixel``
    gen, _ = build_generators(base_info.arch, "paired")  # paired: G_DA is G_D
    gen.load_state_dict(base_gd.state_dict())
    del base_gd
    train_paths = [c.path for c in train_checks]
    if req.resume:  # the checkpoint's weights; its start is read back from it below
        start, start_reason = "checkpoint", "resumed"
    else:
        if req.start == "auto":
            yield FinetuneProgress(0, None, "choosing the starting weights", stage="prepare")
        start, start_reason = choose_start(
            req.start,
            base_pixel_size=base_info.pixel_size,
            pixel_size=pixel,
            residual=base_info.arch.residual,
            base_error=lambda: base_error_on_scans(req.base, train_paths, str(device)),
        )
        if start == "identity":
            zero_up_output(gen)
        yield FinetuneProgress(0, None, f"start: {start} ({start_reason})", stage="prepare")
    gen.to(device).train()
    opt = torch.optim.Adam(gen.parameters(), lr=req.lr, betas=(0.9, 0.999))

    grid = (
        f"on their own grids (native range {native[0] * 1e12:.4g}-{native[1] * 1e12:.4g} pm/px)"
        if native is not None
        else f"at {pixel * 1e12:.4g} pm/px"
    )
    yield FinetuneProgress(0, None, f"preparing {len(train_paths)} training scan(s) {grid}", stage="prepare")
    pairs, singles, skipped = load_real_pairs(
        train_paths, pixel_size=None if native is not None else pixel, spec=spec
    )
    for p, why in skipped:
        log.warning("%s: not used (%s)", p, why)
    if not singles:
        raise ValueError(
            "no training scan survived reading onto the working grid: "
            + "; ".join(f"{p.name}: {w}" for p, w in skipped)
        )
    smallest = min(min(im.shape) for _, im in singles)
    crop = max(32, min(req.crop, smallest - smallest % 4))
    terms = RealTerms(
        pairs=RealPairs(pairs) if pairs else None,
        stack=None,
        singles=SingleFrames(singles),
        lambda_n2n=req.lambda_n2n if pairs else 0.0,
        lambda_stack=0.0,
        lambda_blindspot=req.lambda_blindspot,
        squash=spec.squash,
        scale=spec.scale,
        crop=crop,
        batch=req.batch,
        seed=req.seed,
    )
    anchor = (
        SimAnchor(spec, pixel, pixels=max(96, crop + 32), seed=req.seed) if req.lambda_anchor > 0 else None
    )

    # before/after preview of the first held-out scan (its forward frame at the working grid)
    preview_src: NDArray[Any] | None = None
    base_preview: F32 | None = None
    if held and req.preview_every:
        from stmdenoise.denoise import Denoiser
        from stmdenoise.io import read_all
        from stmdenoise.processing import level_plane
        from stmdenoise.training.real_pairs import read_frames

        try:
            fr = read_frames(held[0], pixel)
            if fr is not None:
                preview_src = fr.forward
                _, norm = to_network(preview_src, spec)
                plane = preview_src - level_plane(preview_src) if spec.level else 0.0
                try:  # the base model may refuse a scan that is tiny on its own grid
                    bd = Denoiser.from_folder(req.base, device=str(device), backend="torch")
                    ch = primary_channel(read_all(held[0])) or ""
                    bscan = Scan(preview_src, pixel_size=(pixel, pixel), channel=ch)
                    base_out = np.asarray(bd.denoise(bscan).data)
                    base_preview = np.asarray(norm.apply(base_out - plane), dtype=np.float32)
                except ValueError as exc:
                    log.info("no base-model preview: %s", exc)
        except (OSError, ValueError) as exc:
            log.info("no preview: %s", exc)
            preview_src = None

    rng = np.random.default_rng([req.seed, 0xF1E])
    step, elapsed_before = 0, 0.0
    if req.resume:
        meta = load_checkpoint(out, gen, opt)
        step, elapsed_before = int(meta["step"]), float(meta.get("elapsed_s", 0.0))
        start = str(meta.get("start", start))
        start_reason = str(meta.get("start_reason", start_reason))
        rng.bit_generator.state = meta["rng"]
        if abs(float(meta["pixel_size"]) - pixel) > 1e-6 * pixel:
            log.warning(
                "resuming at %.4g pm/px; the checkpoint trained at %.4g",
                pixel * 1e12,
                float(meta["pixel_size"]) * 1e12,
            )
    budget_s = req.minutes * 60.0
    t0 = time.perf_counter()
    losses: dict[str, float] = {}
    cancelled = False
    ckpt: Path | None = None

    def meta_now() -> dict[str, Any]:
        return {
            "step": step,
            "elapsed_s": elapsed_before + time.perf_counter() - t0,
            "rng": rng.bit_generator.state,
            "pixel_size": pixel,
            "start": start,
            "start_reason": start_reason,
            "request": req.to_dict(),
            "program_version": __version__,
        }

    def done_training() -> bool:
        if req.steps is not None:
            return step >= req.steps
        return elapsed_before + time.perf_counter() - t0 >= budget_s

    best = BestWeights()  # the weights kept: the best validated on the training scans
    best.offer(step, validation_error(gen, pairs, spec, device), gen)
    try:
        while not done_training():
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            opt.zero_grad(set_to_none=True)
            t, total = terms(gen, rng, device)
            if anchor is not None:
                x, y = anchor.batch(req.batch, crop, rng)
                t["anchor"] = n2n_loss(
                    gen,
                    torch.from_numpy(x[:, None]).to(device),
                    torch.from_numpy(y[:, None]).to(device),
                    squash=spec.squash,
                    scale=spec.scale,
                )
                total = total + req.lambda_anchor * t["anchor"]
            total.backward()
            opt.step()
            step += 1
            losses = {k: float(v.detach()) for k, v in t.items()}
            losses["total"] = float(total.detach())
            if not all(math.isfinite(v) for v in losses.values()):
                raise FloatingPointError(f"fine-tuning diverged at step {step}: losses {losses}")
            spent = elapsed_before + time.perf_counter() - t0
            if req.steps is not None:
                total_steps = req.steps
                rate = (time.perf_counter() - t0) / max(step, 1)
                eta = (req.steps - step) * rate
            else:
                rate = spent / max(step, 1)
                total_steps = max(step, int(budget_s / rate)) if rate > 0 else step
                eta = max(budget_s - spent, 0.0)
            preview = None
            if preview_src is not None and req.preview_every and (step == 1 or step % req.preview_every == 0):
                gen.eval()
                after = _apply(gen, preview_src, spec, device)
                gen.train()
                raw_n = np.asarray(spec.inverse(to_network(preview_src, spec)[0]), dtype=np.float32)
                preview = {"raw": raw_n, "finetuned": after}
                if base_preview is not None:
                    preview["base"] = base_preview
            if step % VALIDATE_EVERY == 0:
                best.offer(step, validation_error(gen, pairs, spec, device), gen)
            ckpt_now = None
            if req.checkpoint_every and step % req.checkpoint_every == 0:
                ckpt_now = str(save_checkpoint(out, gen, opt, meta_now()))
            msg = " ".join(f"{k} {v:.4f}" for k, v in losses.items())
            yield FinetuneProgress(
                step, total_steps, msg, losses=dict(losses), eta_s=eta, preview=preview, checkpoint=ckpt_now
            )
    finally:
        if cancelled or (cancel is not None and cancel.is_set() and not done_training()):
            cancelled = True
            ckpt = save_checkpoint(out, gen, opt, meta_now())
    if cancelled:
        yield FinetuneProgress(
            step,
            None,
            f"cancelled; resumable checkpoint {ckpt}",
            stage="cancelled",
            checkpoint=str(ckpt),
            cancelled=True,
        )
        return FinetuneResult(
            None, ckpt, True, step, pixel, tuple(checks), tuple(train_paths), tuple(held),
            start=start, start_reason=start_reason,
        )  # fmt: skip

    # ------------------------------------------------------------------ the model and its judgement
    if step % VALIDATE_EVERY != 0:
        best.offer(step, validation_error(gen, pairs, spec, device), gen)
    best.restore(gen)
    if best.step >= 0:
        yield FinetuneProgress(
            step,
            step,
            f"keeping the weights of step {best.step} (lowest forward/backward validation error "
            f"on the training scans, {best.error:.4g})",
            stage="evaluate",
        )
    gen.eval()
    info = ModelInfo(
        arch=base_info.arch,
        variant="paired",
        normalization=spec,
        pixel_size=pixel,
        native_pixel_size_range=native,
        steps=base_info.steps + step,
        training={
            "finetune": req.to_dict(),
            "base": str(req.base),
            "base_steps": base_info.steps,
            "start": start,
            "start_reason": start_reason,
            "finetune_steps": step,
            "working_pixel_size_m": pixel,
            "native_pixel_size_range_m": None if native is None else list(native),
            "self_supervised": terms.description(),
            "train_scans": {str(p): next((c.sha256 for c in checks if c.path == p), "") for p in train_paths},
            "holdout_scans": [str(p) for p in held],
            "device": str(device),
            "final_losses": losses,
            "weights_kept": best.to_dict(),
        },
        name=out.name,
    )
    save_model_folder(out, info, gen, gen)
    yield FinetuneProgress(step, step, "model written; judging it on the held-out scans", stage="evaluate")
    rows: list[Any] = []
    summary: dict[str, float] = {}
    table = "(no held-out scan with a backward frame: not judged)\n"
    if held:
        rows, summary, table = evaluate_holdout(req.base, out, held, str(device), cancel)
    ft = summary.get("finetuned", math.nan)
    # against the base model only where it could serve the scan (it refuses tiny ones)
    ftb, bs = summary.get("finetuned_where_both", math.nan), summary.get("base_where_both", math.nan)
    reasons = []
    if math.isfinite(ftb) and math.isfinite(bs) and ftb > bs:
        reasons.append(f"error {ftb:.3f} above the base model's {bs:.3f}")
    if math.isfinite(ft) and ft > 1.0:
        reasons.append(f"error {ft:.3f} above the raw scan's 1.00")
    if held and not math.isfinite(ft):
        reasons.append("the fine-tuned model could not be judged on the held-out scans")
    flagged = bool(reasons)

    card = model_card(
        req,
        base_info,
        checks,
        train_paths,
        held,
        pixel,
        step,
        table,
        flagged,
        "; ".join(reasons),
        losses,
        start=f"{start} ({start_reason})",
        native_range=native,
    )
    write_atomic(out / "MODEL_CARD.md", card)
    verdict = {
        "flagged": flagged,
        "reasons": reasons,
        "summary": summary,
        "rows": [r.to_dict() for r in rows],
    }
    write_atomic(out / "finetune_fidelity.json", json.dumps(verdict, indent=2) + "\n")
    clear_checkpoint(out)
    yield FinetuneProgress(step, step, "finished" + (" (FLAGGED)" if flagged else ""), stage="done")
    return FinetuneResult(
        out,
        None,
        False,
        step,
        pixel,
        tuple(checks),
        tuple(train_paths),
        tuple(held),
        tuple(rows),
        summary,
        flagged,
        "; ".join(reasons),
        table,
        start,
        start_reason,
    )
