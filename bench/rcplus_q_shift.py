"""How far RC+'s `--q auto` choice sits from the network's best Q.

`auto` picks Q by BPG bits + per-image table bits (no network) over every third Q; RC+'s network
beats the tables most where BPG leaves more behind, so its best Q lies higher (which is why RC+'s
`auto` takes two grid steps, 6 Q, above the table optimum).  For N main samples of a split this
prints RC+'s estimated bits (network or tables per channel, as the coder chooses) at the table
optimum shifted by each of SHIFTS, and which shift is best per picture:

    python bench/rcplus_q_shift.py --split train --n 40 [--shifts -2 4]
"""
from __future__ import annotations

import argparse

import numpy as np

SHIFTS = range(-2, 5)


def main() -> None:
    from rclib import codec, data, qselect

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="train", choices=["train", "val"])
    ap.add_argument("--n", type=int, default=40, help="main samples, spread evenly over the split")
    ap.add_argument("--shifts", type=int, nargs=2, default=(min(SHIFTS), max(SHIFTS)), metavar=("LO", "HI"),
                    help="the shifts tried, LO..HI")
    args = ap.parse_args()
    shifts = range(min(args.shifts[0], 0), max(args.shifts[1], 0) + 1)  # 0 (auto's Q) is the reference

    root = data.prepare_embedded(progress=False)
    paths = [p for p in data.list_images(root / args.split) if "~" not in p.stem]
    paths = paths[::max(1, len(paths) // args.n)][:args.n]
    net = codec.resolve_model("rc+")
    total, best, subpixels, best_shift = dict.fromkeys(shifts, 0.0), 0.0, 0, []
    lo, hi = min(qselect.Q_RANGES["rc+"]), max(qselect.Q_RANGES["rc+"])
    for path in paths:
        x = data.load_rgb(path)
        q0, _ = qselect.table_search_q(x, qselect.AUTO_QS["rc+"])
        bits = {d: qselect.estimate_bits(x, q0 + d, net)[0] for d in shifts if lo <= q0 + d <= hi}
        for d in shifts:
            total[d] += bits.get(d, bits[0])  # a shift outside the range keeps auto's Q
        best += min(bits.values())
        subpixels += x.size
        best_shift.append(min(bits, key=bits.get))
    print(f"{args.split}: {len(paths)} pictures, RC+ estimated bpsp at auto's Q + shift")
    for d in shifts:
        print(f"  {d:+d}: {total[d] / subpixels:.4f} ({100 * (total[d] / total[0] - 1):+.2f} %)")
    print(f"  best shift per picture: {best / subpixels:.4f} ({100 * (best / total[0] - 1):+.2f} %)")
    shifts, counts = np.unique(best_shift, return_counts=True)
    print("  pictures per best shift: " + ", ".join(f"{s:+d}: {c}" for s, c in zip(shifts, counts)))


if __name__ == "__main__":
    main()
