"""What JPEG colour saves: the validation pictures decoded from a JPEG, coded by rclib's defaults
(`--model auto`, `--q auto`) with JPEG colour and without it (`--no-jpeg-colour`), real file bytes,
every round trip checked.

A picture is a decoded JPEG here when every pixel is libjpeg's conversion of some integer YCbCr
(rclib.colour.jpeg_ycc_of); the encoder tries JPEG colour only then, so every other picture codes
to the same bytes either way and is only counted (`decoded JPEGs` = 0).  `reachable`: the share
of a picture's pixels that libjpeg's conversion can output at all (of all RGB triples, a quarter).

    python bench/jpeg_colour.py [--limit N] [--csv docs/jpeg_colour.csv]
    python bench/jpeg_colour.py --markdown docs/jpeg_colour.csv     (the README table)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def summary(table):
    """Per package (and over the pictures decoded from a JPEG): mean bpsp with and without."""
    import pandas as pd

    rows = []
    jpeg = table[table.decoded_jpeg]
    for name, part in [*table.groupby("package"), ("all decoded JPEGs", jpeg)]:
        mine = part[part.decoded_jpeg]
        row = {"package": name, "pictures": len(part), "decoded JPEGs": len(mine),
               "reachable %": 100 * float((part.reachable * part.subpixels).sum() / part.subpixels.sum())}
        if len(mine):
            row["bpsp without"] = float(mine.bpsp_without.mean())
            row["bpsp with"] = float(mine.bpsp_default.mean())
            row["saved_pct"] = 100 * (1 - row["bpsp with"] / row["bpsp without"])
            row["in JPEG colour"] = int(mine.jpeg_colour.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(summary_table) -> str:
    cols = ["package", "pictures", "decoded JPEGs", "reachable %", "bpsp without", "bpsp with", "saved_pct",
            "in JPEG colour"]
    out = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    for r in summary_table.to_dict("records"):
        cells = [r["package"], str(r["pictures"]), str(r["decoded JPEGs"]), f"{r['reachable %']:.1f}"]
        if r["decoded JPEGs"]:
            cells += [f"{r['bpsp without']:.3f}", f"{r['bpsp with']:.3f}", f"{r['saved_pct']:.1f}",
                      str(int(r["in JPEG colour"]))]
        else:
            cells += ["", "", "", ""]
        out += "| " + " | ".join(cells) + " |\n"
    return out


def main() -> int:
    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm

    import rclib
    from rclib import codec, colour, data
    from rclib.imageio import atomic_write

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--csv", type=Path, default=None, help="write the per-picture rows here")
    ap.add_argument("--markdown", type=Path, default=None, help="print the README table from this CSV instead")
    args = ap.parse_args()
    if args.markdown:
        print(markdown(summary(pd.read_csv(args.markdown))), end="")
        return 0

    keys, _ = colour._jpeg_inverse()
    outputs = np.unique(keys)
    print(f"RGB triples libjpeg's YCbCr conversion can output: {len(outputs)} of {1 << 24} "
          f"({100 * len(outputs) / (1 << 24):.1f} %)")
    rows = []
    for path in tqdm(data.list_images(data.resolve("embedded", "val"))[:args.limit], desc="pictures"):
        x = data.load_rgb(path)
        flat = x.reshape(-1, 3).astype(np.int32)
        reachable = np.isin((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2], outputs).mean()
        row = {"image": path.stem, "package": data.package_of(path.stem), "subpixels": x.size,
               "reachable": float(reachable), "decoded_jpeg": colour.jpeg_ycc_of(x) is not None}
        if row["decoded_jpeg"]:
            t0 = time.time()
            with_it = rclib.compress(x)
            t1 = time.time()
            without = rclib.compress(x, jpeg=False)
            for blob in (with_it, without):
                if not np.array_equal(rclib.decompress(blob), x):
                    raise SystemExit(f"{path.stem}: round trip failed")
            a, b = codec.info(with_it), codec.info(without)
            row.update(bpsp_default=a["bpsp"], bpsp_without=b["bpsp"], jpeg_colour=a["jpeg_colour"],
                       q_default=a["q"], q_without=b["q"], model_default=a["model"], model_without=b["model"],
                       encode_s=t1 - t0)
        rows.append(row)
    table = pd.DataFrame(rows)
    if args.csv:
        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(markdown(summary(table)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
