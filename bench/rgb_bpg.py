"""Which Qs BPG in RGB wants, and what it saves before any network: for every picture, BPG's bits +
the per-image tables' bits (every channel from its table, the table section included; what `auto`
weighs, qselect.rgb_candidate) at each Q of a grid, with BPG in YCbCr (the paper's) and in its
RGB colour space.

The grid qselect.RGB_QS was chosen on the training pictures (`--split train`, every 8th);
`--split val` shows the same on the validation pictures.  Ideal bits (the coder's real bytes
are within 0.5 % of them); the networks, trained on YCbCr's x_l, are not involved.

    python bench/rgb_bpg.py --split train --every 8 [--csv docs/rgb_bpg_train.csv]
    python bench/rgb_bpg.py --markdown docs/rgb_bpg_train.csv docs/rgb_bpg_val.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

QS = (4, 6, 8, 10, 12, 14, 17, 20, 23)


def summary(table):
    """Per split and package: pictures, mean bpsp of the best Q in YCbCr and in RGB (tables only),
    how many are cheaper in RGB, and how often each Q is RGB's best."""
    import pandas as pd

    rows = []
    for (split, package), part in table.groupby(["split", "package"], sort=False):
        rows.append(_row(split, package, part))
    for split, part in table.groupby("split", sort=False):
        rows.append(_row(split, "all", part))
    return pd.DataFrame(rows)


def _row(split, package, part):
    low = part.best_rgb_q.value_counts()
    return {"split": split, "package": package, "pictures": len(part),
            "YCbCr, tables": part.best_ycbcr.mean(), "RGB, tables": part.best_rgb.mean(),
            "saved_pct": 100 * (1 - part.best_rgb.mean() / part.best_ycbcr.mean()),
            "cheaper in RGB": int((part.best_rgb < part.best_ycbcr).sum()),
            "RGB's best Q": " ".join(f"{q}: {n}" for q, n in sorted(low.items()))}


def markdown(summary_table) -> str:
    cols = ["split", "package", "pictures", "YCbCr, tables", "RGB, tables", "saved_pct", "cheaper in RGB", "RGB's best Q"]
    out = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    for r in summary_table.to_dict("records"):
        best_q = r["RGB's best Q"]
        out += (f"| {r['split']} | {r['package']} | {r['pictures']} | {r['YCbCr, tables']:.3f} | {r['RGB, tables']:.3f} | "
                f"{r['saved_pct']:.1f} | {r['cheaper in RGB']} | {best_q} |\n")
    return out


def main() -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import bpg, data, qselect
    from rclib.imageio import atomic_write

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("train", "val"), default="train")
    ap.add_argument("--every", type=int, default=1, help="every n-th picture of the split")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-picture rows here")
    ap.add_argument("--markdown", type=Path, nargs="+", default=None, help="print the README table from these CSVs")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(summary(pd.concat([pd.read_csv(p) for p in args.markdown]))), end="")
        return 0

    rows = []
    for path in tqdm(data.list_images(data.resolve("embedded", args.split))[::args.every], desc=f"{args.split} pictures"):
        x = data.load_rgb(path)
        row = {"image": path.stem, "split": args.split, "package": data.package_of(path.stem), "subpixels": x.size}
        for space in ("ycbcr", "rgb"):
            for q in QS:
                bpg_file = bpg.encode(x, q, space=space)
                row[f"{space}_q{q}"] = qselect.table_cost(x, bpg_file, bpg.decode(bpg_file)) / x.size
            cost = {q: row[f"{space}_q{q}"] for q in QS}
            row[f"best_{space}_q"] = min(cost, key=cost.get)
            row[f"best_{space}"] = min(cost.values())
        rows.append(row)
    table = pd.DataFrame(rows)
    if args.csv:
        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(markdown(summary(table)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
