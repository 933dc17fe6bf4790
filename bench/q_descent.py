"""`auto`'s Q search walked downhill (qselect.descend) against trying every Q of the grid.

For every picture that is not a decoded JPEG (those keep the full grid: their costs in JPEG colour
have two valleys), BPG + per-image table bits at every Q of RC's and RC+'s `auto` grids in YCbCr
and of RGB_QS in RGB; then each search's answer from those costs: exhaustive (the grid's minimum,
then AUTO_STEPS_ABOVE) and downhill from START_Q, with how many Qs each encodes and how many
bits the downhill answer costs over the exhaustive one.  Run on the training pictures: the
choice of search is made there, not on the validation pictures.

    python bench/q_descent.py --split train --every 8 [--csv docs/q_descent_train.csv]
    python bench/q_descent.py --sentence docs/q_descent_train.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def answers(costs: dict, grid, steps_above: int = 0) -> dict:
    """Exhaustive and downhill answers on one grid from known costs {Q: bits}: both Qs, the
    number of Qs the downhill walk tries, and its extra bits in % of the exhaustive answer's."""
    from rclib import qselect

    grid = sorted(grid)
    full = qselect.auto_pick({q: costs[q] for q in grid}, steps_above)
    tried = qselect.descend(grid, lambda q: (costs[q],))
    walked = qselect.auto_pick({q: c[0] for q, c in tried.items()}, steps_above, grid=grid)
    extra = 1 if walked not in tried else 0   # the step above's BPG file, when not yet made
    return {"q": full, "q_descent": walked, "tried": len(tried) + extra, "of": len(grid),
            "extra_pct": 100 * (costs[walked] / costs[full] - 1), "steps_above": steps_above}


def main() -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import bpg, colour, data, entropy, qselect
    from rclib.imageio import atomic_write

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("train", "val"), default="train")
    ap.add_argument("--every", type=int, default=8, help="every n-th picture of the split")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-picture rows here")
    ap.add_argument("--sentence", type=Path, default=None, help="print the README's sentence from these rows")
    args = ap.parse_args()
    if args.sentence:
        print(sentence(pd.read_csv(args.sentence)))
        return 0

    from concurrent.futures import ThreadPoolExecutor

    ycbcr_grid = sorted(set(qselect.AUTO_QS["rc"]) | set(qselect.AUTO_QS["rc+"]))
    rows = []
    pool = ThreadPoolExecutor(entropy.workers())
    for path in tqdm(data.list_images(data.resolve("embedded", args.split))[::args.every], desc=args.split):
        x = data.load_rgb(path)
        if colour.jpeg_ycc_of(x) is not None:
            continue

        def ycbcr(q):
            f = bpg.encode(x, q)
            return q, qselect.table_cost(x, f, bpg.decode(f))

        def rgb(q):
            f = bpg.encode(x, q, space="rgb")
            return q, qselect.table_cost(x, f, bpg.decode(f))

        costs = dict(pool.map(ycbcr, ycbcr_grid))
        in_rgb = dict(pool.map(rgb, qselect.RGB_QS))
        row = {"image": path.stem, "package": data.package_of(path.stem), "subpixels": x.size}
        for name, table, grid, steps in (("rc", costs, qselect.AUTO_QS["rc"], qselect.AUTO_STEPS_ABOVE["rc"]),
                                         ("rc+", costs, qselect.AUTO_QS["rc+"], qselect.AUTO_STEPS_ABOVE["rc+"]),
                                         ("rgb", in_rgb, qselect.RGB_QS, 0)):
            row.update({f"{name}_{k}": v for k, v in answers(table, grid, steps).items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    if args.csv:
        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(summary(table).to_string())
    print(sentence(table))
    return 0


def summary(table):
    """Per search: pictures, how often downhill differs, its mean and worst extra bits (%), and
    the Qs it encodes against the grid's."""
    import pandas as pd

    out = {}
    for name in ("rc", "rc+", "rgb"):
        out[name] = {"pictures": len(table), "differ": int((table[f"{name}_q"] != table[f"{name}_q_descent"]).sum()),
                     "mean_extra_pct": table[f"{name}_extra_pct"].mean(), "worst_extra_pct": table[f"{name}_extra_pct"].max(),
                     "qs_encoded": table[f"{name}_tried"].mean(), "grid": int(table[f"{name}_of"].iloc[0])}
    return pd.DataFrame(out).T


def sentence(table) -> str:
    """The README's sentence on the downhill walk, from the committed rows."""
    s = summary(table)
    same = {k: int(s.loc[k, "pictures"] - s.loc[k, "differ"]) for k in s.index}
    return (f"on {int(s.loc['rc', 'pictures'])} training pictures (`python bench/q_descent.py`) it encodes "
            f"{s.loc['rc', 'qs_encoded']:.1f} of RC's {int(s.loc['rc', 'grid'])} Qs, {s.loc['rc+', 'qs_encoded']:.1f} "
            f"of RC+'s {int(s.loc['rc+', 'grid'])} and {s.loc['rgb', 'qs_encoded']:.1f} of the {int(s.loc['rgb', 'grid'])} "
            f"in RGB, and lands on the grid's minimum for {same['rc']}, {same['rc+']} and {same['rgb']} of them "
            f"(at worst {s.worst_extra_pct.max():.2f} % more BPG + table bits)")


if __name__ == "__main__":
    sys.exit(main())
