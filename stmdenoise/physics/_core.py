"""Numerical core of the LDOS simulator (ångström and eV inside): the T-matrix and the
tabulated fast path of :func:`stmdenoise.physics.ldos.ldos_map`. Private; see that module for
the physics and the accuracy."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray
from scipy.special import hankel1
from threadpoolctl import ThreadpoolController

from stmdenoise.physics.constants import ANGSTROM, BAND_BOTTOM, HBAR2_OVER_2MSTAR

# (point on the wall in Å, unit normal, reflection amplitude)
Wall = tuple[NDArray[np.float64], NDArray[np.float64], float]

# Table spacings of the fast path, in ångström (see module docstring).
_COARSE_STEP = 0.2
_FINE_STEP = 0.02
# Pixels per block of the fast path (keeps the working set near the CPU caches).
_BLOCK_PIXELS = 2048


def _k_angstrom(energy: float, broadening: float) -> complex:
    """Wave vector in 1/Å, principal branch of the complex square root."""
    return complex(np.sqrt(complex(energy - BAND_BOTTOM, broadening) / HBAR2_OVER_2MSTAR))


def _theta(
    pos: NDArray[np.float64],
    tau: NDArray[np.complex128],
    k: complex,
    rmin: float,
    wall: Wall | None,
) -> NDArray[np.complex128]:
    """Θ = (I - diag(τ) G')⁻¹ diag(τ) with the zero-diagonal propagator G' (ångström units)."""
    n = pos.shape[0]
    if n == 0:
        return np.zeros((0, 0), dtype=np.complex128)
    d = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    g = -1j * hankel1(0, k * np.maximum(d, rmin))
    np.fill_diagonal(g, 0.0)
    if wall is not None:
        p0, nrm, r = wall
        img = _mirror(pos, p0, nrm)
        di = np.sqrt(((pos[:, None, :] - img[None, :, :]) ** 2).sum(-1))
        g = g + 1j * r * hankel1(0, k * np.maximum(di, rmin))  # -(-i)·r·H0: image of each scatterer
    a = np.eye(n, dtype=np.complex128) - tau[:, None] * g
    return np.asarray(np.linalg.solve(a, np.diag(tau)), dtype=np.complex128)


def _mirror(p: NDArray[np.float64], p0: NDArray[np.float64], nrm: NDArray[np.float64]) -> NDArray[np.float64]:
    s = (p - p0) @ nrm
    return np.asarray(p - 2.0 * s[..., None] * nrm)


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


@contextlib.contextmanager
def _single_thread_blas() -> Iterator[None]:
    """Run BLAS single-threaded: the matrices here are small (n ≤ a few hundred), and a
    multi-threaded BLAS on a busy machine makes them 20-40x slower, not faster."""
    with _controller().limit(limits=1, user_api="blas"):
        yield


class _HankelTable:
    """H0(k r) on a uniform fine grid r = rmin + i·Δ, for linear interpolation in float32."""

    def __init__(self, k: complex, rmin: float, rmax: float) -> None:
        nc = int(math.ceil((rmax - rmin) / _COARSE_STEP)) + 2
        rc = rmin + _COARSE_STEP * np.arange(nc)
        kr = k * rc
        f = hankel1(0, kr)
        df = -k * hankel1(1, kr) * _COARSE_STEP  # derivative per coarse step
        sub = int(round(_COARSE_STEP / _FINE_STEP))
        t = np.arange(sub) / sub
        h00 = (1 + 2 * t) * (1 - t) ** 2
        h10 = t * (1 - t) ** 2
        h01 = t * t * (3 - 2 * t)
        h11 = t * t * (t - 1)
        fine = (f[:-1, None] * h00 + df[:-1, None] * h10 + f[1:, None] * h01 + df[1:, None] * h11).ravel()
        fine = np.append(fine, f[-1])
        slopes = np.append(np.diff(fine), 0.0)
        # real and imaginary parts apart: the quadratic form is evaluated in real arithmetic
        self.re = fine.real.astype(np.float32)
        self.im = fine.imag.astype(np.float32)
        self.slope_re = slopes.real.astype(np.float32)
        self.slope_im = slopes.imag.astype(np.float32)


class _Buffers:
    """Work arrays of one block, reused across blocks and energies (allocating them anew
    for every block costs as much as the arithmetic)."""

    _NAMES = ("r2", "idx", "ab", "img", "work", "x", "y")

    def __init__(self, n: int, npx: int) -> None:
        self.r2 = np.empty((n, npx), np.float32)
        self.idx = np.empty((n, npx), np.intp)
        self.ab = np.empty((2 * n, npx), np.float32)  # [Re h; Im h]
        self.img = np.empty((2 * n, npx), np.float32)
        self.work = np.empty((n, npx), np.float32)
        self.x = np.empty((n, npx), np.float32)
        self.y = np.empty((n, npx), np.float32)

    def view(self, npx: int) -> _Buffers:
        if npx == self.r2.shape[1]:
            return self
        v = object.__new__(_Buffers)
        for k in self._NAMES:
            setattr(v, k, getattr(self, k)[:, :npx])
        return v


def _interp_index(
    r2: NDArray[np.float32], rmin: float, idx: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """Table index and fraction for squared distances ``r2`` (clamped at rmin), in place."""
    u = np.sqrt(r2, out=r2)
    u -= np.float32(rmin)
    np.maximum(u, np.float32(0.0), out=u)
    u *= np.float32(1.0 / _FINE_STEP)
    np.copyto(idx, u, casting="unsafe")
    np.subtract(u, idx, out=u, casting="unsafe")
    return idx, u


def _gather(
    table: _HankelTable,
    idx: NDArray[np.intp],
    frac: NDArray[np.float32],
    out: NDArray[np.float32] | None = None,
    work: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Linear interpolation of H0(kr): ``out[:n]`` = real part, ``out[n:]`` = imaginary part."""
    n = idx.shape[0]
    out = np.empty((2 * n,) + idx.shape[1:], np.float32) if out is None else out
    work = np.empty(idx.shape, np.float32) if work is None else work
    for values, slopes, dest in ((table.re, table.slope_re, out[:n]), (table.im, table.slope_im, out[n:])):
        np.take(values, idx, out=dest)
        np.take(slopes, idx, out=work)
        np.multiply(work, frac, out=work)
        np.add(dest, work, out=dest)
    return out


def _add_scattering(
    out: NDArray[np.float64],
    ys: NDArray[np.float64],
    xs: NDArray[np.float64],
    imp: NDArray[np.float64],
    tau: NDArray[np.complex128],
    es: NDArray[np.float64],
    broadening: float,
    rmin: float,
    wall: Wall | None,
) -> None:
    """Add Im(hᵀΘh) (and the wall's own standing wave) to ``out`` (e, rows, cols), in place."""
    rows, cols = ys.size, xs.size
    ya, xa = ys / ANGSTROM, xs / ANGSTROM
    pos = imp / ANGSTROM
    n = pos.shape[0]
    srcs = [pos] if wall is None else [pos, _mirror(pos, wall[0], wall[1])]
    # squared distance components, float32, one row per source point
    dy2 = [((ya[None, :] - s[:, 0:1]) ** 2).astype(np.float32) for s in srcs]
    dx2 = [((xa[None, :] - s[:, 1:2]) ** 2).astype(np.float32) for s in srcs]
    rmax = rmin + 1.0
    for s in srcs:
        if n:
            rmax = max(
                rmax,
                float(
                    np.sqrt(
                        np.max(
                            (np.maximum(np.abs(ya[0] - s[:, 0]), np.abs(ya[-1] - s[:, 0]))) ** 2
                            + np.maximum(np.abs(xa[0] - s[:, 1]), np.abs(xa[-1] - s[:, 1])) ** 2
                        )
                    )
                ),
            )
    wall_d = None
    if wall is not None:
        yy, xx = np.meshgrid(ya, xa, indexing="ij")
        wall_d = 2.0 * np.abs((yy - wall[0][0]) * wall[1][0] + (xx - wall[0][1]) * wall[1][1])
        rmax = max(rmax, float(wall_d.max()))
    ks = [_k_angstrom(float(e), broadening) for e in es]
    tables = [_HankelTable(k, rmin, rmax + 1.0) for k in ks]
    # Im(hᵀΘh) in real arithmetic: with h = a + ib and Θ = P + iQ (symmetric),
    # Im(hᵀΘh) = aᵀ(Qa + 2Pb) - bᵀQb: three real N×N products instead of four in a complex one.
    forms = []
    for k in ks:
        th = _theta(pos, tau, k, rmin, wall)
        th = 0.5 * (th + th.T)  # symmetric in exact arithmetic
        qp = np.ascontiguousarray(np.concatenate([th.imag, 2.0 * th.real], axis=1), dtype=np.float32)
        forms.append((qp, np.ascontiguousarray(th.imag, dtype=np.float32)))
    if wall is not None and wall_d is not None:
        idx, frac = _interp_index((wall_d.astype(np.float32)) ** 2, rmin, np.empty(wall_d.shape, np.intp))
        for ie, tab in enumerate(tables):
            out[ie] -= wall[2] * _gather(tab, idx, frac)[: idx.shape[0]]
    if n == 0:
        return
    block_rows = max(1, _BLOCK_PIXELS // cols)
    bufs = [_Buffers(n, block_rows * cols) for _ in srcs]
    for a in range(0, rows, block_rows):
        b = min(rows, a + block_rows)
        npx = (b - a) * cols
        parts = []
        for sy, sx, buf0 in zip(dy2, dx2, bufs, strict=True):
            buf = buf0.view(npx)
            np.add(sy[:, a:b, None], sx[:, None, :], out=buf.r2.reshape(n, b - a, cols))
            parts.append((_interp_index(buf.r2, rmin, buf.idx), buf))
        for ie, tab in enumerate(tables):
            (idx, frac), buf = parts[0]
            ab = _gather(tab, idx, frac, buf.ab, buf.work)
            if wall is not None:
                (idx_i, frac_i), buf_i = parts[1]
                img = _gather(tab, idx_i, frac_i, buf_i.img, buf_i.work)
                img *= np.float32(wall[2])
                ab -= img
            qp, q = forms[ie]
            x = np.matmul(qp, ab, out=buf.x)
            y = np.matmul(q, ab[n:], out=buf.y)
            val = np.einsum("ip,ip->p", ab[:n], x) - np.einsum("ip,ip->p", ab[n:], y)
            out[ie, a:b] += val.reshape(b - a, cols)
