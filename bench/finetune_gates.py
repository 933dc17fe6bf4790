"""Mixture gates, measured: the shipped networks fine-tuned with and without them, side by side.

A gated mixture (`Mixture.gates`) lets G's and B's component weights follow how well each
component priced the decoded R (and G), so the coupling across channels need not be linear.
Its gates start at zero, so a gated copy of shipped weights starts as exactly those weights;
this fine-tunes such copies (and ungated ones, the control) for the same steps on the same
crops, optionally with native-resolution regions of the training photos mixed in (their
decode lattice, `pack-native`), and keeps snapshots to validate on the whole validation set:

    python bench/finetune_gates.py pack-native --out .gpu/packj/native        # here
    python bench/finetune_gates.py run --arms rc,rc_gated --minutes 7         # on a lent GPU
    python bench/finetune_gates.py score --runs device-out/...                # here

Stage 2 of the shipped RC+ continued stage 1's snapshot on the pack's other regions:
`device_train.py pack --size 224 --seed 1 --val-per-group 0 --out .gpu/pack1`, then `run --pack
.gpu/pack1 --seed 1 --arms rcplus_gated_native --start-from rcplus_gated_native=SNAPSHOT`.

`run` writes each arm's log and snapshots (weights every --snapshot steps) into a tar of its own.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# arm -> (shipped weights, gated, lattice tables, share of each batch from native regions)
ARMS = {
    "rc": ("rc_cpu.pt", False, False, 0.0),
    "rc_gated": ("rc_cpu.pt", True, False, 0.0),
    "rc_native": ("rc_cpu.pt", False, False, 0.25),
    "rc_gated_native": ("rc_cpu.pt", True, False, 0.25),
    "rcplus_native": ("rcplus_cpu.pt", False, False, 0.25),
    "rcplus_gated_native": ("rcplus_cpu.pt", True, False, 0.25),
    "rc_lattice_native": ("rc_cpu.pt", False, True, 0.25),
    "rcplus_lattice_native": ("rcplus_cpu.pt", True, True, 0.25),
}
NATIVE_SIZE = 240  # side of each native region


def extended_copy(path: Path, gated: bool, lattice: bool = False):
    """The weights at `path` as a model with (zero) mixture gates and lattice tables where asked
    and missing: the same mixture as the weights' own."""
    import dataclasses

    from rclib import model

    net = model.load(path)
    config = dataclasses.asdict(net.config)
    wanted = {**config, "gated": config.get("gated", False) or gated,
              "lattice": config.get("lattice", False) or lattice}
    if wanted == config:
        return net
    out = model.build(wanted)
    missing, unexpected = out.load_state_dict(net.state_dict(), strict=False)
    assert all(n.startswith("mix_") for n in missing) and not unexpected, (missing, unexpected)
    return out


def pack_native(out: Path) -> None:
    """A seeded NATIVE_SIZE region of every training photo at its source's own resolution (the
    source's JPEG or WebP decode, not downscaled), BPG at one seeded Q of 11..17, packed."""
    import numpy as np

    from rclib import data, prep, trainpack

    work = data.cache_dir() / "native-train"
    crops = work / "crops"
    stem = lambda photo: Path(data._out_name(photo)).stem + "~nat"  # noqa: E731
    todo = [p for p in data.EMBEDDED_PHOTOS if p[0] == "train" and not (crops / f"{stem(p)}.png").exists()]
    if todo:
        debs = data._download_debs(sorted({p[1] for p in todo}), data.cache_dir() / "debs")
        with tempfile.TemporaryDirectory() as tmp:  # each package unpacked once, as prepare_embedded does
            for photo in todo:
                extracted = Path(tmp) / photo[1]
                if not extracted.exists():
                    subprocess.run(["dpkg-deb", "-x", str(debs[photo[1]]), str(extracted)], check=True)
                rgb = data.load_rgb(io.BytesIO(data._read_source(extracted, photo)))
                rows, cols = trainpack._region(rgb.shape, NATIVE_SIZE, np.random.default_rng(data._key_int(stem(photo))))
                data._save_png(crops / f"{stem(photo)}.png", np.ascontiguousarray(rgb[rows, cols]))

    def qs_for(stem, _qs=None):
        return [int(np.random.default_rng(data._key_int("q" + stem)).integers(11, 18))]

    prep.prep(crops, work / "prep", qs=list(range(11, 18)), qs_for=qs_for, progress=False)
    idx = trainpack.write(crops, work / "prep", out, qs_for, NATIVE_SIZE)
    print(f"{len(idx['pictures'])} native regions packed into {out}")


def run_arm(arm: str, work: Path, out: Path, minutes: float, device: str, batch: int, lr: float,
            snapshot: int, seed: int = 0, start_from: Path | None = None) -> None:
    """Fine-tune one arm against the clock: Adam, the rate falling linearly to zero at the end of
    its minutes, gates at 100x the rate; snapshots and a log."""
    import numpy as np
    import torch

    from rclib import model, train

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    weights, gated, lattice, native_share = ARMS[arm]
    if start_from is not None:  # a continuation of an earlier fine-tuning (its snapshot)
        weights = str(Path(start_from).resolve())
    net = extended_copy(ROOT / "data" / "models" / weights, gated, lattice).to(device).train()
    plus = model.kind(net) == "rc+"
    qs = range(11, 26 if plus else 18)
    sets = [train.PairSet(work / "train", work / "prep-train", qs)]
    if native_share:
        sets.append(train.PairSet(work / "native", work / "prep-native", qs))
    n_native = int(round(batch * native_share))
    rng = np.random.default_rng(seed)
    # the mixture's few shared numbers (gates, lattice tables) learn at 100x the rate
    body = [p for n, p in net.named_parameters() if not n.startswith("mix_")]
    extras = [p for n, p in net.named_parameters() if n.startswith("mix_")]
    groups = [{"params": body, "lr": lr, "base": lr}]
    if extras:
        groups.append({"params": extras, "lr": 100 * lr, "base": 100 * lr})
    opt = torch.optim.Adam(groups)
    folder = out / arm
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "log.csv", "w", newline="")
    writer = csv.writer(log)
    writer.writerow(["step", "seconds", "train_bpsp", "lr", "gates"])
    start, step, acc = time.time(), 0, []
    while True:
        frac = (time.time() - start) / (minutes * 60)  # the rate falls to zero at the deadline
        if frac >= 1:
            break
        for g in opt.param_groups:
            g["lr"] = g["base"] * (1.0 - frac)
        x, x_l, q = sets[0].batch(rng, batch - n_native, 128)
        if n_native:
            xn, xln, qn = sets[1].batch(rng, n_native, 128)
            x, x_l, q = torch.cat([x, xn]), torch.cat([x_l, xln]), torch.cat([q, qn])
        x, x_l, q = x.to(device), x_l.to(device), q.to(device)
        loss = train.loss_of(net, x, x_l, q, plus, rng)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        acc.append(loss.item())
        if step % 100 == 0:
            gates = [] if net.mix_gates is None else [round(v, 4) for v in net.mix_gates.detach().flatten().tolist()]
            writer.writerow([step, round(time.time() - start, 1), round(sum(acc) / len(acc), 5),
                             f"{opt.param_groups[0]['lr']:.3g}", json.dumps(gates)])
            log.flush()
            acc = []
        if step % snapshot == 0:
            save_snapshot(net, folder / f"step{step:06d}.pt", arm, step, weights)
    save_snapshot(net, folder / f"step{step:06d}.pt", arm, step, weights)
    log.close()


def save_snapshot(net, path: Path, arm: str, step: int, weights: str) -> None:
    import copy

    from rclib import model

    model.save(copy.deepcopy(net).cpu().eval(), path,
               meta={"fine_tuned_from": weights, "arm": arm, "steps": step,
                     "command": "python bench/finetune_gates.py " + " ".join(sys.argv[1:])})


def run(args) -> None:
    from device_train import side_by_side  # bench/, beside this script

    from rclib import trainpack

    work, out = args.work, args.out
    start = time.time()
    for split, pack in (("train", args.pack / "train"), ("native", args.native)):
        n = trainpack.unpack(pack, work / split, work / f"prep-{split}")
        print(f"unpacked {n} {split} pictures in {time.time() - start:.0f} s", flush=True)
    runs = work / "runs"
    starts = dict(item.split("=", 1) for item in args.start_from.split(",") if item)
    arms = args.arms.split(",")
    side_by_side({arm: [sys.executable, __file__, "arm", arm, "--work", str(work), "--out", str(runs),
                        "--minutes", str(args.minutes), "--device", args.device, "--batch", str(args.batch),
                        "--lr", str(args.lr), "--snapshot", str(args.snapshot), "--seed", str(args.seed)]
                  + (["--start-from", starts[arm]] if arm in starts else []) for arm in arms},
                 work, start + args.deadline)
    for arm in arms:
        logf = runs / arm / "log.csv"
        if logf.exists():
            print("\n".join(logf.read_text().splitlines()[-3:]), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    for folder in sorted(runs.iterdir()):  # one tar an arm: what comes back is 16 MiB a file
        with tarfile.open(out / f"{folder.name}.tar", "w") as tar:
            tar.add(folder, arcname=folder.name)
    print(f"done in {time.time() - start:.0f} s", flush=True)


def score(runs: Path, csv_out: Path | None, q: int = 14, shipped: bool = True) -> None:
    """Validation bits (the coder's, at Q q, all 41 pictures, per package) of the shipped weights
    and of every snapshot under `runs` (ARM/stepNNNNNN.pt)."""
    import pandas as pd
    import torch

    from rclib import data, model, train

    torch.set_num_threads(2)
    root, cache = data.cache_dir() / "embedded", data.cache_dir() / "prep"
    pairs, groups = train.validation_set(root / "val", cache / "embedded-val", q)
    todo = [("shipped", 0, ROOT / "data" / "models" / w) for w in sorted({a[0] for a in ARMS.values()})
            if shipped]
    snaps = sorted(Path(runs).glob("*/step*.pt"), key=lambda p: (-int(p.stem[4:]), p.parent.name))
    todo += [(p.parent.name, int(p.stem[4:]), p) for p in snaps]  # latest first
    rows = []
    for arm, step, path in todo:
        net = model.load(path)
        if arm == "shipped":
            arm = path.stem
        rows.append({"arm": arm, "steps": step, **train.validate(net, pairs, q, groups)})
        print(pd.DataFrame(rows[-1:]).round(4).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    if csv_out:
        from rclib.imageio import atomic_write

        atomic_write(csv_out, table.round(5).to_csv(index=False).encode(), force=True)


LABELS = {  # arm -> README row (what the arm changed against the shipped weights)
    "rc_cpu": "RC before (`rc_cpu_v4.pt`)", "rc": "RC fine-tuned", "rc_gated": "RC + gates",
    "rc_native": "RC + native regions", "rc_gated_native": "RC + gates + native regions",
    "rc_lattice_native": "RC + lattice tables + native regions",
    "rcplus_cpu": "RC+ before (`rcplus_cpu_v5.pt`)", "rcplus_native": "RC+ + native regions",
    "rcplus_gated_native": "RC+ + gates + native regions",
    "rcplus_lattice_native": "RC+ + gates + lattice tables + native regions",
}


def summary(table):
    """The README's table from the committed scores (docs/finetune_gates.csv): one row per stage and
    arm (stage 2's last snapshot of each), its fine-tuning steps and validation bits (all pictures,
    then per package).  Stage 3 continued stage 2's shipped RC+ on the first pack."""
    t = table.reset_index(drop=True)
    t.insert(0, "network", [LABELS[a] + (f" (stage {s})" if s >= 2 else "") for a, s in zip(t.arm, t.stage)])
    keep = t.stage != 2
    keep |= t.steps == t[t.stage == 2].groupby("arm").steps.transform("max").reindex(t.index).fillna(-1)
    rank = {a: i for i, a in enumerate(LABELS)}  # LABELS' order, each arm's stages in turn
    t = t[keep]
    t = t.assign(_order=[10 * rank[a] + s for a, s in zip(t.arm, t.stage)])
    return t.sort_values("_order").drop(columns=["stage", "arm", "_order"]).round(4)


def markdown(table) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack-native")
    p.add_argument("--out", type=Path, default=ROOT / ".gpu" / "packj" / "native")
    r = sub.add_parser("run")
    r.add_argument("--pack", type=Path, default=ROOT / ".gpu" / "pack")
    r.add_argument("--native", type=Path, default=ROOT / ".gpu" / "packj" / "native")
    r.add_argument("--arms", default=",".join(ARMS))
    r.add_argument("--work", type=Path, default=Path("/tmp/rclib-gates"))
    r.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "device-out")))
    r.add_argument("--deadline", type=float, default=540.0)
    for q in (r, a := sub.add_parser("arm")):
        q.add_argument("--minutes", type=float, default=7.0)
        q.add_argument("--device", default="cuda")
        q.add_argument("--batch", type=int, default=32)
        q.add_argument("--lr", type=float, default=1e-4)
        q.add_argument("--snapshot", type=int, default=1000)
        q.add_argument("--seed", type=int, default=0)
    a.add_argument("arm")
    a.add_argument("--work", type=Path, required=True)
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--start-from", type=Path, help="weights to continue from instead of the shipped ones")
    r.add_argument("--start-from", default="", help="ARM=WEIGHTS,...: arms that continue earlier snapshots")
    s = sub.add_parser("score")
    s.add_argument("--runs", type=Path, required=True)
    s.add_argument("--csv", type=Path)
    s.add_argument("--q", type=int, default=14)
    s.add_argument("--no-shipped", action="store_true", help="only the snapshots")
    t = sub.add_parser("table", help="the README's table from the committed scores")
    t.add_argument("--csv", type=Path, default=ROOT / "docs" / "finetune_gates.csv")
    args = ap.parse_args()
    if args.cmd == "pack-native":
        pack_native(args.out)
    elif args.cmd == "run":
        run(args)
    elif args.cmd == "arm":
        run_arm(args.arm, args.work, args.out, args.minutes, args.device, args.batch, args.lr, args.snapshot,
                args.seed, args.start_from)
    elif args.cmd == "table":
        import pandas as pd

        print(markdown(summary(pd.read_csv(args.csv))))
    else:
        score(args.runs, args.csv, args.q, not args.no_shipped)


if __name__ == "__main__":
    main()
