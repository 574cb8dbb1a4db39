"""Faithfulness of a denoiser's output to the clean map of simulated pairs (beyond PSNR/SSIM).

Where the 8-bit scores of Table I average everything into one number, these ask whether the
features a physicist reads survive:

* impurity cores (:func:`core_recovery`): for every isolated impurity (no other within 10 px,
  >= 10 px from the edge) the clean core's centre is the deviation-weighted centroid of the
  half-depth region around the most deviating pixel (dark or bright) within +-5 px of its
  position, deviations taken from the local median of the 1-px-Gaussian-smoothed clean map; a
  core is recovered when the output (equally smoothed) has a core of the same sign whose centre
  lies within 1 px of the clean one and which is at least half as deep. (A centroid, because
  black-dot cores are craters whose most extreme pixel lies anywhere on a ring.)
* adsorbates (:func:`adsorbate_heights`): for every isolated adsorbate bump, the output's height
  over its surroundings divided by the clean map's;
* standing-wave period (:func:`wave_period`): peak of the radially averaged power spectrum in
  the 1.0-2.5 nm band, output vs clean;
* residual (input - output) vs injected noise (input - clean): power ratio, and the correlation
  of each with the clean map (a residual that holds signal correlates with it).

:func:`faithfulness_row` gathers them into one table row per method (``bench/quality.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

__all__ = ["adsorbate_heights", "core_recovery", "faithfulness_row", "wave_period"]


def _core_centre(
    smooth: np.ndarray, cy: int, cx: int, half: int, sign: float | None = None
) -> tuple[float, float, float, float] | None:
    """(y, x, depth, sign) of the core nearest (cy, cx) in a 1-px-smoothed image, or None.

    depth is the largest deviation from the median of the surrounding (4·half+1)² box, with the
    given sign (or the sign of the largest |deviation| when None); the centre is the
    deviation-weighted centroid of the connected half-depth region around that pixel. A centroid,
    not the extreme pixel: simulated black-dot cores are craters (a dark ring around a slightly
    brighter centre), whose extreme pixel is anywhere on the ring.
    """
    rows, cols = smooth.shape
    if not (half <= cy < rows - half and half <= cx < cols - half):
        return None
    w = smooth[cy - half : cy + half + 1, cx - half : cx + half + 1]
    r = 2 * half
    dev = w - np.median(smooth[max(cy - r, 0) : cy + r + 1, max(cx - r, 0) : cx + r + 1])
    if sign is None:
        sign = float(np.sign(dev.flat[np.argmax(np.abs(dev))]))
    dev = sign * dev
    j = np.unravel_index(np.argmax(dev), dev.shape)
    depth = float(dev[j])
    if depth <= 0:
        return None
    labels, _ = ndimage.label(dev >= 0.5 * depth)
    weights = np.where(labels == labels[j], dev, 0.0)
    yy, xx = np.indices(dev.shape)
    total = weights.sum()
    return (
        cy - half + float((weights * yy).sum() / total),
        cx - half + float((weights * xx).sum() / total),
        depth,
        sign,
    )


def core_recovery(
    clean: np.ndarray,
    out: np.ndarray,
    impurities_px: list[tuple[float, float]],
    *,
    half: int = 5,
    tolerance: float = 1.0,
    min_depth: float = 0.5,
    isolate: float = 10.0,
    border: int = 10,
) -> tuple[int, int]:
    """(recovered, total) impurity cores of one image; see the module docstring.

    Both images are smoothed with a 1-px Gaussian (the same for every method). The clean core of
    an impurity is found around its position (:func:`_core_centre`: dark or bright, the
    simulator mixes phase shifts); the output's core is looked for, with the same sign, around
    the clean centre. It is recovered when its centre lies within ``tolerance`` px (Euclidean) of
    the clean one and it is at least ``min_depth`` times as deep (a core the output erased, or
    painted with the other sign, is not). Impurities closer than ``isolate`` px to another one
    (overlapping cores) or ``border`` px to the edge are not counted.
    """
    cs, os_ = ndimage.gaussian_filter(clean, 1.0), ndimage.gaussian_filter(out, 1.0)
    rows, cols = clean.shape
    pts = np.asarray(impurities_px, dtype=np.float64).reshape(-1, 2)
    found = n = 0
    for k, (y, x) in enumerate(pts):
        iy, ix = int(round(y)), int(round(x))
        if not (border <= iy < rows - border and border <= ix < cols - border):
            continue
        d = np.hypot(pts[:, 0] - y, pts[:, 1] - x)
        d[k] = np.inf
        if d.size > 1 and d.min() < isolate:
            continue
        ref = _core_centre(cs, iy, ix, half)
        if ref is None:
            continue
        n += 1
        got = _core_centre(os_, int(round(ref[0])), int(round(ref[1])), half, sign=ref[3])
        if got is not None and got[2] >= min_depth * ref[2]:
            found += int(np.hypot(got[0] - ref[0], got[1] - ref[1]) <= tolerance)
    return found, n


def adsorbate_heights(
    clean: np.ndarray,
    out: np.ndarray,
    adsorbates_px: list[tuple[float, float]],
    impurities_px: list[tuple[float, float]],
    *,
    half: int = 3,
    isolate: float = 10.0,
    border: int = 12,
) -> list[float]:
    """Output-to-clean height ratio of each isolated adsorbate bump of one image.

    Height: the 1-px-smoothed image at the clean bump's top (its highest pixel within ``half``
    px of the adsorbate) minus the median of the surrounding (8·half+1)² box. Adsorbates closer
    than ``isolate`` px to an impurity or another adsorbate, or ``border`` px to the edge, are
    not counted.
    """
    cs, os_ = ndimage.gaussian_filter(clean, 1.0), ndimage.gaussian_filter(out, 1.0)
    rows, cols = clean.shape
    ads = np.asarray(adsorbates_px, dtype=np.float64).reshape(-1, 2)
    imps = np.asarray(impurities_px, dtype=np.float64).reshape(-1, 2)
    ratios = []
    for k, (y, x) in enumerate(ads):
        iy, ix = int(round(y)), int(round(x))
        if not (border <= iy < rows - border and border <= ix < cols - border):
            continue
        others = np.vstack([np.delete(ads, k, axis=0), imps])
        if others.size and np.hypot(others[:, 0] - y, others[:, 1] - x).min() < isolate:
            continue
        r = 4 * half
        box = (slice(max(iy - r, 0), iy + r + 1), slice(max(ix - r, 0), ix + r + 1))
        win = cs[iy - half : iy + half + 1, ix - half : ix + half + 1]
        j = np.unravel_index(np.argmax(win), win.shape)
        top = (iy - half + int(j[0]), ix - half + int(j[1]))  # the clean bump's top, read in both
        h = float(cs[top] - np.median(cs[box]))
        if h > 0:
            ratios.append(float(os_[top] - np.median(os_[box])) / h)
    return ratios


def wave_period(image: np.ndarray, pixel_size: float, band: tuple[float, float] = (1.0e-9, 2.5e-9)) -> float:
    """Standing-wave period (m): radially averaged power-spectrum peak in ``band``."""
    a = image - image.mean()
    win = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    p = np.abs(np.fft.fftshift(np.fft.fft2(a * win))) ** 2
    cy, cx = a.shape[0] // 2, a.shape[1] // 2
    yy, xx = np.indices(a.shape)
    r = np.hypot((yy - cy) / a.shape[0], (xx - cx) / a.shape[1]) / pixel_size  # spatial frequency, 1/m
    dq = 1.0 / (a.shape[1] * pixel_size) / 2  # half-bin radial resolution
    bins = np.arange(0, r.max() + dq, dq)
    idx = np.digitize(r.ravel(), bins) - 1
    prof = np.bincount(idx, p.ravel(), len(bins)) / np.maximum(np.bincount(idx, None, len(bins)), 1)
    q = bins + dq / 2
    sel = np.nonzero((q >= 1 / band[1]) & (q <= 1 / band[0]))[0]
    k = sel[np.argmax(prof[sel])]
    y0, y1, y2 = np.log(prof[k - 1 : k + 2] + 1e-300)
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) != 0 else 0.0
    return float(1.0 / (q[k] + shift * dq))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def faithfulness_row(
    name: str,
    outputs: list[np.ndarray],
    pairs: list[tuple[np.ndarray, np.ndarray]],
    params: list[dict[str, Any]],
    px: float,
) -> dict[str, Any]:
    """One table row of faithfulness figures of ``outputs`` against the clean maps of ``pairs``.

    Parameters
    ----------
    name : str
        The method's name (the row's first cell).
    outputs : list of ndarray
        The method's output for each pair, in the pairs' units.
    pairs : list of (clean, noisy) ndarray
        The simulated test pairs (plane-levelled, as Table I scores them).
    params : list of dict
        Each pair's simulation parameters (``params["surface"]["impurities"]`` and
        ``["adsorbates"]``: positions in metres).
    px : float
        Pixel size of the pairs, metres.

    Returns
    -------
    dict
        Formatted medians and shares (see the module docstring), keyed by column title.
    """
    found = total = 0
    period_err, power_ratio, corr_res, corr_noise, corr_out = [], [], [], [], []
    heights: list[float] = []
    for (clean, noisy), out, prm in zip(pairs, outputs, params, strict=True):
        imps = [(y / px - 0.5, x / px - 0.5) for y, x in prm["surface"]["impurities"]]
        ads = [(y / px - 0.5, x / px - 0.5) for y, x in prm["surface"]["adsorbates"]]
        heights += adsorbate_heights(clean, out, ads, imps)
        f, n = core_recovery(clean, out, imps)
        found, total = found + f, total + n
        pc, po = wave_period(clean, px), wave_period(out, px)
        period_err.append(abs(po - pc) / pc)
        res, noise = noisy - out, noisy - clean
        power_ratio.append(float(res.var() / noise.var()))
        corr_res.append(_corr(res, clean))
        corr_noise.append(_corr(noise, clean))
        corr_out.append(_corr(out, clean))
    pe = np.asarray(period_err)
    return {
        "method": name,
        "corr(output, clean)": f"{float(np.median(corr_out)):.3f}",
        "cores recovered": f"{found}/{total} ({100 * found / max(total, 1):.1f} %)",
        "adsorbate height kept: median": f"{100 * float(np.median(heights)):.0f} %" if heights else "-",
        "adsorbates kept >= 50 %": _share(heights, 0.5),
        "period: median rel. diff": f"{100 * float(np.median(pe)):.2f} %",
        "period within 2 %": f"{100 * float(np.mean(pe <= 0.02)):.1f} %",
        "residual/noise power": f"{float(np.median(power_ratio)):.3f}",
        "corr(residual, clean)": f"{float(np.median(corr_res)):+.3f}",
        "corr(noise, clean)": f"{float(np.median(corr_noise)):+.3f}",
    }


def _share(values: list[float], at_least: float) -> str:
    if not values:
        return "-"
    k = sum(v >= at_least for v in values)
    return f"{k}/{len(values)} ({100 * k / len(values):.1f} %)"
