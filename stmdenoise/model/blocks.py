"""Blocks of the PDA-Net generator: Down, ResNet and Up (paper section IV-C, after CycleGAN)."""

from __future__ import annotations

import torch
from torch import nn

from stmdenoise.model.layers import InstanceNorm, check_positive_int, conv_norm_relu

__all__ = ["DownBlock", "ResnetBlock", "ResnetStack", "UpBlock"]


class DownBlock(nn.Sequential):
    """7x7 conv (stride 1, reflection pad 3) then two 3x3 convs (stride 2, pad 1); width ngf -> 4 ngf.

    Parameters
    ----------
    in_channels : int
        Image channels (1 for STM topographs).
    ngf : int
        Width of the first layer; the output has ``4 * ngf`` channels at 1/4 of the resolution.
    """

    def __init__(self, in_channels: int, ngf: int) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("ngf", ngf)
        super().__init__(
            conv_norm_relu(in_channels, ngf, kernel_size=7, reflect_pad=3),
            conv_norm_relu(ngf, 2 * ngf, kernel_size=3, stride=2, padding=1),
            conv_norm_relu(2 * ngf, 4 * ngf, kernel_size=3, stride=2, padding=1),
        )


class ResnetBlock(nn.Module):
    """Residual block: two 3x3 convs, each after a reflection pad of 1; instance norm, ReLU between."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        check_positive_int("channels", channels)
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, kernel_size=3, bias=True),
            InstanceNorm(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, kernel_size=3, bias=True),
            InstanceNorm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetStack(nn.Sequential):
    """``n_blocks`` :class:`ResnetBlock` of ``channels`` channels (the generator's bottleneck)."""

    def __init__(self, channels: int, n_blocks: int) -> None:
        check_positive_int("channels", channels)
        check_positive_int("n_blocks", n_blocks, minimum=0)
        super().__init__(*(ResnetBlock(channels) for _ in range(n_blocks)))


class UpBlock(nn.Sequential):
    """Two 3x3 transposed convs (stride 2, pad 1, output padding 1) then a 7x7 conv (reflection pad 3).

    Width 4 ngf -> ngf -> ``out_channels``; the tanh is applied by the generator.
    """

    def __init__(self, ngf: int, out_channels: int) -> None:
        check_positive_int("ngf", ngf)
        check_positive_int("out_channels", out_channels)
        super().__init__(
            nn.ConvTranspose2d(
                4 * ngf, 2 * ngf, kernel_size=3, stride=2, padding=1, output_padding=1, bias=True
            ),
            InstanceNorm(2 * ngf),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * ngf, ngf, kernel_size=3, stride=2, padding=1, output_padding=1, bias=True),
            InstanceNorm(ngf),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, out_channels, kernel_size=7, bias=True),
        )
