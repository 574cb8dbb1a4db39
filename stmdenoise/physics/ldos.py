r"""Local density of states of the Cu(111) surface state around point scatterers.

Model
-----
The Shockley surface state is a free 2-D electron gas with band
:math:`E(k) = E_0 + \hbar^2 k^2 / 2m^*` (:mod:`stmdenoise.physics.constants`). Its retarded
Green's function is

.. math:: G_0(\mathbf r, \mathbf r'; E) = -\frac{i m^*}{2\hbar^2} H_0^{(1)}(k|\mathbf r - \mathbf r'|),
          \qquad k = \sqrt{(E - E_0 + i\eta) / (\hbar^2/2m^*)}

(principal branch; :math:`\eta \ge 0` is a Lorentzian broadening). It solves
:math:`(E - H_0) G_0 = \delta`, with :math:`H_0 = -(\hbar^2/2m^*)\nabla^2`.

Scatterers are s-wave point scatterers with phase shift :math:`\delta` (complex allowed).
Outside a scatterer the m = 0 partial wave is :math:`J_0\cos\delta - Y_0\sin\delta
\propto J_0 + \tfrac12(e^{2i\delta} - 1) H_0^{(1)}`. Matching this to
:math:`\psi = \phi + G_0\, t\, \phi` gives the single-site t-matrix

.. math:: t = \frac{2\hbar^2}{m^*}\,\tau, \qquad \tau = \frac{i}{2}\left(e^{2i\delta} - 1\right).

A "black dot" (:math:`\delta = i\infty`, Heller et al., Nature 369, 464 (1994)) absorbs every
incoming wave: :math:`e^{2i\delta} = 0`, :math:`\tau = -i/2`, and the scattered wave cancels
the outgoing half of :math:`J_0 = (H^{(1)}_0 + H^{(2)}_0)/2`.

Multiple scattering is exact within the model (T-matrix): with the dimensionless propagator
:math:`\mathcal G_{ij} = -i H_0^{(1)}(k R_{ij})` for :math:`i \ne j` and zero on the diagonal,

.. math:: \Theta = (I - \operatorname{diag}(\tau)\,\mathcal G)^{-1} \operatorname{diag}(\tau),
          \qquad
          \frac{\rho(\mathbf r, E)}{\rho_0} = \rho_\mathrm{clean}(E)
          + \operatorname{Im} \sum_{ij} h_i(\mathbf r)\,\Theta_{ij}\,h_j(\mathbf r),

where :math:`h_i(\mathbf r) = H_0^{(1)}(k|\mathbf r - \mathbf R_i|)` and
:math:`\rho_\mathrm{clean} = \tfrac12 + \tfrac1\pi \arctan((E - E_0)/\eta)` (exactly 1 inside the
band when :math:`\eta = 0`). The LDOS :math:`\rho = -\tfrac1\pi \operatorname{Im} G(\mathbf r,
\mathbf r; E)` is returned divided by the clean-surface value :math:`\rho_0 = m^*/(2\pi\hbar^2)`,
which is the density of states **per spin** and per unit area (the spin-degenerate total is
:math:`2\rho_0`; the ratio is the same either way).

The distance to each scatterer is clamped at ``min_radius`` (default 1.5 Å) so the logarithmic
divergence of :math:`Y_0` at a scatterer stays finite (dark impurity cores).

Step edges are straight walls with reflection amplitude ``r`` (1: hard wall) treated by the
method of images: on each terrace :math:`G_w(\mathbf r, \mathbf r') = G_0(\mathbf r, \mathbf r')
- r\, G_0(\mathbf r, \bar{\mathbf r}')` with :math:`\bar{\mathbf r}'` mirrored in the step line.
The two terraces are decoupled (no transmission); each sees only its own impurities.

Two evaluation paths exist: :func:`ldos_points` calls :func:`scipy.special.hankel1` for every
point (exact, complex128; used to validate) and :func:`ldos_map` tabulates
:math:`H_0^{(1)}(kr)` once per energy (exact values on a 0.2 Å grid, cubic Hermite with the exact
derivative :math:`-kH_1^{(1)}` onto a 0.02 Å grid), interpolates it linearly at every
pixel-impurity distance in float32 and evaluates the quadratic form in real arithmetic per block
of pixels: with :math:`h = a + ib` and :math:`\Theta = P + iQ` (symmetric),
:math:`\operatorname{Im} h^T\Theta h = a^T(Qa + 2Pb) - b^TQb`, three real N×N matrix products
instead of the four of a complex one. ``bench/bench_physics.py`` reports its error against
:func:`ldos_points` (about 1e-5 of the map contrast in the configurations benchmarked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import hankel1

from stmdenoise.physics._core import (
    Wall,
    _add_scattering,
    _k_angstrom,
    _mirror,
    _single_thread_blas,
    _theta,
)
from stmdenoise.physics.constants import (
    ANGSTROM,
    BAND_BOTTOM,
    DEFAULT_MIN_RADIUS,
    HBAR2_OVER_2MSTAR,
)

__all__ = [
    "StepEdge",
    "wavevector",
    "phase_shift_to_tau",
    "ldos_points",
    "ldos_map",
    "corral_positions",
    "clean_ldos",
]

PhaseShift = Literal["black-dot"] | complex | float | ArrayLike


@dataclass(frozen=True)
class StepEdge:
    """A straight monatomic step edge acting as a (partly) reflecting wall.

    Parameters
    ----------
    point : tuple of float
        ``(y, x)`` of one point on the step line, metres, in the map's frame.
    angle : float
        Direction of the step line, radians from the +x (column) axis.
    reflectivity : float
        Reflection amplitude r of the wall in [0, 1] (1: hard wall, ideal standing waves).
    """

    point: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    reflectivity: float = 1.0

    def __post_init__(self) -> None:
        if not (0.0 <= float(self.reflectivity) <= 1.0):
            raise ValueError(f"reflectivity must lie in [0, 1], got {self.reflectivity!r}")
        object.__setattr__(self, "point", (float(self.point[0]), float(self.point[1])))
        object.__setattr__(self, "angle", float(self.angle))

    @property
    def normal(self) -> tuple[float, float]:
        """Unit normal ``(ny, nx)`` of the step line; the "upper" side is where it points."""
        return (math.cos(self.angle), -math.sin(self.angle))

    def signed_distance(self, y: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
        """Signed distance (metres) of points ``(y, x)`` from the line, positive on the upper side."""
        ny, nx = self.normal
        return (np.asarray(y, dtype=np.float64) - self.point[0]) * ny + (
            np.asarray(x, dtype=np.float64) - self.point[1]
        ) * nx

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description."""
        return {"point": list(self.point), "angle": self.angle, "reflectivity": float(self.reflectivity)}


# ---------------------------------------------------------------------------------------------
# small pieces


def wavevector(energy: float | ArrayLike, *, broadening: float = 0.0) -> NDArray[np.complex128]:
    """Surface-state wave vector k(E) in 1/m.

    Parameters
    ----------
    energy : float or array_like
        Energy from the Fermi level, eV.
    broadening : float
        Lorentzian broadening η ≥ 0, eV.

    Returns
    -------
    ndarray of complex128
        ``sqrt((E - E0 + iη)/(ħ²/2m*))`` (principal branch), same shape as ``energy``, 1/m.

    Examples
    --------
    >>> round(float(np.pi / wavevector(0.010).real) * 1e10, 3)  # standing-wave period, Å
    14.667
    """
    _check_broadening(broadening)
    e = np.asarray(energy, dtype=np.float64)
    k = np.sqrt((e - BAND_BOTTOM + 1j * broadening) / HBAR2_OVER_2MSTAR)
    return np.asarray(k / ANGSTROM, dtype=np.complex128)


def clean_ldos(energy: float | ArrayLike, *, broadening: float = 0.0) -> NDArray[np.float64]:
    """LDOS of the clean surface divided by ρ0 (1 inside the band, 0 below it when η = 0).

    Parameters
    ----------
    energy : float or array_like
        Energy from the Fermi level, eV.
    broadening : float
        Lorentzian broadening η ≥ 0, eV.

    Returns
    -------
    ndarray of float64
        ``1/2 + arctan((E - E0)/η)/π`` (its η → 0 limit for η = 0), shape of ``energy``.
    """
    _check_broadening(broadening)
    e = np.asarray(energy, dtype=np.float64) - BAND_BOTTOM
    if broadening > 0:
        return np.asarray(0.5 + np.arctan(e / broadening) / np.pi)
    return np.asarray(np.where(e > 0, 1.0, np.where(e == 0, 0.5, 0.0)))


def _check_broadening(broadening: float) -> None:
    if not (np.isfinite(broadening) and broadening >= 0):
        raise ValueError(f"broadening must be a finite number >= 0 (eV), got {broadening!r}")


def phase_shift_to_tau(phase_shift: PhaseShift, n: int) -> NDArray[np.complex128]:
    """Dimensionless single-site t-matrices τ = (i/2)(e^{2iδ} - 1) for ``n`` scatterers.

    Parameters
    ----------
    phase_shift : "black-dot", complex or array_like of complex, shape (n,)
        s-wave phase shift δ of every scatterer (one value for all, or one each).
        ``"black-dot"`` or ``Im δ = inf`` means fully absorbing (τ = -i/2).
    n : int
        Number of scatterers.

    Returns
    -------
    ndarray of complex128, shape (n,)
    """
    if isinstance(phase_shift, str):
        if phase_shift != "black-dot":
            raise ValueError(f"phase_shift must be 'black-dot' or complex number(s), got {phase_shift!r}")
        return np.full(n, -0.5j, dtype=np.complex128)
    d = np.asarray(phase_shift, dtype=np.complex128)
    if d.ndim == 0:
        d = np.full(n, complex(d), dtype=np.complex128)
    if d.shape != (n,):
        raise ValueError(f"phase_shift must be a scalar or have shape ({n},), got shape {d.shape}")
    bad = np.isnan(d.real) | np.isnan(d.imag) | np.isinf(d.real) | np.isneginf(d.imag)
    if np.any(bad):
        raise ValueError(f"phase_shift must be finite or have Im = +inf, got {phase_shift!r}")
    # e^{2iδ} = e^{-2 Im δ} e^{2i Re δ}; Im δ = +inf (black dot) gives exactly 0.
    with np.errstate(over="ignore"):
        mag = np.where(np.isposinf(d.imag), 0.0, np.exp(-2.0 * np.where(np.isposinf(d.imag), 0.0, d.imag)))
    s = mag * np.exp(2j * d.real)
    return np.asarray(0.5j * (s - 1.0), dtype=np.complex128)


def _as_positions(impurities: ArrayLike, name: str = "impurities") -> NDArray[np.float64]:
    p = np.asarray(impurities, dtype=np.float64)
    if p.size == 0:
        return np.zeros((0, 2))
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2) holding (y, x) in metres, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite, got non-finite values")
    return p


def _energies(energy: float | ArrayLike) -> tuple[NDArray[np.float64], bool]:
    e = np.asarray(energy, dtype=np.float64)
    if e.ndim > 1:
        raise ValueError(f"energy must be a number or a 1-D sequence (eV), got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise ValueError(f"energy must be finite, got {energy!r}")
    return np.atleast_1d(e), e.ndim == 1


def _wall_args(step: StepEdge | None) -> Wall | None:
    if step is None or step.reflectivity == 0.0:
        return None
    return (np.array(step.point) / ANGSTROM, np.array(step.normal), float(step.reflectivity))


def _check_band_bottom(es: NDArray[np.float64], broadening: float) -> None:
    if broadening == 0 and np.any(es == BAND_BOTTOM):
        raise ValueError(
            f"energy {BAND_BOTTOM} eV is the band bottom, where k = 0 and G0 diverges; "
            "use broadening > 0 or another energy"
        )


def _check_radius(min_radius: float) -> float:
    if not (np.isfinite(min_radius) and min_radius > 0):
        raise ValueError(f"min_radius must be a positive distance in metres, got {min_radius!r}")
    return float(min_radius) / ANGSTROM


# ---------------------------------------------------------------------------------------------
# exact path


def ldos_points(
    points: ArrayLike,
    impurities: ArrayLike,
    *,
    energy: float | ArrayLike,
    phase_shift: PhaseShift = "black-dot",
    broadening: float = 0.0,
    step: StepEdge | None = None,
    min_radius: float = DEFAULT_MIN_RADIUS,
) -> NDArray[np.float64]:
    """LDOS ρ/ρ0 at arbitrary points, evaluated exactly with :func:`scipy.special.hankel1`.

    Parameters
    ----------
    points : array_like, shape (p, 2)
        ``(y, x)`` of the evaluation points, metres.
    impurities : array_like, shape (n, 2)
        ``(y, x)`` of the point scatterers, metres.
    energy : float or array_like, shape (e,)
        Energy from the Fermi level, eV (= sample bias in V).
    phase_shift : "black-dot", complex or array_like, shape (n,)
        s-wave phase shift of every scatterer (see :func:`phase_shift_to_tau`).
    broadening : float
        Lorentzian broadening η ≥ 0, eV.
    step : StepEdge or None
        Optional step edge; each side sees only the impurities on its own side.
    min_radius : float
        Distances to scatterers below this are clamped to it, metres.

    Returns
    -------
    ndarray of float64, shape (p,) or (e, p)
        ρ(r, E)/ρ0 (per-spin normalisation; 1 on the clean surface inside the band).

    Examples
    --------
    >>> far = ldos_points([[0.0, 200e-9]], [[0.0, 0.0]], energy=0.01)
    >>> bool(abs(far[0] - 1) < 2e-3)
    True
    """
    pts = _as_positions(points, "points")
    imp = _as_positions(impurities)
    es, multi = _energies(energy)
    tau_all = phase_shift_to_tau(phase_shift, imp.shape[0])
    rmin = _check_radius(min_radius)
    _check_broadening(broadening)
    _check_band_bottom(es, broadening)
    out = np.empty((es.size, pts.shape[0]))
    sides = _sides(step, pts, imp)
    pa = pts / ANGSTROM
    for ie, e in enumerate(es):
        k = _k_angstrom(float(e), broadening)
        res = np.full(pts.shape[0], float(clean_ldos(e, broadening=broadening)))
        for pmask, imask, wall in sides:
            p = pa[pmask]
            pos = imp[imask] / ANGSTROM
            tau = tau_all[imask]
            if wall is not None:
                dw = np.abs((p - wall[0]) @ wall[1])
                res[pmask] -= wall[2] * np.real(hankel1(0, k * np.maximum(2.0 * dw, rmin)))
            if pos.shape[0] == 0:
                continue
            th = _theta(pos, tau, k, rmin, wall)
            h = _h_exact(p, pos, k, rmin, wall)
            res[pmask] += np.imag(np.einsum("pi,ij,pj->p", h, th, h))
        out[ie] = res
    return out if multi else out[0]


def _h_exact(
    p: NDArray[np.float64],
    pos: NDArray[np.float64],
    k: complex,
    rmin: float,
    wall: Wall | None,
) -> NDArray[np.complex128]:
    d = np.sqrt(((p[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    h = hankel1(0, k * np.maximum(d, rmin))
    if wall is not None:
        img = _mirror(pos, wall[0], wall[1])
        di = np.sqrt(((p[:, None, :] - img[None, :, :]) ** 2).sum(-1))
        h = h - wall[2] * hankel1(0, k * np.maximum(di, rmin))
    return np.asarray(h, dtype=np.complex128)


def _sides(
    step: StepEdge | None, pts: NDArray[np.float64], imp: NDArray[np.float64]
) -> list[tuple[NDArray[np.bool_], NDArray[np.bool_], Wall | None]]:
    """Split points and impurities by terrace: [(point mask, impurity mask, wall), ...]."""
    if step is None:
        return [(np.ones(pts.shape[0], bool), np.ones(imp.shape[0], bool), None)]
    wall = _wall_args(step)
    sp = step.signed_distance(pts[:, 0], pts[:, 1]) >= 0
    si = step.signed_distance(imp[:, 0], imp[:, 1]) >= 0 if imp.size else np.zeros(0, bool)
    return [(sp, si, wall), (~sp, ~si, wall)]


# ---------------------------------------------------------------------------------------------
# fast path


def ldos_map(
    impurities: ArrayLike,
    *,
    size: float | tuple[float, float],
    shape: int | tuple[int, int],
    energy: float | ArrayLike,
    phase_shift: PhaseShift = "black-dot",
    broadening: float = 0.0,
    margin: float | None = None,
    step: StepEdge | None = None,
    min_radius: float = DEFAULT_MIN_RADIUS,
) -> NDArray[np.float64]:
    """LDOS map ρ/ρ0 of a rectangular field on a pixel grid (fast tabulated path).

    Pixel ``(i, j)`` sits at its centre ``y = (i + 1/2)·size_y/rows``, ``x = (j + 1/2)·size_x/cols``;
    the field spans ``[0, size)`` in both axes.

    Parameters
    ----------
    impurities : array_like, shape (n, 2)
        ``(y, x)`` of the point scatterers in metres, in the map's frame; they may lie outside
        the field (margin impurities, so edges look like the inside of a real scan).
    size : float or (float, float)
        Field of view ``(height, width)`` in metres (one number: square).
    shape : int or (int, int)
        ``(rows, cols)`` of the map (one number: square).
    energy : float or array_like, shape (e,)
        Energy from the Fermi level, eV (= sample bias in V).
    phase_shift : "black-dot", complex or array_like, shape (n,)
        s-wave phase shift of every scatterer (see :func:`phase_shift_to_tau`).
    broadening : float
        Lorentzian broadening η ≥ 0, eV.
    margin : float or None
        If given, impurities farther than this outside the field (metres) are dropped.
    step : StepEdge or None
        Optional step edge (hard or partly reflecting wall between two decoupled terraces).
    min_radius : float
        Distances to scatterers below this are clamped to it, metres.

    Returns
    -------
    ndarray of float64, shape (rows, cols) or (e, rows, cols)
        ρ(r, E)/ρ0.

    Examples
    --------
    >>> m = ldos_map([[18e-9, 18e-9]], size=36e-9, shape=64, energy=0.0)
    >>> m.shape, bool(m.min() < 1 < m.max())
    ((64, 64), True)
    """
    hgt, wid = _pair(size, "size", float)
    rows, cols = _pair(shape, "shape", int)
    if not (hgt > 0 and wid > 0 and np.isfinite(hgt) and np.isfinite(wid)):
        raise ValueError(f"size must be positive finite metres, got {size!r}")
    if rows < 1 or cols < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    imp = _as_positions(impurities)
    es, multi = _energies(energy)
    tau_all = phase_shift_to_tau(phase_shift, imp.shape[0])
    rmin = _check_radius(min_radius)
    _check_broadening(broadening)
    _check_band_bottom(es, broadening)
    if margin is not None:
        if not (margin >= 0):
            raise ValueError(f"margin must be >= 0 metres, got {margin!r}")
        keep = (
            (imp[:, 0] >= -margin)
            & (imp[:, 0] <= hgt + margin)
            & (imp[:, 1] >= -margin)
            & (imp[:, 1] <= wid + margin)
        )
        imp, tau_all = imp[keep], tau_all[keep]

    ys = (np.arange(rows) + 0.5) * (hgt / rows)
    xs = (np.arange(cols) + 0.5) * (wid / cols)
    out = np.empty((es.size, rows, cols))
    for ie, e in enumerate(es):
        out[ie] = clean_ldos(e, broadening=broadening)

    with _single_thread_blas():
        _scatter_all(out, ys, xs, imp, tau_all, es, broadening, rmin, step)
    return out if multi else out[0]


def _scatter_all(
    out: NDArray[np.float64],
    ys: NDArray[np.float64],
    xs: NDArray[np.float64],
    imp: NDArray[np.float64],
    tau_all: NDArray[np.complex128],
    es: NDArray[np.float64],
    broadening: float,
    rmin: float,
    step: StepEdge | None,
) -> None:
    cols = xs.size
    if step is None:
        _add_scattering(out, ys, xs, imp, tau_all, es, broadening, rmin, None)
    else:
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        upper = step.signed_distance(yy, xx) >= 0
        si = step.signed_distance(imp[:, 0], imp[:, 1]) >= 0 if imp.size else np.zeros(0, bool)
        wall = _wall_args(step)
        for pmask, imask in ((upper, si), (~upper, ~si)):
            if not pmask.any():
                continue
            rws = np.flatnonzero(pmask.any(axis=1))
            sub = np.zeros((es.size, rws.size, cols))
            _add_scattering(sub, ys[rws], xs, imp[imask], tau_all[imask], es, broadening, rmin, wall)
            m = pmask[rws]
            for ie in range(es.size):
                out[ie][rws] += np.where(m, sub[ie], 0.0)


def _pair(v: Any, name: str, kind: type) -> tuple[Any, Any]:
    if np.ndim(v) == 0:
        return kind(v), kind(v)
    t = tuple(v)
    if len(t) != 2:
        raise ValueError(f"{name} must be one number or (rows, cols)/(height, width), got {v!r}")
    return kind(t[0]), kind(t[1])


def corral_positions(
    n_atoms: int, radius: float, *, center: tuple[float, float] = (0.0, 0.0), angle: float = 0.0
) -> NDArray[np.float64]:
    """Positions of ``n_atoms`` equally spaced on a circle (a quantum corral).

    Parameters
    ----------
    n_atoms : int
        Number of atoms (≥ 1); 48 for the Crommie-Lutz-Eigler Fe corral.
    radius : float
        Circle radius, metres (71.3e-10 for that corral).
    center : tuple of float
        ``(y, x)`` of the centre, metres.
    angle : float
        Angle of the first atom from +x, radians.

    Returns
    -------
    ndarray of float64, shape (n_atoms, 2)
        ``(y, x)`` in metres.

    Examples
    --------
    >>> corral_positions(4, 1.0).round(12).tolist()
    [[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, -0.0]]
    """
    if int(n_atoms) != n_atoms or n_atoms < 1:
        raise ValueError(f"n_atoms must be a positive integer, got {n_atoms!r}")
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive distance in metres, got {radius!r}")
    phi = angle + 2 * np.pi * np.arange(int(n_atoms)) / int(n_atoms)
    return np.stack([center[0] + radius * np.sin(phi), center[1] + radius * np.cos(phi)], axis=1)
