"""The residual network: x_l (BPG reconstruction) -> logistic-mixture parameters per subpixel.

Shape of the seed's `gdn_wide_deep3` + `unet_skip` network: a full-resolution head, a stride-2
body of EDSR residual blocks with GDN and a long skip, a transposed conv back up, a U-Net skip
fused by a 3x3 conv, then separate tails for mixture weights, means, scales and the channel
coefficients.  Named configurations: `paper` (the seed's sizes, for GPUs), `cpu-head` (RC's
shipped shape: small enough to code a megapixel in a few seconds on 2 cores), `cpu` (its earlier
shape) and the other shapes it was compared with (README, "the right size").
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import GDN, ResBlock, init_mixture_priors, subpixel_weight  # noqa: F401 (GDN: part of the API)
from .mixture import K, LATTICE_SIZE, Mixture
from .paths import ROOT


@dataclass(frozen=True)
class ModelConfig:
    name: str
    width: int          # channels of the half-resolution body (the seed's Cf)
    head_width: int     # channels at full resolution
    blocks: int         # residual blocks in the body
    long_tails: bool    # seed-style tails (res block + 3x3 conv) or 1x1-only tails
    fuse_kernel: int = 3  # the U-Net fusion conv: 3x3 in the seed, 1x1 keeps `cpu` fast
    q_input: bool = False  # also see BPG's Q (a constant input plane); the seed does not.
    # Tried for `cpu` together with 120 more training photos: -1.0 % validation bits at each
    # photo's best Q, but the classifier retrained on those photos then picked too high a Q
    # (`--q auto` +1 %), so the shipped `cpu` is still without it; `tiny` uses it (tests).
    gated: bool = False  # mixture gates (Mixture.gates): G's and B's weights see R's (and G's) fit
    lattice: bool = False  # lattice tables (Mixture.lattice): G's and B's means and scales by r_R (and r_G)


CONFIGS = {
    "paper": ModelConfig("paper", width=128, head_width=128, blocks=16, long_tails=True),
    # ~50k multiply-adds per pixel, most of them at half resolution: ~3.5 s per MPix on 2 cores.
    "cpu": ModelConfig("cpu", width=48, head_width=24, blocks=3, long_tails=False, fuse_kernel=1),
    # Shapes compared with `cpu` at equal training time (README, "the right size"): a wider
    # body, a deeper body, a wider full-resolution head with a 3x3 fusion (the winner,
    # ~5 s per MPix on 2 cores; RC's shipped shape).
    "cpu-wide": ModelConfig("cpu-wide", width=80, head_width=24, blocks=3, long_tails=False, fuse_kernel=1),
    "cpu-deep": ModelConfig("cpu-deep", width=48, head_width=24, blocks=8, long_tails=False, fuse_kernel=1),
    "cpu-head": ModelConfig("cpu-head", width=48, head_width=48, blocks=3, long_tails=False, fuse_kernel=3),
    "tiny": ModelConfig("tiny", width=16, head_width=8, blocks=1, long_tails=False, q_input=True),
}


Q_CENTRE, Q_SPREAD = 14.0, 3.0  # the Q plane holds (Q - 14) / 3: -1..1 over Q 11..17


def to_tensor(rgb) -> torch.Tensor:
    """uint8 (H, W, 3) picture -> float (1, 3, H, W) in 0..255, the networks' input format."""
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1)[None].float()


def _tail(c: int, out: int, long: bool) -> nn.Sequential:
    if long:
        return nn.Sequential(ResBlock(c, gdn=False), nn.Conv2d(c, c, 3, padding=1),
                             nn.LeakyReLU(0.2), nn.Conv2d(c, out, 1))
    return nn.Sequential(nn.Conv2d(c, c, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, out, 1))


class ResidualModel(nn.Module):
    """x_l in 0..255 (B, 3, H, W) -> Mixture of p(x | x_l)."""

    # How `up` runs.  By default as a 3x3 convolution to the four output phases and a pixel
    # shuffle: oneDNN runs that with its direct kernel, whose floats do not depend on the
    # picture's width (nor, so, on the CPU's cache sizes), unlike its transposed convolution
    # (README, "Determinism").  True: PyTorch's transposed convolution, the same map in other
    # floats, which files before format version 9 were coded with (with_transposed_up).
    transposed_up = False

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c, h = config.width, config.head_width
        self.head = nn.Conv2d(4 if config.q_input else 3, h, 3, padding=1)
        self.down = nn.Conv2d(h, c, 3, stride=2, padding=1)
        self.body = nn.Sequential(*[ResBlock(c) for _ in range(config.blocks)],
                                  nn.Conv2d(c, c, 3, padding=1))
        self.up = nn.ConvTranspose2d(c, h, 4, stride=2, padding=1)
        self.fuse = nn.Conv2d(2 * h, h, config.fuse_kernel, padding=config.fuse_kernel // 2)
        out = 3 * K
        self.tail_logits = _tail(h, out, config.long_tails)
        self.tail_means = _tail(h, out, config.long_tails)
        self.tail_scales = _tail(h, out, config.long_tails)
        self.tail_coeffs = nn.Sequential(nn.Conv2d(h, h, 1), nn.LeakyReLU(0.2), nn.Conv2d(h, out, 1))
        # Three numbers, zero at first (the seed's mixture), so a gated model can start from
        # ungated weights (bench/finetune_gates.py, extended_copy).
        self.mix_gates = nn.Parameter(torch.zeros(3)) if config.gated else None
        # Lattice tables, zero at first for the same reason.
        self.mix_lattice_g = nn.Parameter(torch.zeros(2, K, LATTICE_SIZE)) if config.lattice else None
        self.mix_lattice_b = nn.Parameter(torch.zeros(2, K, LATTICE_SIZE, LATTICE_SIZE)) if config.lattice else None
        for tail in (self.tail_means, self.tail_coeffs):
            nn.init.zeros_(tail[-1].weight)
            nn.init.zeros_(tail[-1].bias)
        self._init_priors()

    @torch.no_grad()
    def _init_priors(self) -> None:
        init_mixture_priors(self.tail_coeffs[-1].bias, self.tail_scales[-1].bias)

    @property
    def margin(self) -> int:
        """Context (pixels) a tile needs on each side to match a whole-image pass; even."""
        half_res_convs = 2 * self.config.blocks + 2
        full_res = 2 + self.config.fuse_kernel // 2 * 2 + (5 if self.config.long_tails else 0)
        m = 2 * half_res_convs + full_res + 2
        return m + (-m % 8)

    def inputs(self, x_l: torch.Tensor, q=None) -> torch.Tensor:
        """Normalised x_l, plus the Q plane for models that see Q (q: an int or one per batch item)."""
        x = x_l / 127.5 - 1.0
        if not self.config.q_input:
            return x
        if q is None:
            raise ValueError("this model is conditioned on Q: pass the BPG quantizer q")
        q = torch.as_tensor(q, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        plane = ((q - Q_CENTRE) / Q_SPREAD).expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat([x, plane], dim=1)

    def features(self, x_l: torch.Tensor, q=None) -> torch.Tensor:
        h, w = x_l.shape[-2:]
        head = self.head(self.inputs(x_l, q))
        low = self.down(head)
        low = low + self.body(low)
        up = self.upsample(low)[..., :h, :w]
        return F.relu(self.fuse(torch.cat([head, up], dim=1)))

    def upsample(self, low: torch.Tensor) -> torch.Tensor:
        """The half-resolution body back to full resolution (2x), as `transposed_up` says."""
        if self.transposed_up:
            return self.up(low)
        bias = self.up.bias.repeat_interleave(4)  # pixel_shuffle's channel order: out * 4 + phase
        return F.pixel_shuffle(F.conv2d(low, subpixel_weight(self.up.weight), bias, padding=1), 2)

    def forward(self, x_l: torch.Tensor, q=None) -> torch.Tensor:
        """Raw parameter maps (B, 3 * 4K, H, W) in Mixture.from_network's order; q: BPG's Q."""
        f = self.features(x_l, q)
        b, _, h, w = f.shape
        parts = [self.tail_logits(f), self.tail_means(f), self.tail_scales(f), self.tail_coeffs(f)]
        return torch.stack([p.view(b, 3, K, h, w) for p in parts], dim=1).view(b, -1, h, w)

    @property
    def gates(self) -> torch.Tensor | None:
        """The mixture gates (3,), or None for the seed's mixture."""
        return self.mix_gates

    @property
    def lattice(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The lattice tables (G's, B's), or None for the seed's mixture."""
        return None if self.mix_lattice_g is None else (self.mix_lattice_g, self.mix_lattice_b)

    def mixture_of(self, out: torch.Tensor) -> Mixture:
        """The Mixture of raw parameter maps (forward's), with the model's gates and tables."""
        return Mixture.from_network(out, self.gates, self.lattice)

    def mixture(self, x_l: torch.Tensor, q=None) -> Mixture:
        return self.mixture_of(self(x_l, q))


# ----------------------------------------------------------------------------- weights on disk
def weights_id(model: nn.Module) -> str:
    """SHA-256 over the parameters: identifies the exact weights a file was coded with."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def save(model: nn.Module, path: Path, meta: dict | None = None, half: bool = False) -> None:
    """Weights (.pt) and their record (.json), each written atomically (temporary file, rename).
    `half`: store float16 (half the bytes, for the big `paper` network); `load` widens them back,
    and the weights' id is that of the widened model, the one that codes."""
    from .imageio import atomic_write

    path = Path(path)
    buf = io.BytesIO()
    state = model.state_dict()
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        model = build(asdict(model.config))
        model.load_state_dict(state)  # the id below is of what `load` will give
    torch.save({"config": asdict(model.config), "state_dict": state}, buf)
    meta = {k: v for k, v in (meta or {}).items() if k != "weights_id"}  # the id is always computed
    info = {"config": asdict(model.config), "weights_id": weights_id(model), **meta}
    atomic_write(path, buf.getvalue(), force=True)
    atomic_write(path.with_suffix(".json"), (json.dumps(info, indent=2) + "\n").encode(), force=True)


def build(config: dict) -> nn.Module:
    """A model of either kind from its configuration: RC's ResidualModel or RC+'s four passes."""
    if config.get("kind") == "rc+":
        from .model_plus import PlusConfig, RCPlusModel

        return RCPlusModel(PlusConfig(**config))
    return ResidualModel(ModelConfig(**config))


def with_transposed_up(model: nn.Module) -> nn.Module:
    """The model as files before format version 9 ran it: RC's network with PyTorch's transposed
    convolution (a shallow copy sharing the weights); RC+'s passes, which have none, as they are."""
    if not isinstance(model, ResidualModel) or model.transposed_up:
        return model
    view = copy.copy(model)
    view.transposed_up = True
    return view


def kind(model: nn.Module) -> str:
    """'rc' or 'rc+'."""
    return getattr(model.config, "kind", "rc")


def load(path: Path, map_location: str = "cpu") -> nn.Module:
    from .errors import RclibError

    path = Path(path)
    if not path.exists():
        raise RclibError(f"model weights not found: {path}")
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
        model = build(blob["config"])
        model.load_state_dict(blob["state_dict"])
    except OSError as exc:
        raise RclibError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # a foreign file: torch, pickle and zip errors of every kind
        raise RclibError(f"{path}: not rclib residual-model weights ({type(exc).__name__})") from None
    return model.eval()


MODELS_DIR = ROOT / "data" / "models"
DEFAULT_WEIGHTS = MODELS_DIR / "rc_cpu.pt"
DEFAULT_PLUS_WEIGHTS = MODELS_DIR / "rcplus_cpu.pt"
# RC+'s shipped weights with level networks (model_plus.with_level_net, bench/level_finetune.py):
# `--levels` above 1 codes with these where they are shipped.
DEFAULT_LEVELS_WEIGHTS = MODELS_DIR / "rcplus_levels_cpu.pt"
# Copies fine-tuned on x_l from BPG in its RGB colour space (bench/finetune_rgb.py): the shipped
# weights of a kind code over BPG in RGB with these where they are shipped.
DEFAULT_RGB_WEIGHTS = {"rc": MODELS_DIR / "rc_rgb_cpu.pt", "rc+": MODELS_DIR / "rcplus_rgb_cpu.pt"}
# Copies fine-tuned on decoded JPEGs in their own YCbCr (bench/finetune_jpeg.py): JPEG colour codes
# a channel with one where that is shorter than the picture's table.
DEFAULT_JPEG_WEIGHTS = {"rc": MODELS_DIR / "rc_jpeg_cpu.pt", "rc+": MODELS_DIR / "rcplus_jpeg_cpu.pt"}


def zoo(folder: Path = MODELS_DIR) -> dict[str, Path]:
    """Every shipped residual model: {weights_id: path}, read from the JSON beside each .pt.

    Old weights stay in the zoo when new ones become the default, so every file rclib ever
    wrote names weights it can still find (the header holds the weights' SHA-256)."""
    out = {}
    for meta in sorted(Path(folder).glob("*.json")):
        info = json.loads(meta.read_text())
        if "weights_id" in info and meta.with_suffix(".pt").exists():
            out[info["weights_id"]] = meta.with_suffix(".pt")
    return out
