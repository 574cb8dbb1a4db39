"""Losses of PDA-Net (paper eq. 1-8): adversarial terms and L1 cycle consistency."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stmdenoise.model.layers import safe_atanh

__all__ = ["gan_loss", "discriminator_loss", "l1", "range_mse", "ssim_loss", "unsquash"]


def gan_loss(logits: torch.Tensor, target_is_real: bool, *, mode: str = "log") -> torch.Tensor:
    """Adversarial loss of discriminator ``logits`` against a constant real/fake target.

    Parameters
    ----------
    logits : Tensor
        Raw discriminator outputs (no sigmoid), any shape.
    target_is_real : bool
        Target label 1 (real / simulated domain) or 0 (generated / experimental domain).
    mode : {"log", "lsgan"}
        ``log``: binary cross-entropy with logits, the log loss of the paper (eq. 1, 2, 5, 6);
        ``lsgan``: least squares on the logits.

    Returns
    -------
    Tensor
        Scalar, mean over every patch (float32 even under autocast).
    """
    logits = logits.float()
    target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
    if mode == "log":
        return F.binary_cross_entropy_with_logits(logits, target)
    if mode == "lsgan":
        return F.mse_loss(logits, target)
    raise ValueError(f"mode must be 'log' or 'lsgan', got {mode!r}")


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, *, mode: str = "log"
) -> torch.Tensor:
    """Half the sum of the real-vs-1 and fake-vs-0 adversarial losses (CycleGAN's halving)."""
    return 0.5 * (gan_loss(real_logits, True, mode=mode) + gan_loss(fake_logits, False, mode=mode))


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference, computed in float32 (cycle losses, eq. 3-4)."""
    return F.l1_loss(a.float(), b.float())


def range_mse(a: torch.Tensor, b: torch.Tensor, *, eps: float = 1e-6) -> torch.Tensor:
    """Mean squared difference of ``a`` and ``b`` after each image is min-max scaled to [0, 1].

    This is the 8-bit rendering that the paper's MSE/PSNR/SSIM (and every STM viewer's default
    colour scale) sees: an image's two most extreme pixels set the scale of all the others, so a
    denoiser that gets an adsorbate's peak or an impurity core's depth a few pm wrong is scored
    as if every pixel were wrong. An L1 loss hardly notices those few pixels; this term does.
    Images are the leading dimension; the rest is flattened. Computed in float32.
    """
    x, y = a.float().flatten(1), b.float().flatten(1)

    def scaled(t: torch.Tensor) -> torch.Tensor:
        lo, hi = t.amin(1, keepdim=True), t.amax(1, keepdim=True)
        return (t - lo) / (hi - lo).clamp_min(eps)

    return F.mse_loss(scaled(x), scaled(y))


def _gaussian_window(sigma: float, radius: int, device: torch.device) -> torch.Tensor:
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def ssim_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``1 - mean SSIM`` of ``fake`` against ``real``, both scaled by ``real``'s min-max range.

    SSIM of Wang et al. 2004 with the settings of :data:`stmdenoise.metrics.reference.SSIM_PARAMS`
    (Gaussian window sigma 1.5, 11 x 11; K1 0.01, K2 0.03; population statistics; data range 1),
    averaged over the window positions that lie wholly inside the crop, which is what
    scikit-image's ``structural_similarity`` averages. Both crops are scaled by the *clean* crop's
    minimum and maximum, so the score cannot be raised by stretching the output's own range (the
    failure of :func:`range_mse`, which scales each image by its own extremes). Inputs are
    ``(N, 1, H, W)`` with ``H, W >= 11``; computed in float32.
    """
    from stmdenoise.metrics.reference import SSIM_PARAMS  # the evaluation's settings, one source

    sigma, k1, k2 = SSIM_PARAMS["sigma"], SSIM_PARAMS["K1"], SSIM_PARAMS["K2"]
    x, y = fake.float(), real.float()
    lo = y.amin(dim=(-2, -1), keepdim=True)
    span = (y.amax(dim=(-2, -1), keepdim=True) - lo).clamp_min(1e-6)
    x, y = (x - lo) / span, (y - lo) / span
    radius = int(3.5 * sigma + 0.5)  # scikit-image's truncate=3.5: 11 x 11 at sigma 1.5
    g = _gaussian_window(sigma, radius, x.device)
    wx, wy = g.view(1, 1, 1, -1), g.view(1, 1, -1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, wx), wy)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    c1, c2 = k1**2, k2**2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return 1.0 - s.mean()


def unsquash(x: torch.Tensor, squash: float) -> torch.Tensor:
    """Normalised data values ``atanh(x) / squash`` of network-range values ``x = tanh(squash y)``.

    An L1 loss on these weighs every pixel by its error in data units; on ``x`` itself the tanh
    shrinks the errors of the pixels far from the median (impurity cores, adsorbate peaks: the
    ones that set an image's 8-bit min-max rendering) by ``1 - x**2``. ``squash`` 0 (the linear
    map) returns ``x``.
    """
    if squash <= 0:
        return x
    return safe_atanh(x) / squash
