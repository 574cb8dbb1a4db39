"""The networks' forward passes of one training step, as the modules DistributedDataParallel wraps.

:class:`Generators` runs G_D, G_B and G_DA once per batch and returns every output the losses
need; :class:`Discriminators` sums the discriminator losses on detached generator outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from stmdenoise.model.pdanet import PDANet
from stmdenoise.training.losses import discriminator_loss

__all__ = ["Generators", "Discriminators", "set_requires_grad"]


class Generators(nn.Module):
    """G_D, G_B, G_DA as one module: the unit DistributedDataParallel synchronises."""

    def __init__(self, net: PDANet, lambda_cyc_exp: float, lambda_anchor: float = 0.0) -> None:
        super().__init__()
        self.g_d, self.g_b, self.g_da = net.g_d, net.g_b, net.g_da
        self.uses_da = net.uses_da
        self.cyc_exp = lambda_cyc_exp > 0
        self.anchor = lambda_anchor > 0

    def forward(
        self, real_s: torch.Tensor, real_bs: torch.Tensor, real_e: torch.Tensor | None
    ) -> dict[str, Any]:
        fake_s, feat_bs = self.g_d.forward_with_features(real_bs)  # denoise I_BS
        out: dict[str, Any] = {"fake_s": fake_s, "feat_bs": feat_bs}
        out["rec_bs"] = self.g_b(fake_s)  # forward cycle I_BS -> I_S -> I_BS
        out["fake_bs"] = self.g_b(real_s)  # blur I_S
        out["rec_s"] = self.g_d(out["fake_bs"])  # backward cycle I_S -> I_BS -> I_S
        if self.uses_da and real_e is not None:
            fake_e, feat_e = self.g_da.forward_with_features(real_e)
            out["fake_e"], out["feat_e"] = fake_e, feat_e
            if self.cyc_exp:
                out["rec_e"] = self.g_b(fake_e)
            if self.anchor:  # the simulation-trained denoiser's answer on the same scans: a target
                with torch.no_grad():
                    out["anchor_e"] = self.g_d(real_e)
        return out


class Discriminators(nn.Module):
    """D_D, D_B (and D_DA, D_FA): their summed loss on real vs detached generated inputs."""

    def __init__(self, net: PDANet, gan_mode: str) -> None:
        super().__init__()
        self.d_d, self.d_b, self.d_da, self.d_fa = net.d_d, net.d_b, net.d_da, net.d_fa
        self.mode = gan_mode

    def forward(
        self, real_s: torch.Tensor, real_bs: torch.Tensor, g: Mapping[str, torch.Tensor]
    ) -> dict[str, Any]:
        m = self.mode
        terms = {
            "D_D": discriminator_loss(self.d_d(real_s), self.d_d(g["fake_s"].detach()), mode=m),
            "D_B": discriminator_loss(self.d_b(real_bs), self.d_b(g["fake_bs"].detach()), mode=m),
        }
        if self.d_da is not None and "fake_e" in g:
            terms["D_DA"] = discriminator_loss(self.d_da(real_s), self.d_da(g["fake_e"].detach()), mode=m)
        if self.d_fa is not None and "feat_e" in g:
            # simulated-domain features (G_D on I_BS) are "real", experimental ones (G_DA on I_E) "fake"
            terms["D_FA"] = discriminator_loss(
                self.d_fa(g["feat_bs"].detach().float()), self.d_fa(g["feat_e"].detach().float()), mode=m
            )
        return terms


def set_requires_grad(modules: Sequence[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)
