"""What `--tau` saves, in real file bytes, on the validation pictures.

Each picture is coded at the kind's `--q auto` without tau and again at that Q with tau (kept only
where the file comes out smaller); both round trips are checked.  Prints the saving per validation
package and over the set (mean bpsp per picture) and writes one row per picture:

    python bench/tau_gain.py --model rc+ --csv docs/tau_gain_rcplus.csv
"""
from __future__ import annotations

import argparse
from pathlib import Path


def summary(table):
    """Mean bpsp per picture (as the README's tables) with and without tau, per validation package
    and over the set, and the saving in %."""
    import pandas as pd

    from rclib import data

    table = table.assign(package=[data.package_of(f"{s}.png") for s in table.image])
    rows = []
    for name, part in [*table.groupby("package"), ("all", table)]:
        rows.append({"package": name, "pictures": len(part), "tau_kept": int(part.tau_used.sum()),
                     "bpsp": part.bpsp.mean(), "bpsp_tau": part.bpsp_tau.mean(),
                     "saved_pct": 100 * (1 - part.bpsp_tau.mean() / part.bpsp.mean())})
    return pd.DataFrame(rows)


def main() -> None:
    from rclib import bench, data

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="rc+", choices=["rc", "rc+"])
    ap.add_argument("--limit", type=int, default=None, help="the first N validation pictures")
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()

    root = data.prepare_embedded(progress=False)
    paths = data.list_images(root / "val")[:args.limit]
    table = bench.tau_gain(paths, q="auto", model=args.model)
    if args.csv:
        from rclib.imageio import atomic_write

        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(summary(table).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
