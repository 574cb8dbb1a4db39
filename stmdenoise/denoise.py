"""Denoise scans with a model folder: pick a device, tile, restore units.

>>> from stmdenoise.denoise import Denoiser, default_model_dir   # doctest: +SKIP
>>> clean = Denoiser.from_folder(default_model_dir()).denoise(scan)  # doctest: +SKIP

The returned :class:`~stmdenoise.scan.Scan` has the input's shape, units, orientation and
metadata; unmeasured (NaN) pixels stay NaN and never influence their neighbours' values
beyond what the nearest-value fill feeds the network.

Pipeline: plane levelling (added back at the end) -> resampling to the model's pixel size ->
robust normalisation (and the model's soft compression) -> G_DA (experimental scans) or G_D
(simulated) -> inverse normalisation -> resampling back onto the input grid. Scans larger
than ``tile`` pixels are processed in overlapping tiles (overlap >= the receptive field,
starts aligned to the 4-px stride), blended with feathered weights; every tile uses the same
instance-norm statistics, pooled in a first pass over non-overlapping tiles, so tiles do not
disagree at their seams.

A folder with an ``experimental_path`` (:mod:`stmdenoise.model.spectral_gain`) denoises
experimental scans with the spectral gain instead: on the scan's own grid at any pixel size
(nothing resampled, no normalisation: it only scales Fourier coefficients of the levelled
scan), on the CPU; G_D still denoises simulated images. Under the do-no-harm policy a scan
whose adjacent lines repeat their fine detail (line coherence at or above the folder's
``refuse_line_coherence``) is not denoised by the gain, and the verdict says why. When the
folder's experimental path says ``two_direction`` and the scan's other direction is given
(``partner``), the noise spectrum is measured from the two instead (:mod:`stmdenoise.pairing`,
:mod:`stmdenoise.model.two_direction`; for a current recorded with the Z feedback on, from its
other direction negated where that agrees), except for pairs too small for it; a quiet scan
that the filter can serve is then denoised, not declined.
"""

from __future__ import annotations

import logging
import math
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import NDArray

from stmdenoise import __version__
from stmdenoise.model.device import select_device
from stmdenoise.model.folder import ModelInfo, load_gain, load_model_folder
from stmdenoise.model.generator import STRIDE, Generator, receptive_field
from stmdenoise.model.inference import onnx_runner_for, run_tiled
from stmdenoise.model.onnx_runner import OnnxRunner, onnx_available
from stmdenoise.model.spectral_gain import GAIN_KIND, GainWeights, apply_gain, line_coherence
from stmdenoise.model.two_direction import KIND as TWO_DIRECTION_KIND
from stmdenoise.pairing import (
    TwoDirectionPair,
    denoise_pair,
    prepare_pair,
    two_direction_denoise,  # re-exported (bench, tests)
)
from stmdenoise.paths import default_model_dir  # default_model_dir: re-exported
from stmdenoise.plan import (
    ANY_PIXEL_SIZE,
    MAX_WORK_PIXELS,
    MAX_ZOOM,
    MIN_MODEL_PIXELS,
    DenoisePlan,
    plan_denoise,
    wave_matched_view,
)
from stmdenoise.processing import to_network
from stmdenoise.processing.tiling import PASSES, mirror_average
from stmdenoise.safety import Verdict, judge
from stmdenoise.scan import ProcessingStep, Scan

__all__ = [
    "Checked",
    "Denoiser",
    "MIN_MODEL_PIXELS",
    "PASSES",
    "ScanTooSmallError",
    "default_model_dir",
    "two_direction_denoise",
    "Which",
]

log = logging.getLogger(__name__)

Which = Literal["auto", "experimental", "simulated"]
ProgressCallback = Callable[[int, int], None]


class ScanTooSmallError(ValueError):
    """The scan covers too few of the model's pixels to be denoised faithfully."""


@dataclass(frozen=True)
class Checked:
    """Result of :meth:`Denoiser.denoise_checked`.

    Attributes
    ----------
    delivered : Scan
        What to show and write: the model's output, or the do-no-harm fallback.
    model : Scan or None
        The model's own output (None when the plan refused to run it).
    verdict : Verdict
        What was delivered and why, with the fidelity figures.
    """

    delivered: Scan
    model: Scan | None
    verdict: Verdict


@dataclass
class _Run:
    device: torch.device
    tile: int


class Denoiser:
    """A loaded model ready to denoise scans.

    Parameters
    ----------
    info : ModelInfo
        The model folder's ``config.json``.
    g_d, g_da : Generator
        Denoisers for simulated and experimental scans (may be the same network).
    device : torch.device
        Where the networks run.
    tile : int
        Largest tile side in model pixels (default 1024); larger scans are tiled.
    path : Path, optional
        The model folder (for provenance).
    backend : {"auto", "torch", "onnx"}
        ``auto`` runs single-pass CPU inference in ONNX Runtime when ``onnx`` and
        ``onnxruntime`` are installed (faster), PyTorch otherwise.
    gain : GainWeights, optional
        The folder's experimental path (``info.experimental_path``): denoises experimental
        scans instead of G_DA.
    """

    def __init__(
        self,
        info: ModelInfo,
        g_d: Generator,
        g_da: Generator,
        device: torch.device,
        *,
        tile: int = 1024,
        path: Path | None = None,
        backend: str = "auto",
        gain: GainWeights | None = None,
    ) -> None:
        if backend not in ("auto", "torch", "onnx"):
            raise ValueError(f"backend must be 'auto', 'torch' or 'onnx', got {backend!r}")
        if backend == "onnx" and not onnx_available():
            raise ValueError("backend 'onnx' needs the onnx and onnxruntime packages")
        self.backend = backend
        self._onnx: dict[int, OnnxRunner | None] = {}
        self.info = info
        self.g_d, self.g_da = g_d.eval(), g_da.eval()
        self.device = device
        self.overlap = -(-receptive_field(info.arch.n_blocks) // STRIDE) * STRIDE
        if isinstance(tile, bool) or not isinstance(tile, int) or tile < 2 * self.overlap + 4 * STRIDE:
            raise ValueError(f"tile must be an integer >= {2 * self.overlap + 4 * STRIDE}, got {tile!r}")
        self.tile = tile - tile % STRIDE
        self.path = path
        if (gain is None) != (info.experimental_path is None):
            raise ValueError("gain weights are needed exactly when info.experimental_path is set")
        self.gain = gain
        self._lock = threading.Lock()
        #: Seconds per million working pixels and pass, measured on the last network denoise (None before).
        self.seconds_per_megapixel: float | None = None
        #: The same for the spectral path (it runs at another speed, always on the CPU).
        self.gain_seconds_per_megapixel: float | None = None
        # the last scan's line coherence, prepared pair and wave grid (:meth:`_once`)
        self._memo: dict[str, tuple[tuple[Any, ...], Any]] = {}

    @classmethod
    def from_folder(
        cls, path: str | Path, device: str = "auto", *, tile: int = 1024, backend: str = "auto"
    ) -> Denoiser:
        """Load a model folder (``config.json`` + ``weights.safetensors``) onto ``device``.

        Raises :class:`~stmdenoise.model.folder.ModelFolderError` for a foreign or damaged folder
        and ValueError for an unavailable device.
        """
        dev = select_device(device)
        info, g_d, g_da = load_model_folder(path, device=dev)
        gain = load_gain(path, info)
        return cls(info, g_d, g_da, dev, tile=tile, path=Path(path), backend=backend, gain=gain)

    @property
    def pixel_size(self) -> float:
        """Pixel size (metres) the model was trained at."""
        return self.info.pixel_size

    def plan(
        self,
        scan: Scan,
        *,
        passes: int = 1,
        max_zoom: float = MAX_ZOOM,
        max_pixels: int = MAX_WORK_PIXELS,
        which: Which = "auto",
    ) -> DenoisePlan:
        """How the network would see ``scan``: working grid, resampling, time, or why it refuses.

        See :func:`stmdenoise.safety.plan_denoise`; the time uses this Denoiser's measured speed
        once it has denoised a scan. The spectral path (:meth:`uses_gain`) works on the scan's own
        grid whatever its pixel size; only the size limits apply. G_D: :meth:`_network_view`."""
        gain = self.uses_gain(scan, which)
        view, period = self._network_view(scan, which)
        plan = plan_denoise(
            view.shape, view.pixel_size, self.pixel_size, passes=passes, max_zoom=max_zoom,
            seconds_per_megapixel=self.gain_seconds_per_megapixel if gain else self.seconds_per_megapixel,
            max_pixels=max_pixels, device="cpu" if gain else self.device.type,
            native_range=ANY_PIXEL_SIZE if gain else self.info.native_pixel_size_range,
        )  # fmt: skip
        return replace(plan, wave_period=period)

    def _network_view(self, scan: Scan, which: Which) -> tuple[Scan, float | None]:
        """A simulated image as G_D grids it (:func:`~stmdenoise.plan.wave_matched_view`), else as is."""
        if self.generator_for(scan, which)[0] != "simulated":
            return scan, None
        return self._once("waves", (scan.data,), lambda: wave_matched_view(scan))

    def checked_plan(
        self,
        scan: Scan,
        *,
        passes: int = 1,
        max_zoom: float = MAX_ZOOM,
        max_pixels: int = MAX_WORK_PIXELS,
        which: Which = "auto",
        partner: Scan | None = None,
    ) -> DenoisePlan:
        """The plan :meth:`denoise_checked` follows: :meth:`plan` plus the quiet-scan refusal of
        the spectral path (:meth:`quiet_refusal`), unless ``partner`` (the other scan direction) lets
        the two-direction Wiener serve the scan instead of the gain (docs/model-selection.md,
        candidate Q). What the app and the CLI announce before a run."""
        plan = self.plan(scan, passes=passes, max_zoom=max_zoom, max_pixels=max_pixels, which=which)
        if plan.runs and (quiet := self.quiet_refusal(scan, which)):
            if partner is None or self._pair(scan, partner, quiet=True) is None:
                plan = replace(plan, refusal=quiet)
        return plan

    def generator_for(self, scan: Scan, which: Which = "auto") -> tuple[str, Generator]:
        """``("experimental", G_DA)`` or ``("simulated", G_D)``; ``auto`` reads ``header["simulated"]``."""
        if which not in ("auto", "experimental", "simulated"):
            raise ValueError(f"which must be 'auto', 'experimental' or 'simulated', got {which!r}")
        if which == "auto":
            which = "simulated" if bool(scan.header.get("simulated", False)) else "experimental"
        return which, (self.g_d if which == "simulated" else self.g_da)

    def uses_gain(self, scan: Scan, which: Which = "auto") -> bool:
        """True when ``scan`` goes to the spectral gain (an experimental scan, a folder that has one)."""
        return self.gain is not None and self.generator_for(scan, which)[0] == "experimental"

    def quiet_refusal(self, scan: Scan, which: Which = "auto") -> str:
        """Why the spectral path declines ``scan`` as quiet ("" when it does not).

        The folder's ``refuse_line_coherence``: a scan whose even and odd lines agree on their
        fine detail (:func:`~stmdenoise.model.spectral_gain.line_coherence`) has little noise to
        remove, and on the selection scans of docs/model-selection.md the gain removed signal there.
        """
        spec = self.info.experimental_path
        if not self.uses_gain(scan, which) or spec is None or spec.refuse_line_coherence is None:
            return ""
        q = self._once("coherence", (scan.data,), lambda: line_coherence(np.asarray(scan.data)))
        if q < spec.refuse_line_coherence:
            return ""
        return (
            f"a quiet scan: its adjacent lines repeat their fine detail (line coherence {q:.2f} >= "
            f"{spec.refuse_line_coherence:.2f}), so there is little noise to remove and the spectral "
            "gain would remove signal with it"
        )

    # ------------------------------------------------------------------ public
    def denoise(
        self,
        scan: Scan,
        *,
        which: Which = "auto",
        passes: int = 1,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        max_zoom: float = math.inf,
        max_pixels: int = MAX_WORK_PIXELS,
        partner: Scan | None = None,
    ) -> Scan:
        """Denoise ``scan``; returns a Scan with the same shape, units, orientation and metadata.

        This is the bare model pass (for evaluation on simulated pairs); what users get goes
        through :meth:`denoise_checked`, which also refuses harmful resampling and outputs.

        Parameters
        ----------
        scan : Scan
            Any channel; NaN marks unmeasured pixels (they stay NaN).
        which : {"auto", "experimental", "simulated"}
            G_DA for experimental scans, G_D for simulated ones; ``auto`` uses G_D only when
            ``scan.header["simulated"]`` is true.
        passes : {1, 2, 4}
            Network passes averaged over mirrorings that keep scan lines horizontal
            (:data:`~stmdenoise.processing.tiling.PASSES`; four: 4x the time, smoother).
        cancel : threading.Event, optional
            Checked between tiles; when set, :class:`~stmdenoise.jobs.JobCancelled` is raised.
        progress : callable, optional
            ``progress(done, total)`` after each network pass over a tile.
        max_zoom : float
            Largest enlargement or reduction onto the model's grid (default: any).
        max_pixels : int
            Largest working image, pixels (memory bound).
        partner : Scan, optional
            The scan's other direction (:func:`stmdenoise.safety.partner_of`): with a folder whose
            experimental path says ``two_direction``, the noise spectrum is measured from the two
            (:func:`two_direction_denoise`; the log says why when it cannot).

        Returns
        -------
        Scan
            Denoised data in ``scan.unit``, with a ``denoise`` processing step appended.

        Raises
        ------
        ScanTooSmallError
            Fewer than :data:`~stmdenoise.safety.MIN_MODEL_PIXELS` per side on the model's grid.
        ValueError
            Over ``max_zoom`` or ``max_pixels``, no measured pixel, or non-finite output.
        """
        if not isinstance(scan, Scan):
            raise ValueError(f"scan must be a Scan, got {type(scan).__name__}")
        if isinstance(passes, bool) or not isinstance(passes, int) or passes not in PASSES:
            raise ValueError(f"passes must be one of {', '.join(map(str, PASSES))}, got {passes!r}")
        which_name, gen = self.generator_for(scan, which)
        measured = np.isfinite(scan.data)
        if not measured.any():
            raise ValueError("scan has no measured (finite) pixel: nothing to denoise")
        plan = self.plan(scan, passes=passes, max_zoom=max_zoom, max_pixels=max_pixels, which=which)
        if plan.refusal:
            error = ScanTooSmallError if min(plan.work_shape) < MIN_MODEL_PIXELS else ValueError
            raise error(f"{scan.describe()}: {plan.refusal}")
        if self.uses_gain(scan, which):
            if partner is not None:
                two = self._denoise_two_direction(scan, partner, which, cancel, progress)
                if two is not None:
                    return two
            return self._denoise_gain(scan, passes, cancel, progress)
        if plan.resampled:
            log.info("%s: %s", scan.describe(), plan.describe())
        # the plan's grid: the model's pixel size, or (native range) the scan's own (None)
        view = self._network_view(scan, which)[0]  # a simulated image's wave-matched pixel size
        x, inverse = to_network(view, self.info.normalization, plan.work_pixel_size)
        averaged, self.seconds_per_megapixel = mirror_average(
            lambda a, tick: inverse.uncompress(self._run_network(gen, a, cancel=cancel, progress=tick)),
            x, passes, progress,
        )  # fmt: skip
        result = inverse.restore(averaged)
        if not np.isfinite(result[measured]).all():
            raise ValueError(
                f"{scan.describe()}: the model produced non-finite values (NaN or inf) on measured "
                "pixels; its normalisation or weights are broken, nothing was written"
            )
        generator = "G_D" if which_name == "simulated" else "G_DA"
        grid: dict[str, Any] = {"model_pixel_size": self.pixel_size}
        if plan.native:
            grid["native_grid"] = True
        if plan.wave_period is not None:
            grid["wave_period_px"] = round(plan.wave_period, 2)
        return scan.with_data(result, self._step(generator, passes, **grid))

    def denoise_checked(
        self,
        scan: Scan,
        *,
        partner: Scan | None = None,
        policy: str = "fallback",
        which: Which = "auto",
        passes: int = 1,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        max_zoom: float = MAX_ZOOM,
        max_pixels: int = MAX_WORK_PIXELS,
    ) -> Checked:
        """Denoise ``scan`` under the do-no-harm policy (:mod:`stmdenoise.safety`).

        The plan decides whether the model may run at all (resampling within ``max_zoom``,
        size within ``max_pixels``); ``partner``, a second look at the same area (the other scan
        direction, see :func:`stmdenoise.safety.partner_of`), lets the output be scored against
        the surface; ``policy`` decides what to deliver when the model would do harm.

        Returns
        -------
        Checked
            ``delivered`` (what to show and write), the model's own output, and the verdict.

        Raises
        ------
        stmdenoise.safety.HarmError
            ``policy="refuse"`` and the model would do harm (or could not be run).
        """
        plan = self.checked_plan(
            scan, passes=passes, max_zoom=max_zoom, max_pixels=max_pixels, which=which, partner=partner
        )
        model_out = None
        if plan.runs:
            model_out = self.denoise(
                scan, which=which, passes=passes, cancel=cancel, progress=progress,
                max_zoom=max_zoom, max_pixels=max_pixels, partner=partner,
            )  # fmt: skip
        alternative = self._single_frame_alternative(scan, model_out, policy, which, passes, cancel)
        delivered, verdict = judge(
            scan, model_out, partner, policy=policy, plan=plan, alternative=alternative
        )
        return Checked(delivered, model_out, verdict)

    def _single_frame_alternative(
        self,
        scan: Scan,
        model_out: Scan | None,
        policy: str,
        which: Which,
        passes: int,
        cancel: threading.Event | None,
    ) -> Scan | None:
        """The gain's output on ``scan`` alone, for the judge to weigh against ``model_out``
        (:func:`stmdenoise.safety.judge`'s ``alternative``), where ``model_out`` came from the
        two-direction Wiener, the policy lets the judge choose (``fallback``) and the gain does
        not decline the scan as quiet (docs/model-selection.md, candidate DH); else None."""
        made = model_out.steps[-1].params if model_out is not None and model_out.steps else {}
        if policy != "fallback" or made.get("generator") != TWO_DIRECTION_KIND:
            return None
        if not self.uses_gain(scan, which) or self.quiet_refusal(scan, which):
            return None
        return self._denoise_gain(scan, passes, cancel, None)

    # ------------------------------------------------------------------ spectral path
    def _denoise_gain(
        self,
        scan: Scan,
        passes: int,
        cancel: threading.Event | None,
        progress: ProgressCallback | None,
    ) -> Scan:
        """The spectral gain on the scan's own grid, averaged over ``passes`` mirrorings."""
        assert self.gain is not None and self.info.experimental_path is not None
        gain = self.gain
        data = np.asarray(scan.data, dtype=np.float64)
        result, self.gain_seconds_per_megapixel = mirror_average(
            lambda a, tick: apply_gain(gain, a, cancel=cancel, progress=tick), data, passes, progress
        )
        measured = np.isfinite(data)
        if not np.isfinite(result[measured]).all():
            raise ValueError(
                f"{scan.describe()}: the spectral gain produced non-finite values; nothing was written"
            )
        return scan.with_data(result, self._step(GAIN_KIND, passes, native_grid=True))

    def _pair(self, scan: Scan, partner: Scan, quiet: bool) -> TwoDirectionPair | None:
        """What the two-direction Wiener reads for this pair (:func:`prepare_pair`); None (after
        logging why) when the folder does not ask for the filter or the pair cannot serve."""
        spec = self.info.experimental_path
        if spec is None or not spec.two_direction:
            return None

        def prepare() -> TwoDirectionPair | None:
            try:
                return prepare_pair(scan, partner, quiet=quiet)
            except ValueError as exc:  # TwoDirectionError, NotScorableError (nothing to register on)
                log.info("%s: the two-direction filter cannot serve this pair: %s", scan.describe(), exc)
                return None

        return self._once("pair", (scan.data, partner.data, quiet), prepare)

    def _once(self, name: str, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, or the last answer for ``name`` while ``key`` holds the same objects (a
        scan's read-only arrays, flags): the plan, the announcement and the denoise ask in turn."""
        last = self._memo.get(name)
        if last is not None and len(last[0]) == len(key) and all(map(operator.is_, last[0], key)):
            return last[1]
        value = compute()
        self._memo[name] = (key, value)
        return value

    def _denoise_two_direction(
        self,
        scan: Scan,
        partner: Scan,
        which: Which,
        cancel: threading.Event | None,
        progress: ProgressCallback | None,
    ) -> Scan | None:
        """The two-direction Wiener when the folder asks for it and the pair can serve, else None."""
        pair = self._pair(scan, partner, quiet=bool(self.quiet_refusal(scan, which)))
        if pair is None:
            return None
        report: dict[str, Any] = {}  # strip_levels: each strip's own level under 2 Å (AM, AQ)
        result = denoise_pair(scan, pair, cancel=cancel, progress=progress, report=report)
        grid = {"native_grid": True, "noise_from": partner.direction, "band_rows": pair.band, **report}
        return scan.with_data(result, self._step(TWO_DIRECTION_KIND, 1, **grid))

    def _step(self, generator: str, passes: int, **grid: Any) -> ProcessingStep:
        """The ``denoise`` processing step of either path (``grid``: how the scan was gridded)."""
        return ProcessingStep(
            "denoise",
            {
                "model": self.info.name or (self.path.name if self.path else ""),
                "variant": self.info.variant,
                "generator": generator,
                "steps": self.info.steps,
                **grid,
                "passes": passes,
                # the program that ran this step (the two-direction Wiener and the gain's
                # handling change with it), and the one that trained the model folder
                "program_version": __version__,
                "model_program_version": self.info.program_version,
            },
        )

    # ------------------------------------------------------------------ network passes
    def _onnx_runner(self, gen: Generator) -> OnnxRunner | None:
        if self.backend == "torch" or self.device.type != "cpu":
            return None
        if id(gen) not in self._onnx:
            self._onnx[id(gen)] = onnx_runner_for(
                gen, self.info.arch.to_dict(), required=self.backend == "onnx"
            )
        return self._onnx[id(gen)]

    def _run_network(
        self,
        gen: Generator,
        x: NDArray[np.float64],
        *,
        cancel: threading.Event | None,
        progress: ProgressCallback | None,
    ) -> NDArray[np.float32]:
        with self._lock:  # norm-statistics modes are network state: one denoise at a time
            run = _Run(self.device, self.tile)
            while True:
                try:
                    return self._tiled(gen, x, run, cancel=cancel, progress=progress)
                except torch.cuda.OutOfMemoryError:
                    if run.device.type != "cuda":
                        raise
                    torch.cuda.empty_cache()
                    smaller = (run.tile // 2) - (run.tile // 2) % STRIDE
                    if smaller >= 2 * self.overlap + 4 * STRIDE:
                        log.warning(
                            "CUDA out of memory with %d px tiles; retrying with %d px", run.tile, smaller
                        )
                        run.tile = smaller
                    else:
                        log.warning("CUDA out of memory even with small tiles; continuing on the CPU")
                        run.device = torch.device("cpu")
                        gen.to(run.device)
                        self.g_d.to(run.device)
                        self.g_da.to(run.device)
                        self.device = run.device

    def _tiled(
        self,
        gen: Generator,
        x: NDArray[np.float64],
        run: _Run,
        *,
        cancel: threading.Event | None,
        progress: ProgressCallback | None,
    ) -> NDArray[np.float32]:
        whole = x.shape[0] <= run.tile and x.shape[1] <= run.tile  # ONNX serves one-pass scans only
        runner = self._onnx_runner(gen) if whole and run.device.type == "cpu" else None
        return run_tiled(
            gen, x, device=run.device, tile=run.tile, overlap=self.overlap, runner=runner,
            cancel=cancel, progress=progress,
        )  # fmt: skip
