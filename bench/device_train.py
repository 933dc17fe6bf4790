"""Training on a lent GPU for a few minutes: several runs side by side, each a process of its own.

Runs (`--runs`, see RUNS): the seed's `paper` network from scratch; the committed `cpu` (RC) and
`cpu+` (RC+) runs resumed from their checkpoints; other shapes of both from scratch, for the
size comparison at equal training time.

The GPU machine has torch but no BPG encoder and no network access, and takes at most 64 MiB with
the working tree; so the data travels as a compact pack (`rclib.trainpack`) made here:

    python bench/device_train.py pack --out .gpu/pack --size 176     # here (~25 MiB)
    python bench/device_train.py run --pack .gpu/pack --out $OUT --minutes 8 --runs rc_wide,...  # there

`run` brings back: the paper network's best weights (float16) with its JSON and log, and for each
other run a tar of its checkpoint, log and weights (snapshots where it keeps them).  Resumed runs
do not validate there (their validation set is here; a pack for them alone needs no validation
crops: `pack --val-per-group 0`); `rclib.train.fill_validation` scores their snapshots on the
whole validation set afterwards, so their learning curves stay one curve.  Runs from scratch
validate there on the pack's validation crops.  A pack holds one region of each picture at one or
two Qs: enough to take a young network far, too narrow for a late one (README, cpu+wide).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# name -> (profile, network, snapshot every).  A run resumes from data/runs/NAME (or the run it
# forks) when that holds a checkpoint (and then does not validate there), else starts from scratch.
RUNS = {
    "paper": ("paper-gpu", "paper", None),
    "rc_cpu": ("cpu", "cpu", 2000),
    "rcplus_cpu": ("cpu+", "cpu+", 2000),
    "rc_cpu_scratch": ("cpu", "cpu", None),
    "rc_wide": ("cpu", "cpu-wide", None),
    "rc_deep": ("cpu", "cpu-deep", None),
    "rc_head": ("cpu-head", "cpu-head", 2000),
    "rcplus_wide": ("cpu+wide", "cpu+wide", 3000),
    "rcplus_wide_b32": ("cpu+wide", "cpu+wide", 1000),
    "rcplus_cpu_b32": ("cpu+", "cpu+", 1000),
    "rc_head_b32": ("cpu-head", "cpu-head", 1000),
    "rcplus_wide_end": ("cpu+wide", "cpu+wide", 1000),
    "rcplus_wide_b64_end": ("cpu+wide", "cpu+wide", 1000),
}

# name -> (committed run it branches from, config overrides): the run continued from that run's
# checkpoint with another recipe, e.g. four times the batch that 2 CPU cores could afford.
# rcplus_wide_b32 keeps a moving average of its weights from step 12450 (continued on CPU).
# An ending (overrides with "steps" and "anneal") stops at those steps with the rate at 0, so only
# its log and snapshots come back: there is nothing to continue.
FORKS = {
    "rcplus_wide_b32": ("rcplus_wide", {"batch": 32, "ema": 0.998}),
    "rcplus_cpu_b32": ("rcplus_cpu", {"batch": 32}),
    "rc_head_b32": ("rc_head", {"batch": 32}),
    "rcplus_wide_end": ("rcplus_wide_b32", {"batch": 32, "ema": 0.998, "steps": 17000, "anneal": 3500}),
    "rcplus_wide_b64_end": ("rcplus_wide_b32", {"batch": 64, "ema": 0.998, "steps": 16000, "anneal": 2500}),
}

# The training Qs a pack holds for each picture: one of RC's range, and for a main sample (not a
# "~" variant) one of RC+'s higher Qs; fixed ranges, so the pack is the same whatever is cached.
PACK_LOW_QS, PACK_HIGH_QS = range(11, 18), range(18, 26)


def make_pack(out: Path, size: int, val_size: int, val_per_group: int, seed: int = 0) -> None:
    import numpy as np

    from rclib import data, prep, train, trainpack

    root = data.prepare_embedded(progress=False)
    cache = data.cache_dir() / "prep"

    def train_qs(stem, _qs=None):
        rng = np.random.default_rng(data._key_int("pack" + stem))
        picked = [int(rng.choice(PACK_LOW_QS))]
        if "~" not in stem:
            picked.append(int(rng.choice(PACK_HIGH_QS)))
        return picked

    by_group: dict[str, list[str]] = {}
    for p in data.list_images(root / "val"):
        by_group.setdefault(train.val_group(p), []).append(p.stem)
    names = [s for stems in by_group.values() for s in stems[:val_per_group]]
    val_qs = lambda stem, _qs=None: [14] if stem in names else []  # noqa: E731
    # the BPG versions the pack needs (made now where the cache lacks them)
    prep.prep(root / "train", cache / "embedded-train", qs=[*PACK_LOW_QS, *PACK_HIGH_QS], qs_for=train_qs)
    if names:
        prep.prep(root / "val", cache / "embedded-val", qs=[14], qs_for=val_qs)
    idx = trainpack.write(root / "train", cache / "embedded-train", out / "train", train_qs, size, seed=seed)
    trainpack.write(root / "val", cache / "embedded-val", out / "val", val_qs, val_size, names=names)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{len(idx['pictures'])} training pictures, {len(names)} validation crops, {total / 2**20:.1f} MiB")


def run_one(name: str, work: Path, minutes: float, device: str) -> None:
    """One training process (the driver starts three)."""
    import torch

    from rclib import train

    torch.set_num_threads(2)
    d = work / "data"
    out = work / "runs" / name
    seconds = minutes * 60
    profile, network, snapshot_every = RUNS[name]
    source, overrides = FORKS.get(name, (name, {}))
    start = ROOT / "data" / "runs" / name  # a fork committed once continues from its own checkpoint
    if not (start / "checkpoint.pt").exists():
        start = ROOT / "data" / "runs" / source
    val_dir, prepared_val = d / "val", d / "prep-val"
    if (start / "checkpoint.pt").exists():
        # resumed: no validation there (no validation pictures), its snapshots are scored here later
        train.continue_from(start, out)
        cfg = train.profile(profile, **{"model": network, "steps": 10**9, **overrides})
        val_dir = prepared_val = work / "no-val"
        val_dir.mkdir(exist_ok=True)
    elif name == "paper":
        cfg = train.profile(profile)
    else:
        cfg = train.profile(profile, model=network, steps=10**9, val_every=2000)
    train.train(cfg, d / "train", val_dir, d / "prep-train", prepared_val, out, device=device,
                progress=False, max_seconds=seconds, snapshot_every=snapshot_every)


def side_by_side(commands: dict[str, list[str]], work: Path, deadline: float) -> None:
    """Run each named command as a process of its own (output in work/NAME.stdout), wait for all
    of them or the deadline (a time.time()), stop what is left, print each one's exit and last lines."""
    procs = {}
    for name, argv in commands.items():
        with open(work / f"{name}.stdout", "w") as log:
            procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    while any(p.poll() is None for p in procs.values()) and time.time() < deadline:
        time.sleep(5)
    for name, p in procs.items():
        if p.poll() is None:
            print(f"{name}: past the deadline, stopped", flush=True)
            p.terminate()
            p.wait(30)
        print(f"{name}: exit {p.returncode}; " + " | ".join((work / f"{name}.stdout").read_text().splitlines()[-3:]),
              flush=True)


def run(pack: Path, out: Path, minutes: float, deadline: float, device: str, work: Path,
        names: list[str]) -> None:
    from rclib import model, trainpack

    start = time.time()
    d = work / "data"
    for split in ("train", "val"):
        if not (pack / split).exists():  # runs that only resume need no validation crops
            (d / split).mkdir(parents=True, exist_ok=True)
            (d / f"prep-{split}").mkdir(parents=True, exist_ok=True)
            continue
        n = trainpack.unpack(pack / split, d / split, d / f"prep-{split}")
        print(f"unpacked {n} {split} pictures in {time.time() - start:.0f} s", flush=True)
    side_by_side({name: [sys.executable, __file__, "one", name, "--work", str(work), "--minutes", str(minutes),
                         "--device", device] for name in names}, work, start + deadline)
    runs = work / "runs"
    best = runs / "paper" / "best.pt"
    if best.exists():
        net = model.load(best)
        meta = json.loads(best.with_suffix(".json").read_text())
        model.save(net, out / "paper_best.pt", meta=meta, half=True)
    files = []  # (path, name in the tar): a run's state first, its snapshots newest first
    for name in names:
        folder = runs / name
        if not folder.exists():
            continue
        files.append((work / f"{name}.stdout", f"{name}/stdout.txt"))
        ending = "anneal" in FORKS.get(name, ("", {}))[1]  # its weights are its snapshots
        files += [(f, f"{name}/{f.name}") for f in sorted(folder.iterdir())
                  if f.is_file() and not ((name == "paper" or ending) and f.suffix == ".pt")]
        files += [(f, f"{name}/snapshots/{f.name}") for f in sorted((folder / "snapshots").glob("*"), reverse=True)]
        log = folder / "log.csv"
        if log.exists():
            print(f"--- {name}\n" + "\n".join(log.read_text().splitlines()[-6:]), flush=True)
    part, size, tar = 0, 0, None  # tars of at most 15 MiB (what comes back: 8 files of 16 MiB)
    for f, arcname in files:
        if tar is None or size + f.stat().st_size > 15 * 2**20:
            if tar is not None:
                tar.close()
                part += 1
            if part >= 6:  # and paper_best.pt + .json
                print(f"left behind: {arcname} and after", flush=True)
                break
            tar, size = tarfile.open(out / f"runs{part}.tar", "w"), 0
        tar.add(f, arcname=arcname)
        size += f.stat().st_size + 1024
    if tar is not None:
        tar.close()
    print(f"done in {time.time() - start:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--out", type=Path, default=ROOT / ".gpu" / "pack")
    p.add_argument("--size", type=int, default=256, help="side of each training region")
    p.add_argument("--val-size", type=int, default=384)
    p.add_argument("--val-per-group", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="which region of each training picture (another seed, other regions)")
    r = sub.add_parser("run")
    r.add_argument("--pack", type=Path, default=ROOT / ".gpu" / "pack")
    r.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "device-out")))
    r.add_argument("--minutes", type=float, default=8.0, help="training time of each run")
    r.add_argument("--device", default="cuda")
    r.add_argument("--work", type=Path, default=Path("/tmp/rclib-device"))
    r.add_argument("--deadline", type=float, default=555.0, help="seconds after which runs are stopped")
    r.add_argument("--runs", default="paper,rc_cpu,rcplus_cpu", help="comma-separated names of RUNS")
    o = sub.add_parser("one")
    o.add_argument("name")
    o.add_argument("--work", type=Path, required=True)
    o.add_argument("--minutes", type=float, required=True)
    o.add_argument("--device", default="cuda")
    args = ap.parse_args()
    if args.cmd == "pack":
        make_pack(args.out, args.size, args.val_size, args.val_per_group, args.seed)
    elif args.cmd == "run":
        args.out.mkdir(parents=True, exist_ok=True)
        run(args.pack, args.out, args.minutes, args.deadline, args.device, args.work, args.runs.split(","))
    else:
        run_one(args.name, args.work, args.minutes, args.device)


if __name__ == "__main__":
    main()
