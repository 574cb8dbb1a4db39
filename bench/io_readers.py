"""Scan readers on ../shared/realdata: read time against nanonispy2, and the orientation evidence.

Run: ``.venv/bin/python bench/io_readers.py`` (needs ../shared/realdata beside the checkout).
Prints two tables: (1) median of 7 reads of every frame of each .sxm: our ``read_sxm_all`` (float64, oriented
Scans), our ``read_sxm_raw`` (float32 frames as stored) and nanonispy2 (raw big-endian views),
measured in the same run, with the ratios;
(2) the correlations behind the orientation conventions of docs/io.md.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REAL = ROOT.parent / "shared" / "realdata"

from stmdenoise.io import read_scan, read_sxm_all, read_sxm_raw  # noqa: E402


def _time(fn: object, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _lev(x: NDArray[np.float64]) -> NDArray[np.float64]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows of aborted scans
        return x - np.nanmedian(x, axis=1, keepdims=True)


def _corr(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, int]:
    m = np.isfinite(a) & np.isfinite(b)
    if m.sum() < 1000:
        return float("nan"), int(m.sum())
    p, q = a[m] - a[m].mean(), b[m] - b[m].mean()
    return float((p * q).sum() / np.sqrt((p * p).sum() * (q * q).sum())), int(m.sum())


def _shift(a: NDArray[np.float64], dy: int, dx: int) -> NDArray[np.float64]:
    out = np.full_like(a, np.nan)
    r, c = a.shape
    out[max(dy, 0) : r + min(dy, 0), max(dx, 0) : c + min(dx, 0)] = a[
        max(-dy, 0) : r + min(-dy, 0), max(-dx, 0) : c + min(-dx, 0)
    ]
    return out


def _register(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, tuple[int, int]]:
    """Best correlation of ``a`` shifted by (dy, dx) against ``b`` (|dy| <= 90, |dx| <= 4)."""
    best = (-2.0, (0, 0))
    for dy in range(-90, 91):
        for dx in range(-4, 5):
            c, _ = _corr(_shift(a, dy, dx), b)
            if np.isfinite(c) and c > best[0]:
                best = (c, (dy, dx))
    return best


def main() -> None:
    if not REAL.is_dir():
        sys.exit(f"{REAL} is absent")
    import nanonispy2

    print(
        "| file | frames | read_sxm_all (ms) | read_sxm_raw (ms) | nanonispy2 (ms) "
        "| all / nanonispy2 | raw / nanonispy2 |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in sorted((REAL / "nanonis").glob("*.sxm")):
        n = len(read_sxm_all(path))
        ours = _time(lambda p=path: read_sxm_all(p))
        raw = _time(lambda p=path: read_sxm_raw(p))
        theirs = _time(lambda p=path: nanonispy2.read.Scan(str(p)))
        print(
            f"| {path.name} | {n} | {ours * 1e3:.1f} | {raw * 1e3:.1f} | {theirs * 1e3:.1f} "
            f"| {ours / theirs:.1f} | {raw / theirs:.1f} |"
        )

    print()
    print("| comparison | correlation | pixels compared |")
    print("|---|---|---|")
    nan = REAL / "nanonis"
    up = _lev(read_scan(nan / "img_0244.sxm", channel="Current").data)
    down = _lev(read_scan(nan / "img_0253.sxm", channel="Current").data)
    raw_up = _lev(read_sxm_raw(nan / "img_0244.sxm")[("Current", "forward")].astype(np.float64))
    c, n = _corr(up, down)
    print(f"| img_0244 (up, flipped by the reader) vs img_0253 (down), Current | {c:.3f} | {n} |")
    c, n = _corr(raw_up, down)
    print(f"| img_0244 as stored vs img_0253 | {c:.3f} | {n} |")
    c, (dy, dx) = _register(up, down)
    print(f"| best registration of flipped img_0244 onto img_0253: shift ({dy}, {dx}) | {c:.3f} | - |")
    c, (dy, dx) = _register(raw_up, down)
    print(f"| best registration of img_0244 as stored onto img_0253: shift ({dy}, {dx}) | {c:.3f} | - |")
    for name, ch in (
        ("STM_nanonis_generic_4_5.sxm", "Z"),
        ("img_0045.sxm", "Z"),
        ("A151216.123306-02602.sxm", "Current"),
    ):
        f = _lev(read_scan(nan / name, channel=ch).data)
        b = _lev(read_scan(nan / name, channel=ch, direction="backward").data)
        (cm, n), (cs, _) = _corr(f, b), _corr(f, b[:, ::-1])
        print(f"| {name} {ch}: forward vs backward, mirrored by the reader | {cm:.3f} | {n} |")
        print(f"| {name} {ch}: forward vs backward as stored | {cs:.3f} | {n} |")
    cre = REAL / "createc" / "createc_scan_step_20nm.dat"
    fw, bw = read_scan(cre).data[:330], read_scan(cre, direction="backward").data[:330]
    print(f"| Createc Z: forward vs backward as stored | {_corr(fw, bw)[0]:.3f} | {_corr(fw, bw)[1]} |")
    print(
        f"| Createc Z: forward vs backward mirrored | {_corr(fw, bw[:, ::-1])[0]:.3f} | {_corr(fw, bw)[1]} |"
    )
    cols = np.nanmedian(fw, axis=0)
    step = np.median(cols[300:]) - np.median(cols[:100])
    cur = np.nanmedian(read_scan(cre, channel="Current").data)
    print()
    print(f"Createc step height: {step * 1e10:.2f} angstrom (Cu(111): 2.08); "
          f"median current {cur * 1e12:.1f} pA (header setpoint 440 pA)")  # fmt: skip


if __name__ == "__main__":
    main()
