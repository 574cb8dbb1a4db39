"""A checkpoint is one atomic unit: its step and its tensors cannot disagree (issue 16).

The old layout wrote ``state.safetensors`` and ``state.json`` with two renames; a kill between
them left step 50 beside step-100 tensors, and ``--resume`` trained on from the wrong state.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from stmdenoise.model.pdanet import ArchConfig, PDANet
from stmdenoise.training import checkpoint as ckpt


def _net() -> tuple[PDANet, torch.optim.Optimizer, torch.optim.Optimizer]:
    torch.manual_seed(0)
    net = PDANet(ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4), "supervised")
    opt_g = torch.optim.Adam(net.generator_parameters())
    opt_d = torch.optim.Adam(net.discriminator_parameters())
    return net, opt_g, opt_d


def _save(
    out: Path, net: PDANet, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, step: int
) -> None:
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(float(step))  # the tensors say which step they belong to
    ckpt.save_checkpoint(out, net=net, opt_g=opt_g, opt_d=opt_d, step=step, config={}, data_rng_states=[])


def test_a_kill_after_the_first_rename_cannot_mix_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, opt_g, opt_d = _net()
    _save(tmp_path, net, opt_g, opt_d, 50)
    real_replace = os.replace
    calls = []

    def replace_then_die(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:  # the process is killed before a second rename completes
            raise KeyboardInterrupt("killed")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(ckpt.os, "replace", replace_then_die)
    try:
        _save(tmp_path, net, opt_g, opt_d, 100)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(ckpt.os, "replace", real_replace)
    fresh, g, d = _net()
    meta = ckpt.load_checkpoint(tmp_path, net=fresh, opt_g=g, opt_d=d)
    values = {float(p.detach().flatten()[0]) for p in fresh.parameters()}
    assert values == {float(meta["step"])}, f"step {meta['step']} with tensors of step {values}"
    assert not [p for p in (tmp_path / "checkpoint").iterdir() if p.name.startswith(".")]


def test_checkpoint_is_one_file_and_old_two_file_checkpoints_still_load(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    net, opt_g, opt_d = _net()
    _save(tmp_path, net, opt_g, opt_d, 7)
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == ["state.safetensors"]
    meta = ckpt.read_checkpoint_meta(tmp_path)
    # rewrite it in the older layout: tensors without metadata + state.json
    f = tmp_path / "checkpoint" / "state.safetensors"
    save_file(load_file(str(f)), str(f))
    (tmp_path / "checkpoint" / "state.json").write_text(__import__("json").dumps(meta))
    fresh, g, d = _net()
    assert ckpt.load_checkpoint(tmp_path, net=fresh, opt_g=g, opt_d=d)["step"] == 7
    _save(tmp_path, net, opt_g, opt_d, 8)  # saving again removes the superseded JSON
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == ["state.safetensors"]
    assert ckpt.read_checkpoint_meta(tmp_path)["step"] == 8


def test_leftover_temporary_checkpoint_files_are_removed(tmp_path: Path) -> None:
    net, opt_g, opt_d = _net()
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    stale = folder / ".state.safetensors.999999999-0badc0de.tmp.safetensors"
    stale.write_bytes(b"half")
    _save(tmp_path, net, opt_g, opt_d, 1)
    assert not stale.exists()
