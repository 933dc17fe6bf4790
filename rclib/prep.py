"""Prep: compress every picture of a folder with BPG at each Q and cache the results.

Layout under `out` (one folder per Q, so a Q range can grow later; under the BPG encoder's version,
so files an older encoder wrote are never taken for today's):
    out/e2/q12/<stem>.bpg    the BPG file
    out/e2/q12/<stem>.png    its decoded pixels x_l (what the residual model sees)
    out/prep.csv             one row per (picture, Q): sizes, BPG bits, residual statistics
Existing (bpg, png) pairs are reused, so re-running is cheap.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from . import bpg, data
from .imageio import atomic_write, png_bytes

DEFAULT_QS = tuple(range(9, 18))


def q_dir(out: Path, q: int) -> Path:
    return Path(out) / f"e{bpg.ENCODER_VERSION}" / f"q{q:02d}"


def residual_stats(x: np.ndarray, x_l: np.ndarray) -> dict:
    """Summary of r = x - x_l: mean |r|, std, and its zeroth-order entropy (bits/subpixel)."""
    r = x.astype(np.int16) - x_l.astype(np.int16)
    counts = np.bincount((r + 255).ravel(), minlength=511)
    p = counts[counts > 0] / r.size
    mse = float((r.astype(np.float64) ** 2).mean())
    return {"resid_mae": float(np.abs(r).mean()), "resid_std": float(r.std()),
            "resid_entropy_bpsp": float(-(p * np.log2(p)).sum()),
            "psnr": float(10 * np.log10(255 ** 2 / mse)) if mse > 0 else float("inf")}


def version(src: Path, out: Path, q: int, backend: str = "auto", x: np.ndarray | None = None,
            space: str = "ycbcr"):
    """One picture's BPG version at q: (BPG file, decoded x_l), from the cache under `out` or
    made now and cached (atomically).  x: the picture's pixels when the caller has them; space:
    BPG's colour space (bpg.encode's; a cache holds one colour space, so give each its own `out`)."""
    folder = q_dir(out, q)
    bpg_path, png_path = folder / f"{src.stem}.bpg", folder / f"{src.stem}.png"
    if bpg_path.exists() and png_path.exists():
        return bpg_path.read_bytes(), data.load_rgb(png_path)
    blob = bpg.encode(data.load_rgb(src) if x is None else x, q, backend=backend, space=space)
    x_l = bpg.decode(blob)
    atomic_write(bpg_path, blob, force=True)
    atomic_write(png_path, png_bytes(x_l, compress_level=1), force=True)
    return blob, x_l


def _one(job) -> dict:
    src, out, q, backend, space = job
    x = data.load_rgb(src)
    blob, x_l = version(src, out, q, backend, x, space)
    h, w = x.shape[:2]
    return {"image": src.stem, "q": q, "width": w, "height": h, "bpg_bytes": len(blob),
            "bpg_bpsp": 8 * len(blob) / (h * w * 3), **residual_stats(x, x_l)}


def prep(folder: Path, out: Path, qs=DEFAULT_QS, backend: str = "auto", limit: int | None = None,
         workers: int | None = None, progress: bool = True, qs_for=None, space: str = "ycbcr"):
    """Run BPG at every Q of `qs` over the pictures of `folder`; return the table (DataFrame).
    `qs_for(stem, qs)`, when given, picks each picture's own Qs out of `qs`; space: BPG's colour
    space (version's)."""
    import pandas as pd
    from tqdm.auto import tqdm

    images = data.list_images(folder)[:limit]
    jobs = [(src, Path(out), int(q), backend, space) for src in images
            for q in (qs_for(src.stem, list(qs)) if qs_for else qs)]
    workers = workers or os.cpu_count() or 1
    rows = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in tqdm(pool.map(_one, jobs), total=len(jobs), desc="BPG prep", disable=not progress):
            rows.append(row)
    table = pd.DataFrame(rows).sort_values(["image", "q"]).reset_index(drop=True)
    Path(out).mkdir(parents=True, exist_ok=True)
    atomic_write(Path(out) / "prep.csv", table.to_csv(index=False).encode(), force=True)
    return table
