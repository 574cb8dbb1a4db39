"""Real scans' noise textures: the colour of what a scan's two directions disagree on.

Real STM noise is far from white. Forward minus backward of the shared two-direction scans holds
5 to 7600 times more power per Fourier bin at periods over 20 px than under 3.3 px
(``python bench/other_surfaces.py``'s ``--noise-texture real`` finding, docs/model-selection.md),
where the simulator's white noise, 1/f noise along the raster and line offsets give about 12x. A
filter trained or judged on the simulator's noise alone learns that slow, strong power is
surface; on real scans much of it is noise.

A **texture** is the power spectrum of a frame minus its registered second look over sqrt 2 (what
the app and the fidelity estimate take for one frame's noise; the look the do-no-harm judge reads:
negated for a feedback-error current where that agrees, following the piezo's hysteresis:
:func:`stmdenoise.training.real_fidelity.judging_look`), plane-levelled, Hann-windowed, the zero
frequency removed, normalised to unit sum. :func:`textured_noise` draws noise of any shape with
that colour (power bilinear between the texture's bins, in cycles per pixel) and a fresh random
phase: new noise of a real scan's colour, never a copy of the scan.

Used by ``bench/other_surfaces.py --noise-texture real`` (constructed surfaces under real noise)
and ``stmdenoise train-gain --noise-textures`` (simulated pairs for the spectral gain given real
noise colours; :func:`stmdenoise.training.spectral_gain.sim_examples`). Ours, not the paper's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import map_coordinates

from stmdenoise.scan import Scan

__all__ = ["noise_texture", "scan_textures", "textured_noise"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]


def noise_texture(forward: Scan, backward: Scan) -> Array:
    """Unit-sum power spectrum (rows, cols; FFT layout) of ``forward`` minus its registered second
    look (:func:`~stmdenoise.training.real_fidelity.judging_look`) over sqrt 2, on their common
    complete rows.

    Raises
    ------
    ValueError
        The two frames cannot be registered (NotScorableError is one) or share no complete row.
    """
    from stmdenoise.metrics.registration import overlap
    from stmdenoise.processing import level_plane
    from stmdenoise.processing.spectrum import hann_window
    from stmdenoise.training.real_fidelity import judging_look

    offset, look = judging_look(forward, backward)
    a, b = overlap(
        np.asarray(forward.data), np.asarray(look.data), int(round(offset[0])), int(round(offset[1]))
    )
    rows = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if int(rows.sum()) < 2 or a.shape[1] < 2:
        raise ValueError("the two directions share no complete rows to take a noise texture from")
    d = level_plane((a[rows] - b[rows]) / math.sqrt(2.0))
    power = np.abs(np.fft.fft2(d * hann_window(d.shape))) ** 2
    power[0, 0] = 0.0
    total = float(power.sum())
    if not (math.isfinite(total) and total > 0.0):
        raise ValueError("the two directions do not differ: no noise texture")
    return np.asarray(power / total)


def textured_noise(texture: Array, shape: tuple[int, int], rng: np.random.Generator) -> Array:
    """Unit-RMS noise of ``shape`` with ``texture``'s colour (its power at the same frequencies in
    cycles per pixel, bilinear between its bins) and a random phase.

    >>> t = np.zeros((8, 8)); t[0, 1] = t[0, -1] = 0.5      # all power at one frequency
    >>> z = textured_noise(t, (16, 16), np.random.default_rng(0))
    >>> round(float(z.std()), 6), bool(np.allclose(z, z[0:1, :]))   # unit RMS; rows all alike
    (1.0, True)
    """
    h, w = texture.shape
    shifted = np.fft.fftshift(texture)
    fy = np.fft.fftfreq(shape[0])[:, None] * h + h // 2
    fx = np.fft.fftfreq(shape[1])[None, :] * w + w // 2
    fy, fx = np.broadcast_arrays(fy, fx)
    power = map_coordinates(shifted, [fy, fx], order=1, mode="nearest")
    power[0, 0] = 0.0
    spec = np.sqrt(power) * (rng.normal(size=shape) + 1j * rng.normal(size=shape))
    z = np.real(np.fft.ifft2(spec))
    return np.asarray(z / z.std())


def scan_textures(
    pairs: Sequence[tuple[str, Scan, Scan]], *, skip_feedback_error: bool = True
) -> list[tuple[str, Array]]:
    """``(name, texture)`` of each ``(name, forward, backward)`` that can be registered.

    With ``skip_feedback_error`` (the default) not the currents recorded with the Z feedback on:
    their two directions differ by the feedback error, real signal (:mod:`stmdenoise.io.feedback`),
    so their difference is no noise texture."""
    from stmdenoise.io.feedback import feedback_error_channel

    out = []
    for name, fwd, bwd in pairs:
        if skip_feedback_error and feedback_error_channel(fwd):
            log.info(
                "%s: no noise texture taken (the feedback error: its directions differ by real signal)", name
            )
            continue
        try:
            out.append((name, noise_texture(fwd, bwd)))
        except ValueError as exc:
            log.info("%s: no noise texture taken (%s)", name, exc)
    return out
