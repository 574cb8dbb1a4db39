"""Evaluation of denoisers: classical baselines, the paper's Tables I and II, faithfulness measures.

* :mod:`~stmdenoise.evaluation.baselines`: Gaussian, median, non-local means, total variation,
  wavelet and BM3D (the last two need the optional extra ``stmdenoise[baselines]``);
* :mod:`~stmdenoise.evaluation.tables`: :func:`evaluate` (a generator of progress records) fills
  Table I (MSE/PSNR/SSIM on simulated pairs) and Table II (BRISQUE/PIQE on experimental scans);
* :mod:`~stmdenoise.evaluation.faithfulness`: impurity cores, adsorbate heights, standing-wave
  period and residual statistics on simulated pairs.

Importing this package does not import torch; :func:`evaluate` does when it loads model folders.
"""

from stmdenoise.evaluation.baselines import (
    BASELINES,
    EXTRA,
    Baseline,
    MissingBaselineError,
    apply_baseline,
    available_baselines,
    filter_normalised,
    real_input,
)
from stmdenoise.evaluation.faithfulness import adsorbate_heights, core_recovery, faithfulness_row, wave_period
from stmdenoise.evaluation.tables import (
    EvalProgress,
    EvalResult,
    evaluate,
    load_pairs,
    rmse_pm,
    tables_csv,
    tables_markdown,
)

__all__ = [
    "BASELINES",
    "EXTRA",
    "Baseline",
    "EvalProgress",
    "EvalResult",
    "MissingBaselineError",
    "adsorbate_heights",
    "apply_baseline",
    "available_baselines",
    "core_recovery",
    "evaluate",
    "faithfulness_row",
    "filter_normalised",
    "load_pairs",
    "real_input",
    "rmse_pm",
    "tables_csv",
    "tables_markdown",
    "wave_period",
]
