"""The PDA-Net training loop (Algorithm 1): :class:`Trainer`, the run's state, one step at a time.

Per batch: (1) the generators run forward once; (2) every discriminator is updated on the
detached outputs (generators frozen); (3) every generator is updated against the updated,
frozen discriminators. :func:`stmdenoise.training.run.train` drives it as a job (progress
records, cancel, periodic checkpoints, the model folder at the end).

More than one process (``torchrun --nproc-per-node N -m stmdenoise train ...``): each process
draws its own data, gradients are averaged by DistributedDataParallel (gloo on CPU, NCCL on
CUDA) and only rank 0 writes files.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from stmdenoise import __version__
from stmdenoise.model.device import select_device
from stmdenoise.model.folder import ModelInfo, load_model_folder, save_model_folder
from stmdenoise.model.pdanet import PDANet, variant_is_paired_only, variant_uses_da
from stmdenoise.scan import Scan
from stmdenoise.training.checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint
from stmdenoise.training.config import TrainConfig
from stmdenoise.training.data import (
    F32,
    H5Sim,
    OnTheFlySim,
    PairSampler,
    RealImages,
    SimSource,
    _LevelThen,
    _Norm,
    _PairNorm,
    crop_and_augment,
    extreme_pixel,
    load_real_scans,
    paired_crop_and_augment,
    world_sampler,
)
from stmdenoise.training.ema import WeightAverage
from stmdenoise.training.forward import Discriminators, Generators, set_requires_grad
from stmdenoise.training.losses import gan_loss, l1, range_mse, ssim_loss, unsquash
from stmdenoise.training.self_supervised import real_terms_from_config
from stmdenoise.training.teacher import TEACHER_STREAM, Teacher

__all__ = ["Trainer"]

log = logging.getLogger(__name__)


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _maybe_init_distributed(device: torch.device) -> bool:
    """Join the process group torchrun describes in the environment; True if this call created it."""
    if not dist.is_available() or dist.is_initialized():
        return False
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    log.info("joined process group: rank %d of %d (%s)", dist.get_rank(), dist.get_world_size(), backend)
    return True


class Trainer:
    """The state of one training run, advanced one iteration at a time.

    :func:`stmdenoise.training.run.train` is the generator over it (progress records, periodic
    checkpoints, cancel, the model folder at the end); use a ``Trainer`` directly to time or
    inspect single steps (``bench/bench_model.py``, the tests).

    Parameters
    ----------
    config : TrainConfig
        The run.
    sim_sampler : callable or None
        Replaces :func:`stmdenoise.physics.sample_pair` for on-the-fly simulation.
    real_scans : sequence of Scan or None
        Experimental scans in memory, instead of reading ``config.run.real``.
    resume : bool
        Restore networks, optimisers, weight averages, RNG states and the step from
        ``config.run.out/checkpoint``.

    Attributes
    ----------
    net : PDANet
        The networks (generators and discriminators).
    step : int
        Iterations done.
    device : torch.device
        Where the networks run.
    rank, world : int
        This process and the number of processes (DistributedDataParallel under torchrun).
    ema : WeightAverage or None
        The running weight averages (when ``ema`` > 0).

    Examples
    --------
    >>> trainer = Trainer(cfg, sim_sampler=None, real_scans=scans, resume=False)  # doctest: +SKIP
    >>> losses, outputs, inputs = trainer.train_step()  # doctest: +SKIP
    >>> trainer.save_model(losses); trainer.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        sim_sampler: PairSampler | None,
        real_scans: Sequence[Scan] | None,
        resume: bool,
    ) -> None:
        self.cfg = config
        device = select_device(config.run.device)
        if device.type == "cuda" and dist.is_available() and dist.is_initialized() is False:
            local = int(os.environ.get("LOCAL_RANK", "0"))
            if int(os.environ.get("WORLD_SIZE", "1")) > 1:
                device = torch.device("cuda", local)
                torch.cuda.set_device(device)
        self.owns_group = _maybe_init_distributed(device)
        self.rank, self.world = _dist_info()
        self.device = device
        self.amp = bool(config.run.amp and device.type == "cuda" and torch.cuda.is_bf16_supported())
        self.out = Path(config.run.out)
        norm = _Norm(config.norm.low_pct, config.norm.high_pct, config.norm.scale, config.norm.squash)
        # simulated images are levelled like experimental ones (and like the Denoiser's input):
        # the artefact model adds a plane tilt that inference would remove before the network
        sim_norm = _LevelThen(norm) if config.norm.level else norm
        pair_norm = (
            _PairNorm(
                config.norm.low_pct,
                config.norm.high_pct,
                config.norm.scale,
                config.norm.squash,
                config.norm.level,
            )
            if config.sim.pair_norm == "noisy"
            else None
        )

        # ---------------------------------------------------------------- data
        # pairs simulated on the fly (the training stream, and the --lambda-teacher term's own)
        on_the_fly = functools.partial(
            OnTheFlySim,
            seed=config.run.seed,
            pixels=config.sim.pixels,
            size=config.sim.size,
            preset=config.sim.preset,
            pool=config.sim.pool,
            refresh=config.sim.refresh,
            normalise=sim_norm,
            normalise_pair=pair_norm,
        )
        self.sim: SimSource
        if config.sim.dataset:
            self.sim = H5Sim(config.sim.dataset, normalise=sim_norm, normalise_pair=pair_norm)
        else:
            if sim_sampler is None:
                sim_sampler = world_sampler(config.sim.world, "; pass a simulated dataset with --sim DATA")
            self.sim = on_the_fly(sim_sampler)
        self.real: RealImages | None = None
        if variant_uses_da(config.variant) or config.losses.lambda_cyc_exp > 0:
            scans = list(real_scans) if real_scans is not None else None
            if scans is None:
                if not config.run.real:
                    raise ValueError(
                        f"variant {config.variant!r} needs experimental scans (config.run.real is empty)"
                    )
                scans = load_real_scans(config.run.real, nm_per_px=config.run.real_nm_per_px)
            self.real = RealImages.from_scans(
                scans, pixel_size=self.sim.pixel_size, level=config.norm.level, normalise=norm
            )
        # self-supervised real-data terms (ours, not the paper's): stmdenoise.training.self_supervised
        self.real_terms = real_terms_from_config(
            config,
            pixel_size=self.sim.pixel_size,
            spec=config.norm,
        )
        # each process draws its own data; the generator state is checkpointed
        self.data_rng = np.random.default_rng([config.run.seed, 0xDA7A, self.rank])

        # ---------------------------------------------------------------- networks
        torch.manual_seed(config.run.seed)
        self.net = PDANet(config.arch, config.variant).to(device)
        self.gens = Generators(self.net, config.losses.lambda_cyc_exp, config.losses.lambda_anchor)
        self.discs = Discriminators(self.net, config.losses.gan_mode)
        betas = (config.run.beta1, config.run.beta2)
        self.opt_g = torch.optim.Adam(self.net.generator_parameters(), lr=config.run.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.net.discriminator_parameters(), lr=config.run.lr, betas=betas)
        self.step = 0
        if config.run.init and not resume:
            self._init_from(Path(config.run.init))
        # --ema: running averages of the exported generators' weights (G_D, G_DA), saved instead
        self.ema = WeightAverage(self._exported_tensors(), config.run.ema) if config.run.ema > 0 else None
        # --lambda-teacher (ours): the starting model's G_D, frozen, on a stream of scenes of its own
        self.teacher: Teacher | None = None
        if config.losses.lambda_teacher > 0:
            assert config.run.init is not None  # TrainConfig refuses the term without it
            scenes = on_the_fly(world_sampler(config.sim.teacher_world), stream=TEACHER_STREAM)
            self.teacher = Teacher(
                Path(config.run.init), scenes, pixel_size=self.sim.pixel_size, device=device
            )
        if resume:
            if not checkpoint_exists(self.out):
                raise FileNotFoundError(f"--resume: no checkpoint in {self.out / 'checkpoint'}")
            meta = load_checkpoint(
                self.out,
                net=self.net,
                opt_g=self.opt_g,
                opt_d=self.opt_d,
                ema=self.ema.average if self.ema is not None else None,
            )
            if self.ema is not None and not meta["ema_restored"]:
                self.ema.restart()
                log.warning("the checkpoint holds no weight averages: --ema starts from its weights")
            saved = TrainConfig.from_dict(meta["config"])
            if saved.replace(
                steps=config.run.steps, out=config.run.out, device=config.run.device
            ) != config.replace(steps=config.run.steps):
                log.warning(
                    "resuming with settings that differ from the checkpoint's; the run will not be exact"
                )
            self.step = int(meta["step"])
            states = meta.get("data_rng_states", [])
            if self.rank < len(states):
                self.data_rng.bit_generator.state = states[self.rank]
            log.info("resumed from %s at step %d", self.out / "checkpoint", self.step)
        if variant_is_paired_only(config.variant) and self.world > 1:
            raise ValueError("the paired pre-training variant runs in one process (it is fast); use one GPU")
        if self.teacher is not None and self.world > 1:
            raise ValueError("--lambda-teacher runs in one process (G_D runs outside the synchronised pass)")
        self.gens_ddp: nn.Module = self.gens
        self.discs_ddp: nn.Module = self.discs
        if self.world > 1:
            ids = [device.index] if device.type == "cuda" else None
            self.gens_ddp = DDP(self.gens, device_ids=ids)  # no buffers: instance norm keeps no running stats
            self.discs_ddp = DDP(self.discs, device_ids=ids)

    def _exported_tensors(self) -> dict[str, torch.Tensor]:
        """The tensors a model folder saves (G_D's and G_DA's parameters, shared ones once), by name."""
        return {k: t for k, t in self.net.named_unique_tensors() if k.startswith(("g_d.", "g_da."))}

    def _init_from(self, folder: Path) -> None:
        """Start G_D and G_DA from a model folder's generators (same architecture)."""
        info, g_d, g_da = load_model_folder(folder)
        if not info.arch.same_weights_as(self.cfg.arch):
            raise ValueError(
                f"--init {folder}: its architecture {info.arch.to_dict()} differs from this run's "
                f"{self.cfg.arch.to_dict()}"
            )
        with torch.no_grad():
            self.net.g_d.load_state_dict(g_d.state_dict())
            if self.net.g_da is not self.net.g_d:
                # a model without its own G_DA (cyclegan, paired) starts G_DA as a copy of G_D;
                # a shared Up block receives the same weights twice
                self.net.g_da.load_state_dict(g_da.state_dict())
        log.info("generators start from %s (%s, %d steps)", folder, info.variant, info.steps)

    # ------------------------------------------------------------------ data
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        cfg, rng = self.cfg, self.data_rng
        pool = self.sim.indices(self.step)
        s_list: list[F32] = []
        bs_list: list[F32] = []
        for _ in range(cfg.run.batch):
            if cfg.lambda_sup > 0:  # paired losses need aligned clean/noisy crops
                clean, noisy = self.sim.pair(pool[int(rng.integers(len(pool)))])
                around = None
                if cfg.sim.extreme_crops > 0 and rng.random() < cfg.sim.extreme_crops:
                    around = extreme_pixel(clean, rng)  # an adsorbate peak or a core
                a, b = paired_crop_and_augment(clean, noisy, cfg.run.crop, rng, around=around)
            else:  # unpaired: clean and noisy from independent draws
                a = crop_and_augment(self.sim.pair(pool[int(rng.integers(len(pool)))])[0], cfg.run.crop, rng)
                b = crop_and_augment(self.sim.pair(pool[int(rng.integers(len(pool)))])[1], cfg.run.crop, rng)
            s_list.append(a)
            bs_list.append(b)
        e = None
        if self.real is not None:
            e = self._tensor([self.real.crop(cfg.run.crop, rng) for _ in range(cfg.run.batch)])
        return self._tensor(s_list), self._tensor(bs_list), e

    def _tensor(self, images: Sequence[F32]) -> torch.Tensor:
        return torch.from_numpy(np.stack(images)[:, None]).to(self.device)

    # ------------------------------------------------------------------ one iteration
    def train_step(self) -> tuple[dict[str, float], dict[str, torch.Tensor], tuple[torch.Tensor, ...]]:
        """One iteration (Algorithm 1): returns the loss terms, the generators' outputs and the inputs."""
        cfg = self.cfg
        real_s, real_bs, real_e = self._batch()
        if variant_is_paired_only(cfg.variant):
            return self._paired_step(real_s, real_bs)
        autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if self.amp else nullcontext()
        discs = self.net.discriminators()
        # (1) generators forward once
        with autocast:
            g = self.gens_ddp(real_s, real_bs, real_e)
        # (2) discriminators, generators frozen (their outputs detached)
        set_requires_grad(discs, True)
        self.opt_d.zero_grad(set_to_none=True)
        with autocast:
            d_terms = self.discs_ddp(real_s, real_bs, g)
        loss_d = sum(d_terms.values(), torch.zeros((), device=self.device))
        loss_d.backward()
        self.opt_d.step()
        # (3) generators, discriminators frozen
        set_requires_grad(discs, False)
        self.opt_g.zero_grad(set_to_none=True)
        m = cfg.losses.gan_mode
        with autocast:
            terms: dict[str, torch.Tensor] = {
                "adv_D": gan_loss(self.net.d_d(g["fake_s"]), True, mode=m),
                "adv_B": gan_loss(self.net.d_b(g["fake_bs"]), True, mode=m),
                "cyc_fwd": l1(g["rec_bs"], real_bs),
                "cyc_bwd": l1(g["rec_s"], real_s),
            }
            loss_g = (
                cfg.losses.lambda_d * terms["adv_D"]
                + cfg.losses.lambda_b * terms["adv_B"]
                + cfg.losses.lambda_cyc * (terms["cyc_fwd"] + terms["cyc_bwd"])
            )
            if self.net.d_da is not None and "fake_e" in g:
                terms["adv_DA"] = gan_loss(self.net.d_da(g["fake_e"]), True, mode=m)
                loss_g = loss_g + cfg.losses.lambda_da * terms["adv_DA"]
            if self.net.d_fa is not None and "feat_e" in g:
                terms["adv_FA"] = gan_loss(self.net.d_fa(g["feat_e"].float()), True, mode=m)
                loss_g = loss_g + cfg.losses.lambda_fa * terms["adv_FA"]
            paired_terms, paired_loss = self._paired_losses(g["fake_s"], real_s)
            terms.update(paired_terms)
            loss_g = loss_g + paired_loss
            if "rec_e" in g and real_e is not None:
                terms["cyc_exp"] = l1(g["rec_e"], real_e)
                loss_g = loss_g + cfg.losses.lambda_cyc_exp * terms["cyc_exp"]
            if "anchor_e" in g:
                terms["anchor"] = self._l1_in_sup_space(g["fake_e"], g["anchor_e"])
                loss_g = loss_g + cfg.losses.lambda_anchor * terms["anchor"]
            loss_g = loss_g + self._real_terms(terms)
            loss_g = loss_g + self._teacher_terms(terms)
        loss_g.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update()
        set_requires_grad(discs, True)
        losses = {k: float(v.detach()) for k, v in {**terms, **d_terms}.items()}
        losses["cycle"] = losses["cyc_fwd"] + losses["cyc_bwd"]
        losses["G_total"] = float(loss_g.detach())
        losses["D_total"] = float(loss_d.detach())
        self.step += 1
        return losses, g, (real_s, real_bs) + ((real_e,) if real_e is not None else ())

    def _paired_losses(
        self, fake_s: torch.Tensor, real_s: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | float]:
        """The paired terms G_D(I_BS) vs I_S (``sup_L1``, ``range``, ``ssim``) and their weighted sum."""
        cfg = self.cfg
        terms: dict[str, torch.Tensor] = {}
        total: torch.Tensor | float = 0.0
        data = None  # (fake, real) in data units, computed once when a term needs them
        if (
            cfg.losses.lambda_range > 0
            or cfg.losses.lambda_ssim > 0
            or (cfg.lambda_sup > 0 and cfg.losses.sup_space == "data")
        ):
            data = (unsquash(fake_s, cfg.norm.squash), unsquash(real_s, cfg.norm.squash))
        if cfg.lambda_sup > 0:
            terms["sup_L1"] = l1(*data) if data and cfg.losses.sup_space == "data" else l1(fake_s, real_s)
            total = total + cfg.lambda_sup * terms["sup_L1"]
        if data and cfg.losses.lambda_range > 0:
            # min-max scaling is invariant to the affine normalisation, not to the tanh: data units
            terms["range"] = range_mse(*data)
            total = total + cfg.losses.lambda_range * terms["range"]
        if data and cfg.losses.lambda_ssim > 0:
            terms["ssim"] = ssim_loss(*data)
            total = total + cfg.losses.lambda_ssim * terms["ssim"]
        return terms, total

    def _real_terms(self, terms: dict[str, torch.Tensor]) -> torch.Tensor | float:
        """The self-supervised terms on real scans (added to ``terms``) and their weighted sum."""
        if self.real_terms is None:
            return 0.0
        real, total = self.real_terms(self.net.g_da, self.data_rng, self.device)
        terms.update(real)
        return total

    def _teacher_terms(self, terms: dict[str, torch.Tensor]) -> torch.Tensor | float:
        """``--lambda-teacher`` (ours): G_D on noisy crops of ``--teacher-world`` against the starting
        model's G_D on the same crops, in the paired losses' form and weights; its terms are added to
        ``terms`` as ``teacher_*`` and their weighted sum returned (Learning without Forgetting: a
        fine-tune toward a new world keeps the answers of the scenes the start was trained for)."""
        if self.teacher is None:
            return 0.0
        noisy = self._tensor(
            self.teacher.crops(self.step, self.cfg.run.crop, self.cfg.run.batch, self.data_rng)
        )
        got, total = self._paired_losses(self.net.g_d(noisy), self.teacher(noisy))
        terms.update({f"teacher_{k}": v for k, v in got.items()})
        return self.cfg.losses.lambda_teacher * total

    def _l1_in_sup_space(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """L1 of two network outputs where ``--sup-space`` puts the paired L1 (tanh range or data units)."""
        if self.cfg.losses.sup_space == "data":
            return l1(unsquash(a, self.cfg.norm.squash), unsquash(b, self.cfg.norm.squash))
        return l1(a, b)

    def _paired_step(
        self, real_s: torch.Tensor, real_bs: torch.Tensor
    ) -> tuple[dict[str, float], dict[str, torch.Tensor], tuple[torch.Tensor, ...]]:
        """``paired``: G_D(I_BS) ~ I_S with L1 only; G_B and the discriminators stay untouched."""
        autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if self.amp else nullcontext()
        self.opt_g.zero_grad(set_to_none=True)
        with autocast:
            fake_s = self.net.g_d(real_bs)
            terms, loss_g = self._paired_losses(fake_s, real_s)
            loss_g = loss_g + self._real_terms(terms)
            loss_g = loss_g + self._teacher_terms(terms)
        assert isinstance(loss_g, torch.Tensor)  # config: the paired variant has lambda_sup > 0
        loss_g.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update()
        self.step += 1
        losses = {k: float(v.detach()) for k, v in terms.items()}
        losses.update({"cycle": 0.0, "G_total": float(loss_g.detach()), "D_total": 0.0})
        return losses, {"fake_s": fake_s.detach()}, (real_s, real_bs)

    # ------------------------------------------------------------------ files
    def _rng_states(self) -> list[dict[str, Any]]:
        state = dict(self.data_rng.bit_generator.state)
        if self.world == 1:
            return [state]
        gathered: list[Any] = [None] * self.world
        dist.all_gather_object(gathered, state)
        return gathered

    def save_checkpoint(self) -> str | None:
        """Write ``out/checkpoint`` (every rank takes part; rank 0 writes); its folder, or None."""
        states = self._rng_states()  # collective: every rank takes part
        if self.rank != 0:
            return None
        folder = save_checkpoint(
            self.out,
            net=self.net,
            opt_g=self.opt_g,
            opt_d=self.opt_d,
            step=self.step,
            config=self.cfg.to_dict(),
            data_rng_states=states,
            extra={"program_version": __version__, "world_size": self.world},
            ema=self.ema.average if self.ema is not None else None,
        )
        return str(folder)

    def save_model(self, last_losses: Mapping[str, float]) -> str | None:
        """Write the model folder ``out`` (rank 0; the weight averages when ``ema`` > 0); its path."""
        if self.rank != 0:
            return None
        cfg = self.cfg
        info = ModelInfo(
            arch=cfg.arch,
            variant=cfg.variant,
            normalization=cfg.norm,
            pixel_size=self.sim.pixel_size,
            steps=self.step,
            training={
                "config": cfg.to_dict(),
                "simulated": self.sim.description(),
                "experimental": self.real.description() if self.real is not None else [],
                "device": str(self.device),
                "world_size": self.world,
                "final_losses": dict(last_losses),
            },
            name=self.out.name,
        )
        dtype = torch.float16 if cfg.run.weights_dtype == "float16" else torch.float32
        with self.ema.swapped_in() if self.ema is not None else nullcontext():
            save_model_folder(self.out, info, self.net.g_d, self.net.g_da, dtype=dtype)
        return str(self.out)

    def close(self) -> None:
        """Close the simulated dataset and leave a process group this trainer created."""
        if isinstance(self.sim, H5Sim):
            self.sim.close()
        if self.owns_group and dist.is_initialized():
            # every rank leaves together: a gloo rank tearing down while a peer still writes
            # (rank 0 saves the model alone) can abort the peer ("terminate called without an
            # active exception", SIGABRT), failing a run that had finished
            dist.barrier()
            dist.destroy_process_group()
