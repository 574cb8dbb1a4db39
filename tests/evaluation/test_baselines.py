"""Classical baselines: the optional extra ``[baselines]`` (bm3d, PyWavelets) and the torch-free core."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from stmdenoise.evaluation import BASELINES, apply_baseline, available_baselines, filter_normalised
from stmdenoise.scan import Scan

ROOT = Path(__file__).resolve().parents[2]


def _run_blocked(blocked: list[str], body: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter in which importing any of ``blocked`` raises ImportError."""
    code = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_without_the_extra_wavelet_and_bm3d_say_which_extra_to_install() -> None:
    res = _run_blocked(
        ["bm3d", "pywt", "torch"],
        """
        import numpy as np
        from stmdenoise.evaluation import BASELINES, MissingBaselineError, available_baselines, evaluate
        from stmdenoise.evaluation import EvalResult

        assert available_baselines() == ("gaussian", "median", "nlmeans", "tv"), available_baselines()
        x = np.random.default_rng(0).normal(size=(32, 32))
        for name in ("bm3d", "wavelet"):
            try:
                BASELINES[name].apply(x, 1.0)
            except MissingBaselineError as exc:
                assert "pip install 'stmdenoise[baselines]'" in str(exc), exc
                assert name in str(exc), exc
            else:
                raise SystemExit(name + " ran without its package")
        # the tables run (torch-free) with the baselines that are installed
        rng = np.random.default_rng(1)
        pairs = [(c, c + 0.3 * rng.normal(size=c.shape)) for c in rng.normal(size=(3, 64, 64))]
        res = EvalResult()
        list(evaluate(models=[], test_pairs=pairs[:2], val_pairs=pairs[2:], pixel_size=1e-10,
                      baselines=["gaussian", "median"], result=res))
        assert [r["method"].split(" (")[0] for r in res.table1] == ["Raw input", "Gaussian", "Median"]
        assert "torch" not in sys.modules or sys.modules["torch"] is None
        print("ok")
        """,
    )
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def test_with_the_extra_every_baseline_is_available() -> None:
    pytest.importorskip("bm3d", reason="the [baselines] extra is not installed")
    pytest.importorskip("pywt", reason="the [baselines] extra is not installed")
    assert available_baselines() == tuple(BASELINES)


def test_baseline_on_a_scan_runs_at_the_model_pixel_size_and_comes_back() -> None:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:80, 0:60] * 0.1e-9
    z = 2e-11 * np.cos(2 * np.pi * xx / 1.5e-9) + 5e-12 * rng.standard_normal(xx.shape)
    z[10:14, 20:30] = np.nan
    scan = Scan(z, pixel_size=(0.1e-9, 0.1e-9), unit="m")
    seen: list[tuple[int, ...]] = []

    def identity(a: np.ndarray, _p: float) -> np.ndarray:
        seen.append(a.shape)
        assert np.isfinite(a).all()  # the filter never sees NaN
        return a

    out = filter_normalised(identity, 0.0, scan, 0.2e-9)
    assert seen == [(40, 30)] and out.shape == scan.shape
    assert np.array_equal(np.isnan(out), np.isnan(z))  # unmeasured pixels stay unmeasured
    smooth = apply_baseline(BASELINES["gaussian"], 2.0, scan, 0.2e-9)
    ok = np.isfinite(z)
    assert np.std(smooth[ok] - np.nanmean(smooth)) < np.std(z[ok] - np.nanmean(z))  # it smoothed
    assert abs(np.nanmean(smooth) - np.nanmean(z)) < 2e-12  # in the scan's units


def test_evaluate_cli_refuses_a_missing_baseline_naming_the_extra() -> None:
    res = _run_blocked(
        ["bm3d"],
        """
        from stmdenoise.cli.main import main
        code = main(["evaluate", "--baselines", "gaussian,bm3d", "--pixel-size-nm", "0.14"])
        raise SystemExit(10 + code)
        """,
    )
    assert res.returncode == 12, res.stderr  # 2: a usage error, before anything ran
    assert "--baselines bm3d" in res.stderr and "pip install 'stmdenoise[baselines]'" in res.stderr
