"""How far RC+'s `--q auto` choice sits from the network's best Q.

`auto` picks Q by BPG bits + per-image table bits (no network) over every third Q; RC+'s network
beats the tables most where BPG leaves more behind, so its best Q lies higher (which is why RC+'s
`auto` takes two grid steps, 6 Q, above the table optimum).  For N main samples of a split this
prints RC+'s estimated bits (network or tables per channel, as the coder chooses) at the table
optimum shifted by each of SHIFTS, and which shift is best per picture:

    python bench/rcplus_q_shift.py --split train --n 40 [--shifts -2 4] [--csv docs/rcplus_q_shift.csv]

--csv keeps the per-picture bits; the README quotes `--shifts 0 7`'s (a test checks the sentence).
`--real 1 2 --csv docs/rcplus_q_step_train.csv`: real file bytes with one and two grid steps.
"""
from __future__ import annotations

import argparse
from pathlib import Path

SHIFTS = range(-2, 5)


def main() -> None:
    import pandas as pd

    from rclib import codec, data, qselect
    from rclib.imageio import atomic_write

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="train", choices=["train", "val"])
    ap.add_argument("--n", type=int, default=40, help="main samples, spread evenly over the split")
    ap.add_argument("--shifts", type=int, nargs=2, default=(min(SHIFTS), max(SHIFTS)), metavar=("LO", "HI"),
                    help="the shifts tried, LO..HI")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-picture bits here")
    ap.add_argument("--sentence", type=Path, default=None, help="print the README's sentence from these rows")
    ap.add_argument("--real", type=int, nargs="+", default=None, metavar="STEPS",
                    help="instead: real `--model rc+ --q auto` file bytes with each of these grid steps above "
                         "the table optimum (qselect.AUTO_STEPS_ABOVE)")
    args = ap.parse_args()
    if args.sentence:
        print(sentence(pd.read_csv(args.sentence)))
        return
    if args.real:
        return real_files(args.split, args.n, args.real, args.csv)
    shifts = range(min(args.shifts[0], 0), max(args.shifts[1], 0) + 1)  # 0 (auto's Q) is the reference

    paths = sample(args.split, args.n)
    net = codec.resolve_model("rc+")
    lo, hi = min(qselect.Q_RANGES["rc+"]), max(qselect.Q_RANGES["rc+"])
    rows = []
    for path in paths:
        x = data.load_rgb(path)
        q0, _ = qselect.table_search_q(x, qselect.AUTO_QS["rc+"])
        bits = {d: qselect.estimate_bits(x, q0 + d, net)[0] for d in shifts if lo <= q0 + d <= hi}
        # a shift outside the range keeps the table optimum's Q
        rows.append({"image": path.stem, "subpixels": x.size, "q0": q0,
                     **{f"bits_{d:+d}": bits.get(d, bits[0]) for d in shifts},
                     "best_shift": min(bits, key=bits.get), "best_bits": min(bits.values())})
    table = pd.DataFrame(rows)
    if args.csv:
        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(f"{args.split}: {len(table)} pictures, RC+ estimated bpsp at the table optimum's Q + shift")
    print(summary(table).to_string())
    print("  pictures per best shift: " + ", ".join(f"{s:+d}: {c}" for s, c in table.best_shift.value_counts().sort_index().items()))
    print(sentence(table))


def sample(split: str, n: int) -> list:
    """N main samples of the split (no `~` variants), spread evenly over it."""
    from rclib import data

    paths = [p for p in data.list_images(data.prepare_embedded(progress=False) / split) if "~" not in p.stem]
    return paths[::max(1, len(paths) // n)][:n]


def real_files(split: str, n: int, steps, csv: Path | None) -> None:
    """Real files of `rclib.compress(x, model="rc+")` (`--q auto`: its RGB and JPEG colour
    candidates too, no tau) with each step above the table optimum, per picture."""
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import data, qselect
    from rclib.imageio import atomic_write

    rows, saved = [], dict(qselect.AUTO_STEPS_ABOVE)
    try:
        for path in tqdm(sample(split, n), desc=split):
            x = data.load_rgb(path)
            row = {"image": path.stem, "subpixels": x.size}
            for step in steps:
                qselect.AUTO_STEPS_ABOVE["rc+"] = step
                row[f"bytes_step{step}"] = len(qselect.compress(x, model="rc+"))
            rows.append(row)
    finally:
        qselect.AUTO_STEPS_ABOVE.update(saved)
    table = pd.DataFrame(rows)
    if csv:
        atomic_write(csv, table.to_csv(index=False).encode(), force=True)
    for step in steps:
        total = table[f"bytes_step{step}"].sum()
        print(f"  step {step}: {8 * total / table.subpixels.sum():.4f} bpsp "
              f"({100 * (total / table[f'bytes_step{steps[0]}'].sum() - 1):+.2f} %), "
              f"smaller than step {steps[0]} for {(table[f'bytes_step{step}'] < table[f'bytes_step{steps[0]}']).sum()} "
              f"of {len(table)}")


def real_sentence(table) -> str:
    """The README's figures for the real files: two steps against one."""
    one, two = table.bytes_step1, table.bytes_step2
    return (f"real `--model rc+` files with `--q auto` on {len(table)} training pictures (`python "
            f"bench/rcplus_q_shift.py --split train --n {len(table)} --real 1 2`): two steps "
            f"{100 * (1 - two.sum() / one.sum()):.2f} % smaller than one ({(two < one).sum()} of {len(table)} pictures smaller)")


def summary(table):
    """Per shift (and the best per picture): estimated bpsp and its change against the table optimum."""
    import pandas as pd

    cols = [c for c in table.columns if c.startswith("bits_")] + ["best_bits"]
    bpsp = pd.Series({c.removeprefix("bits_"): table[c].sum() / table.subpixels.sum() for c in cols})
    return pd.DataFrame({"bpsp": bpsp, "change_pct": 100 * (bpsp / bpsp["+0"] - 1)})


def sentence(table) -> str:
    """The README's figures: what 3, 6 and 7 Q above the table optimum save."""
    s = summary(table)
    return (f"on {len(table)} training pictures, `python bench/rcplus_q_shift.py --split train --n {len(table)} "
            f"--shifts 0 7`, 3 Q above saves {-s.change_pct['+3']:.1f} % of RC+'s estimated bits, 6 above "
            f"{-s.change_pct['+6']:.1f} %, 7 above {-s.change_pct['+7']:.1f} %")


if __name__ == "__main__":
    main()
