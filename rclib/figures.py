"""Figures the notebooks and the benchmark share: readable at a glance, each returns its Figure."""
from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def bits_vs_q(table):
    """Mean BPG bits, residual zeroth-order entropy and their sum per Q (from a prep table)."""
    plt = _plt()
    mean = table.groupby("q")[["bpg_bpsp", "resid_entropy_bpsp"]].mean()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(mean.index, mean.bpg_bpsp, "o-", label="BPG (x_l)")
    ax.plot(mean.index, mean.resid_entropy_bpsp, "s-", label="residual, 0th-order entropy")
    ax.plot(mean.index, mean.bpg_bpsp + mean.resid_entropy_bpsp, "k--", label="sum")
    ax.set_xlabel("BPG quantizer Q")
    ax.set_ylabel("bits per subpixel")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def residual_image(x: np.ndarray, x_l: np.ndarray, clip: int = 8) -> np.ndarray:
    """r = x - x_l as a viewable uint8 picture: grey is 0, +-clip saturates."""
    r = x.astype(np.int16) - x_l.astype(np.int16)
    return (128 + np.clip(r, -clip, clip) * (127 / clip)).astype(np.uint8)


def residual_panel(x: np.ndarray, lossy: dict, title: str = ""):
    """x, then for each Q its x_l and residual, side by side."""
    plt = _plt()
    n = 1 + 2 * len(lossy)
    fig, axes = plt.subplots(1, n, figsize=(3 * n, 3.2))
    axes[0].imshow(x)
    axes[0].set_title(f"x {title}".strip())
    for i, (q, x_l) in enumerate(sorted(lossy.items())):
        axes[1 + 2 * i].imshow(x_l)
        axes[1 + 2 * i].set_title(f"x_l, Q={q}")
        axes[2 + 2 * i].imshow(residual_image(x, x_l))
        axes[2 + 2 * i].set_title(f"r = x - x_l, Q={q}")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def training_curves(log):
    """Train and validation residual bpsp against the step (from a training log.csv)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(log.step, log.train_bpsp, label="train (crops, random Q)")
    val = log.dropna(subset=["val_bpsp"])
    if len(val):
        ax.plot(val.step, val.val_bpsp, "o-", label="validation (whole pictures)")
    ax.set_xlabel("step")
    ax.set_ylabel("residual bits per subpixel")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def bpsp_bars(table, title: str = ""):
    """Horizontal bars of mean bpsp per codec (a benchmark table with `codec` and `bpsp`)."""
    plt = _plt()
    mean = table.groupby("codec")["bpsp"].mean().sort_values()
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(mean) + 1))
    ax.barh(mean.index, mean.values, color=["C3" if c.startswith("rclib") else "C0" for c in mean.index])
    for i, v in enumerate(mean.values):
        ax.text(v, i, f" {v:.3f}", va="center")
    ax.set_xlabel("bits per subpixel (lower is better)")
    ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig
