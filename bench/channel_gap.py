"""Where the residual network loses to a per-photo histogram: channel by channel.

For each validation photo at one Q this prints RC's network bits for R, G given r_R and B given
r_R, r_G (the mixture's own channel coupling) beside the per-photo histogram with RC's channel
context split the same way (`hch` of bench/residual_entropy.py: H(R), H(G | R), H(B | R, G)),
per validation package, weighted by subpixels:

    python bench/channel_gap.py --q 14 --csv docs/channel_gap.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

CHANNELS = ("R", "G", "B")


def summary(table):
    """Subpixel-weighted bits per channel per package (and over the set), network and histogram."""
    import pandas as pd

    rows = []
    for name, part in [*table.groupby("package"), ("all", table)]:
        w = part.subpixels / part.subpixels.sum()
        row = {"package": name, "pictures": len(part)}
        for c in CHANNELS:
            row[f"network {c}"] = float((part[f"net_{c}"] * w).sum())
            row[f"hch {c}"] = float((part[f"hch_{c}"] * w).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(summary_table) -> str:
    cols = list(summary_table.columns)
    out = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    for r in summary_table.itertuples(index=False):
        out += "| " + " | ".join([r[0], str(r[1]), *(f"{v:.3f}" for v in r[2:])]) + " |\n"
    return out


def main() -> int:
    import pandas as pd
    import torch
    from tqdm.auto import tqdm

    from residual_entropy import conditional_entropy
    from rclib import codec, data, model as model_lib, prep
    from rclib.imageio import atomic_write

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--q", type=int, default=14)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--model", default=str(model_lib.DEFAULT_WEIGHTS), help="RC weights")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-photo rows here")
    ap.add_argument("--markdown", type=Path, default=None, help="print the README table from this CSV instead")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(summary(pd.read_csv(args.markdown))), end="")
        return 0
    net = model_lib.load(args.model)
    root = data.prepare_embedded(progress=False)
    prepared = data.cache_dir() / "prep" / "embedded-val"
    prep.prep(root / "val", prepared, qs=[args.q], progress=False)
    rows = []
    for path in tqdm(data.list_images(root / "val")[:args.limit], desc="photos"):
        x = data.load_rgb(path)
        x_l = data.load_rgb(prep.q_dir(prepared, args.q) / f"{path.stem}.png")
        with torch.no_grad():
            bits = codec.residual_bit_map(x, x_l, args.q, net)
        r = x.astype(np.int16) - x_l.astype(np.int16)
        R, G, B = r[..., 0], r[..., 1], r[..., 2]
        hch = (conditional_entropy(R), conditional_entropy(G, R), conditional_entropy(B, R, G))
        row = {"image": path.stem, "package": data.package_of(path.name), "q": args.q, "subpixels": x.size}
        for i, c in enumerate(CHANNELS):
            row[f"net_{c}"] = float(bits[..., i].mean(dtype=np.float64))
            row[f"hch_{c}"] = hch[i]
        rows.append(row)
    table = pd.DataFrame(rows)
    if args.csv:
        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(markdown(summary(table)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
