"""Would RC+ gain from coding its first pass with RC+ again (a pass-1 subimage in four passes)?

RC+'s pass 1 sees x_l alone.  Coding its subimage (every pixel at an even row and column) as a
picture of its own with the same four passes, recursively, lets 3/4 of those pixels see decoded
neighbours two pixels away.  No network is retrained: the shipped passes run on the subsampled
picture.  For each validation picture this scores, at the Q and BPG colour space that RC+'s file
in `make reproduce` has (results/beyond/rc_vs_rc_plus.csv, notebook 06), RC+'s residual bits
with 1, 2 and 3 levels: the network alone, and as the coder codes them (network or per-image
table per pass and channel, codec._coded_bits).  Files in JPEG colour (Q < 10) are left as they
are.  Prints mean bpsp per picture, projecting each file's bytes by the saving in coded bits:

    python bench/rcplus_levels.py --csv docs/rcplus_levels.csv
    python bench/rcplus_levels.py --real --csv docs/rcplus_levels_files.csv   # real files (`--levels`)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

LEVELS = (1, 2, 3)


def level_sums(x: np.ndarray, x_l: np.ndarray, q: int, model, levels: int) -> np.ndarray:
    """Bits (4, 3) per pass and channel of RC+ over (H, W, 3) pictures, pass 1's subimage coded
    by RC+ again `levels - 1` times (its four passes' bits summed into pass 1's row)."""
    from rclib import codec

    bits = codec._pass_sums(codec.residual_bit_map(x, x_l, q, model), "rc+")
    if levels > 1 and min(x.shape[:2]) >= 8:
        sub = level_sums(np.ascontiguousarray(x[::2, ::2]), np.ascontiguousarray(x_l[::2, ::2]), q, model,
                         levels - 1)
        bits[0] = sub.sum(axis=0)
    return bits


def measure(files) -> "pd.DataFrame":
    """One row per RC+ file of notebook 06's table: its bytes, RC's, and the bits at each level."""
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import codec, data, prep

    root = data.prepare_embedded(progress=False)
    rc_bytes = files[files.codec == "RC"].set_index("image").bytes
    rows = []
    for f in tqdm(files[files.codec == "RC+"].itertuples(), total=int((files.codec == "RC+").sum())):
        src = root / "val" / f"{f.image}.png"
        x = data.load_rgb(src)
        row = {"image": f.image, "package": f.package, "q": int(f.q), "space": f.bpg_colour,
               "pixels": x.shape[0] * x.shape[1], "bytes": int(f.bytes), "rc_bytes": int(rc_bytes[f.image])}
        if f.q >= 10:  # BPG's own colour; below, JPEG colour (unchanged here)
            _, x_l = prep.version(src, data.cache_dir() / f"levels-{f.bpg_colour}", int(f.q), space=f.bpg_colour)
            model = codec.default_model("rc+", space=f.bpg_colour)
            for n in LEVELS:
                bits = level_sums(x, x_l, int(f.q), model, n)
                row[f"net_{n}"] = float(bits.sum())
                row[f"coded_{n}"] = codec._coded_bits(x, x_l, bits, "rc+")
        rows.append(row)
    return pd.DataFrame(rows)


def measure_files(files, levels=(1, 3, 4), shifts=(0, 3)) -> "pd.DataFrame":
    """Real files: each RC+ file of notebook 06's table over BPG coded again at each of `levels`,
    at its Q and at its Q + each of `shifts` (the levels' passes want a higher Q), its round trip
    checked and its decoding timed.  Files in JPEG colour keep their bytes."""
    import time

    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import bpg, codec, data

    root = data.prepare_embedded(progress=False)
    rc_bytes = files[files.codec == "RC"].set_index("image").bytes
    rows = []
    for f in tqdm(files[files.codec == "RC+"].itertuples(), total=int((files.codec == "RC+").sum())):
        x = data.load_rgb(root / "val" / f"{f.image}.png")
        row = {"image": f.image, "package": f.package, "q": int(f.q), "space": f.bpg_colour,
               "pixels": x.shape[0] * x.shape[1], "bytes": int(f.bytes), "rc_bytes": int(rc_bytes[f.image])}
        for shift in shifts if f.q >= 10 else ():
            q = min(int(f.q) + shift, 51)
            bpg_file = bpg.encode(x, q, space=f.bpg_colour)
            for n in levels:
                blob = codec.compress(x, q, "rc+", bpg_file=bpg_file, levels=n)
                t0 = time.perf_counter()
                assert (codec.decompress(blob) == x).all(), (f.image, q, n)
                row[f"decode_s_{n}_{shift}"] = time.perf_counter() - t0
                row[f"bytes_{n}_{shift}"] = len(blob)
        rows.append(row)
    return pd.DataFrame(rows)


def files_summary(table) -> "pd.DataFrame":
    """Per (levels, Q shift): mean bpsp per picture of the real files (JPEG colour's as they were;
    `best`: per picture the smaller of this and the one-level file at notebook 06's Q), RC+ / RC,
    and decoding time against one level at the same Q."""
    import pandas as pd

    bpsp = lambda b: float((8 * b / (3 * table.pixels)).mean())  # noqa: E731
    rows = []
    for col in [c for c in table.columns if c.startswith("bytes_")]:
        n, shift = map(int, col.split("_")[1:])
        made = table[col].fillna(table.bytes)
        best = made.where(made < table.bytes_1_0, table.bytes_1_0).fillna(table.bytes)
        coded = table[col].notna()
        rows.append({"levels": n, "q_shift": shift, "rc_plus_bpsp": bpsp(made), "best_bpsp": bpsp(best),
                     "rc_plus_over_rc": bpsp(made) / bpsp(table.rc_bytes),
                     "decode_time_vs_1": table[f"decode_s_{n}_{shift}"][coded].sum()
                     / table[f"decode_s_1_{shift}"][coded].sum()})
    return pd.DataFrame(rows)


def files_sentence(table) -> str:
    """The README's reading of files_summary: what 3 and 4 levels save at each file's Q, what 3 Q
    more does to one and three levels, and the per-picture smaller file's saving (in % of the
    one-level files; negative: larger)."""
    f = files_summary(table).set_index(["levels", "q_shift"])
    saved = lambda key, col="rc_plus_bpsp": 100 * (1 - f.loc[key, col] / f.loc[(1, 0), "rc_plus_bpsp"])  # noqa: E731
    more = lambda key: f"{abs(saved(key)):.2f} % {'smaller' if saved(key) >= 0 else 'larger'}"  # noqa: E731
    return (f"At each file's own Q three levels save {saved((3, 0)):.2f} % and four {saved((4, 0)):.2f} %; "
            f"3 Q higher, one level's files come out {more((1, 3))} and three levels' {more((3, 3))}, and "
            f"taking per picture the smaller of that file and one level's at its Q saves "
            f"{saved((3, 3), 'best_bpsp'):.2f} %")


def files_markdown(table) -> str:
    """The README's table of files_summary."""
    rows = ["| levels | Q | RC+ bpsp | per picture the smaller of it and one level | RC+ / RC | decoding time |",
            "|---|---|---|---|---|---|"]
    for r in files_summary(table).itertuples():
        rows.append(f"| {r.levels} | {'+' + str(r.q_shift) if r.q_shift else 'as coded'} | {r.rc_plus_bpsp:.4f} | "
                    f"{r.best_bpsp:.4f} | {r.rc_plus_over_rc:.4f} | {r.decode_time_vs_1:.2f} × |")
    return "\n".join(rows)


def summary(table) -> "pd.DataFrame":
    """Per level: network bits against one level, and mean bpsp per picture of the projected files
    (bytes less the saving in coded bits; a picture keeps its file where a level does not save)."""
    import pandas as pd

    coded = table.coded_1.notna()
    bpsp = lambda b: float((8 * b / (3 * table.pixels)).mean())  # noqa: E731
    rows = []
    for n in LEVELS:
        saved = ((table.coded_1 - table[f"coded_{n}"]).clip(lower=0).where(coded, 0) / 8)
        rc_plus = bpsp(table.bytes - saved)
        rows.append({"levels": n, "network_bits_vs_1": table[f"net_{n}"].sum() / table.net_1.sum(),
                     "rc_plus_bpsp": rc_plus, "rc_bpsp": bpsp(table.rc_bytes),
                     "rc_plus_over_rc": rc_plus / bpsp(table.rc_bytes)})
    return pd.DataFrame(rows)


def main() -> None:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=Path, default=Path("results/beyond/rc_vs_rc_plus.csv"),
                    help="notebook 06's per-file table (make reproduce writes it)")
    ap.add_argument("--csv", type=Path, default=None, help="write the per-picture table here")
    ap.add_argument("--table", type=Path, default=None, help="summarize this per-picture table instead")
    ap.add_argument("--real", action="store_true", help="code and decode the real files at 1, 3 and 4 levels")
    args = ap.parse_args()
    if args.table:
        table = pd.read_csv(args.table)
    else:
        if not args.files.exists():
            raise SystemExit(f"{args.files} is missing: run `make reproduce` (notebook 06) first")
        table = (measure_files if args.real else measure)(pd.read_csv(args.files))
    if args.csv:
        from rclib.imageio import atomic_write

        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print((files_summary if "bytes_1_0" in table else summary)(table).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
