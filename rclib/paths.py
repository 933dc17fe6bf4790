"""Where a checkout keeps things, so notebooks and scripts work from any working directory
(JupyterLab starts kernels in notebooks/, `make reproduce` in the repository root)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"


def in_repo(path) -> Path:
    """A relative path is taken from the repository root; an absolute one is kept."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path
