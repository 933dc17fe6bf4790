"""Encode time and file size of the Q strategies side by side: a fixed Q, `auto` (the classifier)
and `min` (search every Q of 11..17), on the first N validation photos of the embedded set.

    python bench/q_strategies.py [--limit 4] [--q 14]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main() -> int:
    import pandas as pd

    from rclib import codec, data, qselect

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--q", type=int, default=14, help="the fixed Q to compare with")
    args = ap.parse_args()
    codec.default_model()
    rows = []
    for path in data.list_images(data.resolve("embedded", "val"))[:args.limit]:
        x = data.load_rgb(path)
        for strategy in (args.q, "auto", "min"):
            t0 = time.perf_counter()
            blob = qselect.compress(x, q=strategy)
            seconds = time.perf_counter() - t0
            assert np.array_equal(codec.decompress(blob), x)
            rows.append({"image": path.stem, "strategy": str(strategy), "q": codec.info(blob)["q"],
                         "bpsp": 8 * len(blob) / x.size, "encode_s": seconds})
    table = pd.DataFrame(rows)
    print(table.round(4).to_string(index=False))
    mean = table.groupby("strategy")[["bpsp", "encode_s"]].mean()
    fixed = mean.loc[str(args.q)]
    mean["bits_vs_min_pct"] = 100 * (mean.bpsp / mean.loc["min", "bpsp"] - 1)
    mean["time_vs_fixed"] = mean.encode_s / fixed.encode_s
    print(mean.round(4).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
