"""Discriminators: the 70x70 PatchGAN (D_D, D_B, D_DA) and the feature-domain classifier D_FA."""

from __future__ import annotations

import torch
from torch import nn

from stmdenoise.model.layers import InstanceNorm, check_positive_int

__all__ = ["PatchDiscriminator", "FeatureDiscriminator"]


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator (pix2pix / CycleGAN); ``n_layers=3`` gives 70x70 receptive fields.

    Parameters
    ----------
    ndf : int
        Width of the first layer (64 in CycleGAN).
    n_layers : int
        Number of stride-2 layers; 3 gives the 70x70 PatchGAN.
    channels : int
        Image channels.

    Returns logits (no sigmoid), shape (N, 1, H', W'); one per overlapping patch.
    """

    def __init__(self, *, ndf: int = 64, n_layers: int = 3, channels: int = 1) -> None:
        super().__init__()
        self.ndf = check_positive_int("ndf", ndf)
        self.n_layers = check_positive_int("n_layers", n_layers)
        check_positive_int("channels", channels)
        layers: list[nn.Module] = [
            nn.Conv2d(channels, ndf, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=stride, padding=1, bias=True),
                InstanceNorm(ndf * mult),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"input must have shape (N, C, H, W), got {tuple(x.shape)}")
        return self.net(x)


class FeatureDiscriminator(nn.Module):
    """Small convolutional domain classifier on generator bottleneck features (D_FA).

    Parameters
    ----------
    in_channels : int
        Channels of the bottleneck features (``4 * ngf``).
    width : int
        Width of its hidden layers.

    Returns patch logits (N, 1, H', W'): simulated-domain features vs experimental ones.
    """

    def __init__(self, in_channels: int, *, width: int = 64) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        self.width = check_positive_int("width", width)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, width, kernel_size=3, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 1, kernel_size=3, stride=1, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"input must have shape (N, C, H, W), got {tuple(x.shape)}")
        return self.net(x)
