"""Mixture gates and lattice tables: G's and B's component weights follow how well each component
priced the decoded R (and G); their means and scales move by learned numbers per value of r_R (and
r_G).  Zero gates and tables are the seed's mixture; any give a proper distribution, and the codec
stays exact with them (RC and RC+, tables or not, another thread count)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from rclib import codec, model, train
from rclib import mixture as M


def _mixture(gates, b=1, h=3, w=4, seed=0, lattice=None):
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(1, 3 * M.PARAMS_PER_CHANNEL, h, w, generator=g) * 2.0
    return M.Mixture.from_network(out.expand(b, -1, -1, -1), gates, lattice), g


def _lattice(scale=1.0, seed=0):
    g = torch.Generator().manual_seed(100 + seed)
    n = M.LATTICE_SIZE
    return (torch.randn(2, M.K, n, generator=g) * scale, torch.randn(2, M.K, n, n, generator=g) * scale)


def test_zero_gates_and_tables_are_the_seed_mixture():
    plain, g = _mixture(None, seed=4)
    gated, _ = _mixture(torch.zeros(3), seed=4, lattice=_lattice(0.0))
    x_l = torch.randint(10, 246, (1, 3, 3, 4), generator=g).float()
    x = (x_l + torch.randint(-5, 6, x_l.shape, generator=g)).clamp(0, 255)
    assert torch.equal(M.log_prob(plain, x, x_l), M.log_prob(gated, x, x_l))


@pytest.mark.parametrize("c", [1, 2])
@pytest.mark.parametrize("extra", ["gates", "lattice", "both"])
def test_gated_channel_sums_to_one_and_matches_log_prob(c, extra):
    """Every value of G (or B) given the true earlier channels: a distribution, and channel()'s
    weights, means and scales (what the coder uses) give log_prob's bits (what training uses)."""
    gates = torch.tensor([0.7, -0.4, 0.9]) if extra != "lattice" else None
    mix, g = _mixture(gates, b=256, seed=c, lattice=_lattice(seed=c) if extra != "gates" else None)
    x_l = torch.randint(0, 256, (1, 3, 3, 4), generator=g).float().expand(256, -1, -1, -1)
    x = (x_l[:1] + torch.randint(-4, 5, (1, 3, 3, 4), generator=g)).clamp(0, 255).repeat(256, 1, 1, 1)
    x[:, c] = torch.arange(256.0).view(256, 1, 1)
    lp = M.log_prob(mix, x, x_l)
    total = lp[:, c].double().exp().sum(dim=0)
    assert torch.allclose(total, torch.ones_like(total), atol=2e-6)
    logits, mu, log_s = mix.channel(c, x - x_l, x_l)
    comp = M._log_bin_prob(x[:, c:c + 1], x_l[:, c:c + 1] + mu, log_s)
    direct = torch.logsumexp(torch.log_softmax(logits, dim=1) + comp, dim=1)
    assert torch.allclose(direct, lp[:, c], atol=1e-5)
    if gates is not None:
        with pytest.raises(ValueError, match="x_l"):
            mix.channel(c, x - x_l)


def test_gates_change_the_bits():
    plain, g = _mixture(None, seed=7)
    gated, _ = _mixture(torch.tensor([1.0, 1.0, 1.0]), seed=7)
    x_l = torch.randint(10, 246, (1, 3, 3, 4), generator=g).float()
    x = (x_l + torch.randint(-5, 6, x_l.shape, generator=g)).clamp(0, 255)
    a, b = M.log_prob(plain, x, x_l), M.log_prob(gated, x, x_l)
    assert torch.equal(a[:, 0], b[:, 0]) and not torch.allclose(a[:, 1:], b[:, 1:])


def test_lattice_tables_look_up_the_clipped_earlier_residuals():
    """G's mean moves by its table's entry at r_R (clipped to the reach), B's at (r_R, r_G)."""
    tg, tb = (t * 0 for t in _lattice())
    tg[0, :, M.LATTICE_REACH + 2] = 1.5            # G: r_R = 2
    tg[0, :, -1] = -0.5                            # G: r_R >= reach
    tb[0, :, M.LATTICE_REACH - 1, M.LATTICE_REACH + 1] = 2.0  # B: r_R = -1, r_G = 1
    mix, _ = _mixture(None, h=1, w=4, lattice=(tg, tb))
    plain, _ = _mixture(None, h=1, w=4)
    residual = torch.tensor([[[[2.0, 9.0, -1.0, 0.0]], [[0.0, 0.0, 1.0, 1.0]], [[0.0] * 4]]])
    moved = mix.channel(1, residual)[1] - plain.channel(1, residual)[1]
    assert torch.allclose(moved, torch.tensor([1.5, -0.5, 0.0, 0.0]).expand(1, M.K, 1, 4))
    moved_b = mix.channel(2, residual)[1] - plain.channel(2, residual)[1]
    assert torch.allclose(moved_b, torch.tensor([0.0, 0.0, 2.0, 0.0]).expand(1, M.K, 1, 4))


def _gated(name, seed=0, lattice=False):
    torch.manual_seed(seed)
    net = train.build(name)
    out = model.build({**dataclasses.asdict(net.config), "gated": True, "lattice": lattice})
    missing, _ = out.load_state_dict(net.state_dict(), strict=False)
    assert sorted(missing) == sorted(["mix_gates"] + (["mix_lattice_g", "mix_lattice_b"] if lattice else []))
    with torch.no_grad():
        out.mix_gates.copy_(torch.rand_like(out.mix_gates) * 0.8 + 0.1)
        if lattice:
            out.mix_lattice_g.copy_(torch.randn_like(out.mix_lattice_g))
            out.mix_lattice_b.copy_(torch.randn_like(out.mix_lattice_b))
    return out.eval()


@pytest.mark.parametrize("name,lattice", [("tiny", False), ("tiny+", False), ("tiny", True), ("tiny+", True)])
def test_gated_models_code_exactly(photos, name, lattice, tmp_path):
    net = _gated(name, lattice=lattice)
    x = next(iter(photos.values()))[:70, :91]
    for kw in ({}, {"tables": False}):
        blob = codec.compress(x, q=14, model=net, **kw)
        assert np.array_equal(codec.decompress(blob, model=net), x)
    torch.set_num_threads(1)
    try:
        assert np.array_equal(codec.decompress(blob, model=net), x)
    finally:
        torch.set_num_threads(2)
    # saved and loaded, the gates come back (and name the weights)
    model.save(net, tmp_path / "g.pt")
    back = model.load(tmp_path / "g.pt")
    assert back.config.gated and back.config.lattice == lattice
    assert model.weights_id(back) == model.weights_id(net)
    assert np.array_equal(codec.decompress(blob, model=back), x)


@pytest.mark.parametrize("lattice", [False, True])
def test_gated_training_loss_is_the_coders_bits(photos, lattice):
    """The training loss of a gated RC model equals its bit map's mean (no hidden mismatch)."""
    net = _gated("tiny", lattice=lattice)
    x = model.to_tensor(next(iter(photos.values()))[:32, :32])
    x_l = (x + torch.randint(-3, 4, x.shape)).clamp(0, 255)
    loss = train.loss_of(net, x, x_l, torch.tensor([14.0]), False, np.random.default_rng(0))
    bits = M.bit_map(net.mixture(x_l, 14), x, x_l).mean()
    assert math.isclose(loss.item(), bits.item(), rel_tol=1e-6)
