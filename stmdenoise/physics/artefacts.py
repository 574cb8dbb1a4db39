"""STM measurement artefacts applied to a clean simulated image (parametrised, seeded).

The model follows the measurement: the tip (blur, double tip, a tip change mid-scan) images the
surface at coordinates that drift and creep; the feedback loop rings after sharp features along
the fast axis; noise accumulates along the raster *time* (trace then retrace of every line), so
1/f noise turns into row streaks and mains pick-up into slanted stripes; then come per-line offsets
and slopes, scars, a tilted plane and the quantisation of the Z signal.

Amplitudes are in units of the clean image's contrast ``scale = std(clean - plane)`` (so one
preset fits topographs in metres and unitless dI/dV maps alike); lengths in metres; times in
seconds. Each call draws every amplitude log-uniformly within a factor ``spread`` of its preset
value and reports what it drew in ``params``.

The ``"typical"`` preset is calibrated against the real Cu(111) topographs of the Ko group
(``../shared/reference/cu111_ko_group/experimental``, 512 px at about 0.71 Å): see
:func:`scan_statistics` and ``tests/physics/test_artefacts.py``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from stmdenoise.physics.constants import CU111_LATTICE
from stmdenoise.physics.raster import _raster_coords

__all__ = [
    "ArtefactConfig",
    "PRESETS",
    "apply_artefacts",
    "apply_artefacts_trace_retrace",
    "lattice_image",
    "scan_statistics",
]

PresetName = Literal["mild", "typical", "severe"]


@dataclass(frozen=True)
class ArtefactConfig:
    """Central values of every artefact (amplitudes in units of the clean contrast).

    Parameters
    ----------
    spread : float
        Each amplitude is drawn log-uniformly in ``[v/spread, v*spread]`` (1: exactly ``v``).
    tip_blur : float
        Gaussian tip blur σ, metres.
    double_tip_probability : float
        Probability of a double tip.
    double_tip_weight : float
        Relative weight of the second tip (its current fraction).
    double_tip_distance : float
        Distance between the two tips, metres.
    tip_change_probability : float
        Probability of a tip change at a random line.
    tip_change_jump : float
        Height jump at a tip change, contrast units.
    white_noise : float
        Standard deviation of white noise along the raster, contrast units.
    flicker_noise : float
        Standard deviation of 1/f^α noise along the raster, contrast units.
    flicker_exponent : float
        α of the 1/f noise.
    streak_noise : float
        Standard deviation of band-limited noise along the raster (Lorentzian spectrum of
        correlation length ``streak_length``, nothing below 2 cycles per line): short streaks
        along the fast axis that do not shift the line's mean, as seen in real Cu(111) scans.
    streak_length : float
        Correlation length of the streak noise, as a fraction of the line.
    streak_min_cycles : float
        The streak noise holds nothing below this many cycles per line.
    lattice : float
        Standard deviation of the partly resolved Cu(111) atomic lattice, contrast units (one
        row direction dominates, as with a real, slightly asymmetric tip).
    line_offset : float
        Standard deviation of per-line offsets, contrast units.
    line_slope : float
        Standard deviation of per-line slopes (change across one line), contrast units.
    scar_rate : float
        Expected number of scars per image.
    scar_amplitude : float
        Height of a scar, contrast units.
    scar_length : float
        Mean length of a scar, as a fraction of the line.
    mains_amplitude : float
        Amplitude of the mains pick-up, contrast units.
    mains_frequency : float
        Mains frequency, Hz (50 or 60; harmonics are not modelled).
    vibration_amplitude : float
        Amplitude of a mechanical or acoustic vibration along the raster, contrast units (0: none):
        periodic stripes at an angle set by its frequency, like those in the Ko group's frames.
    vibration_frequency : float
        Central frequency of that vibration, Hz (drawn within ``spread``).
    line_time : float
        Duration of one trace (and of one retrace), seconds.
    ringing_strength : float
        Fraction of the feedback's underdamped response (0: ideal feedback).
    ringing_period : float
        Period of the feedback ringing, as a fraction of the line.
    ringing_decay : float
        e-folding length of the ringing, as a fraction of the line.
    drift : float
        Thermal drift over the frame (each axis), as a fraction of the field of view.
    creep : float
        Piezo creep at the first line (slow axis, relaxing exponentially), fraction of the field.
    creep_time : float
        Time constant of the creep, as a fraction of the frame time.
    plane : float
        Tilt of the background plane across the frame, contrast units.
    quantisation : float
        Quantisation step of the Z signal, contrast units (0: none).
    """

    spread: float = 1.5
    tip_blur: float = 1.0e-10
    double_tip_probability: float = 0.1
    double_tip_weight: float = 0.3
    double_tip_distance: float = 8e-10
    tip_change_probability: float = 0.1
    tip_change_jump: float = 1.0
    white_noise: float = 0.5
    flicker_noise: float = 0.1
    flicker_exponent: float = 1.0
    streak_noise: float = 2.0
    streak_length: float = 0.02
    streak_min_cycles: float = 6.0
    lattice: float = 1.3
    line_offset: float = 0.03
    line_slope: float = 0.05
    scar_rate: float = 2.0
    scar_amplitude: float = 3.0
    scar_length: float = 0.05
    mains_amplitude: float = 0.1
    mains_frequency: float = 50.0
    vibration_amplitude: float = 0.0
    vibration_frequency: float = 400.0
    line_time: float = 0.2
    ringing_strength: float = 0.3
    ringing_period: float = 0.02
    ringing_decay: float = 0.02
    drift: float = 0.01
    creep: float = 0.02
    creep_time: float = 0.1
    plane: float = 20.0
    quantisation: float = 0.02

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{f.name} must be a finite number >= 0, got {v!r}")
        if self.spread < 1:
            raise ValueError(f"spread must be >= 1, got {self.spread!r}")
        for name in ("double_tip_probability", "tip_change_probability"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)!r}")
        if self.line_time <= 0:
            raise ValueError(f"line_time must be > 0 seconds, got {self.line_time!r}")

    def to_dict(self) -> dict[str, float]:
        """The configuration as a JSON-serialisable dict."""
        return dataclasses.asdict(self)


PRESETS: dict[str, ArtefactConfig] = {
    "mild": ArtefactConfig(
        streak_noise=0.5,
        lattice=0.5,
        tip_blur=0.5e-10,
        double_tip_probability=0.0,
        tip_change_probability=0.0,
        white_noise=0.15,
        flicker_noise=0.03,
        line_offset=0.01,
        line_slope=0.02,
        scar_rate=0.3,
        scar_amplitude=1.5,
        mains_amplitude=0.05,
        ringing_strength=0.1,
        drift=0.003,
        creep=0.005,
        plane=5.0,
        quantisation=0.005,
    ),
    "typical": ArtefactConfig(),
    "severe": ArtefactConfig(
        streak_noise=5.0,
        lattice=3.0,
        tip_blur=2.5e-10,
        double_tip_probability=0.4,
        double_tip_weight=0.5,
        tip_change_probability=0.5,
        tip_change_jump=3.0,
        white_noise=1.5,
        flicker_noise=0.5,
        line_offset=0.4,
        line_slope=0.2,
        scar_rate=8.0,
        scar_amplitude=5.0,
        mains_amplitude=0.8,
        ringing_strength=0.6,
        drift=0.03,
        creep=0.05,
        plane=50.0,
        quantisation=0.1,
    ),
}


def _resolve(preset: str | ArtefactConfig) -> tuple[str, ArtefactConfig]:
    if isinstance(preset, ArtefactConfig):
        return "custom", preset
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)} or an ArtefactConfig, got {preset!r}")
    return preset, PRESETS[preset]


def _plane_residual(a: NDArray[np.float64]) -> NDArray[np.float64]:
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w]
    design = np.stack([np.ones(a.size), yy.ravel(), xx.ravel()], axis=1)
    good = np.isfinite(a.ravel())
    coef, *_ = np.linalg.lstsq(design[good], a.ravel()[good], rcond=None)
    return np.asarray(a - (design @ coef).reshape(a.shape))


class _Draw:
    """Draws amplitudes around preset values and records them."""

    def __init__(self, rng: np.random.Generator, spread: float) -> None:
        self.rng = rng
        self.log_spread = math.log(spread)
        self.params: dict[str, Any] = {}

    def amp(self, name: str, v: float) -> float:
        x = float(v * math.exp(self.rng.uniform(-self.log_spread, self.log_spread))) if v > 0 else 0.0
        self.params[name] = x
        return x

    def flag(self, name: str, p: float) -> bool:
        x = bool(self.rng.random() < p)
        self.params[name] = x
        return x


def _tip_image(
    clean: NDArray[np.float64], blur_px: float, double: tuple[float, float, float] | None
) -> NDArray[np.float64]:
    from scipy import ndimage  # scipy.ndimage: loaded when simulating

    img = ndimage.gaussian_filter(clean, blur_px, mode="reflect") if blur_px > 0 else clean.copy()
    if double is not None:
        w, dy, dx = double
        shifted = ndimage.shift(img, (dy, dx), order=1, mode="reflect")
        img = (img + w * shifted) / (1.0 + w)
    return np.asarray(img)


def _flicker(rng: np.random.Generator, n: int, exponent: float) -> NDArray[np.float64]:
    """Unit-variance noise with power spectrum ∝ 1/f^exponent (no DC)."""
    spec = rng.normal(size=n // 2 + 1) + 1j * rng.normal(size=n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = np.inf
    spec *= f ** (-exponent / 2.0)
    x = np.fft.irfft(spec, n)
    sd = x.std()
    return np.asarray(x / sd if sd > 0 else x)


def lattice_image(
    rows: int, cols: int, pixel_size: float, angle: float, weights: list[float]
) -> NDArray[np.float64]:
    """Unit-std sum of the three Cu(111) lattice-row cosines, sampled at pixel centres."""
    g = 4 * math.pi / (math.sqrt(3) * CU111_LATTICE)
    yy = (np.arange(rows)[:, None] + 0.5) * pixel_size
    xx = (np.arange(cols)[None, :] + 0.5) * pixel_size
    total = np.zeros((rows, cols))
    for j, w in enumerate(weights):
        a = angle + math.pi / 6 + j * 2 * math.pi / 3
        total += w * np.cos(g * (math.sin(a) * yy + math.cos(a) * xx))
    sd = total.std()
    return np.asarray(total / sd if sd > 0 else total)


def _resonator(x: NDArray[np.float64], theta: float, rho: float) -> NDArray[np.float64]:
    """Two-pole resonator of unit DC gain run along axis 1, starting at rest at the first value.

    ``y[t] = g x[t] + 2ρ cos θ · y[t-1] - ρ² y[t-2]``, ``g = 1 - 2ρ cos θ + ρ²`` (poles ρe^{±iθ}):
    the step response of an underdamped feedback loop. (scipy.signal is avoided on purpose:
    importing it pulls in scipy.stats, which imports torch when installed.)
    """
    a1, a2 = 2 * rho * math.cos(theta), -rho * rho
    g = 1.0 - a1 - a2
    y = np.empty_like(x)
    y1 = x[:, 0].copy()
    y2 = y1.copy()
    for t in range(x.shape[1]):
        yt = g * x[:, t] + a1 * y1 + a2 * y2
        y[:, t] = yt
        y2, y1 = y1, yt
    return y


def _streaks(
    rng: np.random.Generator, n: int, cols: int, length: float, min_cycles: float
) -> NDArray[np.float64]:
    """Unit-variance noise, Lorentzian spectrum (correlation ``length`` pixels), none below
    ``min_cycles`` per line."""
    m = n // 2 + 1
    spec = rng.normal(size=m) + 1j * rng.normal(size=m)
    f = np.arange(m, dtype=np.float64) / n  # cycles per pixel
    spec *= 1.0 / np.sqrt(1.0 + (2 * np.pi * length * f) ** 2)
    spec[f < min_cycles / cols] = 0.0
    x = np.fft.irfft(spec, n)
    sd = x.std()
    return np.asarray(x / sd if sd > 0 else x)


def apply_artefacts_trace_retrace(
    clean: NDArray[np.floating[Any]],
    *,
    preset: str | ArtefactConfig = "typical",
    pixel_size: float,
    rng: np.random.Generator,
    scale: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, Any]]:
    """Simulate the forward (trace) and backward (retrace) images of one scan of ``clean``.

    Parameters
    ----------
    clean : ndarray, shape (rows, cols)
        Clean image (a topograph in metres or a dI/dV map); row 0 is scanned first.
    preset : {"mild", "typical", "severe"} or ArtefactConfig
        Artefact strengths.
    pixel_size : float
        Pixel size, metres (square pixels).
    rng : numpy.random.Generator
        Source of randomness (the result is a pure function of its state).
    scale : float or None
        The contrast unit of the amplitudes, in the units of ``clean``; default
        ``std(clean - plane)``. Pass the standing-wave contrast when ``clean`` holds a step,
        whose height would otherwise set the noise level.

    Returns
    -------
    forward, backward : ndarray of float64, shape (rows, cols)
        Both in the units of ``clean``; ``backward`` is already mirrored so that column 0 is on
        the left like the forward frame.
    params : dict
        JSON-serialisable record of the preset and every drawn value.
    """
    from scipy import ndimage  # scipy.ndimage: loaded when simulating

    a = np.asarray(clean, dtype=np.float64)
    if a.ndim != 2 or min(a.shape) < 8:
        raise ValueError(f"clean must be a 2-D image of at least 8x8 pixels, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("clean must be finite everywhere")
    if not (np.isfinite(pixel_size) and pixel_size > 0):
        raise ValueError(f"pixel_size must be a positive length in metres, got {pixel_size!r}")
    name, cfg = _resolve(preset)
    rows, cols = a.shape
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    scale = float(np.std(_plane_residual(a))) if scale is None else float(scale)
    if scale == 0.0:
        scale = float(np.max(np.abs(a))) or 1.0
    d = _Draw(rng, cfg.spread)
    d.params.update(preset=name, config=cfg.to_dict(), scale=scale, pixel_size=pixel_size)

    # --- tip ------------------------------------------------------------------------------
    def tip_state(prefix: str) -> tuple[float, tuple[float, float, float] | None]:
        blur = d.amp(prefix + "tip_blur", cfg.tip_blur) / pixel_size
        double = None
        if d.flag(prefix + "double_tip", cfg.double_tip_probability):
            w = d.amp(prefix + "double_tip_weight", cfg.double_tip_weight)
            dist = d.amp(prefix + "double_tip_distance", cfg.double_tip_distance) / pixel_size
            ang = float(rng.uniform(0, 2 * math.pi))
            d.params[prefix + "double_tip_angle"] = ang
            double = (w, dist * math.sin(ang), dist * math.cos(ang))
        return blur, double

    blur0, double0 = tip_state("")
    tipped = _tip_image(a, blur0, double0)
    change_row = None
    if d.flag("tip_change", cfg.tip_change_probability):
        change_row = int(rng.integers(1, rows))
        d.params["tip_change_row"] = change_row
        blur1, double1 = tip_state("after_change_")
        tipped_after = _tip_image(a, blur1, double1)
        tipped[change_row:] = tipped_after[change_row:]

    lat = d.amp("lattice", cfg.lattice)
    if lat > 0:
        lat_angle = float(rng.uniform(0, math.pi / 3))
        weights = [1.0, float(rng.uniform(0, 0.5)), float(rng.uniform(0, 0.5))]
        d.params.update(lattice_angle=lat_angle, lattice_weights=weights)
        tipped += scale * lat * lattice_image(rows, cols, pixel_size, lat_angle, weights)

    # --- raster time and coordinate distortion ------------------------------------------------
    n_t = 2 * rows * cols
    line_t = cfg.line_time
    dt = line_t / cols
    drift = d.amp("drift", cfg.drift)
    ang = float(rng.uniform(0, 2 * math.pi))
    d.params["drift_angle"] = ang
    creep = d.amp("creep", cfg.creep)
    creep_time = d.amp("creep_time", cfg.creep_time)

    fwd, bwd = (
        ndimage.map_coordinates(
            tipped,
            _raster_coords(rows, cols, line_t, drift, ang, creep, creep_time, retrace=back),
            order=3,
            mode="reflect",
        )
        for back in (False, True)
    )

    # --- feedback ringing along the fast axis (trace left->right, retrace right->left) ----
    ring = d.amp("ringing_strength", cfg.ringing_strength)
    if ring > 0:
        period = max(2.5, d.amp("ringing_period", cfg.ringing_period) * cols)
        decay = max(1.0, d.amp("ringing_decay", cfg.ringing_decay) * cols)
        theta, rho = 2 * math.pi / period, math.exp(-1.0 / decay)

        def fb(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.asarray(x + ring * (_resonator(x, theta, rho) - x))

        fwd = fb(fwd)
        bwd = fb(bwd[:, ::-1])[:, ::-1]

    # --- noise along the raster time --------------------------------------------------------
    timeline = d.amp("white_noise", cfg.white_noise) * rng.normal(size=n_t)
    fl = d.amp("flicker_noise", cfg.flicker_noise)
    if fl > 0:
        timeline += fl * _flicker(rng, n_t, cfg.flicker_exponent)
    st = d.amp("streak_noise", cfg.streak_noise)
    if st > 0:
        length = max(0.5, d.amp("streak_length", cfg.streak_length) * cols)
        timeline += st * _streaks(rng, n_t, cols, length, cfg.streak_min_cycles)
    mains = d.amp("mains_amplitude", cfg.mains_amplitude)
    if mains > 0:
        phase = float(rng.uniform(0, 2 * math.pi))
        d.params["mains_phase"] = phase
        timeline += mains * np.sin(2 * math.pi * cfg.mains_frequency * np.arange(n_t) * dt + phase)
    vib = d.amp("vibration_amplitude", cfg.vibration_amplitude)
    if vib > 0:
        freq = d.amp("vibration_frequency", cfg.vibration_frequency)
        timeline += vib * np.sin(
            2 * math.pi * freq * np.arange(n_t) * dt + float(rng.uniform(0, 2 * math.pi))
        )
    tl = timeline.reshape(rows, 2, cols)
    fwd = fwd + scale * tl[:, 0, :]
    bwd = bwd + scale * tl[:, 1, ::-1]

    # --- per-line offsets and slopes ----------------------------------------------------------
    off = d.amp("line_offset", cfg.line_offset)
    slope = d.amp("line_slope", cfg.line_slope)
    u = np.linspace(-0.5, 0.5, cols)[None, :]
    for k, img in enumerate((fwd, bwd)):
        o = rng.normal(size=(rows, 1)) * off
        s = rng.normal(size=(rows, 1)) * slope
        img += scale * (o + s * (u if k == 0 else u[:, ::-1]))

    # --- scars: the tip sticks or jumps for a stretch of one line -----------------------------
    n_scars = int(rng.poisson(d.amp("scar_rate", cfg.scar_rate)))
    scar_amp = d.amp("scar_amplitude", cfg.scar_amplitude)
    scars = []
    for _ in range(n_scars):
        r = int(rng.integers(0, rows))
        length = max(2, int(rng.exponential(cfg.scar_length * cols)))
        c0 = int(rng.integers(0, max(1, cols - length)))
        h = scar_amp * float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.5, 1.0))
        which = int(rng.integers(0, 2))
        (fwd if which == 0 else bwd)[r, c0 : c0 + length] += scale * h
        scars.append([r, c0, length, h, "forward" if which == 0 else "backward"])
    d.params["scars"] = scars

    # --- tip-change height jump, plane, quantisation ------------------------------------------
    if change_row is not None:
        jump = d.amp("tip_change_jump", cfg.tip_change_jump) * float(rng.choice([-1.0, 1.0]))
        fwd[change_row:] += scale * jump
        bwd[change_row:] += scale * jump
    tilt = d.amp("plane", cfg.plane)
    pang = float(rng.uniform(0, 2 * math.pi))
    d.params["plane_angle"] = pang
    yy = np.arange(rows)[:, None] / rows - 0.5
    xx = np.arange(cols)[None, :] / cols - 0.5
    background = scale * tilt * (math.sin(pang) * yy + math.cos(pang) * xx)
    fwd += background
    bwd += background
    q = d.amp("quantisation", cfg.quantisation) * scale
    if q > 0:
        fwd = np.round(fwd / q) * q
        bwd = np.round(bwd / q) * q
    return np.asarray(fwd, dtype=np.float64), np.asarray(bwd, dtype=np.float64), d.params


def apply_artefacts(
    clean: NDArray[np.floating[Any]],
    *,
    preset: str | ArtefactConfig = "typical",
    pixel_size: float,
    rng: np.random.Generator,
    scale: float | None = None,
) -> tuple[NDArray[np.float64], dict[str, Any]]:
    """Apply STM artefacts to ``clean`` and return the forward (trace) image.

    Parameters
    ----------
    clean : ndarray, shape (rows, cols)
        Clean image (a topograph in metres or a dI/dV map).
    preset : {"mild", "typical", "severe"} or ArtefactConfig
        Artefact strengths.
    pixel_size : float
        Pixel size, metres.
    rng : numpy.random.Generator
        Source of randomness.
    scale : float or None
        Contrast unit of the amplitudes (see :func:`apply_artefacts_trace_retrace`).

    Returns
    -------
    noisy : ndarray of float64, shape (rows, cols)
        In the units of ``clean``.
    params : dict
        JSON-serialisable record of the preset and every drawn value.

    Examples
    --------
    >>> clean = np.sin(np.arange(64.0))[None, :] * np.ones((64, 1))
    >>> noisy, params = apply_artefacts(clean, preset="mild", pixel_size=1e-10, rng=np.random.default_rng(0))
    >>> noisy.shape, params["preset"]
    ((64, 64), 'mild')
    """
    fwd, _, params = apply_artefacts_trace_retrace(
        clean, preset=preset, pixel_size=pixel_size, rng=rng, scale=scale
    )
    return fwd, params


def scan_statistics(image: NDArray[np.floating[Any]], *, pixel_size: float) -> dict[str, float]:
    """Scale-free statistics of a scan used to calibrate the artefact presets.

    After removing a least-squares plane: ``row_jitter`` is the robust standard deviation of the
    change of the row medians from one line to the next, divided by the ``contrast`` (standard
    deviation of the row-aligned image smoothed with a 3 Å Gaussian, i.e. the standing-wave
    contrast); ``hf_fraction`` is the fraction of the power of the row-aligned image at
    spatial periods shorter than 5 Å; ``noise`` is the standard deviation of what the 3 Å
    smoothing removes, divided by the contrast.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Any scan (units irrelevant).
    pixel_size : float
        Pixel size, metres.

    Returns
    -------
    dict with keys ``row_jitter``, ``hf_fraction``, ``noise``
    """
    from scipy import ndimage  # scipy.ndimage: loaded when simulating

    a = _plane_residual(np.asarray(image, dtype=np.float64))
    m = np.median(a, axis=1)
    dm = np.diff(m)
    jitter = 1.4826 * float(np.median(np.abs(dm - np.median(dm)))) / math.sqrt(2)
    al = a - m[:, None]
    px = pixel_size / 1e-10
    smooth = ndimage.gaussian_filter(al, 3.0 / px)
    contrast = float(np.std(smooth))
    power = np.abs(np.fft.fft2(al - al.mean())) ** 2
    qy = np.fft.fftfreq(a.shape[0], px) * 2 * np.pi
    qx = np.fft.fftfreq(a.shape[1], px) * 2 * np.pi
    q = np.hypot(qy[:, None], qx[None, :])
    hf = float(power[q > 2 * np.pi / 5.0].sum() / power.sum())
    return {
        "row_jitter": jitter / contrast,
        "hf_fraction": hf,
        "noise": float(np.std(al - smooth)) / contrast,
    }
