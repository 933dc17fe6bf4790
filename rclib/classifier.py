"""Q selection: the per-image Q histories (strategy MIN's targets) and the Q-classifier.

The seed's classifier (`down2_nonorm_down`) looks at the original picture x and predicts which
BPG quantizer Q gives the fewest total bits (BPG + residual): two stride-2 5x5 convs, residual
blocks, a third stride-2 5x5 conv, more residual blocks, global average pooling and one linear
layer to one class per Q.  No normalization.  Targets come from Q histories: for every training
picture and every Q of the range, the BPG bits and the residual model's bits.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import RclibError
from .imageio import atomic_write
from .model import to_tensor

CROP = 384                       # the classifier sees a centre crop of at most CROP x CROP


@dataclass(frozen=True)
class ClassifierConfig:
    name: str
    width: int                   # channels after the first conv; doubled twice on the way down
    blocks: int = 4              # residual blocks at each of the two deeper resolutions


CONFIGS = {
    "paper": ClassifierConfig("paper", width=64),
    "cpu": ClassifierConfig("cpu", width=16, blocks=2),
    "tiny": ClassifierConfig("tiny", width=4, blocks=1),
}


class _Res(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class QClassifier(nn.Module):
    """x (B, 3, H, W) in 0..255 -> logits over the quantizers qs (its classes)."""

    def __init__(self, config: ClassifierConfig, qs):
        super().__init__()
        self.config, self.qs = config, tuple(qs)
        c = config.width
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(c, 2 * c, 5, stride=2, padding=2), nn.ReLU(),
            *[_Res(2 * c) for _ in range(config.blocks)],
            nn.Conv2d(2 * c, 4 * c, 5, stride=2, padding=2),
            *[_Res(4 * c) for _ in range(config.blocks)],
        )
        self.fc = nn.Linear(4 * c, len(self.qs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(x / 127.5 - 1.0).mean(dim=(2, 3)))


def centre_crop(rgb: np.ndarray, size: int = CROP) -> np.ndarray:
    h, w = rgb.shape[:2]
    y0, x0 = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return rgb[y0:y0 + size, x0:x0 + size]


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True)
class ClassifierTrainConfig:
    model: str = "cpu"
    steps: int = 600
    batch: int = 8
    crop: int = 128
    lr: float = 1e-3             # the seed: Adam 1e-4 for far longer; 1e-3 suits short CPU runs
    weight_decay: float = 1e-4
    seed: int = 0


def train(originals: Path, targets: dict[str, int], qs, cfg: ClassifierTrainConfig = ClassifierTrainConfig(),
          progress: bool = True) -> QClassifier:
    """Cross-entropy against each picture's target Q (one of qs), on random crops (with flips)."""
    from tqdm.auto import tqdm

    from . import data

    qs = tuple(qs)
    pictures = [(data.load_rgb(p), qs.index(targets[p.stem])) for p in data.list_images(originals)
                if p.stem in targets]
    if not pictures:
        raise RclibError("no pictures with Q targets to train the classifier on")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    net = QClassifier(CONFIGS[cfg.model], qs)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for _ in tqdm(range(cfg.steps), desc="classifier", disable=not progress):
        xs, ys = [], []
        for _ in range(cfg.batch):
            x, y = pictures[int(rng.integers(len(pictures)))]
            h, w = x.shape[:2]
            c = min(cfg.crop, h, w)
            y0, x0 = int(rng.integers(h - c + 1)), int(rng.integers(w - c + 1))
            crop = x[y0:y0 + c, x0:x0 + c]
            xs.append(to_tensor(crop[:, ::-1] if rng.random() < 0.5 else crop))
            ys.append(y)
        loss = F.cross_entropy(net(torch.cat(xs)), torch.tensor(ys))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


# ----------------------------------------------------------------------------- weights, use
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "models" / "q_classifier_cpu.pt"


_CACHE: dict[str, QClassifier] = {}


def save(net: QClassifier, path: Path, meta: dict | None = None) -> None:
    """Weights and their record, each written atomically."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    torch.save({"config": asdict(net.config), "qs": list(net.qs), "state_dict": net.state_dict()}, buf)
    atomic_write(path, buf.getvalue(), force=True)
    record = json.dumps({"config": asdict(net.config), "qs": list(net.qs), **(meta or {})}, indent=2)
    atomic_write(path.with_suffix(".json"), (record + "\n").encode(), force=True)


def load(path: Path | None = None) -> QClassifier:
    path = Path(path or DEFAULT_WEIGHTS)
    if str(path) not in _CACHE:
        if not path.exists():
            raise RclibError(f"Q-classifier weights not found: {path}; use a fixed --q or --q min")
        blob = torch.load(path, map_location="cpu", weights_only=True)
        net = QClassifier(ClassifierConfig(**blob["config"]), blob["qs"])
        net.load_state_dict(blob["state_dict"])
        _CACHE[str(path)] = net.eval()
    return _CACHE[str(path)]


@torch.no_grad()
def predict_q(rgb: np.ndarray, net: QClassifier | None = None) -> int:
    """The classifier's Q for a picture (from its centre crop)."""
    net = net or load()
    return net.qs[int(net(to_tensor(centre_crop(rgb))).argmax())]
