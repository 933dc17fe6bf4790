"""Building blocks shared by RC's network (model.py) and RC+'s passes (model_plus.py)."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mixture import K


class GDN(nn.Module):
    """Generalized divisive normalization: y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)."""

    def __init__(self, channels: int):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(channels))
        self.gamma = nn.Parameter(0.1 * torch.eye(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta.abs() + 1e-6
        gamma = self.gamma.abs()
        c = x.shape[1]
        norm = F.conv2d(x * x, gamma.view(c, c, 1, 1), beta)
        return x / torch.sqrt(norm)


class ResBlock(nn.Module):
    """EDSR block: conv -> [GDN] -> ReLU -> conv, scaled by 0.1 and added back."""

    def __init__(self, channels: int, gdn: bool = True, kernel: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel, padding=kernel // 2)
        self.norm = GDN(channels) if gdn else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.1 * self.conv2(F.relu(self.norm(self.conv1(x))))


# Which tap of a 4-tap, stride-2, padding-1 transposed convolution each output phase (row) takes
# from the input at offsets -1, 0, +1 (columns); 4 stands for none (a zero).
_SUBPIXEL_TAPS = torch.tensor([[3, 1, 4], [4, 2, 0]])


def subpixel_weight(weight: torch.Tensor) -> torch.Tensor:
    """(in, out, 4, 4) weights of a stride-2, padding-1 transposed convolution -> the (4 out, in, 3, 3)
    weights of the 3x3 convolution whose F.pixel_shuffle(., 2) is the same map: each output
    phase (row parity, column parity) becomes a channel.  Taps are copied, never summed."""
    c_in, c_out = weight.shape[:2]
    taps = _SUBPIXEL_TAPS.to(weight.device)
    padded = F.pad(weight, (0, 1, 0, 1))  # tap 4 reads the zero
    k = padded[:, :, taps[:, None, :, None], taps[None, :, None, :]]  # (in, out, py, px, 3, 3)
    return k.permute(1, 2, 3, 0, 4, 5).reshape(4 * c_out, c_in, 3, 3)


@torch.no_grad()
def init_mixture_priors(coeff_bias: torch.Tensor, scale_bias: torch.Tensor) -> None:
    """Start from what BPG's residual looks like, so training refines instead of discovering it.

    BPG codes YCbCr, and most of its error is in luma, which moves R, G and B together: r_G
    and r_B follow r_R closely.  So the channel coefficients start near 1 (G on r_R, B on
    r_G; B on r_R at 0), R's scales at half a pixel and the conditioned G's and B's at a quarter.
    Layout of a tail's output: c * K + k.
    """
    near_one = math.atanh(0.9)
    coeff_bias[1 * K:2 * K] = near_one   # G's mean follows r_R
    coeff_bias[0 * K:1 * K] = near_one   # R's slot holds B's coefficient on r_G (Mixture.coeffs_bg)
    coeff_bias[2 * K:3 * K] = 0.0        # B's coefficient on r_R
    scale_bias[:K] = math.log(0.5)
    scale_bias[K:] = math.log(0.25)
