"""PDA-Net: the three generators (G_D, G_B, G_DA) and four discriminators, by variant.

Weight sharing: in the ``cyclegan+da+ws``, ``pdanet`` and ``supervised`` variants G_DA holds
the **same** :class:`~stmdenoise.model.blocks.UpBlock` object as G_D. Optimizers must then list
each parameter once: :func:`unique_parameters` de-duplicates by identity in a fixed order (a
chained parameter list would make Adam step the shared block twice per iteration).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from stmdenoise.model.blocks import UpBlock
from stmdenoise.model.discriminators import FeatureDiscriminator, PatchDiscriminator
from stmdenoise.model.generator import Generator, check_skip_blur
from stmdenoise.model.layers import check_positive_int
from stmdenoise.variants import VARIANTS, Variant

__all__ = [
    "Variant",
    "VARIANTS",
    "ArchConfig",
    "PDANet",
    "build_generators",
    "unique_parameters",
    "check_variant",
    "init_weights",
]


def check_variant(variant: object) -> Variant:
    """Return ``variant`` if it names a known variant, else raise ValueError."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    return variant  # type: ignore[return-value]


def variant_uses_da(variant: str) -> bool:
    """True when the variant trains a separate G_DA on experimental images."""
    return check_variant(variant) not in ("cyclegan", "paired")


def variant_is_paired_only(variant: str) -> bool:
    """True for ``paired``: G_D trained on simulated pairs with L1 alone (no GAN, no cycle, no DA).

    Not a method of the paper: a fast pre-training stage whose G_D a PDA-Net run can start from
    (``stmdenoise train --init``).
    """
    return check_variant(variant) == "paired"


def variant_shares_up(variant: str) -> bool:
    """True when G_DA shares G_D's Up block."""
    return check_variant(variant) in ("cyclegan+da+ws", "pdanet", "supervised")


def variant_uses_fa(variant: str) -> bool:
    """True when the feature-alignment discriminator D_FA is trained."""
    return check_variant(variant) in ("pdanet", "supervised")


@dataclass(frozen=True)
class ArchConfig:
    """Network sizes (saved in a model folder's ``config.json``).

    Parameters
    ----------
    ngf : int
        Generator width (64 in the paper).
    n_blocks : int
        ResNet blocks per generator (9 in the paper).
    ndf : int
        PatchGAN width (64 in CycleGAN).
    d_layers : int
        PatchGAN stride-2 layers (3 = 70x70 patches).
    fa_width : int
        Hidden width of the feature discriminator D_FA.
    channels : int
        Image channels (1).
    residual : bool
        Generators with a global skip (see :class:`~stmdenoise.model.Generator`); False is
        the paper's layout.
    """

    ngf: int = 64
    n_blocks: int = 9
    ndf: int = 64
    d_layers: int = 3
    fa_width: int = 64
    channels: int = 1
    residual: bool = False
    skip_blur: float = 0.0

    def __post_init__(self) -> None:
        check_positive_int("ngf", self.ngf)
        check_skip_blur(self.skip_blur, residual=self.residual)
        check_positive_int("n_blocks", self.n_blocks, minimum=0)
        check_positive_int("ndf", self.ndf)
        check_positive_int("d_layers", self.d_layers)
        check_positive_int("fa_width", self.fa_width)
        check_positive_int("channels", self.channels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return asdict(self)

    def same_weights_as(self, other: ArchConfig) -> bool:
        """True when ``other`` holds the same tensors (every field but ``skip_blur`` equal)."""
        return replace(self, skip_blur=0.0) == replace(other, skip_blur=0.0)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArchConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ValueError."""
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown architecture keys {sorted(unknown)}")
        return cls(**d)


def _generator(arch: ArchConfig, up: UpBlock | None = None, *, denoiser: bool = True) -> Generator:
    """One generator of ``arch`` (G_D or G_DA; G_B with ``denoiser=False``), optionally sharing ``up``."""
    return Generator(
        ngf=arch.ngf,
        n_blocks=arch.n_blocks,
        channels=arch.channels,
        up=up,
        residual=arch.residual,
        skip_blur=arch.skip_blur if denoiser else 0.0,
    )


def build_generators(arch: ArchConfig, variant: str) -> tuple[Generator, Generator]:
    """Build ``(G_D, G_DA)`` for ``variant``; G_DA may be G_D itself or share its Up block."""
    variant = check_variant(variant)
    g_d = _generator(arch)
    if not variant_uses_da(variant):
        return g_d, g_d
    g_da = _generator(arch, up=g_d.up if variant_shares_up(variant) else None)
    return g_d, g_da


def unique_parameters(modules: Iterable[nn.Module | None]) -> list[nn.Parameter]:
    """Parameters of ``modules`` in order, each parameter object listed once (by identity)."""
    seen: set[int] = set()
    out: list[nn.Parameter] = []
    for m in modules:
        if m is None:
            continue
        for p in m.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def init_weights(module: nn.Module, *, gain: float = 0.02) -> None:
    """CycleGAN's initialisation: conv weights ~ N(0, gain), biases 0 (shared modules once)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class PDANet(nn.Module):
    """All networks of one PDA-Net training run.

    Parameters
    ----------
    arch : ArchConfig
        Network sizes.
    variant : {"cyclegan", "cyclegan+da", "cyclegan+da+ws", "pdanet", "supervised"}
        Ablation variant (paper Tables I and II); ``supervised`` is ``pdanet`` plus a paired
        L1 loss on simulated pairs (an extra beyond the paper).

    Attributes
    ----------
    g_d, g_b, g_da : Generator
        Denoise (I_BS -> I_S), blur (I_S -> I_BS), domain adaptation (I_E -> I_S).
        ``g_da is g_d`` for ``cyclegan``; ``g_da.up is g_d.up`` with weight sharing.
    d_d, d_b, d_da : PatchDiscriminator
        70x70 PatchGANs on I_S, I_BS and (I_S vs G_DA(I_E)); ``d_da`` is None for ``cyclegan``.
    d_fa : FeatureDiscriminator or None
        Bottleneck features of G_D(I_BS) vs G_DA(I_E) (``pdanet`` and ``supervised``).
    """

    def __init__(self, arch: ArchConfig, variant: str) -> None:
        super().__init__()
        self.arch = arch
        self.variant: Variant = check_variant(variant)
        self.g_d, g_da = build_generators(arch, variant)
        self.g_b = _generator(arch, denoiser=False)
        # registering g_da as a child even when it is g_d is harmless: nn.Module.parameters()
        # de-duplicates, and state_dict keys of a shared module are written under both names.
        self.g_da = g_da
        pd = dict(ndf=arch.ndf, n_layers=arch.d_layers, channels=arch.channels)
        self.d_d = PatchDiscriminator(**pd)
        self.d_b = PatchDiscriminator(**pd)
        self.d_da: PatchDiscriminator | None = PatchDiscriminator(**pd) if variant_uses_da(variant) else None
        self.d_fa: FeatureDiscriminator | None = (
            FeatureDiscriminator(4 * arch.ngf, width=arch.fa_width) if variant_uses_fa(variant) else None
        )
        init_weights(self)

    @property
    def uses_da(self) -> bool:
        return variant_uses_da(self.variant)

    @property
    def shares_up(self) -> bool:
        return variant_shares_up(self.variant)

    @property
    def uses_fa(self) -> bool:
        return variant_uses_fa(self.variant)

    def generators(self) -> list[Generator]:
        """G_D, G_B, G_DA (fixed order; G_DA may be G_D)."""
        return [self.g_d, self.g_b, self.g_da]

    def discriminators(self) -> list[nn.Module]:
        """D_D, D_B, then D_DA and D_FA where the variant has them (fixed order)."""
        return [m for m in (self.d_d, self.d_b, self.d_da, self.d_fa) if m is not None]

    def generator_parameters(self) -> list[nn.Parameter]:
        """Generator parameters, each once (shared Up block listed under G_D)."""
        return unique_parameters(self.generators())

    def discriminator_parameters(self) -> list[nn.Parameter]:
        """Discriminator parameters, each once."""
        return unique_parameters(self.discriminators())

    def named_unique_tensors(self) -> Iterator[tuple[str, torch.Tensor]]:
        """``(name, tensor)`` for every parameter and buffer, the first name of each shared object only."""
        seen: set[int] = set()
        for name, t in self.state_dict(keep_vars=True).items():
            if id(t) in seen:
                continue
            seen.add(id(t))
            yield name, t
