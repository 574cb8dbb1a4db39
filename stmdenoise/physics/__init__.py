"""Cu(111) surface-state physics: LDOS simulator (Green's function + T-matrix), STM artefacts,
clean/noisy pairs and datasets. numpy/scipy only (never torch, never Qt)."""

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
from stmdenoise.physics.pairs import PHASE_SHIFT_NAMES, SimulatedPair, SimulatedScan, sample_pair, sample_scan
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
