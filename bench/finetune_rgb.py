"""Weights for BPG in RGB: a shipped network fine-tuned on x_l from BPG's RGB colour space.

The shipped networks learned from BPG in YCbCr. Over BPG in RGB (qselect.rgb_candidate) their
files come out barely below the per-image tables: x_l's errors no longer share YCbCr's rounding,
so how large the residual is, and how R, G and B lean together, differ from what they learned.
This fine-tunes a copy on the same training photos with BPG in RGB, the weights
codec.default_model(kind, "rgb") loads:

    python bench/finetune_rgb.py prep                        # BPG in RGB of the training photos
    python bench/finetune_rgb.py run --kind rc+ --minutes 40 # snapshots in data/runs/rcplus_rgb
    python bench/finetune_rgb.py score --kind rc+             # docs/finetune_rgb.csv (SCORES)
    python bench/finetune_rgb.py table --kind rc+             # the README's table of it
    python bench/finetune_rgb.py ship --kind rc+ --step N    # data/models/rcplus_rgb_cpu.pt
    python bench/finetune_rgb.py ratio --kind rc+             # docs/rgb_network_share.csv (SHARES)

and the same with `--kind rc` (run: data/runs/rc_rgb; CSVs: docs/*_rc.csv).

`score` gives the coder's residual bits of the validation photos over BPG in RGB at VAL_Q, per
package, for the shipped weights and each snapshot (the shipped ones' own colour space, YCbCr,
is scored too, to show what the copy is for).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VAL_Q = 17          # RGB's best Q for most training photos (bench/rgb_bpg.py --split train)
QS_PER_PICTURE = 3  # seeded Qs of qselect.RGB_QS prepared per training picture
SOURCES = {"rc": "rc_cpu.pt", "rc+": "rcplus_cpu.pt"}
TARGETS = {"rc": "rc_rgb_cpu.pt", "rc+": "rcplus_rgb_cpu.pt"}
RUNS = {"rc": "rc_rgb", "rc+": "rcplus_rgb"}
SCORES = {"rc": "finetune_rgb_rc.csv", "rc+": "finetune_rgb.csv"}         # score's CSV in docs/
SHARES = {"rc": "rgb_network_share_rc.csv", "rc+": "rgb_network_share.csv"}  # ratio's CSV in docs/


def folders():
    from rclib import data

    root = data.prepare_embedded(progress=False)
    cache = data.cache_dir() / "prep"
    return root / "train", root / "val", cache / "embedded-train-rgb", cache / "embedded-val-rgb"


def picture_qs(stem: str, qs) -> list[int]:
    """A training picture's seeded Qs in RGB."""
    import numpy as np

    from rclib import data

    rng = np.random.default_rng(data._key_int("rgb" + stem))
    return sorted(int(q) for q in rng.choice(list(qs), QS_PER_PICTURE, replace=False))


def prep_all() -> None:
    from rclib import prep, qselect

    train_dir, val_dir, prep_train, prep_val = folders()
    t0 = time.time()
    prep.prep(train_dir, prep_train, qs=qselect.RGB_QS, qs_for=picture_qs, space="rgb")
    prep.prep(val_dir, prep_val, qs=[VAL_Q], space="rgb")
    print(f"prepared in {time.time() - t0:.0f} s")


def run(kind: str, minutes: float, batch: int, lr: float, snapshot: int, seed: int) -> None:
    """Fine-tune against the clock (train.fine_tune: the rate falls to zero at the deadline), on
    crops of the training photos over BPG in RGB."""
    from rclib import model, qselect, train

    train_dir, _, prep_train, _ = folders()
    net = model.load(ROOT / "data" / "models" / SOURCES[kind])
    pairs = train.PairSet(train_dir, prep_train, qselect.RGB_QS)
    command = f"python bench/finetune_rgb.py run --kind {kind} --minutes {minutes} --batch {batch} --lr {lr}"
    train.fine_tune(net, pairs, ROOT / "data" / "runs" / RUNS[kind], lambda step, seconds: seconds / (minutes * 60),
                    {"fine_tuned_from": SOURCES[kind], "bpg_colour": "rgb", "command": command},
                    lr, batch, seed=seed, snapshot_every=snapshot)


def _write_csv(path: Path, rows: list[dict]) -> None:
    """rows (dicts with the same keys) as a CSV, written atomically."""
    import io

    from rclib.imageio import atomic_write

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write(path, buf.getvalue().encode(), force=True)


def score(kind: str, csv_out: Path | None, every: int = 500) -> list[dict]:
    """Validation residual bits (the coder's) over BPG in RGB at VAL_Q, per package, of the
    shipped weights and the snapshots every `every` steps (and the last)."""
    from rclib import data, model, train

    _, val_dir, _, prep_val = folders()
    rgb, groups = train.validation_set(val_dir, prep_val, VAL_Q, space="rgb")
    ycc, _ = train.validation_set(val_dir, data.cache_dir() / "prep" / "embedded-val", 14)
    snaps = sorted((ROOT / "data" / "runs" / RUNS[kind] / "snapshots").glob("step*.pt"))
    snaps = [p for p in snaps if int(p.stem[4:]) % every == 0 or p == snaps[-1]]
    candidates = [("shipped", 0, ROOT / "data" / "models" / SOURCES[kind])]
    candidates += [("snapshot", int(p.stem[4:]), p) for p in snaps]
    rows = []
    for name, step, path in candidates:  # YCbCr (Q 14) for the shipped weights and the last snapshot
        net = model.load(path)
        val = train.validate(net, rgb, VAL_Q, groups)
        row = {"weights": name, "step": step, f"rgb_q{VAL_Q}": round(val["all"], 5),
               "ycbcr_q14": round(train.validate(net, ycc, 14)["all"], 5) if path in (candidates[0][2], snaps[-1]) else "",
               **{f"rgb_{g}": round(v, 5) for g, v in val.items() if g != "all"}}
        print(row, flush=True)
        rows.append(row)
    if csv_out:
        _write_csv(csv_out, rows)
    return rows


def markdown(csv_path: Path) -> str:
    """The README's table of score's CSV."""
    rows = list(csv.DictReader(open(csv_path)))
    groups = [c for c in rows[0] if c.startswith("rgb_") and c != f"rgb_q{VAL_Q}"]
    head = ["weights", f"RGB, Q {VAL_Q}", *(g[4:] for g in groups), "YCbCr, Q 14"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        name = "shipped" if r["weights"] == "shipped" else f"step {r['step']}"
        cells = [name, f"{float(r[f'rgb_q{VAL_Q}']):.3f}", *(f"{float(r[g]):.3f}" for g in groups),
                 f"{float(r['ycbcr_q14']):.3f}" if r["ycbcr_q14"] else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio(kind: str, every: int, csv_out: Path | None) -> None:
    """Per training picture (every `every`-th), the file coded over rgb_candidate's BPG with the
    kind's weights for RGB, in bits, over rgb_candidate's BPG + table bits: how far the network
    undercuts the tables there (qselect.RGB_NETWORK_SHARE)."""
    import numpy as np

    from rclib import codec, data, qselect

    train_dir = folders()[0]
    paths = [p for p in data.list_images(train_dir) if "~" not in p.stem][::every]
    rows = []
    for path in paths:
        x = data.load_rgb(path)
        q, bpg_file, bits = qselect.rgb_candidate(x)
        blob = codec.compress(x, q, kind, bpg_file=bpg_file)
        rows.append({"image": path.stem, "q": q, "table_bpsp": round(bits / x.size, 5),
                     "file_bpsp": round(8 * len(blob) / x.size, 5), "ratio": round(8 * len(blob) / bits, 5)})
        print(rows[-1], flush=True)
    r = np.array([row["ratio"] for row in rows])
    print(f"{len(rows)} pictures: file / tables median {np.median(r):.4f}, quartiles "
          f"{np.quantile(r, 0.25):.4f} {np.quantile(r, 0.75):.4f}")
    if csv_out:
        _write_csv(csv_out, rows)


def ship(kind: str, step: int) -> None:
    """A snapshot as the weights codec.default_model(kind, "rgb") loads, with a JSON saying how it
    was made."""
    from rclib import model
    from rclib.imageio import atomic_write

    run_dir = ROOT / "data" / "runs" / RUNS[kind]
    source = run_dir / "snapshots" / f"step{step:06d}.pt"
    info = json.loads(source.with_suffix(".json").read_text())
    base = json.loads((ROOT / "data" / "models" / SOURCES[kind]).with_suffix(".json").read_text())
    info["fine_tuned_from"] = {"file": SOURCES[kind], "weights_id": base["weights_id"], "steps": base.get("steps")}
    info["training_set"] = {**base["training_set"], "bpg": f"BPG in RGB, {QS_PER_PICTURE} seeded Qs of qselect.RGB_QS a picture"}
    info["val_q"] = VAL_Q
    scores = ROOT / "docs" / SCORES[kind]  # score's table, where it has this step
    rows = list(csv.DictReader(open(scores))) if scores.exists() else []
    row = next((r for r in rows if r["weights"] == "snapshot" and r["step"] == str(step)), None)
    if row is not None:
        info["val_bpsp_rgb"] = float(row[f"rgb_q{VAL_Q}"])
        info["val_bpsp_rgb_before"] = float(next(r for r in rows if r["weights"] == "shipped")[f"rgb_q{VAL_Q}"])
    model.load(source)
    dest = ROOT / "data" / "models" / TARGETS[kind]
    atomic_write(dest, source.read_bytes(), force=True)
    atomic_write(dest.with_suffix(".json"), (json.dumps(info, indent=2) + "\n").encode(), force=True)
    print(f"{dest.name}: {info['weights_id'][:12]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["prep", "run", "score", "ratio", "ship", "table"])
    ap.add_argument("--kind", choices=list(SOURCES), default="rc+")
    ap.add_argument("--minutes", type=float, default=40.0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--snapshot", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--step", type=int)
    ap.add_argument("--csv", type=Path, help="score, ratio, table: another CSV than docs/SCORES[kind] "
                    "or docs/SHARES[kind]")
    ap.add_argument("--every", type=int, help="ratio: every N-th training picture (4); score: "
                    "snapshots every N steps (500)")
    args = ap.parse_args()
    if args.command == "prep":
        prep_all()
    elif args.command == "run":
        run(args.kind, args.minutes, args.batch, args.lr, args.snapshot, args.seed)
    elif args.command == "score":
        score(args.kind, args.csv or ROOT / "docs" / SCORES[args.kind], args.every or 500)
    elif args.command == "table":
        print(markdown(args.csv or ROOT / "docs" / SCORES[args.kind]))
    elif args.command == "ratio":
        ratio(args.kind, args.every or 4, args.csv or ROOT / "docs" / SHARES[args.kind])
    else:
        ship(args.kind, args.step)


if __name__ == "__main__":
    main()
