"""The frozen training configuration (saved as JSON in checkpoints and model folders)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from stmdenoise.model.generator import check_skip_blur
from stmdenoise.model.pdanet import ArchConfig, check_variant, variant_uses_da

__all__ = ["TrainConfig", "GanMode", "DeviceName"]

GanMode = Literal["log", "lsgan"]
DeviceName = Literal["auto", "cpu", "cuda", "mps"]


def _pos_int(name: str, v: object, minimum: int = 1) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")


def _nonneg(name: str, v: object) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (Algorithm 1 of the paper, plus data and I/O).

    Parameters
    ----------
    variant : str
        ``cyclegan``, ``cyclegan+da``, ``cyclegan+da+ws``, ``pdanet``, ``supervised`` (PDA-Net
        plus a paired L1 loss) or ``paired`` (G_D alone on simulated pairs with L1: a fast
        pre-training stage for ``init``, not a method of the paper).
    steps : int
        Number of iterations (one batch each).
    crop : int
        Side of the square training crops, pixels (a multiple of 4).
    batch : int
        Images per domain per iteration.
    ngf, blocks, ndf, fa_width : int
        Network sizes (see :class:`~stmdenoise.model.ArchConfig`).
    gan_mode : {"log", "lsgan"}
        Adversarial loss: BCE-with-logits log loss (the paper) or least squares.
    lr, beta1, beta2 : float
        Adam settings (2e-4, 0.5, 0.999 as the paper).
    lambda_d, lambda_b, lambda_cyc, lambda_da, lambda_fa : float
        Loss weights (1, 1, 1, 1, 0.1 as the paper).
    lambda_sup : float
        Weight of the paired L1 loss G_D(I_BS) vs I_S (10 when the variant is ``supervised``);
        when > 0, simulated crops are drawn as aligned pairs.
    sup_space : {"squashed", "data"}
        Where the paired L1 loss compares G_D(I_BS) with I_S: in the networks' range
        (``squashed``, the first models) or in normalised data units (``data``: ``atanh(x) /
        norm_squash``), which does not down-weight cores and peaks.
    lambda_range : float
        Weight of :func:`~stmdenoise.training.losses.range_mse` between G_D(I_BS) and I_S (0 =
        off): both min-max scaled per crop, as the 8-bit metrics and viewers scale them, so the
        extremes (adsorbate peaks, impurity cores) keep their place in the scale.
    lambda_ssim : float
        Weight of :func:`~stmdenoise.training.losses.ssim_loss` (``1 - SSIM``) of G_D(I_BS) vs
        I_S in data units, both scaled by the clean crop's range (0 = off; needs paired crops).
    extreme_crops : float
        Fraction of the paired crops placed around the clean image's highest or lowest pixel
        (0 = uniform crops): the few pixels that set an image's min-max rendering, adsorbate
        peaks and impurity cores, are otherwise in few crops.
    ema : float
        Decay of an exponential moving average of G_D's and G_DA's weights, updated after every
        generator step; the model folder saves the average (checkpoints keep both). 0 = off, the
        plain last weights. 0.995 averages over ~200 steps.
    init : str or None
        Model folder whose generators start this run (same architecture; G_B and the
        discriminators start fresh): fine-tuning, or PDA-Net after ``paired`` pre-training.
    lambda_cyc_exp : float
        Weight of an optional experimental cycle ``G_B(G_DA(I_E)) ~ I_E`` (0 = the paper).
    lambda_anchor : float
        Weight of an optional anchor ``G_DA(I_E) ~ G_D(I_E)`` (L1 in ``sup_space``; G_D's output
        detached): on experimental scans the domain-adaptation generator stays near what the
        simulation-trained denoiser answers, and the adversarial terms move it only where they
        outweigh that. 0 = the paper. Needs a variant with G_DA.
    sim : str or None
        HDF5 dataset written by ``stmdenoise simulate``; None simulates pairs on the fly.
    sim_pixels, sim_size, sim_preset : int, float, str
        On-the-fly simulation: pixels per side, field of view (metres), artefact preset.
    sim_pool : int
        Simulated pairs kept in memory on the fly; ``sim_refresh`` of them are replaced per step.
    sim_refresh : int
        New simulated pairs per step (on the fly).
    real : tuple of str
        Experimental scans: files or folders (any format ``stmdenoise.io.read_scan`` reads).
    real_nm_per_px : float or None
        Pixel size (nm) for plain images (JPEG/PNG/BMP) that carry no calibration.
    norm_low_pct, norm_high_pct : float
        Percentiles mapped to -1 and +1 by the robust normalisation of each image (0.5, 99.5).
    norm_squash : float
        Map into the networks' range: ``tanh(norm_squash * y)`` (0.8), a soft invertible
        compression (the output is inverted with ``atanh``). Adsorbate bumps and impurity cores
        of simulated clean maps reach 3.7x (median) to 10x the 0.5/99.5 range
        (bench/bench_model.py headroom), which a linear map would clip at tanh's limit.
        0 selects the linear map ``clip(norm_scale * y, -1, 1)``.
    norm_scale : float
        Factor of the linear map (used when ``norm_squash`` is 0).
    residual : bool
        Generators with a global skip, ``tanh(atanh(x) + Up(...))`` (see
        :class:`~stmdenoise.model.Generator`); False is the paper's layout.
    skip_blur : float
        Gaussian sigma (px) on the residual skip of G_D and G_DA (0 = identity skip; needs
        ``residual``). See :class:`~stmdenoise.model.ArchConfig`.
    pair_norm : {"own", "noisy"}
        Statistics that normalise a simulated pair's clean image: its own percentiles ("own",
        the first models), or its noisy twin's ("noisy"), the units the Denoiser works in at
        inference, where only the noisy scan exists.
    level : bool
        Subtract a least-squares plane from experimental scans before normalising.
    out : str
        Model folder to write (checkpoints go to ``out/checkpoint``).
    checkpoint_every, preview_every, log_every : int
        Periods in steps (0 disables previews).
    seed : int
        Seed of every random choice (weights, data, crops, augmentation).
    device : {"auto", "cpu", "cuda", "mps"}
        Device; ``auto`` prefers CUDA (mixed precision), then MPS, then CPU.
    amp : bool
        Use bfloat16 autocast on CUDA.
    weights_dtype : {"float32", "float16"}
        Storage type of the model folder's weights (float16 halves the size).
    lambda_n2n, lambda_stack, lambda_blindspot, real_pairs, real_stack, blindspot_fraction, ss_loss
        Self-supervised terms on real scans (ours, not the paper's; 0 = off): Noise2Noise between
        aligned forward/backward frames of ``real_pairs`` scans, between consecutive frames of
        ``real_stack`` (one area), and a blind-spot term masking ``blindspot_fraction`` of the
        pixels of single frames; L1 or L2 (``ss_loss``) in normalised data units. See
        :mod:`stmdenoise.training.self_supervised`. Ko group test frames are refused.
    """

    variant: str = "pdanet"
    steps: int = 20000
    crop: int = 128
    batch: int = 4
    ngf: int = 32
    blocks: int = 6
    ndf: int = 64
    fa_width: int = 64
    residual: bool = False
    skip_blur: float = 0.0
    gan_mode: str = "log"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_d: float = 1.0
    lambda_b: float = 1.0
    lambda_cyc: float = 1.0
    lambda_da: float = 1.0
    lambda_fa: float = 0.1
    lambda_sup: float = 0.0
    lambda_cyc_exp: float = 0.0
    lambda_anchor: float = 0.0
    ema: float = 0.0
    lambda_range: float = 0.0
    lambda_ssim: float = 0.0
    extreme_crops: float = 0.0
    sup_space: str = "squashed"
    init: str | None = None
    sim: str | None = None
    sim_pixels: int = 256
    sim_size: float = 36e-9
    sim_preset: str = "typical"
    sim_pool: int = 64
    sim_refresh: int = 1
    real: tuple[str, ...] = ()
    real_nm_per_px: float | None = None
    norm_low_pct: float = 0.5
    norm_high_pct: float = 99.5
    norm_scale: float = 0.8
    norm_squash: float = 0.8
    pair_norm: str = "own"
    level: bool = True
    out: str = "model"
    checkpoint_every: int = 500
    preview_every: int = 100
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    weights_dtype: str = "float32"
    # --- self-supervised real-data terms (ours, not the paper's): stmdenoise.training.self_supervised
    lambda_n2n: float = 0.0
    lambda_stack: float = 0.0
    lambda_blindspot: float = 0.0
    real_pairs: tuple[str, ...] = ()
    real_stack: tuple[str, ...] = ()
    blindspot_fraction: float = 0.02
    ss_loss: str = "l1"
    # --- end of the self-supervised block

    def __post_init__(self) -> None:
        check_variant(self.variant)
        for name in ("steps", "batch", "ngf", "ndf", "fa_width", "sim_pixels", "sim_pool", "log_every"):
            _pos_int(name, getattr(self, name))
        for name in ("blocks", "checkpoint_every", "preview_every", "seed", "sim_refresh"):
            _pos_int(name, getattr(self, name), 0)
        _pos_int("crop", self.crop, 16)
        if self.crop % 4:
            raise ValueError(f"crop must be a multiple of 4, got {self.crop}")
        if self.weights_dtype not in ("float32", "float16"):
            raise ValueError(f"weights_dtype must be 'float32' or 'float16', got {self.weights_dtype!r}")
        if self.gan_mode not in ("log", "lsgan"):
            raise ValueError(f"gan_mode must be 'log' or 'lsgan', got {self.gan_mode!r}")
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'mps', got {self.device!r}")
        for name in (
            "lambda_d",
            "lambda_b",
            "lambda_cyc",
            "lambda_da",
            "lambda_fa",
            "lambda_sup",
            "lambda_cyc_exp",
            "lambda_anchor",
            "lambda_range",
            "lambda_ssim",
        ):
            _nonneg(name, getattr(self, name))
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 <= v < 1):
                raise ValueError(f"{name} must be in [0, 1), got {v!r}")
        if self.variant in ("supervised", "paired") and self.lambda_sup <= 0:
            object.__setattr__(self, "lambda_sup", 10.0)
        if not (isinstance(self.extreme_crops, (int, float)) and 0 <= self.extreme_crops <= 1):
            raise ValueError(f"extreme_crops must be in [0, 1], got {self.extreme_crops!r}")
        for name in ("extreme_crops", "lambda_range", "lambda_ssim"):
            if getattr(self, name) > 0 and self.lambda_sup <= 0:
                raise ValueError(f"{name} needs paired crops: set lambda_sup > 0 (or --variant paired)")
        if isinstance(self.ema, bool) or not isinstance(self.ema, (int, float)) or not 0 <= self.ema < 1:
            raise ValueError(f"ema must be in [0, 1), got {self.ema!r}")
        if self.lambda_anchor > 0 and not variant_uses_da(self.variant):
            raise ValueError(f"lambda_anchor needs a variant with G_DA, not {self.variant!r}")
        if not (0 <= self.norm_low_pct < self.norm_high_pct <= 100):
            raise ValueError(
                "need 0 <= norm_low_pct < norm_high_pct <= 100, "
                f"got {self.norm_low_pct}, {self.norm_high_pct}"
            )
        if not (isinstance(self.norm_squash, (int, float)) and 0 <= self.norm_squash <= 10):
            raise ValueError(f"norm_squash must be in [0, 10], got {self.norm_squash!r}")
        check_skip_blur(self.skip_blur, residual=self.residual)
        if self.sup_space not in ("squashed", "data"):
            raise ValueError(f"sup_space must be 'squashed' or 'data', got {self.sup_space!r}")
        if self.pair_norm not in ("own", "noisy"):
            raise ValueError(f"pair_norm must be 'own' or 'noisy', got {self.pair_norm!r}")
        if not (0 < self.norm_scale <= 1):
            raise ValueError(f"norm_scale must be in (0, 1], got {self.norm_scale!r}")
        if not (isinstance(self.sim_size, (int, float)) and self.sim_size > 0):
            raise ValueError(f"sim_size must be > 0 metres, got {self.sim_size!r}")
        if self.real_nm_per_px is not None and not self.real_nm_per_px > 0:
            raise ValueError(f"real_nm_per_px must be > 0, got {self.real_nm_per_px!r}")
        object.__setattr__(self, "real", tuple(str(p) for p in self.real))
        from stmdenoise.training.real_pairs import check_self_supervised

        check_self_supervised(self)
        if variant_uses_da(self.variant) and not self.real:
            raise ValueError(
                f"variant {self.variant!r} needs experimental scans: pass real=[files or folders]"
            )

    @property
    def arch(self) -> ArchConfig:
        """Network sizes of this run."""
        return ArchConfig(
            ngf=self.ngf,
            n_blocks=self.blocks,
            ndf=self.ndf,
            fa_width=self.fa_width,
            residual=self.residual,
            skip_blur=self.skip_blur,
        )

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        d = asdict(self)
        d["real"] = list(self.real)
        d["real_pairs"], d["real_stack"] = list(self.real_pairs), list(self.real_stack)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict (as read from JSON); unknown keys raise ValueError naming them."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        d = dict(d)
        for key in ("real", "real_pairs", "real_stack"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    def save(self, path: str | Path) -> None:
        """Write the configuration as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a configuration written by :meth:`save` (or by hand)."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(d, dict):
            raise ValueError(f"{path}: expected a JSON object of settings")
        return cls.from_dict(d)
