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


def residual_image(x: np.ndarray, x_l: np.ndarray, clip: int = 4) -> np.ndarray:
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
    ax.barh(mean.index, mean.values, color=["C3" if c.startswith(("rclib", "RC")) else "C0" for c in mean.index])
    for i, v in enumerate(mean.values):
        ax.text(v, i, f" {v:.3f}", va="center")
    ax.set_xlabel("bits per subpixel (lower is better)")
    ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def _png(rgb: np.ndarray) -> bytes:
    from .imageio import png_bytes

    return png_bytes(rgb, compress_level=1)


def q_panel_image(x: np.ndarray, x_l: np.ndarray, bits: np.ndarray | None = None) -> np.ndarray:
    """x_l | residual | per-pixel bits (if given) side by side, as one uint8 RGB picture."""
    parts = [x_l, np.repeat(residual_image(x, x_l)[..., 1:2], 3, axis=2)]
    if bits is not None:
        import matplotlib

        norm = np.clip(bits / max(float(np.percentile(bits, 99)), 1e-6), 0, 1)
        parts.append((matplotlib.colormaps["magma"](norm)[..., :3] * 255).astype(np.uint8))
    gap = np.full((x.shape[0], 4, 3), 255, np.uint8)
    out = [parts[0]]
    for p in parts[1:]:
        out += [gap, p]
    return np.concatenate(out, axis=1)


def q_explorer(x: np.ndarray, lossy: dict, bits: dict | None = None, stats: dict | None = None):
    """An ipywidgets slider over Q showing x_l, the residual and the bit map of the chosen Q.

    Every panel is rendered to PNG up front, so moving the slider only swaps bytes.  `stats`
    maps Q to a line of text (e.g. the bits of each part).  Returns the widget (a VBox).
    """
    import ipywidgets as widgets

    qs = sorted(lossy)
    pngs = {q: _png(q_panel_image(x, lossy[q], None if bits is None else bits[q])) for q in qs}
    slider = widgets.SelectionSlider(options=qs, value=qs[0], description="Q", continuous_update=True)
    image = widgets.Image(value=pngs[qs[0]], format="png")
    label = widgets.HTML(value=(stats or {}).get(qs[0], ""))

    def show(change):
        image.value = pngs[change["new"]]
        label.value = (stats or {}).get(change["new"], "")

    slider.observe(show, names="value")
    box = widgets.VBox([slider, label, image])
    box.pngs = pngs  # for tests and static fallbacks
    return box


def q_grid(x: np.ndarray, lossy: dict, bits: dict | None = None, stats: dict | None = None):
    """The static version of q_explorer: one row per Q (what a headless run shows)."""
    plt = _plt()
    qs = sorted(lossy)
    fig, axes = plt.subplots(len(qs), 1, figsize=(10, 2.6 * len(qs)), squeeze=False)
    for ax, q in zip(axes[:, 0], qs):
        ax.imshow(q_panel_image(x, lossy[q], None if bits is None else bits[q]))
        ax.set_title(f"Q={q}: x_l | residual | bits per pixel   {(stats or {}).get(q, '')}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def confusion(true_q, pred_q, qs):
    """Confusion matrix of the classifier's Q against the oracle's (counts)."""
    plt = _plt()
    idx = {q: i for i, q in enumerate(qs)}
    m = np.zeros((len(qs), len(qs)), int)
    for t, p in zip(true_q, pred_q):
        m[idx[t], idx[p]] += 1
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(m, cmap="Blues")
    for i in range(len(qs)):
        for j in range(len(qs)):
            if m[i, j]:
                ax.text(j, i, m[i, j], ha="center", va="center")
    ax.set_xticks(range(len(qs)), qs)
    ax.set_yticks(range(len(qs)), qs)
    ax.set_xlabel("classifier's Q")
    ax.set_ylabel("optimal Q (MIN)")
    fig.tight_layout()
    return fig
