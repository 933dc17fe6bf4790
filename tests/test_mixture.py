"""The discretized logistic mixture: a proper distribution on each subpixel's valid range."""
from __future__ import annotations

import math

import pytest
import torch

from rclib import mixture as M


def _random_mixture(b=1, h=3, w=4, scale=2.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(1, 3 * M.PARAMS_PER_CHANNEL, h, w, generator=g) * scale
    return M.Mixture.from_network(out.expand(b, -1, -1, -1)), g


@pytest.mark.parametrize("seed", [0, 1])
def test_probabilities_sum_to_one_over_support(seed):
    mix, g = _random_mixture(b=256, seed=seed)
    x_l = torch.randint(0, 256, (1, 3, 3, 4), generator=g).float()
    x_l[0, :, 0, 0] = 0
    x_l[0, :, 0, 1] = 255
    base = torch.randint(0, 256, (1, 3, 3, 4), generator=g).float()
    for c in range(3):
        x = base.repeat(256, 1, 1, 1)
        x_l = x_l.expand(256, -1, -1, -1)
        x[:, c] = torch.arange(256.0).view(256, 1, 1)   # every value of channel c at once
        total = M.log_prob(mix, x, x_l)[:, c].double().exp().sum(dim=0)
        assert torch.allclose(total, torch.ones_like(total), atol=2e-6)


def test_bits_match_brute_force():
    """bits_per_subpixel equals -log2 of the explicit mixture of bin masses."""
    mix, g = _random_mixture(h=2, w=2, seed=3)
    x_l = torch.randint(20, 236, (1, 3, 2, 2), generator=g).float()
    x = (x_l + torch.randint(-6, 7, x_l.shape, generator=g)).clamp(0, 255)
    r = x - x_l
    total = 0.0
    for c in range(3):
        for i in range(2):
            for j in range(2):
                pis = torch.softmax(mix.logits[0, c, :, i, j].double(), 0)
                p = 0.0
                for k in range(M.K):
                    mu = float(mix.means[0, c, k, i, j])
                    if c >= 1:
                        mu += float(mix.coeffs[0, c, k, i, j]) * float(r[0, 0, i, j])
                    if c == 2:
                        mu += float(mix.coeffs_bg[0, 0, k, i, j]) * float(r[0, 1, i, j])
                    s = math.exp(float(mix.log_scales[0, c, k, i, j]))
                    centre = float(x_l[0, c, i, j]) + mu
                    v = float(x[0, c, i, j])
                    hi = 1.0 if v >= 255 else 1 / (1 + math.exp(-(v + 0.5 - centre) / s))
                    lo = 0.0 if v <= 0 else 1 / (1 + math.exp(-(v - 0.5 - centre) / s))
                    p += float(pis[k]) * (hi - lo)
                total += -math.log2(p)
    assert float(M.bits_per_subpixel(mix, x, x_l)) == pytest.approx(total / 12, rel=1e-4)


def test_gradients_finite_at_support_edges():
    out = (torch.randn(1, 3 * M.PARAMS_PER_CHANNEL, 2, 3) * 3).requires_grad_()
    x_l = torch.tensor([0.0, 255.0, 128.0]).view(1, 1, 1, 3).expand(1, 3, 2, 3).contiguous()
    x = torch.tensor([0.0, 255.0, 0.0]).view(1, 1, 1, 3).expand(1, 3, 2, 3).contiguous()
    loss = M.bits_per_subpixel(M.Mixture.from_network(out), x, x_l)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(out.grad).all()


def test_extreme_parameters_stay_finite():
    out = torch.zeros(1, 3 * M.PARAMS_PER_CHANNEL, 1, 2)
    out[:, 30:45] = -100.0   # tiny scales (clamped)
    out[:, 15:30] = 300.0    # means far outside the range
    x_l = torch.full((1, 3, 1, 2), 10.0)
    x = torch.tensor([0.0, 255.0]).view(1, 1, 1, 2).expand(1, 3, 1, 2).contiguous()
    assert torch.isfinite(M.log_prob(M.Mixture.from_network(out), x, x_l)).all()


def test_sampling_stays_in_range_and_follows_the_model():
    out = torch.zeros(1, 3 * M.PARAMS_PER_CHANNEL, 64, 64)
    out[:, 30:45] = math.log(0.5)          # small scales around x_l
    mix = M.Mixture.from_network(out)
    x_l = torch.full((1, 3, 64, 64), 100.0)
    x_l[..., :8] = 0
    g = torch.Generator().manual_seed(0)
    s = M.sample(mix, x_l, generator=g)
    assert s.min() >= 0 and s.max() <= 255 and torch.equal(s, s.round())
    assert (s[..., 8:] - 100).abs().float().mean() < 1.0
