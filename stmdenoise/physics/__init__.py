"""Cu(111) surface-state physics: LDOS simulator (Green's function + T-matrix), STM artefacts,
clean/noisy pairs and datasets. numpy/scipy only (never torch, never Qt).

Names are imported on first use (PEP 562), so a light submodule (the artefact presets) loads
without the simulator and h5py: ``stmdenoise`` command start-up stays short.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from stmdenoise.lazy import lazy_attribute

if TYPE_CHECKING:
    from stmdenoise.physics.artefacts import (
        PRESETS,
        ArtefactConfig,
        apply_artefacts,
        apply_artefacts_trace_retrace,
        scan_statistics,
    )
    from stmdenoise.physics.dataset import (
        DatasetProgress,
        DatasetResult,
        SimulatedDataset,
        image_rng,
        open_dataset,
        simulate_dataset,
    )
    from stmdenoise.physics.ldos import (
        StepEdge,
        clean_ldos,
        corral_positions,
        ldos_map,
        ldos_points,
        phase_shift_to_tau,
        wavevector,
    )
    from stmdenoise.physics.pairs import (
        PHASE_SHIFT_NAMES,
        SimulatedPair,
        SimulatedScan,
        sample_pair,
        sample_scan,
    )
    from stmdenoise.physics.raster import raster_warp
    from stmdenoise.physics.surface import (
        Surface,
        didv_map,
        geometry,
        lattice_positions,
        quadrature_nodes,
        random_phase_shifts,
        random_surface,
        render,
        topograph,
    )

#: Where each public name lives (submodule of this package).
_WHERE: dict[str, str] = {
    "ArtefactConfig": "artefacts",
    "DatasetProgress": "dataset",
    "DatasetResult": "dataset",
    "PHASE_SHIFT_NAMES": "pairs",
    "PRESETS": "artefacts",
    "SimulatedDataset": "dataset",
    "SimulatedPair": "pairs",
    "SimulatedScan": "pairs",
    "StepEdge": "ldos",
    "Surface": "surface",
    "apply_artefacts": "artefacts",
    "apply_artefacts_trace_retrace": "artefacts",
    "clean_ldos": "ldos",
    "corral_positions": "ldos",
    "didv_map": "surface",
    "geometry": "surface",
    "image_rng": "dataset",
    "lattice_positions": "surface",
    "ldos_map": "ldos",
    "ldos_points": "ldos",
    "open_dataset": "dataset",
    "phase_shift_to_tau": "ldos",
    "quadrature_nodes": "surface",
    "random_phase_shifts": "surface",
    "random_surface": "surface",
    "raster_warp": "raster",
    "render": "surface",
    "sample_pair": "pairs",
    "sample_scan": "pairs",
    "scan_statistics": "artefacts",
    "simulate_dataset": "dataset",
    "topograph": "surface",
    "wavevector": "ldos",
}


def _submodule(name: str) -> ModuleType:
    """The submodule ``name`` (plain imports, visible to mypy and import-linter)."""
    if name == "artefacts":
        from stmdenoise.physics import artefacts

        return artefacts
    if name == "dataset":
        from stmdenoise.physics import dataset

        return dataset
    if name == "ldos":
        from stmdenoise.physics import ldos

        return ldos
    if name == "pairs":
        from stmdenoise.physics import pairs

        return pairs
    if name == "raster":
        from stmdenoise.physics import raster

        return raster
    if name == "surface":
        from stmdenoise.physics import surface

        return surface
    raise AttributeError(f"module {__name__!r} has no submodule {name!r}")


def __getattr__(name: str) -> Any:
    return lazy_attribute(globals(), __name__, name, _WHERE, _submodule)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DatasetProgress",
    "DatasetResult",
    "SimulatedDataset",
    "image_rng",
    "open_dataset",
    "simulate_dataset",
    "PRESETS",
    "PHASE_SHIFT_NAMES",
    "ArtefactConfig",
    "SimulatedPair",
    "SimulatedScan",
    "StepEdge",
    "Surface",
    "apply_artefacts",
    "apply_artefacts_trace_retrace",
    "raster_warp",
    "clean_ldos",
    "corral_positions",
    "didv_map",
    "geometry",
    "lattice_positions",
    "ldos_map",
    "ldos_points",
    "phase_shift_to_tau",
    "quadrature_nodes",
    "random_phase_shifts",
    "random_surface",
    "render",
    "sample_pair",
    "sample_scan",
    "scan_statistics",
    "topograph",
    "wavevector",
]
