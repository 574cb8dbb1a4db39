"""Self-supervised losses on real scans (ours, not the paper's): Noise2Noise and blind-spot terms.

* **Noise2Noise, forward/backward** (``lambda_n2n``): G(forward crop) vs the aligned backward
  crop, and symmetrically G(backward) vs forward (:mod:`stmdenoise.training.real_pairs` aligns
  them). The two looks share the surface and not the noise, so the expected loss is smallest
  for the surface itself (Lehtinen et al. 2018). Trace/retrace differences that are not noise
  (feedback lag on steep edges, a tip change between the lines) are learned as well: the term is
  an estimate of the surface only as far as the two directions agree.
* **Noise2Noise, frame stack** (``lambda_stack``): the same between consecutive frames of
  repeated scans of one area.
* **Blind-spot** (``lambda_blindspot``, Noise2Void, Krull et al. 2019): on single frames, a
  random ``fraction`` of pixels is replaced by a random neighbour (5 x 5 window, not itself)
  and the loss counts only those pixels, so the network cannot copy a pixel's own noise.
  It assumes pixel-independent noise; the row-correlated noise of STM scan lines is partly
  learned as signal (the N2N terms do not share that weakness).

Every loss compares in normalised data units (``atanh(x) / squash``, the units the Denoiser
inverts), with L1 (default) or L2. :class:`RealTerms` bundles the sources and weights for the
training loops (``stmdenoise train`` and :mod:`stmdenoise.training.finetune`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from stmdenoise.processing import NormalizationSpec
from stmdenoise.training.losses import unsquash
from stmdenoise.training.real_pairs import (
    AlignedPair,
    RealPairs,
    SingleFrames,
    load_real_pairs,
    load_stack,
)

__all__ = [
    "SimAnchor",
    "BLINDSPOT_WINDOW",
    "RealTerms",
    "blindspot_loss",
    "blindspot_mask",
    "n2n_loss",
    "real_terms_from_config",
]

F32 = NDArray[np.float32]

#: Side of the window a masked pixel's replacement is drawn from (Noise2Void's default).
BLINDSPOT_WINDOW = 5


def _data_units(x: torch.Tensor, squash: float, scale: float) -> torch.Tensor:
    """Network range -> normalised data units (the inverse of ``NormalizationSpec.forward``)."""
    return unsquash(x, squash) if squash > 0 else x / scale


def _distance(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "l1":
        return (a - b).abs()
    if kind == "l2":
        return (a - b) ** 2
    raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")


def n2n_loss(
    gen: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    squash: float,
    scale: float = 1.0,
    kind: str = "l1",
) -> torch.Tensor:
    """Noise2Noise loss: ``G(inputs)`` vs the other looks ``targets`` in normalised data units.

    Parameters
    ----------
    gen : nn.Module
        The generator (network range in and out).
    inputs : Tensor, shape (n, 1, rows, cols)
        Network-range crops of one look.
    targets : Tensor, shape (n, 1, rows, cols)
        The aligned other look, normalised data units (the inputs' percentiles).
    squash : float
        The model's ``NormalizationSpec.squash``.
    scale : float
        Its ``NormalizationSpec.scale`` (used when ``squash`` is 0, the linear map).
    kind : {"l1", "l2"}
    """
    if inputs.shape != targets.shape:
        raise ValueError(
            f"inputs and targets must have one shape, got {tuple(inputs.shape)}, {tuple(targets.shape)}"
        )
    return _distance(_data_units(gen(inputs), squash, scale), targets, kind).mean()


def blindspot_mask(
    x: torch.Tensor, fraction: float, generator: torch.Generator, *, window: int = BLINDSPOT_WINDOW
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace a random ``fraction`` of pixels by a random neighbour; returns ``(masked, mask)``.

    Parameters
    ----------
    x : Tensor, shape (n, 1, rows, cols)
    fraction : float
        Share of pixels masked, in (0, 0.5].
    generator : torch.Generator
        Randomness (on ``x``'s device or the CPU).
    window : int
        Odd side of the neighbourhood; the pixel itself is never its own replacement.

    Returns
    -------
    masked : Tensor, same shape as ``x``
    mask : Tensor of bool, same shape (at least one pixel per image is masked)
    """
    if not (0 < fraction <= 0.5):
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction!r}")
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 3, got {window!r}")
    n, c, h, w = x.shape
    cpu = torch.device("cpu")
    mask = torch.rand((n, c, h, w), generator=generator, device=cpu) < fraction
    mask.view(n, -1)[:, 0] |= ~mask.view(n, -1).any(dim=1)  # never an empty mask
    half = window // 2
    dy = torch.randint(-half, half + 1, (n, c, h, w), generator=generator, device=cpu)
    dx = torch.randint(-half, half + 1, (n, c, h, w), generator=generator, device=cpu)
    same = (dy == 0) & (dx == 0)
    dx = torch.where(same, torch.ones_like(dx), dx)  # a neighbour, never the pixel itself
    rows = torch.arange(h).view(1, 1, h, 1)
    cols = torch.arange(w).view(1, 1, 1, w)
    ry = (rows + dy).abs()
    ry = torch.where(ry > h - 1, 2 * (h - 1) - ry, ry)  # mirrored at the edges
    rx = (cols + dx).abs()
    rx = torch.where(rx > w - 1, 2 * (w - 1) - rx, rx)
    idx = (ry * w + rx).view(n, c, -1).to(x.device)
    neighbours = torch.gather(x.reshape(n, c, -1), 2, idx).view_as(x)
    mask = mask.to(x.device)
    return torch.where(mask, neighbours, x), mask


def blindspot_loss(
    gen: nn.Module,
    x: torch.Tensor,
    *,
    squash: float,
    fraction: float,
    generator: torch.Generator,
    scale: float = 1.0,
    kind: str = "l1",
) -> torch.Tensor:
    """Noise2Void loss: G on masked ``x`` vs ``x`` at the masked pixels only (data units)."""
    masked, mask = blindspot_mask(x, fraction, generator)
    out = _data_units(gen(masked), squash, scale)
    return _distance(out[mask], _data_units(x, squash, scale)[mask], kind).mean()


@dataclass
class RealTerms:
    """The self-supervised terms of one training run: sources, weights, crop and batch.

    Call it with the generator that sees real scans at inference (G_DA, which is G_D for the
    ``paired`` variant and for fine-tuned models); it returns the weighted loss terms.
    """

    pairs: RealPairs | None
    stack: RealPairs | None
    singles: SingleFrames | None
    lambda_n2n: float
    lambda_stack: float
    lambda_blindspot: float
    squash: float
    scale: float
    crop: int
    batch: int
    fraction: float = 0.02
    kind: str = "l1"
    seed: int = 0

    def __post_init__(self) -> None:
        self._torch_gen = torch.Generator().manual_seed(int(self.seed) + 0x5E1F)
        if self.lambda_n2n > 0 and self.pairs is None:
            raise ValueError("lambda_n2n > 0 needs real scans with a backward frame (--real-pairs)")
        if self.lambda_stack > 0 and self.stack is None:
            raise ValueError("lambda_stack > 0 needs a frame stack (--real-stack)")
        if self.lambda_blindspot > 0 and self.singles is None:
            raise ValueError("lambda_blindspot > 0 needs real scans (--real-pairs)")

    def __call__(
        self, gen: nn.Module, rng: np.random.Generator, device: torch.device
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """``(terms, weighted sum)`` for one step; crops drawn with ``rng``."""
        terms: dict[str, torch.Tensor] = {}
        total = torch.zeros((), device=device)

        def t(a: Any) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)[:, None]).to(device)

        if self.lambda_n2n > 0 and self.pairs is not None:
            x, y = self.pairs.batch(self.batch, self.crop, rng)
            terms["n2n"] = n2n_loss(gen, t(x), t(y), squash=self.squash, scale=self.scale, kind=self.kind)
            total = total + self.lambda_n2n * terms["n2n"]
        if self.lambda_stack > 0 and self.stack is not None:
            x, y = self.stack.batch(self.batch, self.crop, rng)
            terms["n2n_stack"] = n2n_loss(
                gen, t(x), t(y), squash=self.squash, scale=self.scale, kind=self.kind
            )
            total = total + self.lambda_stack * terms["n2n_stack"]
        if self.lambda_blindspot > 0 and self.singles is not None:
            x = self.singles.batch(self.batch, self.crop, rng)
            terms["blindspot"] = blindspot_loss(
                gen,
                t(x),
                squash=self.squash,
                scale=self.scale,
                fraction=self.fraction,
                generator=self._torch_gen,
                kind=self.kind,
            )
            total = total + self.lambda_blindspot * terms["blindspot"]
        return terms, total

    def description(self) -> dict[str, Any]:
        return {
            "lambda_n2n": self.lambda_n2n,
            "lambda_stack": self.lambda_stack,
            "lambda_blindspot": self.lambda_blindspot,
            "blindspot_fraction": self.fraction,
            "loss": self.kind,
            "pairs": self.pairs.description() if self.pairs else [],
            "stack": self.stack.description() if self.stack else [],
            "single_frames": self.singles.description() if self.singles else [],
        }


def real_terms_from_config(cfg: Any, *, pixel_size: float, spec: NormalizationSpec) -> RealTerms | None:
    """The :class:`RealTerms` of a :class:`~stmdenoise.training.config.TrainConfig` (None when all are off).

    Reads ``cfg.run.real_pairs`` (two-direction scans; their forward frames feed the blind-spot
    term, as do ``cfg.run.real`` scans) and ``cfg.run.real_stack`` (one area's frames), at ``pixel_size``.
    """
    if not (cfg.losses.lambda_n2n > 0 or cfg.losses.lambda_stack > 0 or cfg.losses.lambda_blindspot > 0):
        return None
    pairs: list[AlignedPair] = []
    singles: list[tuple[str, Any]] = []
    sources: Sequence[str] = tuple(cfg.run.real_pairs) + (
        tuple(cfg.run.real) if cfg.losses.lambda_blindspot > 0 else ()
    )
    if sources:
        pairs, singles, skipped = load_real_pairs(sources, pixel_size=pixel_size, spec=spec)
        if (cfg.losses.lambda_n2n > 0 and not pairs) or (cfg.losses.lambda_blindspot > 0 and not singles):
            why = "; ".join(f"{p.name}: {r}" for p, r in skipped) or "none has a backward frame"
            raise ValueError(
                f"no usable real scan at the training pixel size {pixel_size * 1e9:.4g} nm ({why})"
            )
    stack = load_stack(cfg.run.real_stack, pixel_size=pixel_size, spec=spec) if cfg.run.real_stack else []
    return RealTerms(
        pairs=RealPairs(pairs) if pairs else None,
        stack=RealPairs(stack) if stack else None,
        singles=SingleFrames(singles) if singles else None,
        lambda_n2n=cfg.losses.lambda_n2n,
        lambda_stack=cfg.losses.lambda_stack,
        lambda_blindspot=cfg.losses.lambda_blindspot,
        squash=spec.squash,
        scale=spec.scale,
        crop=cfg.run.crop,
        batch=cfg.run.batch,
        fraction=cfg.losses.blindspot_fraction,
        kind=cfg.losses.ss_loss,
        seed=cfg.run.seed,
    )


class SimAnchor:
    """Simulated (noisy, clean) pairs of the base model's simulator at the working pixel size:
    the data of the fine-tune's anchor term (a paired Noise2Noise-form loss to known clean maps)."""

    def __init__(
        self, spec: NormalizationSpec, pixel_size: float, pixels: int, seed: int, pool: int = 8
    ) -> None:
        from stmdenoise.physics import sample_pair
        from stmdenoise.training.data import _PairNorm

        self.norm = _PairNorm(spec.low_pct, spec.high_pct, spec.scale, spec.squash, spec.level)
        self.spec = spec
        self.sample = sample_pair
        self.pixel_size, self.pixels, self.seed, self.pool = pixel_size, pixels, seed, pool
        self._cache: dict[int, tuple[F32, F32]] = {}

    def pair(self, k: int) -> tuple[F32, F32]:
        k %= self.pool
        if k not in self._cache:
            rng = np.random.default_rng([self.seed, 0xA2C, k])
            p = self.sample(rng, pixels=self.pixels, size=self.pixels * self.pixel_size)
            clean_net, noisy_net = self.norm(p.clean, p.noisy)
            clean = np.asarray(self.spec.inverse(clean_net), dtype=np.float32)  # data units
            self._cache[k] = (noisy_net, clean)
        return self._cache[k]

    def batch(self, n: int, crop: int, rng: np.random.Generator) -> tuple[F32, F32]:
        from stmdenoise.training.data import paired_crop_and_augment

        xs, ts = [], []
        for _ in range(n):
            x, t = paired_crop_and_augment(*self.pair(int(rng.integers(self.pool))), crop, rng)
            xs.append(x)
            ts.append(t)
        return np.stack(xs), np.stack(ts)
