"""Shared fixtures: the BPG test vectors and real photographs."""
from __future__ import annotations

from pathlib import Path

import rclib  # noqa: F401 (first: it pins PyTorch's float path before any torch kernel runs)
import numpy as np
import pytest
from PIL import Image

VECTORS = Path(__file__).parent / "vectors"
PHOTOS = ("astronaut", "chelsea", "coffee_odd")


def load(name: str) -> np.ndarray:
    return np.asarray(Image.open(VECTORS / name).convert("RGB"))


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    return {n: load(f"{n}.png") for n in PHOTOS}


@pytest.fixture(scope="session")
def big_photo() -> np.ndarray:
    """A 2000x1500 crop of a full-size photograph from the embedded set's sources."""
    from rclib import data

    return data.source_photo("lomiri-wallpapers-16.04",
                             "usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg")[200:1700, 300:2300]


@pytest.fixture(scope="session")
def tiny_model():
    """A small residual model with fixed random weights: coding is lossless whatever the weights."""
    import torch

    from rclib.model import CONFIGS, ResidualModel

    torch.manual_seed(0)
    return ResidualModel(CONFIGS["tiny"]).eval()


@pytest.fixture(scope="session")
def tiny_plus_model():
    """A small RC+ model (four passes) with fixed random weights."""
    import torch

    from rclib.model_plus import CONFIGS, RCPlusModel

    torch.manual_seed(1)
    return RCPlusModel(CONFIGS["tiny+"]).eval()
