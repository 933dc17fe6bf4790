"""How many bits BPG's residual needs at best, per picture: empirical entropies next to WebP-LL.

For each validation photo and Q this prints the BPG bits plus the empirical (per-picture,
histogram) entropy of the residual r = x - x_l under three contexts a coder could use:
  h0    r alone, per channel                            (a zeroth-order coder)
  hch   R, then G given r_R, then B given r_R, r_G      (RC's channel dependence, exactly)
  hctx  hch plus the local activity of x_l, 8 classes   (a crude version of what RC's CNN sees)
  hsp   hch plus the left and upper residuals           (spatial context: NOT in RC's model)
These are fitted to each picture (so slightly optimistic: no model cost) and need no training; a
CNN can beat them only by finding structure in x_l that a histogram over these contexts misses.
Beside them, `model`: the residual model's own bits (default the shipped weights), and
model/hch; `jnet`: for a picture decoded from a JPEG, the network for JPEG colour's own bits on
its YCbCr residual (default RC's shipped weights for it, when shipped), else `model`, and
jnet/hch; `tables`: what rclib's per-image tables cost (hch's contexts with r_R and r_G clipped to
+-3, their header bytes included); `jpeg`: the tables in JPEG colour for a picture decoded from
a JPEG (its residual in libjpeg's YCbCr, the codec's flag bit 4), else `tables`; `coded`: per
channel the cheaper of network and table, or JPEG colour (per channel the cheaper of its table
and its network) where that is cheaper still, as rclib codes it; `model_tau` and `jnet_tau`:
`model` and `jnet` with the scales tempered by a per-image tau fitted as the encoder fits it (RC's
own test-time step, `--tau`; its 60 header bytes counted, kept where fewer bits).  Means are
weighted by subpixels, per validation package and over the whole set.

    python bench/residual_entropy.py [--qs 12 14 17] [--limit N] [--model PATH|none] [--csv F]
    python bench/residual_entropy.py --add-jpeg F    (the jpeg column, and coded with it, into a
                                                      CSV made before JPEG colour)
    python bench/residual_entropy.py --add-jnet F    (the jnet column, and coded with it, into a
                                                      CSV made before JPEG colour's network)
    python bench/residual_entropy.py --add-tau F     (the model_tau and jnet_tau columns, into a
                                                      CSV made before them)
    python bench/residual_entropy.py --tau-table F   (the README's table of them)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def conditional_entropy(target: np.ndarray, *context: np.ndarray) -> float:
    """Empirical H(target | context) in bits per sample, from joint histograms."""
    def entropy(*cols):
        key = np.zeros(target.size, np.int64)
        for c in cols:  # values are within -512..511: 10 bits per column in one integer key
            key = key * 1024 + (c.ravel().astype(np.int64) + 512)
        counts = np.unique(key, return_counts=True)[1]
        p = counts / counts.sum()
        return float(-(p * np.log2(p)).sum())

    return entropy(*context, target) - (entropy(*context) if context else 0.0)


def activity_classes(x_l: np.ndarray, classes: int = 8) -> np.ndarray:
    """Local activity of x_l (|Laplacian| of its luma summed over 3x3), in equal-count classes."""
    y = x_l.astype(np.float64).mean(axis=2)
    p = np.pad(y, 1, mode="edge")
    lap = np.abs(4 * y - p[:-2, 1:-1] - p[2:, 1:-1] - p[1:-1, :-2] - p[1:-1, 2:])
    q = np.pad(lap, 1, mode="edge")
    act = sum(q[i:i + y.shape[0], j:j + y.shape[1]] for i in range(3) for j in range(3))
    edges = np.quantile(act, np.linspace(0, 1, classes + 1)[1:-1])
    return np.digitize(act, edges)


def channel_entropy(R: np.ndarray, G: np.ndarray, B: np.ndarray, *context: np.ndarray) -> float:
    """Bits per subpixel of R, then G given R, then B given R and G (RC's order), given `context`."""
    return (conditional_entropy(R, *context) + conditional_entropy(G, R, *context)
            + conditional_entropy(B, R, G, *context)) / 3


def residual_entropies(x: np.ndarray, x_l: np.ndarray) -> dict:
    r = x.astype(np.int16) - x_l.astype(np.int16)
    R, G, B = r[1:, 1:, 0], r[1:, 1:, 1], r[1:, 1:, 2]
    act = activity_classes(x_l)[1:, 1:]
    near = lambda c: (np.clip(r[1:, :-1, c], -3, 3), np.clip(r[:-1, 1:, c], -3, 3))  # noqa: E731
    return {
        "h0": sum(conditional_entropy(c) for c in (R, G, B)) / 3,
        "hch": channel_entropy(R, G, B),
        "hctx": channel_entropy(R, G, B, act),
        "hsp": (conditional_entropy(R, *near(0)) + conditional_entropy(G, R, *near(1))
                + conditional_entropy(B, R, G, *near(2))) / 3,
    }


def weighted(table, by):
    """Subpixel-weighted means of the numeric columns per group."""
    cols = [c for c in ("bpg", "h0", "hch", "hctx", "hsp", "model", "jnet", "tables", "jpeg", "coded", "webp",
                        "model_tau", "jnet_tau") if c in table]
    sums = table[cols].multiply(table.subpixels, axis=0).assign(subpixels=table.subpixels)
    sums[by] = table[by]
    g = sums.groupby(by).sum()
    out = g[cols].divide(g.subpixels, axis=0)
    out.insert(0, "photos", table.groupby(by).size())
    if "model" in out:
        out["model/hch"] = out.model / out.hch
    for col in ("jnet", "model_tau", "jnet_tau"):
        if col in out:
            out[f"{col}/hch"] = out[col] / out.hch
    return out


def per_package(table):
    """weighted() per (validation package, Q), then over the whole set as package "all"."""
    import pandas as pd

    return pd.concat([weighted(table, ["package", "q"]), weighted(table.assign(package="all"), ["package", "q"])])


def tau_markdown(table) -> str:
    """The README's table of the networks with and without their per-image tau against hch, per
    validation package and Q and over the set."""
    g = per_package(table)
    cols = ["package", "Q", "hch", "network", "network + tau", "network + tau / hch", "network, JPEG colour",
            "JPEG colour network + tau", "JPEG colour network + tau / hch"]
    out = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    for (package, q), r in g.iterrows():
        cells = [package, str(q), *(f"{r[c]:.3f}" for c in ("hch", "model", "model_tau", "model_tau/hch", "jnet",
                                                            "jnet_tau", "jnet_tau/hch"))]
        out += "| " + " | ".join(cells) + " |\n"
    return out


def main() -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import baselines, bpg, codec, colour, data, model as model_lib

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qs", type=int, nargs="+", default=[12, 14, 17])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--model", default=str(model_lib.DEFAULT_WEIGHTS), help="weights, or 'none'")
    ap.add_argument("--csv", default=None, help="write the per-photo rows here")
    ap.add_argument("--jpeg-model", default=str(model_lib.DEFAULT_JPEG_WEIGHTS["rc"]),
                    help="weights for JPEG colour (the jnet column, when the file exists)")
    ap.add_argument("--add-jpeg", default=None, help="add the jpeg column (and coded with it) to this CSV")
    ap.add_argument("--add-jnet", default=None, help="add the jnet column (and coded with it) to this CSV")
    ap.add_argument("--add-tau", default=None, help="add the model_tau and jnet_tau columns to this CSV")
    ap.add_argument("--tau-table", default=None, help="print the README's tau table from this CSV and stop")
    args = ap.parse_args()
    if args.tau_table:
        import pandas as pd

        print(tau_markdown(pd.read_csv(args.tau_table)), end="")
        return 0
    jnet = model_lib.load(args.jpeg_model) if Path(args.jpeg_model).exists() else None
    if args.add_jpeg:
        return add_columns(args.add_jpeg)
    if args.add_jnet:
        if jnet is None:
            sys.exit("no weights for JPEG colour: pass --jpeg-model")
        return add_columns(args.add_jnet, jnet)
    if args.add_tau:
        return add_tau(args.add_tau, model_lib.load(args.model), jnet)
    net = None if args.model == "none" else model_lib.load(args.model)
    photos = data.list_images(data.prepare_embedded(progress=False) / "val")[:args.limit]
    rows = []
    for path in tqdm(photos, desc="photos"):
        x = data.load_rgb(path)
        webp = baselines.run("WebP-LL", x).bpsp
        ycc = colour.jpeg_ycc_of(x)
        for q in args.qs:
            blob = bpg.encode(x, q)
            x_l = bpg.decode(blob)
            row = {"image": path.stem, "package": data.package_of(path.name), "q": q,
                   "subpixels": x.size, "webp": webp, "bpg": 8 * len(blob) / x.size,
                   **residual_entropies(x, x_l)}
            row["tables"] = codec.table_only_bits(x, x_l) / x.size
            row["jpeg"] = row["tables"] if ycc is None else codec.jpeg_colour_bits(x, blob, ycc) / x.size
            if net is not None:
                row["model"] = codec.estimate_residual_bits(x, x_l, q, net, tables=False) / x.size
                row["coded"] = codec.estimate_residual_bits(x, x_l, q, net, bpg_file=blob) / x.size
                row.update(tau_bits(x, x_l, ycc, blob, q, net, jnet))
                if jnet is not None:
                    row.update(jnet_bits(x, ycc, blob, q, jnet, row))
            rows.append(row)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    pd.set_option("display.width", 200)
    print("residual bpsp (and BPG's, WebP-LL's whole file), weighted by subpixels:")
    print(weighted(table, ["package", "q"]).round(4).to_string())
    print(weighted(table.assign(package="all"), ["package", "q"]).round(4).to_string())
    return 0


def add_columns(csv, jnet=None) -> int:
    """jpeg, and coded as the encoder now chooses (the cheaper of the RGB coding and JPEG colour),
    into a CSV made before them; with jnet, weights for JPEG colour, also the jnet column and coded
    with them."""
    from rclib import bpg, codec

    def columns(x, ycc, row) -> dict:
        blob = None if ycc is None else bpg.encode(x, int(row.q))
        cols = {"jpeg": row.tables if ycc is None else codec.jpeg_colour_bits(x, blob, ycc) / x.size}
        if "coded" in row:
            cols["coded"] = min(row.coded, cols["jpeg"])
        if jnet is not None:
            cols.update(jnet_bits(x, ycc, blob, int(row.q), jnet, {**row, **cols}))
        return cols

    return _add_to_csv(csv, columns)


def add_tau(csv, net, jnet) -> int:
    """The model_tau and jnet_tau columns, into a CSV made before them."""
    from rclib import bpg

    def columns(x, ycc, row) -> dict:
        blob = bpg.encode(x, int(row.q))
        return tau_bits(x, bpg.decode(blob), ycc, blob, int(row.q), net, jnet)

    return _add_to_csv(csv, columns)


def _add_to_csv(csv, columns) -> int:
    """Columns computed per row, columns(x, ycc, row) -> {name: value}, into a committed CSV (BPG is
    deterministic, so its other columns are what a full run gives); prints the new means."""
    import pandas as pd
    from tqdm.auto import tqdm

    from rclib import colour, data
    from rclib.imageio import atomic_write

    table = pd.read_csv(csv)
    root = data.prepare_embedded(progress=False) / "val"
    new = {}
    for image, part in tqdm(table.groupby("image", sort=False), desc="photos"):
        x = data.load_rgb(root / f"{image}.png")
        ycc = colour.jpeg_ycc_of(x)
        for i, row in part.iterrows():
            new[i] = columns(x, ycc, row)
    for col in new[next(iter(new))]:
        table[col] = pd.Series({i: v[col] for i, v in new.items()})
    atomic_write(csv, table.to_csv(index=False).encode(), force=True)
    print(weighted(table, ["package", "q"]).round(4).to_string())
    print(weighted(table.assign(package="all"), ["package", "q"]).round(4).to_string())
    return 0


def tau_bits(x, x_l, ycc, blob: bytes, q: int, net, jnet) -> dict:
    """A row's model_tau (the RGB model's bits with its fitted tau, bpsp) and jnet_tau (for a
    picture decoded from a JPEG, JPEG colour's network with its tau on the YCbCr residual, else
    model_tau)."""
    from rclib import bpg, codec

    cols = {"model_tau": codec.estimate_residual_bits(x, x_l, q, net, tables=False, tau=True) / x.size}
    if ycc is None or jnet is None:
        cols["jnet_tau"] = cols["model_tau"]
    else:
        x_l_ycc = bpg.decode_ycbcr(blob).transpose(1, 2, 0)
        cols["jnet_tau"] = codec.estimate_residual_bits(ycc.transpose(1, 2, 0), x_l_ycc, q, jnet,
                                                        tables=False, tau=True) / x.size
    return cols


def jnet_bits(x, ycc, blob: bytes, q: int, jnet, row) -> dict:
    """A row's jnet (the JPEG-colour network's bits alone, bpsp; the RGB model's where the picture
    is no decoded JPEG) and coded with JPEG colour's network."""
    from rclib import bpg, codec

    if ycc is None:
        return {"jnet": row["model"]}
    x_l_ycc = bpg.decode_ycbcr(blob).transpose(1, 2, 0)
    alone = codec.residual_bit_map(ycc.transpose(1, 2, 0), x_l_ycc, q, jnet).sum(dtype=np.float64)
    coded = codec.jpeg_colour_bits(x, blob, ycc, q, jnet)
    return {"jnet": float(alone) / x.size, "coded": min(row["coded"], coded / x.size)}


if __name__ == "__main__":
    sys.exit(main())
