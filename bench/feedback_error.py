"""Is the forward-minus-backward difference of a Current channel noise, or the feedback error?

    python bench/feedback_error.py [--root ../shared/realdata]

With the Z feedback on (constant current) the Current channel is what the controller has not yet
corrected: mostly the lag on slopes, proportional to the topography's slope along the scan line,
with opposite signs in the two scan directions. The forward/backward fidelity estimate treats
every difference between the two frames as noise, so on such a channel it charges a denoiser
for keeping this real signal. For every file with Z and Current in both directions the table
prints the feedback state from the header (:func:`stmdenoise.io.feedback.feedback_on`) and the
correlation of I_forward - I_backward (and of I_forward + I_backward, the control) with dZ/dx,
the fast-axis slope of the mean topography (1 px Gaussian). Near +-1: the difference is the
feedback error; near 0: it is noise. Constant-height scans have a flat Z: no slope to compare
with (n/a). Pixels are compared as stored (both frames left to right; no registration).

A second table asks whether the *negated* backward current is a second look at the forward one:
if the current is the feedback error, its sign flips with the scan direction. For every
two-direction Current channel it registers the backward frame as stored and negated (about its
mean) onto the forward one (:func:`stmdenoise.metrics.fidelity.register_frames`, the judge's
search) and prints the offset found and the coherence of the two looks at large scales
(0 < k <= 1/32 cycles per pixel) and at 1/32-1/8: near +1, the same structure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import real_root, two_direction_files  # noqa: E402

from stmdenoise.io import ScanFormatError, read_all, select_frames  # noqa: E402
from stmdenoise.io.feedback import feedback_on  # noqa: E402
from stmdenoise.metrics import NotScorableError  # noqa: E402
from stmdenoise.metrics.fidelity import prepare_looks, register_frames, trace_retrace_max_shift  # noqa: E402
from stmdenoise.processing import level_plane  # noqa: E402


def slope_correlations(path: Path) -> tuple[bool | None, float, float] | None:
    """(feedback on, corr(I_f - I_b, dZ/dx), corr(I_f + I_b, dZ/dx)); None without the four frames."""
    try:
        every = read_all(path)  # one read for the four frames
        i_f, i_b, z_f, z_b = (
            select_frames(every, channel=c, direction=d)[0]
            for c in ("Current", "Z")
            for d in ("forward", "backward")
        )
    except (ScanFormatError, ValueError, KeyError, IndexError):
        return None
    x, b = np.asarray(i_f.data, float), np.asarray(i_b.data, float)
    z = np.asarray(z_f.data, float) + np.asarray(z_b.data, float)
    ok = np.isfinite(x).all(1) & np.isfinite(b).all(1) & np.isfinite(z).all(1)
    if ok.sum() < 16:
        return None
    x, b, z = level_plane(x[ok]), level_plane(b[ok]), level_plane(z[ok])
    dz = np.gradient(gaussian_filter(z, 1.0), axis=1)
    if not np.std(dz) > 0:
        return feedback_on(i_f), float("nan"), float("nan")

    def corr(a: np.ndarray) -> float:
        return float(np.corrcoef(a.ravel(), dz.ravel())[0, 1]) if np.std(a) > 0 else float("nan")

    return feedback_on(i_f), corr(x - b), corr(x + b)


def look_coherence(x: np.ndarray, other: np.ndarray) -> tuple[tuple[float, float], float, float]:
    """Offset registering ``other`` onto ``x`` and their coherence at k <= 1/32 and 1/32-1/8."""
    off = register_frames(x, other, max_shift=trace_retrace_max_shift(x.shape))
    prep = prepare_looks(x, [], [other], [off])
    x_f, r_f = np.fft.fft2(prep.target), prep.others_f[0]
    k = np.hypot(np.fft.fftfreq(prep.shape[0])[:, None], np.fft.fftfreq(prep.shape[1])[None, :])

    def coh(m: np.ndarray) -> float:
        c = np.real(x_f[m] * np.conj(r_f[m])).sum()
        return float(c / np.sqrt((np.abs(x_f[m]) ** 2).sum() * (np.abs(r_f[m]) ** 2).sum()))

    return off, coh((k > 0) & (k <= 1 / 32)), coh((k > 1 / 32) & (k <= 1 / 8))


def negated_table(root: Path) -> list[str]:
    """Markdown rows: the backward current as stored and negated, as a second look at the forward one."""
    lines = [
        "| file | Z feedback | backward as stored: offset, coherence (large / 1/32-1/8) "
        "| backward negated: offset, coherence (large / 1/32-1/8) |",
        "|---|---|---|---|",
    ]
    for p in two_direction_files(root):
        try:
            every = read_all(p)
            i_f, i_b = (
                select_frames(every, channel="Current", direction=d)[0] for d in ("forward", "backward")
            )
        except (ScanFormatError, ValueError, KeyError, IndexError):
            continue
        x, b = np.asarray(i_f.data, float), np.asarray(i_b.data, float)
        cells = []
        for other in (b, 2 * np.nanmean(b) - b):
            try:
                (dy, dx), big, mid = look_coherence(x, other)
                cells.append(f"({dy:+.1f}, {dx:+.1f}) px, {big:+.2f} / {mid:+.2f}")
            except (NotScorableError, ValueError) as exc:
                cells.append(f"n/a ({str(exc)[:40]})")
        state = {True: "on", False: "off", None: "not in header"}[feedback_on(i_f)]
        lines.append(f"| {p.name} | {state} | {cells[0]} | {cells[1]} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    root = real_root(__doc__.splitlines()[0], argv)
    if root is None:
        return 2
    print("| file | Z feedback | corr(I_f - I_b, dZ/dx) | corr(I_f + I_b, dZ/dx) |")
    print("|---|---|---:|---:|")
    for p in two_direction_files(root):
        res = slope_correlations(p)
        if res is None:
            continue
        on, diff, total = res
        state = {True: "on (constant current)", False: "off (constant height)", None: "not in header"}[on]
        cells = ["n/a (flat Z)" if not np.isfinite(v) else f"{v:+.2f}" for v in (diff, total)]
        print(f"| {p.name} | {state} | {cells[0]} | {cells[1]} |")
    print("\nIs the negated backward current a second look at the forward one?\n")
    print("\n".join(negated_table(root)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
