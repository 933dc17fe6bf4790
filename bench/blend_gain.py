"""What `--blend` saves, in real file bytes, on the validation pictures.

Each picture is coded at the kind's `--q auto` as rclib codes it by default, and again at that Q
(the same BPG file) with blends of the network and the per-image tables tried too (kept per pass
and channel where smaller); both round trips are checked.  Prints the saving per validation
package and over the set (mean bpsp per picture), coding and decoding seconds, and writes one
row per picture:

    python bench/blend_gain.py --model rc --csv docs/blend_gain_rc.csv
    python bench/blend_gain.py --model rc+ --csv docs/blend_gain_rcplus.csv
    python bench/blend_gain.py --combine docs/blend_gain_rc.csv docs/blend_gain_rcplus.csv
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def summary(table):
    """Mean bpsp per picture (as the README's tables) with and without blends, per validation
    package and over the set, the saving in %, and the summed coding and decoding seconds."""
    import pandas as pd

    from rclib import data

    table = table.assign(package=[data.package_of(f"{s}.png") for s in table.image])
    rows = []
    for name, part in [*table.groupby("package"), ("all", table)]:
        rows.append({"package": name, "pictures": len(part),
                     "blend_kept": int((part.blend_channels.fillna("") != "").sum()),
                     "bpsp": part.bpsp.mean(), "bpsp_blend": part.bpsp_blend.mean(),
                     "saved_pct": 100 * (1 - part.bpsp_blend.mean() / part.bpsp.mean()),
                     "code_s": part.code_s.sum(), "code_blend_s": part.code_blend_s.sum(),
                     "decode_s": part.decode_s.sum(), "decode_blend_s": part.decode_blend_s.sum()})
    return pd.DataFrame(rows)


def combined(rc, plus):
    """Per validation package (and over the set) the mean bpsp of RC, RC+ and the default's choice
    per picture (`--model auto`: the smaller file of the two) without and with blends, from the
    two committed tables; a markdown table for the README."""
    import pandas as pd

    from rclib import data

    both = rc.merge(plus, on="image", suffixes=("_rc", "_plus"))
    both = both.assign(package=[data.package_of(f"{s}.png") for s in both.image],
                       auto=np.minimum(both.bpsp_rc, both.bpsp_plus),
                       auto_blend=np.minimum(both.bpsp_blend_rc, both.bpsp_blend_plus))
    cols = {"bpsp_rc": "RC", "bpsp_blend_rc": "RC --blend", "bpsp_plus": "RC+", "bpsp_blend_plus": "RC+ --blend",
            "auto": "RC or RC+", "auto_blend": "RC or RC+ --blend"}
    rows = []
    for name, part in [*both.groupby("package"), ("all", both)]:
        means = {label: part[col].mean() for col, label in cols.items()}
        rows.append({"package": name, "pictures": len(part), **means,
                     "saved_pct": 100 * (1 - means["RC or RC+ --blend"] / means["RC or RC+"])})
    table = pd.DataFrame(rows)
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    body = "".join("| " + " | ".join([r.package, str(r.pictures), *(f"{v:.3f}" for v in list(r)[2:-1]),
                                       f"{r.saved_pct:.2f}"]) + " |\n" for r in table.itertuples(index=False))
    return table, header + body


def main() -> None:
    from rclib import bench, data

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="rc+", choices=["rc", "rc+"])
    ap.add_argument("--limit", type=int, default=None, help="the first N validation pictures")
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--combine", type=Path, nargs=2, metavar=("RC_CSV", "RCPLUS_CSV"),
                    help="print the README's table from the two committed tables instead")
    args = ap.parse_args()
    if args.combine:
        import pandas as pd

        print(combined(*(pd.read_csv(p, keep_default_na=False) for p in args.combine))[1], end="")
        return

    root = data.prepare_embedded(progress=False)
    paths = data.list_images(root / "val")[:args.limit]
    table = bench.blend_gain(paths, q="auto", model=args.model)
    if args.csv:
        from rclib.imageio import atomic_write

        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(summary(table).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
