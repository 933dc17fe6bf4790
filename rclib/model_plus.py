"""RC+ (beyond the paper): the residual coded in four passes over the 2x2 polyphase subimages.

Pass k codes the pixels at (row, col) offset PHASES[k] of every 2x2 block.  Its network works at
half resolution and sees x_l (all four subimages, space-to-depth) plus the true residuals of the
passes before it, so pass 1 is RC's model at half resolution and pass 4 sees all four neighbours
of each pixel.  Each pass predicts the same channel-autoregressive logistic mixture as RC.

Strips: the codec codes horizontal strips independently; x_l is known everywhere, the earlier
passes' residuals only inside the strip, so a `known` plane tells the network which residuals
exist (0 outside the strip and outside the picture, as at a border).  Training cuts the known
region at random rows so the network learns what a strip edge looks like.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import mixture
from .layers import ResBlock, init_mixture_priors
from .mixture import K, LATTICE_SIZE, PARAMS_PER_CHANNEL, Mixture

PHASES = ((0, 0), (1, 1), (0, 1), (1, 0))  # (dy, dx) of each pass's subimage, in coding order
RESIDUAL_SCALE = 1 / 16                     # residual planes enter the network as r / 16
MAX_LEVELS = 4


@dataclass(frozen=True)
class Pass:
    """One coded pass: network k run on level `level`'s picture (the full picture subsampled by
    2**level), coding the full-resolution pixels at rows oy, oy + stride, ... and columns ox, ..."""
    level: int
    k: int
    oy: int
    ox: int
    stride: int


def plan(levels: int = 1) -> tuple[Pass, ...]:
    """The passes in coding order.  levels 1: the four passes over the 2x2 subimages.  Each further
    level codes the first pass's subimage (every 2nd pixel of each row and column) as a picture of
    its own with the same four networks, so three quarters of it see decoded neighbours too."""
    if not 1 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels must be 1..{MAX_LEVELS}, got {levels}")
    out = []
    for level in range(levels - 1, -1, -1):
        scale = 1 << level
        out += [Pass(level, k, dy * scale, dx * scale, 2 * scale)
                for k, (dy, dx) in enumerate(PHASES) if k or level == levels - 1]
    return tuple(out)


@dataclass(frozen=True)
class PlusConfig:
    name: str
    width: int      # channels of every pass's network (all at half resolution)
    blocks: int     # residual blocks per pass
    kind: str = "rc+"
    gated: bool = False  # mixture gates per pass (Mixture.gates)
    lattice: bool = False  # lattice tables per pass (Mixture.lattice)
    level_net: bool = False  # a second set of four passes for the levels above 0 (RCPlusModel.level)


CONFIGS = {
    "cpu+": PlusConfig("cpu+", width=32, blocks=3),
    "cpu+wide": PlusConfig("cpu+wide", width=48, blocks=3),  # the shipped shape (README: RC+ wider)
    "tiny+": PlusConfig("tiny+", width=8, blocks=1),
}


class PassNet(nn.Module):
    """One pass: [x_l space-to-depth (12), residuals of the k earlier passes (3k), known (1)]
    at half resolution -> mixture parameters (3 * 4K) for the pass's subimage."""

    def __init__(self, config: PlusConfig, k: int):
        super().__init__()
        c = config.width
        self.head = nn.Conv2d(12 + 3 * k + 1, c, 3, padding=1)
        self.body = nn.Sequential(*[ResBlock(c) for _ in range(config.blocks)], nn.Conv2d(c, c, 3, padding=1))
        self.tails = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, c, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, 3 * K, 1)) for _ in range(4))
        for i in (1, 3):  # means and channel coefficients start at zero
            nn.init.zeros_(self.tails[i][-1].weight)
            nn.init.zeros_(self.tails[i][-1].bias)
        init_mixture_priors(self.tails[3][-1].bias, self.tails[2][-1].bias)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        f = F.relu(self.head(inputs))
        f = f + self.body(f)
        b, _, h, w = f.shape
        parts = [tail(f) for tail in self.tails]
        return torch.stack([p.view(b, 3, K, h, w) for p in parts], dim=1).view(b, -1, h, w)


def pad_even(t: torch.Tensor) -> torch.Tensor:
    """Replicate the last row/column so height and width are even."""
    h, w = t.shape[-2:]
    if h % 2 or w % 2:
        t = F.pad(t, (0, w % 2, 0, h % 2), mode="replicate")
    return t


def phase(t: torch.Tensor, k: int) -> torch.Tensor:
    """The subimage of pass k of an even-sized (B, C, H, W) tensor: (B, C, H/2, W/2)."""
    dy, dx = PHASES[k]
    return t[..., dy::2, dx::2]


class RCPlusModel(nn.Module):
    """Four PassNets; x_l and the residual so far -> each pass's Mixture."""

    def __init__(self, config: PlusConfig):
        super().__init__()
        self.config = config
        self.passes = nn.ModuleList(PassNet(config, k) for k in range(4))
        self.mix_gates = nn.Parameter(torch.zeros(4, 3)) if config.gated else None
        self.mix_lattice_g = nn.Parameter(torch.zeros(4, 2, K, LATTICE_SIZE)) if config.lattice else None
        self.mix_lattice_b = (nn.Parameter(torch.zeros(4, 2, K, LATTICE_SIZE, LATTICE_SIZE))
                              if config.lattice else None)
        # Networks trained on subsampled pictures, whose decoded neighbours lie 2, 4, ... pixels
        # away: they code the passes of every level above 0 (plan); level 0 keeps this model's own.
        self.level = RCPlusModel(replace(config, level_net=False)) if config.level_net else None

    def at_level(self, level: int) -> RCPlusModel:
        """The networks that code a pass of `level` (Pass.level): the level networks above level 0
        where the weights have them, else this model's own."""
        return self.level if level and self.level is not None else self

    def pass_gates(self, k: int) -> torch.Tensor | None:
        """Pass k's mixture gates (3,), or None for the seed's mixture."""
        return None if self.mix_gates is None else self.mix_gates[k]

    def pass_lattice(self, k: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Pass k's lattice tables (G's, B's), or None for the seed's mixture."""
        return None if self.mix_lattice_g is None else (self.mix_lattice_g[k], self.mix_lattice_b[k])

    def pass_mixture(self, k: int, params: torch.Tensor) -> Mixture:
        """Pass k's Mixture from its raw parameters (pass_params), with its gates and tables."""
        return Mixture.from_network(params, self.pass_gates(k), self.pass_lattice(k))

    @property
    def margin(self) -> int:
        """Rows of x_l context a strip needs on each side (full resolution, even)."""
        half_res_convs = 2 * self.config.blocks + 2
        return 2 * half_res_convs + 2

    def pass_params(self, k: int, x_l: torch.Tensor, residual: torch.Tensor,
                    known: torch.Tensor) -> torch.Tensor:
        """Raw mixture parameters of pass k on the half-resolution grid.

        x_l, residual: (B, 3, H, W) with H, W even (residual zero where not known); known:
        (B, 1, H/2, W/2), 1 where the earlier passes' residuals are known."""
        xl = x_l / 127.5 - 1.0
        planes = [phase(xl, j) for j in range(4)]
        planes += [phase(residual, j) * RESIDUAL_SCALE for j in range(k)]
        return self.passes[k](torch.cat(planes + [known], dim=1))

    def forward(self, x_l: torch.Tensor, q=None, x: torch.Tensor | None = None,
                generator: torch.Generator | None = None, cut: bool = False) -> torch.Tensor:
        """Training loss: residual bits per subpixel of x given x_l over all four passes, every
        pass seeing the true earlier residuals (H, W even).  `cut` hides the residuals above or
        below a random row of each picture, as a strip edge does."""
        if x is None:
            raise ValueError("RC+'s forward needs x (the loss is over its passes)")
        b, _, h, w = x_l.shape
        residual = x - x_l
        known = torch.ones(b, 1, h // 2, w // 2, device=x.device)
        if cut:
            rows = torch.arange(h // 2, device=x.device).view(1, 1, -1, 1)
            at = torch.randint(1, h // 2, (b, 1, 1, 1), device=x.device, generator=generator)
            side = torch.randint(0, 3, (b, 1, 1, 1), device=x.device, generator=generator)
            hide = ((side == 1) & (rows < at)) | ((side == 2) & (rows >= at))
            known = known.masked_fill(hide, 0.0)
        masked = residual * F.interpolate(known, scale_factor=2.0, mode="nearest")
        bits = 0.0
        for k in range(4):
            mix = self.pass_mixture(k, self.pass_params(k, x_l, masked, known))
            bits = bits + mixture.bit_map(mix, phase(x, k), phase(x_l, k)).sum()
        return bits / x.numel()

    @torch.no_grad()
    def bit_map(self, x: torch.Tensor, x_l: torch.Tensor) -> torch.Tensor:
        """Bits of every subpixel (B, 3, H, W) of x given x_l, all residuals known (any size)."""
        h, w = x.shape[-2:]
        xp, xlp = pad_even(x), pad_even(x_l)
        residual = xp - xlp
        residual[..., h:, :] = 0
        residual[..., :, w:] = 0
        known = torch.ones(x.shape[0], 1, xp.shape[2] // 2, xp.shape[3] // 2, device=x.device)
        out = torch.zeros_like(xp)
        for k in range(4):
            mix = self.pass_mixture(k, self.pass_params(k, xlp, residual, known))
            dy, dx = PHASES[k]
            out[..., dy::2, dx::2] = mixture.bit_map(mix, phase(xp, k), phase(xlp, k))
        return out[..., :h, :w]


def with_level_net(base: RCPlusModel, level: RCPlusModel) -> RCPlusModel:
    """One model of `base`'s passes for level 0 and `level`'s (same shape) for the levels above,
    as one set of weights (one weights id, which a file's header names)."""
    if replace(level.config, name=base.config.name, level_net=False) != replace(base.config, level_net=False):
        raise ValueError("level networks must have the base model's shape")
    out = RCPlusModel(replace(base.config, level_net=True))
    own = {k: v for k, v in base.state_dict().items() if not k.startswith("level.")}
    out.load_state_dict({**own, **{f"level.{k}": v for k, v in level.state_dict().items()
                                   if not k.startswith("level.")}})
    return out.eval()


assert 3 * PARAMS_PER_CHANNEL == 12 * K
