"""How far the `cpu` network can get on the validation photos at all: train it on them.

Trains the shipped model's architecture on random crops of the validation photos themselves
(BPG at one fixed Q), which no honest result may do, and compares its whole-picture residual
bits with the shipped model's (trained on the training split) and with two histogram coders
under RC's channel context: one table for all validation photos, and one table per photo.
If even the network fitted to these photos stays near the pooled table, the gap to WebP-LL is
not a matter of more training data.  All means are weighted by subpixels.

    python bench/val_ceiling.py [--q 12] [--steps 500] [--limit N]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from residual_entropy import channel_entropy  # noqa: E402


def channel_context_bits(x: np.ndarray, x_l: np.ndarray) -> float:
    """Empirical bits of the residual: R, then G given r_R, then B given r_R and r_G (all subpixels)."""
    r = x.astype(np.int16) - x_l.astype(np.int16)
    return r.size * channel_entropy(*(r[..., c].ravel() for c in range(3)))


def main() -> int:
    import pandas as pd
    import torch

    from rclib import baselines, codec, data, model, prep, train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--q", type=int, default=12)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)

    root = data.prepare_embedded(progress=False)
    prepared = data.cache_dir() / "prep" / "embedded-val"
    prep.prep(root / "val", prepared, qs=[args.q], limit=args.limit, progress=False)
    paths = data.list_images(root / "val")[:args.limit]
    pairs = [(data.load_rgb(p), data.load_rgb(prep.q_dir(prepared, args.q) / f"{p.stem}.png")) for p in paths]
    subpixels = sum(x.size for x, _ in pairs)
    bpg_bits = sum(8 * (prep.q_dir(prepared, args.q) / f"{p.stem}.bpg").stat().st_size for p in paths)
    webp_bits = sum(8 * baselines.run("WebP-LL", x).bytes for x, _ in pairs)

    shipped = train.validate(codec.default_model("rc"), pairs, args.q)["all"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "val"
        folder.mkdir()
        for p in paths:
            (folder / p.name).symlink_to(p.resolve())
        cfg = train.profile("cpu", q_min=args.q, q_max=args.q, steps=args.steps, val_q=args.q,
                            val_every=args.steps, ckpt_every=args.steps)
        fitted = train.train(cfg, folder, folder, prepared, prepared, Path(tmp) / "run", device="cpu")
        fitted = fitted[f"val_bpsp_q{args.q}"]
    every_x = np.concatenate([x.reshape(-1, 3) for x, _ in pairs])
    every_x_l = np.concatenate([x_l.reshape(-1, 3) for _, x_l in pairs])
    pooled = channel_context_bits(every_x, every_x_l) / subpixels
    per_photo = sum(channel_context_bits(x, x_l) for x, x_l in pairs) / subpixels

    bpg = bpg_bits / subpixels
    rows = [
        (f"shipped {model.DEFAULT_WEIGHTS.name} (trained on the training split)", shipped),
        (f"cpu network trained on these photos, {args.steps} steps (a ceiling, not a result)", fitted),
        ("one histogram for all these photos, RC's channel context", pooled),
        ("one histogram per photo, RC's channel context", per_photo),
    ]
    table = pd.DataFrame([(name, r, bpg + r) for name, r in rows], columns=["residual coder", "residual", "total"])
    print(f"{len(pairs)} validation photos, BPG at Q {args.q}: {bpg:.3f} bpsp; WebP-LL {webp_bits / subpixels:.3f} bpsp")
    print(table.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
