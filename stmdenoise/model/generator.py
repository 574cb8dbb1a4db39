"""The ResNet generator of PDA-Net: Down -> ResNet blocks -> Up -> tanh."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from stmdenoise.model.blocks import DownBlock, ResnetStack, UpBlock
from stmdenoise.model.layers import InstanceNorm, NormMode, check_positive_int, safe_atanh

__all__ = ["Generator", "receptive_field", "STRIDE", "check_skip_blur", "gaussian_kernel"]

#: Total down-sampling factor of the generator; inputs are padded to a multiple of it.
STRIDE = 4


def receptive_field(n_blocks: int) -> int:
    """Receptive field (pixels, full width) of a generator with ``n_blocks`` ResNet blocks.

    7x7 conv (7), two stride-2 3x3 convs (+2, +4), 16 px per ResNet block at stride 4,
    the two transposed convs (+4, +2) and the final 7x7 conv (+6): ``25 + 16 n``.
    """
    check_positive_int("n_blocks", n_blocks, minimum=0)
    return 25 + 16 * n_blocks


def check_skip_blur(value: object, *, residual: bool) -> float:
    """Return ``value`` as a float sigma (px) >= 0, or raise ValueError (> 0 needs ``residual``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"skip_blur must be a number >= 0 px, got {value!r}")
    if value > 0 and not residual:
        raise ValueError("skip_blur needs residual generators (it filters the global skip)")
    return float(value)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian of standard deviation ``sigma`` px, radius ``ceil(3 sigma)``.

    >>> k = gaussian_kernel(0.7); tuple(k.shape), round(float(k.sum()), 6)
    ((7,), 1.0)
    """
    if not (isinstance(sigma, (int, float)) and sigma > 0):
        raise ValueError(f"sigma must be > 0 px, got {sigma!r}")
    radius = max(1, math.ceil(3.0 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / float(sigma)) ** 2)
    return k / k.sum()


class Generator(nn.Module):
    """Single-channel ResNet generator (CycleGAN layout, paper section IV-C).

    Parameters
    ----------
    ngf : int
        Width of the first layer (64 in the paper).
    n_blocks : int
        Number of ResNet blocks in the bottleneck (9 in the paper).
    channels : int
        Image channels in and out.
    up : UpBlock, optional
        An existing Up block to **share** (the same module object, hence the same parameters),
        as G_DA shares G_D's Up block. Its width must match ``ngf``.
    residual : bool
        Global skip: ``tanh(atanh(x) + Up(...))`` instead of ``tanh(Up(...))``. The network then
        learns the correction to its input (the noise, for G_D) and features the input holds
        (impurity cores, one-pixel adsorbates, steps) pass through unless it removes them; the
        plain CycleGAN layout has to re-synthesise every feature from the bottleneck.
    skip_blur : float
        Standard deviation (px) of a fixed Gaussian low-pass on the residual skip, applied to
        ``atanh(x)`` before the Up block's correction is added; 0 (default) keeps the identity
        skip. For the denoisers: the Up block works at 1/4 resolution through two transposed
        convs and ``ngf`` channels, and cannot cancel pixel-to-pixel white noise carried by an
        identity skip (the identity-skip default before it left 40 % of its residual error power at
        spatial frequencies above half Nyquist). With a low-passed skip the network adds back
        the sharp features (adsorbate peaks, cores) instead of subtracting the grain. Not a
        parameter: nothing is stored in the weights, the model's ``config.json`` holds it.

    Notes
    -----
    Inputs of shape (N, C, H, W) with H or W not a multiple of 4 are reflection-padded to the
    next multiple of 4 and the output is cropped back, so any size >= 1 px works.
    """

    _skip_kernel: torch.Tensor

    def __init__(
        self,
        *,
        ngf: int = 64,
        n_blocks: int = 9,
        channels: int = 1,
        up: UpBlock | None = None,
        residual: bool = False,
        skip_blur: float = 0.0,
    ) -> None:
        super().__init__()
        self.residual = bool(residual)
        self.skip_blur = check_skip_blur(skip_blur, residual=self.residual)
        self.ngf = check_positive_int("ngf", ngf)
        self.n_blocks = check_positive_int("n_blocks", n_blocks, minimum=0)
        self.channels = check_positive_int("channels", channels)
        # fixed separable filter, not saved with the weights (persistent=False): config.json
        # holds sigma. Kept as (C, 1, 1, K) so the ONNX export sees a constant kernel shape.
        k = gaussian_kernel(self.skip_blur) if self.skip_blur > 0 else torch.ones(1)
        self.register_buffer(
            "_skip_kernel", k.view(1, 1, 1, -1).repeat(self.channels, 1, 1, 1), persistent=False
        )
        self.down = DownBlock(channels, ngf)
        self.res = ResnetStack(4 * ngf, n_blocks)
        if up is None:
            up = UpBlock(ngf, channels)
        elif not isinstance(up, UpBlock):
            raise ValueError(f"up must be an UpBlock to share, got {type(up).__name__}")
        else:
            first = up[0]
            if not isinstance(first, nn.ConvTranspose2d) or first.in_channels != 4 * ngf:
                raise ValueError(f"up block to share has a different width than ngf={ngf}")
        self.up = up

    # ------------------------------------------------------------------ forward
    def _pad(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"input must have shape (N, {self.channels}, H, W), got {tuple(x.shape)}")
        h, w = int(x.shape[2]), int(x.shape[3])
        # next multiple of the stride, and at least 2 bottleneck pixels (instance norm needs > 1)
        ph = max(h + (-h) % STRIDE, 2 * STRIDE) - h
        pw = max(w + (-w) % STRIDE, 2 * STRIDE) - w
        if ph or pw:
            mode = "reflect" if (ph < h and pw < w) else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        return x, h, w

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Bottleneck features (ResNet output), shape (N, 4 ngf, max(ceil(H/4), 2), max(ceil(W/4), 2))."""
        x, _, _ = self._pad(x)
        return self.res(self.down(x))

    def decode(self, features: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Image in [-1, 1] from bottleneck features (Up block, then tanh); padded size.

        A residual generator also needs its (padded) input ``x``.
        """
        r = self.up(features)
        if self.residual:
            if x is None:
                raise ValueError("a residual generator decodes with its input: decode(features, x)")
            r = r + self._skip(safe_atanh(x))
        return torch.tanh(r)

    def _skip(self, y: torch.Tensor) -> torch.Tensor:
        """The residual skip: ``y`` itself, or ``y`` low-passed (separable Gaussian, edges replicated)."""
        if self.skip_blur <= 0:
            return y
        k = self._skip_kernel.to(dtype=y.dtype)
        r = (k.shape[-1] - 1) // 2
        y = F.pad(y, (r, r, r, r), mode="replicate")
        y = F.conv2d(y, k, groups=self.channels)
        return F.conv2d(y, k.transpose(2, 3), groups=self.channels)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(output, bottleneck_features)``; the output has the input's (H, W)."""
        xp, h, w = self._pad(x)
        feats = self.res(self.down(xp))
        out = self.decode(feats, xp)
        return out[:, :, :h, :w], feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]

    # ------------------------------------------------------------------ tiling support
    def norm_layers(self) -> list[InstanceNorm]:
        """Every :class:`InstanceNorm` of the network, in forward order."""
        return [m for m in self.modules() if isinstance(m, InstanceNorm)]

    @contextmanager
    def norm_mode(self, mode: NormMode) -> Iterator[None]:
        """Temporarily switch every instance norm to ``mode`` ("normal", "collect" or "fixed")."""
        if mode not in ("normal", "collect", "fixed"):
            raise ValueError(f"mode must be 'normal', 'collect' or 'fixed', got {mode!r}")
        layers = self.norm_layers()
        previous = [m.mode for m in layers]
        if mode == "collect":
            for m in layers:
                m.reset_statistics()
        for m in layers:
            m.mode = mode
        try:
            yield
        finally:
            for m, p in zip(layers, previous, strict=True):
                m.mode = p
