"""Layers: instance normalisation that can share statistics across tiles, convolution units.

Tiled inference cannot reproduce whole-image instance normalisation exactly, because every tile
would normalise with its own statistics. :class:`InstanceNorm` can therefore (a) collect
per-channel statistics over several tiles and (b) normalise every tile with those pooled
statistics, so that all tiles see the same normalisation (see :mod:`stmdenoise.denoise`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["InstanceNorm", "NormMode", "conv_norm_relu", "check_positive_int", "safe_atanh"]

NormMode = Literal["normal", "collect", "fixed"]


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising ValueError naming ``name`` if it is not an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def safe_atanh(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``atanh(x)`` with ``x`` clamped to ``[-1 + eps, 1 - eps]``, written with ``log``.

    Written out because ONNX opset 17 export has no ``aten::atanh``; the clamp keeps a saturated
    tanh output (float32 reaches 1 - 6e-8) finite.
    """
    xc = x.clamp(-1.0 + eps, 1.0 - eps)
    return 0.5 * torch.log((1.0 + xc) / (1.0 - xc))


class InstanceNorm(nn.Module):
    """Instance normalisation without affine parameters (as the reference CycleGAN).

    Parameters
    ----------
    channels : int
        Number of feature channels.
    eps : float
        Added to the variance before the square root.

    Notes
    -----
    ``mode`` is ``"normal"`` (per-image statistics, used for training), ``"collect"``
    (per-image statistics, and the per-channel sums are accumulated for pooling) or
    ``"fixed"`` (normalise with the pooled statistics of the last collection).
    """

    def __init__(self, channels: int, *, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = check_positive_int("channels", channels)
        self.eps = float(eps)
        self.mode: NormMode = "normal"
        self._count = 0.0
        self._sum: torch.Tensor | None = None
        self._sumsq: torch.Tensor | None = None

    def reset_statistics(self) -> None:
        """Forget the statistics collected so far."""
        self._count = 0.0
        self._sum = None
        self._sumsq = None

    def pooled_statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(mean, var)`` per channel over everything collected (float64, shape (C,))."""
        if self._sum is None or self._sumsq is None or self._count <= 0:
            raise RuntimeError("no statistics were collected; run the network in 'collect' mode first")
        mean = self._sum / self._count
        var = (self._sumsq / self._count - mean * mean).clamp_min(0.0)
        return mean, var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "fixed":
            mean, var = self.pooled_statistics()
            return F.instance_norm(
                x,
                running_mean=mean.to(x.dtype),
                running_var=var.to(x.dtype),
                use_input_stats=False,
                eps=self.eps,
            )
        if self.mode == "collect":
            with torch.no_grad():
                # float64 sums where the device has it (MPS has no float64)
                acc = torch.float32 if x.device.type == "mps" else torch.float64
                xd = x.detach().to(acc)
                n = float(xd.shape[0] * xd.shape[2] * xd.shape[3])
                s = xd.sum(dim=(0, 2, 3))
                sq = (xd * xd).sum(dim=(0, 2, 3))
                self._sum = s if self._sum is None else self._sum + s
                self._sumsq = sq if self._sumsq is None else self._sumsq + sq
                self._count += n
        return F.instance_norm(x, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.channels}, eps={self.eps}"


def conv_norm_relu(
    in_channels: int,
    out_channels: int,
    *,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    reflect_pad: int = 0,
) -> nn.Sequential:
    """Return ``[ReflectionPad2d] -> Conv2d -> InstanceNorm -> ReLU`` (biased convs, as CycleGAN)."""
    layers: list[nn.Module] = []
    if reflect_pad:
        layers.append(nn.ReflectionPad2d(reflect_pad))
    layers += [
        nn.Conv2d(
            in_channels, out_channels, kernel_size=kernel_size, stride=stride, padding=padding, bias=True
        ),
        InstanceNorm(out_channels),
        nn.ReLU(inplace=True),
    ]
    return nn.Sequential(*layers)
