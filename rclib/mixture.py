"""Discretized logistic mixture over the 8-bit pixel x, conditioned on the BPG pixel x_l.

For every subpixel the network predicts K components (weight logit pi_k, mean mu_k, log-scale
s_k) of the residual r = x - x_l, in pixel units.  Channel dependence as in the seed (PixelCNN++
/ L3C style): the means of G shift by a_k * r_R and the means of B by b_k * r_R + c_k * r_G,
using the true residuals of the channels before (the decoder knows them by decoding R, G, B
in that order).  Models with mixture gates (beyond the seed) also move G's component weights by
g_GR * log p_k(R) and B's by g_BR * log p_k(R) + g_BG * log p_k(G | R): a component that priced
the decoded R (and G) well gains weight, as in a joint mixture, so the coupling across channels
need not be linear (BPG's YCbCr rounding puts the residual on a lattice across R, G and B).
Models with lattice tables (beyond the seed) add to G's component means and log-scales a learned
number per component and value of r_R (clipped to +-LATTICE_REACH), and to B's per r_R and r_G:
r = x - x_l of a picture decoded from integer YCbCr (a JPEG's) is the image of an integer lattice
of YCbCr steps, so r_R = 2 tends to come with r_G = -1 or 0 while r_R = 1 comes with r_G = 1.

Support: x = x_l + r must lie in 0..255, so each subpixel's alphabet is its own valid range
r in [-x_l, 255 - x_l] (256 values); the lowest and highest bins absorb the logistic tails.
The seed instead models r on [-255, 255] normalised to [-1, 1] (511 bins) whatever x_l is,
which wastes the mass that falls outside the valid range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

K = 5                     # mixture components
PARAMS_PER_CHANNEL = 4 * K  # logit, mean, log-scale, coefficient
LOG_SCALE_MIN = -4.0      # s >= e^-4 ~ 0.018 pixel: sharper than any useful residual
LOG_SCALE_MAX = 6.0
LATTICE_REACH = 3         # lattice tables cover earlier residuals -3..3 (clipped beyond)
LATTICE_SIZE = 2 * LATTICE_REACH + 1


@dataclass
class Mixture:
    """Mixture parameters, each of shape (B, 3, K, H, W)."""

    logits: torch.Tensor
    means: torch.Tensor
    log_scales: torch.Tensor
    coeffs: torch.Tensor  # channel 0 unused; G: a_k; B: b_k (on r_R) -- c_k lives in coeffs_bg
    coeffs_bg: torch.Tensor  # (B, 1, K, H, W): c_k, B's dependence on r_G
    gates: torch.Tensor | None = None  # (3,): g_GR, g_BR, g_BG; None: the seed's mixture
    # (G's (2, K, L), B's (2, K, L, L)): mean and log-scale offsets by the clipped earlier
    # residuals (L = LATTICE_SIZE); None: the seed's mixture
    lattice: tuple[torch.Tensor, torch.Tensor] | None = None

    @staticmethod
    def from_network(out: torch.Tensor, gates: torch.Tensor | None = None,
                     lattice: tuple[torch.Tensor, torch.Tensor] | None = None) -> "Mixture":
        """Split the network's (B, 3*4*K, H, W) output into mixture parameters (with the model's
        mixture gates and lattice tables, if it has them)."""
        b, c, h, w = out.shape
        assert c == 3 * PARAMS_PER_CHANNEL, f"expected {3 * PARAMS_PER_CHANNEL} channels, got {c}"
        p = out.view(b, 4, 3, K, h, w)
        coeffs = torch.tanh(p[:, 3])
        return Mixture(
            logits=p[:, 0],
            means=p[:, 1],
            log_scales=p[:, 2].clamp(LOG_SCALE_MIN, LOG_SCALE_MAX),
            coeffs=coeffs,
            coeffs_bg=coeffs[:, :1],  # reuse R's (otherwise unused) slot for B's c_k
            gates=gates,
            lattice=lattice,
        )

    def with_tau(self, tau: torch.Tensor | None) -> "Mixture":
        """Scales multiplied by a per-(channel, component) temperature tau (3, K); None: as is."""
        if tau is None:
            return self
        log_tau = torch.log(tau.to(self.log_scales)).view(1, 3, K, 1, 1)
        return Mixture(self.logits, self.means, (self.log_scales + log_tau).clamp(LOG_SCALE_MIN, LOG_SCALE_MAX),
                       self.coeffs, self.coeffs_bg, self.gates, self.lattice)

    def conditioned(self, residual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and log-scales (B, 3, K, H, W) of all channels given the true residual r
        (B, 3, H, W) of the earlier channels."""
        means, log_scales = zip(*(self._conditioned(c, residual) for c in range(3)))
        return torch.stack(means, dim=1), torch.stack(log_scales, dim=1)

    def gated_logits(self, log_p: torch.Tensor) -> torch.Tensor:
        """Component logits (B, 3, K, H, W) given each component's log P of the true subpixel
        (log_p, same shape): G's and B's moved by the gates (unchanged without gates)."""
        if self.gates is None:
            return self.logits
        return torch.stack([self.logits[:, 0], self._gated(1, self.logits[:, 1], log_p[:, 0]),
                            self._gated(2, self.logits[:, 2], log_p[:, 0], log_p[:, 1])], dim=1)

    def _gated(self, c: int, logits: torch.Tensor, log_p_r: torch.Tensor, log_p_g: torch.Tensor | None = None):
        """Channel c's (c >= 1) component logits moved by the gates, given each component's log P
        of the true R (and, for B, of the true G)."""
        g = self.gates.to(logits)
        logits = logits + g[0 if c == 1 else 1] * log_p_r
        return logits + g[2] * log_p_g if c == 2 else logits

    def _conditioned(self, c: int, residual_so_far: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Channel c's component means and log-scales (B, K, H, W) given the earlier channels'
        true residuals."""
        mu, log_s = self.means[:, c], self.log_scales[:, c]
        if c >= 1:
            mu = mu + self.coeffs[:, c] * residual_so_far[:, 0:1]
        if c == 2:
            mu = mu + self.coeffs_bg[:, 0] * residual_so_far[:, 1:2]
        if c >= 1 and self.lattice is not None:
            shift, log_scale_shift = self._lattice(c, residual_so_far)
            mu, log_s = mu + shift, (log_s + log_scale_shift).clamp(LOG_SCALE_MIN, LOG_SCALE_MAX)
        return mu, log_s

    def _lattice(self, c: int, residual_so_far: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Channel c's (c >= 1) lattice offsets of the means and of the log-scales, each (B, K, H, W),
        looked up (one lookup for both) by r_R (and, for B, r_G) clipped to the tables' reach."""
        index = (residual_so_far[:, :c].round().clamp(-LATTICE_REACH, LATTICE_REACH) + LATTICE_REACH).long()
        if c == 2:  # B's table is indexed by the pair (r_R, r_G)
            index = index[:, :1] * LATTICE_SIZE + index[:, 1:]
        table = self.lattice[c - 1].to(residual_so_far).reshape(2 * K, -1)  # (2K, L) or (2K, L * L)
        # an embedding lookup: the same numbers as indexing, and a fast gradient for training
        both = F.embedding(index[:, 0], table.t()).permute(0, 3, 1, 2)
        return both[:, :K], both[:, K:]

    def channel(self, c: int, residual_so_far: torch.Tensor | None = None, x_l: torch.Tensor | None = None):
        """(logits, means, log_scales) of channel c, each (B, K, H, W), given earlier residuals
        (and, for a gated mixture, x_l (B, 3, H, W), to price them)."""
        logits = self.logits[:, c]
        if self.gates is not None and c >= 1:
            if x_l is None:
                raise ValueError("a gated mixture needs x_l to weigh channel G's and B's components")
            # each earlier channel's component log P, one channel at a time (no (3, K) stack)
            log_p = []
            for e in range(c):
                mu, log_s = self._conditioned(e, residual_so_far)
                log_p.append(_log_bin_prob(x_l[:, e:e + 1] + residual_so_far[:, e:e + 1], x_l[:, e:e + 1] + mu, log_s))
            logits = self._gated(c, logits, *log_p)
        return (logits, *self._conditioned(c, residual_so_far))


def _log_bin_prob(x: torch.Tensor, centre: torch.Tensor, log_scales: torch.Tensor) -> torch.Tensor:
    """log P(x) of each component for integer x in 0..255 (edges absorb the tails)."""
    inv_s = torch.exp(-log_scales)
    plus = (x + 0.5 - centre) * inv_s
    minus = (x - 0.5 - centre) * inv_s
    log_cdf_plus = F.logsigmoid(plus)              # log F(x + 1/2)
    log_one_minus_cdf_minus = F.logsigmoid(-minus)  # log (1 - F(x - 1/2))
    # log(F(plus) - F(minus)) = log F(plus) + log(1 - exp(log F(minus) - log F(plus)))
    log_cdf_minus = F.logsigmoid(minus)
    delta = (log_cdf_minus - log_cdf_plus).clamp(max=-1e-6)
    log_mid = log_cdf_plus + torch.log(-torch.expm1(delta))
    # Far in the upper tail the formula above loses precision; use 1 - F there instead.
    log_mid_upper = log_one_minus_cdf_minus + torch.log(-torch.expm1(
        (F.logsigmoid(-plus) - log_one_minus_cdf_minus).clamp(max=-1e-6)))
    log_mid = torch.where(minus > 0, log_mid_upper, log_mid)
    return torch.where(x < 0.5, log_cdf_plus, torch.where(x > 254.5, log_one_minus_cdf_minus, log_mid))


def log_prob(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor) -> torch.Tensor:
    """Natural-log probability of each subpixel of x (B, 3, H, W), values 0..255 as float."""
    means, log_scales = mix.conditioned(x - x_l)
    log_p = _log_bin_prob(x.unsqueeze(2), x_l.unsqueeze(2) + means, log_scales)
    return torch.logsumexp(F.log_softmax(mix.gated_logits(log_p), dim=2) + log_p, dim=2)


def bits_per_subpixel(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor) -> torch.Tensor:
    """Mean cost in bits per subpixel: the training loss and the residual's bpsp."""
    return -log_prob(mix, x, x_l).mean() / math.log(2)


def bit_map(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor) -> torch.Tensor:
    """Bits of every subpixel, (B, 3, H, W)."""
    return -log_prob(mix, x, x_l) / math.log(2)


@torch.no_grad()
def sample(mix: Mixture, x_l: torch.Tensor, generator: torch.Generator | None = None,
           temperature: float = 1.0) -> torch.Tensor:
    """Draw x ~ p(x | x_l) channel by channel (R, then G given r_R, then B)."""
    residual = torch.zeros_like(x_l)
    x = torch.zeros_like(x_l)
    for c in range(3):
        logits, mu, log_s = mix.channel(c, residual, x_l)
        g = -torch.log(-torch.log(torch.rand(logits.shape, generator=generator,
                                             device=logits.device).clamp(1e-9, 1 - 1e-9)))
        k = (logits + g).argmax(dim=1, keepdim=True)
        mu_k = mu.gather(1, k)[:, 0]
        s_k = torch.exp(log_s.gather(1, k)[:, 0]) * temperature
        u = torch.rand(mu_k.shape, generator=generator, device=mu_k.device).clamp(1e-6, 1 - 1e-6)
        value = x_l[:, c] + mu_k + s_k * (torch.log(u) - torch.log1p(-u))
        x[:, c] = value.round().clamp(0, 255)
        residual[:, c] = x[:, c] - x_l[:, c]
    return x
