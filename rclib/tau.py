"""Per-image temperature tau: a test-time tweak of the predicted scales (the seed's `--tau`).

One multiplicative factor per (channel, mixture component) on the scales, 3 x K = 15 numbers
(for RC+, 15 for each pass, fitted on that pass's own subsample), optimized at encode time to lower
the residual's bits and stored in the .rc header as float32.
As in the seed: SGD (lr 0.09, momentum 0.9), 50 iterations, on a subsample of the picture (every
4th pixel in each direction); kept only if it lowers the bits on that subsample.  The seed feeds
a 4x-subsampled picture through the network; rclib subsamples the network's full-resolution
output instead, so tau is fitted to the very parameters the coder uses.
"""
from __future__ import annotations

import numpy as np
import torch

from .mixture import K, Mixture, bits_per_subpixel

STEPS, LR, MOMENTUM, SUBSAMPLE = 50, 0.09, 0.9, 4


def subsample(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor, step: int = SUBSAMPLE):
    """Every `step`-th pixel of a mixture and its pictures (B, ..., H, W), for fitting tau."""
    sl = (..., slice(None, None, step), slice(None, None, step))
    return (Mixture(mix.logits[sl], mix.means[sl], mix.log_scales[sl], mix.coeffs[sl], mix.coeffs_bg[sl],
                    mix.gates, mix.lattice),
            x[sl], x_l[sl])


def cat(parts: list[tuple[Mixture, torch.Tensor, torch.Tensor]]):
    """Join subsamples of several strips along the width (any layout will do for fitting)."""
    flat = lambda t: t.flatten(-2)[..., None, :]  # noqa: E731  (..., 1, N)
    mixes = [p[0] for p in parts]
    field = lambda name: torch.cat([flat(getattr(m, name)) for m in mixes], dim=-1)  # noqa: E731
    mix = Mixture(field("logits"), field("means"), field("log_scales"), field("coeffs"), field("coeffs_bg"),
                  mixes[0].gates, mixes[0].lattice)
    return mix, torch.cat([flat(p[1]) for p in parts], -1), torch.cat([flat(p[2]) for p in parts], -1)


def optimize(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor, steps: int = STEPS) -> np.ndarray | None:
    """Fit tau on (a subsample of) a picture; returns float32 (3, K), or None if it does not help.

    Each step's loss is the bits at the tau it starts from, so one forward pass per step scores
    every tau tried: the best of the `steps` taus after the start, kept if below the start's bits."""
    log_tau = torch.zeros(3, K, requires_grad=True)
    opt = torch.optim.SGD([log_tau], lr=LR, momentum=MOMENTUM)
    best, best_bits = None, None
    for i in range(steps + 1):
        last = i == steps
        with torch.set_grad_enabled(not last):
            tau = torch.exp(log_tau)
            loss = bits_per_subpixel(mix.with_tau(tau), x, x_l)
        bits = float(loss.detach())
        if i == 0:
            best_bits = bits  # the start (tau = 1) is the bar; it is never returned
        elif bits < best_bits:
            best, best_bits = tau.detach().numpy().copy(), bits
        if not last:
            opt.zero_grad()
            loss.backward()
            opt.step()
    return best
