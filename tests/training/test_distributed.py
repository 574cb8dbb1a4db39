"""Two gloo processes on CPU run DistributedDataParallel training steps in lock-step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from stmdenoise.scan import Scan
from stmdenoise.training import TrainConfig, Trainer
from stmdenoise.training.checkpoint import read_checkpoint_meta


def _worker(rank: int, world: int, init_file: str, out: str, sampler) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        yy, xx = np.mgrid[0:40, 0:40] * 0.14e-9
        real = [Scan(np.cos(2 * np.pi * xx / 1.5e-9) + 0.1 * yy / 1e-9, pixel_size=(0.14e-9, 0.14e-9))]
        cfg = TrainConfig.from_dict(dict(
            variant="pdanet", steps=2, crop=32, batch=1, ngf=4, blocks=1, ndf=4, fa_width=4,
            sim_pixels=40, sim_size=40 * 0.14e-9, sim_pool=2, real=("mem",), out=out,
            checkpoint_every=0, preview_every=0, seed=1, device="cpu",
        ))  # fmt: skip
        trainer = Trainer(cfg, sim_sampler=sampler, real_scans=real, resume=False)
        assert trainer.world == 2 and trainer.rank == rank
        losses = [trainer.train_step()[0] for _ in range(2)]
        ckpt = trainer.save_checkpoint()  # a collective (gathers every rank's data RNG state)
        model_dir = trainer.save_model(losses[-1])
        g_d_sum = float(sum(p.detach().double().sum() for p in trainer.net.g_d.parameters()))
        result = {"steps": trainer.step, "loss": losses[-1]["cyc_fwd"], "g_d_sum": g_d_sum,
                  "model_dir": model_dir, "checkpoint": ckpt}  # fmt: skip
        Path(out).mkdir(parents=True, exist_ok=True)  # rank 1 may get here before rank 0 wrote files
        Path(out, f"rank{rank}.json").write_text(json.dumps(result))
    finally:
        dist.barrier()  # leave together, as Trainer.close does (a lone teardown can abort the peer)
        dist.destroy_process_group()


def test_two_gloo_processes_train_in_lock_step(tmp_path: Path, sampler) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "model"
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(out), sampler), nprocs=2, join=True)
    r0 = json.loads((out / "rank0.json").read_text())
    r1 = json.loads((out / "rank1.json").read_text())
    assert r0["steps"] == r1["steps"] == 2
    assert r0["model_dir"] == str(out) and r1["model_dir"] is None  # only rank 0 writes
    assert r0["checkpoint"] and r1["checkpoint"] is None
    meta = read_checkpoint_meta(out)
    assert len(meta["data_rng_states"]) == 2
    assert r0["loss"] != r1["loss"]  # each process drew its own data ...
    assert r0["g_d_sum"] == r1["g_d_sum"]  # ... and gradients were averaged into identical weights
