"""Which Qs JPEG colour wants: for every picture decoded from a JPEG, BPG's bits + the JPEG colour
tables' bits (what `--q auto` weighs for such a picture, qselect.table_cost) at each Q from 5 to 17,
and what the best Q below 11 saves against the best of RC's range 11..17.

The grid qselect.JPEG_LOW_QS was chosen on the training photos' native regions (`--split train`,
the regions `bench/finetune_gates.py pack-native` cut); `--split val` checks it on the validation
pictures.  Ideal bits (the coder's real bytes are within 0.5 % of them), no network involved.

    python bench/jpeg_low_q.py --split train [--limit N] [--csv docs/jpeg_low_q_train.csv]
    python bench/jpeg_low_q.py --markdown docs/jpeg_low_q_train.csv docs/jpeg_low_q_val.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

QS = tuple(range(5, 18))
HIGH = tuple(q for q in QS if q >= 11)  # RC's range


def summary(table):
    """Per split: decoded JPEGs, mean bpsp at the best Q of 11..17 and of 5..17, saved %, and how
    often each low Q is the best."""
    import pandas as pd

    rows = []
    for split, part in table.groupby("split", sort=False):
        row = {"split": split, "decoded JPEGs": len(part), "best of 11..17": part.best_high.mean(),
               "best of 5..17": part.best_all.mean()}
        row["saved_pct"] = 100 * (1 - row["best of 5..17"] / row["best of 11..17"])
        row["best Q below 11"] = int((part.best_q < 11).sum())
        low = part.best_q[part.best_q < 11]
        row["those Qs"] = " ".join(f"{q}: {n}" for q, n in sorted(low.value_counts().items()))
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(summary_table) -> str:
    cols = ["split", "decoded JPEGs", "best of 11..17", "best of 5..17", "saved_pct", "best Q below 11", "those Qs"]
    out = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    for r in summary_table.to_dict("records"):
        out += (f"| {r['split']} | {r['decoded JPEGs']} | {r['best of 11..17']:.3f} | {r['best of 5..17']:.3f} | "
                f"{r['saved_pct']:.1f} | {r['best Q below 11']} | {r['those Qs']} |\n")
    return out


def pictures(split: str):
    from rclib import data

    if split == "val":
        return data.list_images(data.resolve("embedded", "val"))
    crops = data.cache_dir() / "native-train" / "crops"
    if not crops.is_dir():
        raise SystemExit(f"no training regions at {crops}: run `python bench/finetune_gates.py pack-native` first")
    return sorted(crops.glob("*.png"))


def main() -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import bpg, colour, data, qselect
    from rclib.imageio import atomic_write

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("train", "val"), default="train")
    ap.add_argument("--limit", type=int, default=None, help="at most this many decoded JPEGs")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-picture rows here")
    ap.add_argument("--markdown", type=Path, nargs="+", default=None, help="print the README table from these CSVs")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(summary(pd.concat([pd.read_csv(p) for p in args.markdown]))), end="")
        return 0

    rows = []
    for path in tqdm(pictures(args.split), desc=f"{args.split} pictures"):
        if args.limit is not None and len(rows) >= args.limit:
            break
        x = data.load_rgb(path)
        ycc = colour.jpeg_ycc_of(x)
        if ycc is None:
            continue  # not a decoded JPEG: JPEG colour never applies
        cost = {q: qselect.table_cost(x, bpg.encode(x, q), ycc=ycc) / x.size for q in QS}
        best_q = min(cost, key=cost.get)
        rows.append({"image": path.stem, "split": args.split, "subpixels": x.size,
                     **{f"bpsp_q{q}": c for q, c in cost.items()}, "best_q": best_q,
                     "best_high": min(cost[q] for q in HIGH), "best_all": cost[best_q]})
    table = pd.DataFrame(rows)
    if args.csv:
        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(markdown(summary(table)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
