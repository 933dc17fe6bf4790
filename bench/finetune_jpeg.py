"""Weights for JPEG colour: RC's network fine-tuned to code a decoded JPEG's own YCbCr given BPG's.

A picture that libjpeg decoded is coded in that JPEG's integer YCbCr, minus BPG's decoded YCbCr
(codec._jpeg_colour_file, README "JPEG colour"), so far from per-image tables alone: the shipped
networks learned RGB residuals, whose lattice a decoded JPEG's YCbCr does not have. This
fine-tunes a copy of RC's weights on decoded JPEGs at their own resolution: seeded regions of every
training photo whose source is a JPEG (the wallpapers; gcompris' are WebP), their YCbCr
(colour.jpeg_ycc_of) as x and BPG's decoded YCbCr as x_l, each region at two seeded Qs of 5..17
(the Qs `--q auto` tries for a decoded JPEG). The validation pictures' native crops (decoded JPEGs
too) score it.

    python bench/finetune_jpeg.py prep                  # regions and BPG's YCbCr (rclib's cache)
    python bench/finetune_jpeg.py run --steps 3000      # snapshots in data/runs/rc_jpeg (--kind rc+)
    python bench/finetune_jpeg.py score                 # docs/finetune_jpeg.csv
    python bench/finetune_jpeg.py ship --step N         # data/models/rc_jpeg_cpu.pt
    python bench/finetune_jpeg.py coded --kind rc+      # docs/finetune_jpeg_coded_rcplus.csv
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = 12        # seeded regions of each JPEG source
SIZE = 256          # their side
QS = tuple(range(5, 18))
QS_PER_REGION = 2
VAL_QS = (11, 14)   # scored on the validation native crops
SOURCE = {"rc": "rc_cpu.pt", "rc+": "rcplus_cpu.pt"}
RUN = {"rc": ROOT / "data" / "runs" / "rc_jpeg", "rc+": ROOT / "data" / "runs" / "rcplus_jpeg"}
SCORES = {"rc": ROOT / "docs" / "finetune_jpeg.csv", "rc+": ROOT / "docs" / "finetune_jpeg_rcplus.csv"}
CODED = {"rc": ROOT / "docs" / "finetune_jpeg_coded.csv", "rc+": ROOT / "docs" / "finetune_jpeg_coded_rcplus.csv"}


def work_dir() -> Path:
    from rclib import data

    return data.cache_dir() / "jpeg-train"


def _save(path: Path, planes) -> None:
    """(3, H, W) uint8 planes as a PNG whose R, G, B hold them (Y, Cb, Cr)."""
    import numpy as np

    from rclib import data

    data._save_png(path, np.ascontiguousarray(planes.transpose(1, 2, 0)))


def prep_all() -> None:
    """Every JPEG source of the training split: REGIONS regions, their JPEG YCbCr under
    work/x and BPG's decoded YCbCr at QS_PER_REGION seeded Qs under work/prep (prep's layout)."""
    import numpy as np
    from tqdm.auto import tqdm

    from rclib import bpg, colour, data, prep

    work = work_dir()
    sources = [p for p in data.EMBEDDED_PHOTOS if p[0] == "train" and p[2].lower().endswith(".jpg")]
    debs = data._download_debs(sorted({p[1] for p in sources}), data.cache_dir() / "debs")
    made = skipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        for photo in tqdm(sources, desc="JPEG sources"):
            extracted = Path(tmp) / photo[1]
            if not extracted.exists():
                subprocess.run(["dpkg-deb", "-x", str(debs[photo[1]]), str(extracted)], check=True)
            stem = Path(data._out_name(photo)).stem
            if (work / "x" / f"{stem}-{REGIONS - 1:02d}.png").exists():
                continue
            rgb = data.load_rgb(io.BytesIO(data._read_source(extracted, photo)))
            rng = np.random.default_rng(data._key_int("jpeg-colour " + stem))
            h, w = rgb.shape[:2]
            for k in range(REGIONS):
                y0, x0 = int(rng.integers(h - SIZE + 1)), int(rng.integers(w - SIZE + 1))
                qs = sorted(int(q) for q in rng.choice(QS, QS_PER_REGION, replace=False))
                region = np.ascontiguousarray(rgb[y0:y0 + SIZE, x0:x0 + SIZE])
                ycc = colour.jpeg_ycc_of(region)
                if ycc is None:
                    skipped += 1
                    continue
                for q in qs:
                    folder = prep.q_dir(work / "prep", q)
                    folder.mkdir(parents=True, exist_ok=True)
                    _save(folder / f"{stem}-{k:02d}.png", bpg.decode_ycbcr(bpg.encode(region, q)))
                _save(work / "x" / f"{stem}-{k:02d}.png", ycc)
                made += 1
    print(f"{made} regions made, {skipped} not decoded JPEGs; {len(list((work / 'x').glob('*.png')))} in {work}")


def run(kind: str, steps: int, batch: int, lr: float, snapshot: int, seed: int) -> None:
    """Fine-tune `kind`'s shipped weights for `steps` steps on crops of the regions in JPEG colour
    (train.fine_tune: counted in steps, not minutes, so a run beside other work ends the same;
    a stopped run resumes from its checkpoint)."""
    from rclib import model, train

    command = f"python bench/finetune_jpeg.py run --kind {kind} --steps {steps} --batch {batch} --lr {lr}"
    net = model.load(ROOT / "data" / "models" / SOURCE[kind])
    pairs = train.PairSet(work_dir() / "x", work_dir() / "prep", QS)
    train.fine_tune(net, pairs, RUN[kind], lambda step, seconds: step / steps,
                    {"fine_tuned_from": SOURCE[kind], "colour": "jpeg", "command": command},
                    lr, batch, seed=seed, snapshot_every=snapshot)


def validation_pairs(q: int):
    """The validation pictures that are decoded JPEGs (their native crops), in JPEG colour at Q q:
    [(name, package, YCbCr (H, W, 3), BPG's YCbCr (H, W, 3))]."""
    from rclib import bpg, colour, data, prep

    val_dir = data.resolve("embedded", "val")
    out = []
    for path in data.list_images(val_dir):
        x = data.load_rgb(path)
        ycc = colour.jpeg_ycc_of(x)
        if ycc is None:
            continue
        blob, _ = prep.version(path, data.cache_dir() / "prep" / "embedded-val", q, x=x)
        out.append((path.stem, data.package_of(path.stem), ycc.transpose(1, 2, 0),
                    bpg.decode_ycbcr(blob).transpose(1, 2, 0)))
    return out


def score(kind: str, every: int, csv_out: Path | None) -> list[dict]:
    """Per validation native crop and Q: the per-image tables' bits in JPEG colour (what rclib
    codes today, header included) and the network bits of the shipped RC weights and of each
    snapshot every `every` steps (and the last), residual bpsp."""
    import numpy as np

    from rclib import codec, model

    snaps = sorted((RUN[kind] / "snapshots").glob("step*.pt"))
    snaps = [p for p in snaps if int(p.stem[4:]) % every == 0 or p == snaps[-1]]
    nets = [("shipped", model.load(ROOT / "data" / "models" / SOURCE[kind]))]
    nets += [(f"step {int(p.stem[4:])}", model.load(p)) for p in snaps]
    rows = []
    for q in VAL_QS:
        for name, package, ycc, x_l in validation_pairs(q):
            row = {"image": name, "package": package, "q": q, "subpixels": ycc.size,
                   "tables": round(codec.ycc_table_bits(ycc.transpose(2, 0, 1), x_l.transpose(2, 0, 1)) / ycc.size, 5)}
            for label, net in nets:
                bits = codec.residual_bit_map(ycc, x_l, q, net).sum(dtype=np.float64)
                row[label] = round(float(bits) / ycc.size, 5)
            print(row, flush=True)
            rows.append(row)
    if csv_out:
        from finetune_rgb import _write_csv

        _write_csv(csv_out, rows)
    return rows


def coded(kind: str, q: int, csv_out: Path) -> None:
    """What the shipped weights for JPEG colour save in real files: each validation native crop
    coded by `kind` at Q q with them (the default) and without them (per-image tables alone, as
    before they shipped), file bytes as bpsp, how many of the file's pass x channel streams the
    network codes, encode and decode seconds; both round trips checked."""
    import time

    import numpy as np

    import rclib
    from rclib import codec, data, model

    assert model.DEFAULT_JPEG_WEIGHTS[kind].exists(), f"{kind} has no shipped weights for JPEG colour"
    rows = []
    for path in data.list_images(data.resolve("embedded", "val")):
        if "~native" not in path.stem:
            continue
        x = data.load_rgb(path)
        t0 = time.perf_counter()
        with_net = rclib.compress(x, q=q, model=kind)
        t1 = time.perf_counter()
        assert np.array_equal(rclib.decompress(with_net), x), path.name
        t2 = time.perf_counter()
        shipped, model.DEFAULT_JPEG_WEIGHTS = model.DEFAULT_JPEG_WEIGHTS, {}
        try:
            tables = rclib.compress(x, q=q, model=kind)
        finally:
            model.DEFAULT_JPEG_WEIGHTS = shipped
        assert np.array_equal(rclib.decompress(tables), x), path.name
        info = codec.info(with_net)
        assert info["jpeg_colour"] and codec.info(tables)["jpeg_colour"], path.name
        rows.append({"image": path.stem, "package": data.package_of(path.stem), "q": q, "subpixels": x.size,
                     "bpsp_tables": round(8 * len(tables) / x.size, 5),
                     "bpsp_network": round(8 * len(with_net) / x.size, 5),
                     "network_streams": bin(~info["table_mask"] & (1 << 3 * codec.PASSES[kind]) - 1).count("1"),
                     "encode_s": round(t1 - t0, 2), "decode_s": round(t2 - t1, 2)})
        print(rows[-1], flush=True)
    from finetune_rgb import _write_csv

    _write_csv(csv_out, rows)


def coded_sentence(csv_path: Path, kind: str) -> str:
    """coded's CSV as the README's sentence: mean bpsp per picture without and with the weights,
    the streams the network codes (of 3 per pass of the kind), mean encode and decode seconds."""
    import pandas as pd

    from rclib import codec

    d = pd.read_csv(csv_path)
    without, with_net = d.bpsp_tables.mean(), d.bpsp_network.mean()
    return (f"takes the {len(d)} files from {without:.3f} to {with_net:.3f} bpsp ({100 * (1 - with_net / without):.1f} % "
            f"smaller; smaller for {int((d.bpsp_network < d.bpsp_tables).sum())} pictures, the network coding "
            f"{int(d.network_streams.sum())} of their {12 * len(d)} pass and channel streams), at "
            f"{d.encode_s.mean():.0f} s to encode and {d.decode_s.mean():.1f} s to decode a crop (2 cores, beside "
            f"other work).")


def table(csv_path: Path) -> str:
    """score's CSV as the README's table: per Q, subpixel-weighted residual bpsp of every column."""
    import pandas as pd

    d = pd.read_csv(csv_path)
    cols = [c for c in d.columns if c not in ("image", "package", "q", "subpixels")]
    lines = ["| Q | pictures | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for q, part in d.groupby("q"):
        means = [(part[c] * part.subpixels).sum() / part.subpixels.sum() for c in cols]
        lines.append(f"| {q} | {len(part)} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    return "\n".join(lines)


def ship(kind: str, step: int) -> None:
    """A snapshot as the kind's weights for JPEG colour (model.DEFAULT_JPEG_WEIGHTS), with a JSON
    saying how it was made and, where score has it, its validation bits beside the tables'."""
    import json

    import pandas as pd

    from rclib import model
    from rclib.imageio import atomic_write

    source = RUN[kind] / "snapshots" / f"step{step:06d}.pt"
    info = json.loads(source.with_suffix(".json").read_text())
    base = json.loads((ROOT / "data" / "models" / SOURCE[kind]).with_suffix(".json").read_text())
    info["fine_tuned_from"] = {"file": SOURCE[kind], "weights_id": base["weights_id"], "steps": base.get("steps")}
    info["training_set"] = {**base["training_set"],
                            "regions": f"{REGIONS} seeded {SIZE}-pixel regions of each of these photos whose source "
                                       f"is a JPEG, those that are decoded JPEGs, in their JPEG YCbCr; BPG's decoded "
                                       f"YCbCr at {QS_PER_REGION} seeded Qs of {QS[0]}..{QS[-1]} (bench/finetune_jpeg.py prep)"}
    if SCORES[kind].exists():
        d = pd.read_csv(SCORES[kind])
        if f"step {step}" in d:
            mean = lambda part, col: round(float((part[col] * part.subpixels).sum() / part.subpixels.sum()), 5)  # noqa: E731
            info["val_native_crops"] = {f"q{q}": {"tables": mean(part, "tables"), "network": mean(part, f"step {step}")}
                                        for q, part in d.groupby("q")}
    model.load(source)
    dest = model.DEFAULT_JPEG_WEIGHTS[kind]
    atomic_write(dest, source.read_bytes(), force=True)
    atomic_write(dest.with_suffix(".json"), (json.dumps(info, indent=2) + "\n").encode(), force=True)
    print(f"{dest.name}: {info['weights_id'][:12]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["prep", "run", "score", "table", "ship", "coded"])
    ap.add_argument("--kind", choices=sorted(SOURCE), default="rc")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--snapshot", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--step", type=int, help="ship: the snapshot")
    ap.add_argument("--every", type=int, default=500, help="score: snapshots every N steps")
    ap.add_argument("--csv", type=Path, default=None, help="score, coded: write here (default docs/finetune_jpeg[_coded][_rcplus].csv)")
    ap.add_argument("--q", type=int, default=12, help="coded: the Q")
    args = ap.parse_args()
    if args.command == "prep":
        prep_all()
    elif args.command == "run":
        run(args.kind, args.steps, args.batch, args.lr, args.snapshot, args.seed)
    elif args.command == "score":
        score(args.kind, args.every, args.csv or SCORES[args.kind])
    elif args.command == "coded":
        coded(args.kind, args.q, args.csv or CODED[args.kind])
    elif args.command == "table":
        print(table(args.csv or SCORES[args.kind]))
    else:
        ship(args.kind, args.step)


if __name__ == "__main__":
    main()
