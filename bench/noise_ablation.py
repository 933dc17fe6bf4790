"""Does the synthetic sensor noise ("~noisy" training samples) help on photos with real noise?

Trains the `cpu` network twice from the same start, with and without the noisy samples, for the
same steps, and prints validation residual bits per package (the "~native" packages are the
native-resolution crops, where real noise and grain survive).  Each run keeps its folder, so a
run can be continued from its checkpoint afterwards (`rclib train --profile cpu --out DIR`).

    python bench/noise_ablation.py [--steps 1000] [--threads 1] [--only with|without]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    import pandas as pd
    import torch

    from rclib import data, train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", choices=["with", "without"])
    ap.add_argument("--out", default="results/noise-ablation")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from rclib import prep

    root = data.prepare_embedded(progress=False, extra_variants=data.ABLATION_VARIANTS)
    prepared = data.cache_dir() / "prep"
    cfg = train.profile("cpu", steps=args.steps, val_every=args.steps // 2, ckpt_every=args.steps // 4)
    qs = range(cfg.q_min, cfg.q_max + 1)
    for folder in (root / "train", root / "ablation"):
        prep.prep(folder, prepared / "embedded-train", qs=qs, progress=False,
                  qs_for=train.picture_qs(cfg))
    prep.prep(root / "val", prepared / "embedded-val", qs=[cfg.val_q], progress=False)
    rows = {}
    for arm in ("with", "without"):
        if args.only and arm != args.only:
            continue
        folder = Path(args.out) / f"{arm}-noise" / "train-set"
        folder.mkdir(parents=True, exist_ok=True)
        pictures = data.list_images(root / "train") + (data.list_images(root / "ablation") if arm == "with" else [])
        for p in pictures:
            if not (folder / p.name).exists():
                (folder / p.name).symlink_to(p.resolve())
        train.train(cfg, folder, root / "val", prepared / "embedded-train", prepared / "embedded-val",
                    folder.parent, device="cpu", progress=False)
        log = pd.read_csv(folder.parent / "log.csv").dropna(subset=["val_bpsp"])
        rows[f"{arm} noisy samples"] = log.set_index("step").filter(like="val_").iloc[-1]
    print(f"validation residual bpsp at Q {cfg.val_q} after {args.steps} steps:")
    print(pd.DataFrame(rows).round(4).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
