"""Which core capabilities have landed, and what to tell the user when one is missing.

The GUI never fakes a result: a panel whose capability cannot be imported shows the message
returned here (naming the missing function) instead of output.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["Capability", "capability", "CAPABILITIES"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capability:
    """A named set of core functions one panel needs."""

    key: str
    module: str
    names: tuple[str, ...]
    purpose: str

    def missing(self) -> str | None:
        """None when every name imports, else a one-line message saying what is missing."""
        try:
            mod = importlib.import_module(self.module)
        except ImportError as exc:
            return f"{self.purpose} needs {self.module} ({exc}); it has not landed yet"
        absent = [n for n in self.names if not hasattr(mod, n)]
        if absent:
            names = ", ".join(f"{self.module}.{n}" for n in absent)
            return f"{self.purpose} needs {names}, which is not available yet"
        return None

    def get(self, name: str) -> Any:
        """The function ``name`` of this capability (raises ImportError when missing)."""
        if name not in self.names:
            raise ValueError(f"name must be one of {self.names}, got {name!r}")
        mod = importlib.import_module(self.module)
        try:
            return getattr(mod, name)
        except AttributeError as exc:
            raise ImportError(f"{self.module}.{name} is not available yet") from exc

    @property
    def available(self) -> bool:
        """True when every name imports."""
        return self.missing() is None


CAPABILITIES: dict[str, Capability] = {
    c.key: c
    for c in (
        Capability("io", "stmdenoise.io", ("read_scan", "list_channels", "write_scan"), "Opening scans"),
        Capability(
            "level",
            "stmdenoise.processing",
            ("level_plane", "level_poly", "level_facet", "level_three_points", "level_rows"),
            "Background levelling",
        ),
        Capability("align", "stmdenoise.processing", ("align_rows",), "Row alignment"),
        Capability(
            "spectrum",
            "stmdenoise.processing",
            ("power_spectrum", "find_ring", "describe_ring", "crop_rect"),
            "Fourier view and crop",
        ),
        Capability("denoise", "stmdenoise.denoise", ("Denoiser", "default_model_dir"), "Denoising"),
        Capability("metrics", "stmdenoise.metrics", ("brisque", "piqe"), "Quality scores"),
        Capability(
            "stm_metrics",
            "stmdenoise.metrics",
            ("line_artefact_index", "noise_floor", "residual_stats"),
            "STM-native quality measures",
        ),
        Capability("simulate", "stmdenoise.physics", ("sample_pair",), "Simulation preview"),
        Capability("dataset", "stmdenoise.physics", ("simulate_dataset",), "Generating a dataset"),
        Capability("train", "stmdenoise.training", ("TrainConfig", "train"), "Training"),
    )
}


def capability(key: str) -> Capability:
    """The capability called ``key`` (see :data:`CAPABILITIES`)."""
    try:
        return CAPABILITIES[key]
    except KeyError:
        raise ValueError(f"key must be one of {sorted(CAPABILITIES)}, got {key!r}") from None
