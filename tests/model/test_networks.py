"""Shapes, argument checks and the shared Up block of the PDA-Net networks."""

from __future__ import annotations

import copy

import pytest
import torch

from stmdenoise.model import (
    ArchConfig,
    FeatureDiscriminator,
    Generator,
    PatchDiscriminator,
    PDANet,
    UpBlock,
    receptive_field,
    unique_parameters,
)

TINY = ArchConfig(ngf=8, n_blocks=2, ndf=8, fa_width=8)


@pytest.mark.parametrize("shape", [(32, 32), (33, 30), (31, 17), (5, 7), (1, 1), (64, 36)])
def test_generator_keeps_any_shape(shape: tuple[int, int]) -> None:
    torch.manual_seed(0)
    g = Generator(ngf=4, n_blocks=1)
    x = torch.randn(2, 1, *shape)
    y, feats = g.forward_with_features(x)
    assert y.shape == x.shape
    assert feats.shape == (2, 16, max(-(-shape[0] // 4), 2), max(-(-shape[1] // 4), 2))
    assert float(y.detach().abs().max()) <= 1.0


def test_generator_layout_matches_the_paper() -> None:
    g = Generator(ngf=64, n_blocks=9)
    convs = [m for m in g.down.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [
        ((7, 7), (1, 1)),
        ((3, 3), (2, 2)),
        ((3, 3), (2, 2)),
    ]
    assert len(g.res) == 9
    tconvs = [m for m in g.up.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(t.kernel_size, t.stride, t.padding, t.output_padding) for t in tconvs] == [
        ((3, 3), (2, 2), (1, 1), (1, 1))
    ] * 2
    assert [c.out_channels for c in convs] == [64, 128, 256]
    assert receptive_field(9) == 169 and receptive_field(6) == 121


def test_discriminator_shapes() -> None:
    d = PatchDiscriminator(ndf=8)
    assert d(torch.randn(3, 1, 70, 70)).shape == (3, 1, 6, 6)
    assert d(torch.randn(1, 1, 32, 32)).shape == (1, 1, 2, 2)
    fa = FeatureDiscriminator(32, width=8)
    assert fa(torch.randn(2, 32, 8, 8)).shape == (2, 1, 4, 4)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Generator(ngf=0),
        lambda: Generator(ngf=8, n_blocks=-1),
        lambda: Generator(ngf=2.5),  # type: ignore[arg-type]
        lambda: Generator(ngf=8, up=UpBlock(4, 1)),
        lambda: PatchDiscriminator(ndf=0),
        lambda: PatchDiscriminator(n_layers=0),
        lambda: FeatureDiscriminator(0),
        lambda: ArchConfig(ngf=True),  # type: ignore[arg-type]
        lambda: PDANet(TINY, "gan"),
    ],
)
def test_bad_hyper_parameters_raise(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        make()


def test_generator_rejects_wrong_channels() -> None:
    with pytest.raises(ValueError, match="shape"):
        Generator(ngf=4, n_blocks=1)(torch.randn(1, 2, 8, 8))


def test_variants_build_the_right_networks() -> None:
    cg = PDANet(TINY, "cyclegan")
    assert cg.g_da is cg.g_d and cg.d_da is None and cg.d_fa is None
    da = PDANet(TINY, "cyclegan+da")
    assert da.g_da is not da.g_d and da.g_da.up is not da.g_d.up and da.d_da is not None and da.d_fa is None
    ws = PDANet(TINY, "cyclegan+da+ws")
    assert ws.g_da.up is ws.g_d.up and ws.g_da.down is not ws.g_d.down and ws.d_fa is None
    full = PDANet(TINY, "pdanet")
    assert full.g_da.up is full.g_d.up and full.d_fa is not None


def test_shared_up_block_is_stepped_once_through_either_generator() -> None:
    torch.manual_seed(1)
    net = PDANet(TINY, "pdanet")
    g_params = net.generator_parameters()
    d_params = net.discriminator_parameters()
    ids = [id(p) for p in g_params + d_params]
    assert len(ids) == len(set(ids)), "a parameter appears twice across the optimizers"
    up_ids = {id(p) for p in net.g_d.up.parameters()}
    assert up_ids <= {id(p) for p in net.g_da.parameters()}
    assert sum(id(p) in up_ids for p in g_params) == len(up_ids)
    opt_g = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999))
    torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999))
    before = [p.detach().clone() for p in net.g_d.up.parameters()]
    down_before = [p.detach().clone() for p in net.g_d.down.parameters()]
    # one step through G_DA only
    out = net.g_da(torch.randn(2, 1, 32, 32))
    out.mean().backward()
    opt_g.step()
    after = list(net.g_d.up.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    assert all(torch.equal(b, a) for b, a in zip(down_before, net.g_d.down.parameters(), strict=True))
    for p in net.g_d.up.parameters():
        assert float(opt_g.state[p]["step"]) == 1.0


def test_chained_parameters_would_list_the_shared_block_twice() -> None:
    # the pitfall the de-duplication avoids, proven on the same networks
    net = PDANet(TINY, "pdanet")
    chained = list(net.g_d.parameters()) + list(net.g_b.parameters()) + list(net.g_da.parameters())
    assert len(chained) > len(unique_parameters([net.g_d, net.g_b, net.g_da]))


def test_deep_copy_breaks_the_tie_so_copy_the_whole_pdanet() -> None:
    net = PDANet(TINY, "pdanet")
    assert copy.deepcopy(net.g_da).up is not net.g_d.up
    twin = copy.deepcopy(net)
    assert twin.g_da.up is twin.g_d.up


def test_pooled_norm_statistics_reproduce_whole_image_normalisation() -> None:
    torch.manual_seed(2)
    g = Generator(ngf=4, n_blocks=1).eval()
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        whole = g(x)
        with g.norm_mode("collect"):
            g(x)
        with g.norm_mode("fixed"):
            fixed = g(x)
    torch.testing.assert_close(fixed, whole, atol=1e-5, rtol=0)
    with pytest.raises(ValueError):
        with g.norm_mode("global"):  # type: ignore[arg-type]
            pass


def test_residual_generator_learns_a_correction_to_its_input() -> None:
    from stmdenoise.model.pdanet import ArchConfig, PDANet

    torch.manual_seed(0)
    net = PDANet(ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4, residual=True), "supervised")
    assert net.g_d.residual and net.g_da.residual and net.g_b.residual
    assert net.g_da.up is net.g_d.up  # still shared
    x = torch.rand(2, 1, 37, 41) * 1.8 - 0.9  # not a multiple of 4: padded and cropped
    with torch.no_grad():
        for p in net.g_d.up.parameters():
            p.zero_()
        np_out = net.g_d(x)
    # a zero correction returns the input: features in it pass through untouched
    assert torch.allclose(np_out, x, atol=1e-6)
    with pytest.raises(ValueError, match="residual"):
        net.g_d.decode(net.g_d.encode(x))
    plain = PDANet(ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4), "supervised")
    with torch.no_grad():
        for p in plain.g_d.up.parameters():
            p.zero_()
        assert torch.allclose(plain.g_d(x), torch.zeros_like(x))  # the paper's layout outputs tanh(0)


def test_arch_config_without_residual_key_reads_as_the_paper_layout() -> None:
    from stmdenoise.model.pdanet import ArchConfig

    old = {"ngf": 16, "n_blocks": 6, "ndf": 32, "d_layers": 3, "fa_width": 64, "channels": 1}
    assert ArchConfig.from_dict(old).residual is False
    assert ArchConfig.from_dict({**old, "residual": True}).residual is True


def test_skip_blur_low_passes_the_denoisers_skip_only() -> None:
    """With a zero correction a skip-blur denoiser returns its input Gaussian-filtered (edges
    replicated) and G_B still returns its input; nothing of the filter is in the weights."""
    import numpy as np
    from scipy import ndimage

    from stmdenoise.model.layers import safe_atanh

    torch.manual_seed(0)
    arch = ArchConfig(ngf=4, n_blocks=1, ndf=4, fa_width=4, residual=True, skip_blur=0.8)
    net = PDANet(arch, "supervised")
    assert net.g_d.skip_blur == net.g_da.skip_blur == 0.8 and net.g_b.skip_blur == 0.0
    x = torch.rand(1, 1, 36, 40) * 1.6 - 0.8  # a multiple of 4: no stride padding at the edges
    with torch.no_grad():
        for g in (net.g_d, net.g_b):
            for p in g.up.parameters():
                p.zero_()
        y, yb = net.g_d(x), net.g_b(x)
    assert torch.allclose(yb, x, atol=1e-6)
    ref = ndimage.gaussian_filter(
        safe_atanh(x)[0, 0].double().numpy(), 0.8, mode="nearest", truncate=3.0, radius=3
    )
    np.testing.assert_allclose(y[0, 0].double().numpy(), np.tanh(ref), atol=1e-5)
    # a flat image passes unchanged; white noise loses most of its power
    flat = torch.full((1, 1, 16, 16), 0.3)
    with torch.no_grad():
        assert torch.allclose(net.g_d(flat), flat, atol=1e-6)
    noise = torch.randn(1, 1, 64, 64) * 0.1
    with torch.no_grad():
        assert net.g_d(noise).var() < 0.2 * noise.var()
    assert not any("skip" in k for k in net.state_dict())


def test_skip_blur_checks_and_init_across_values() -> None:
    with pytest.raises(ValueError, match="residual"):
        ArchConfig(ngf=4, n_blocks=1, skip_blur=0.7)
    for bad in (-0.5, True, "1", float("nan")):
        with pytest.raises(ValueError, match="skip_blur"):
            ArchConfig(ngf=4, n_blocks=1, residual=True, skip_blur=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="skip_blur"):
            Generator(ngf=4, n_blocks=1, residual=True, skip_blur=bad)  # type: ignore[arg-type]
    a = ArchConfig(ngf=4, n_blocks=1, residual=True)
    assert a.same_weights_as(ArchConfig(ngf=4, n_blocks=1, residual=True, skip_blur=1.0))
    assert not a.same_weights_as(ArchConfig(ngf=8, n_blocks=1, residual=True, skip_blur=1.0))
    old = {
        "ngf": 16,
        "n_blocks": 6,
        "ndf": 32,
        "d_layers": 3,
        "fa_width": 64,
        "channels": 1,
        "residual": True,
    }
    assert ArchConfig.from_dict(old).skip_blur == 0.0  # folders written before skip_blur existed
