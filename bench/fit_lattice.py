"""Lattice tables fitted to shipped weights: the network frozen, only its mixture's tables learnt.

A picture decoded from integer YCbCr (every JPEG source's) puts the residual on a lattice across
R, G and B: r_R = 2 comes with r_G = -1 or 0, r_R = 1 with r_G = 1 (README, "Lattice tables").
`Mixture.lattice` adds to G's component means and log-scales a learnt number per component and
value of r_R (clipped to +-3), and to B's per r_R and r_G.  This fits those numbers (70 and 490 per
network or pass) to a network that stays as it is, on crops of the training photos only: the
downscaled ones at the Qs their training used and the native-resolution regions
(`finetune_gates.py pack-native`), which carry the lattice.  The network's outputs are computed
once, so the fit takes minutes on 2 cores:

    python bench/fit_lattice.py --weights data/models/rc_cpu.pt --out /tmp/rc_lattice.pt
    python bench/fit_lattice.py --weights data/models/rcplus_cpu.pt --out /tmp/rcplus_lattice.pt

It prints the validation bits (the coder's, Q 14, per package) before and after.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def training_crops(plus: bool, n_down: int, n_native: int, crop: int, seed: int):
    """(x, x_l) float batches (B, 3, crop, crop): downscaled training photos at their training
    Qs (those prepared in the cache), then native-resolution regions at their Q."""
    import numpy as np

    from rclib import data, train

    rng = np.random.default_rng(seed)
    root, cache = data.cache_dir() / "embedded", data.cache_dir() / "prep"
    qs = range(11, 26 if plus else 18)
    down = train.PairSet(root / "train", cache / "embedded-train", qs)
    native = train.PairSet(data.cache_dir() / "native-train" / "crops", data.cache_dir() / "native-train" / "prep", qs)
    out = []
    for sampler, n in ((down, n_down), (native, n_native)):
        for start in range(0, n, 16):
            x, x_l, _ = sampler.batch(rng, min(16, n - start), crop)
            out.append((x, x_l))
    return out


def frozen_params(net, batches, plus: bool):
    """The network's raw mixture parameters for every batch (RC: one map; RC+: one per pass, all
    earlier residuals known), with the pictures each prices."""
    import torch

    from rclib import model_plus

    out = []
    with torch.no_grad():
        for x, x_l in batches:
            if not plus:
                out.append(([net(x_l)], [x], [x_l]))
                continue
            known = torch.ones(x.shape[0], 1, x.shape[2] // 2, x.shape[3] // 2)
            residual = x - x_l
            out.append(([net.pass_params(k, x_l, residual, known) for k in range(4)],
                        [model_plus.phase(x, k) for k in range(4)], [model_plus.phase(x_l, k) for k in range(4)]))
    return out


def fit(net, params, steps: int, lr: float, seed: int):
    """Adam on the lattice tables alone (the rate falling linearly to zero), every batch in turn."""
    import torch

    from rclib import mixture, model

    torch.manual_seed(seed)
    tables = [net.mix_lattice_g, net.mix_lattice_b]
    for p in net.parameters():
        p.requires_grad_(any(p is t for t in tables))
    opt = torch.optim.Adam(tables, lr=lr)
    plus = model.kind(net) == "rc+"
    order = torch.randperm(len(params) * ((steps + len(params) - 1) // len(params)))
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * (1 - step / steps)
        outs, xs, xls = params[int(order[step]) % len(params)]
        bits = 0.0
        for k, (o, x, x_l) in enumerate(zip(outs, xs, xls)):
            mix = net.pass_mixture(k, o) if plus else net.mixture_of(o)
            bits = bits + mixture.bits_per_subpixel(mix, x, x_l)
        loss = bits / len(outs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step}: {loss.item():.4f} bpsp", flush=True)
    for p in net.parameters():
        p.requires_grad_(True)
    return net.eval()


def write_rows(path: Path, kind: str, before_id: str, after_id: str, before: dict, after: dict) -> None:
    """Two rows (the weights as they were, then with fitted tables) in the table at `path`,
    replacing earlier rows of the same weights."""
    import pandas as pd

    from rclib.imageio import atomic_write

    rows = pd.DataFrame([{"kind": kind, "tables": t, "weights_id": i[:6], **{k: round(v, 5) for k, v in b.items()}}
                         for t, i, b in (("none", before_id, before), ("fitted", after_id, after))])
    if path.exists():
        old = pd.read_csv(path, dtype={"weights_id": str})
        rows = pd.concat([old[~old.weights_id.isin(rows.weights_id)], rows])
    atomic_write(path, rows.to_csv(index=False).encode(), force=True)


def joint(picture: str, q: int, reach: int = 2) -> str:
    """The README's table of a validation picture's residual pairs (r_R, r_G), |r| <= reach, in
    hundreds of pixels."""
    import numpy as np

    from rclib import data, prep

    src = data.resolve("embedded", "val") / f"{picture}.png"
    x_l = prep.version(src, data.cache_dir() / "prep" / "embedded-val", q)[1]  # made and cached if missing
    r = data.load_rgb(src).astype(int) - x_l.astype(int)
    values = range(-reach, reach + 1)
    lines = ["| r_R ↓ r_G → | " + " | ".join(f"{v}".replace("-", "−") for v in values) + " |",
             "|" + "---|" * (len(values) + 1)]
    for a in values:
        counts = [int(((r[..., 0] == a) & (r[..., 1] == b)).sum()) // 100 for b in values]
        top = max(counts)
        cells = [f"**{c}**" if c == top else str(c) for c in counts]
        lines.append(f"| {a} | ".replace("-", "−") + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(table) -> str:
    """The README's table: each network's validation bits without and with fitted tables, and the
    change."""
    groups = [c for c in table.columns if c not in ("kind", "tables", "weights_id")]
    lines = ["| network | weights | " + " | ".join(groups) + " |", "|" + "---|" * (len(groups) + 2)]
    for kind, rows in table.groupby("kind", sort=False):
        none, fitted = (rows[rows.tables == t].iloc[0] for t in ("none", "fitted"))
        name = {"rc": "RC", "rc+": "RC+"}[kind]
        lines.append(f"| {name} | {none.weights_id} | " + " | ".join(f"{none[g]:.4f}" for g in groups) + " |")
        lines.append(f"| {name} + fitted lattice tables | {fitted.weights_id} | "
                     + " | ".join(f"{fitted[g]:.4f} ({100 * (fitted[g] / none[g] - 1):+.2f} %)" for g in groups) + " |")
    return "\n".join(lines)


def main() -> None:
    import torch

    from rclib import data, model, train

    sys.path.insert(0, str(ROOT / "bench"))
    from finetune_gates import extended_copy

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=ROOT / "data" / "models" / "rc_cpu.pt")
    ap.add_argument("--out", type=Path, help="the weights with their fitted tables (.pt and .json)")
    ap.add_argument("--down", type=int, default=320, help="crops of the downscaled training photos")
    ap.add_argument("--native", type=int, default=160, help="crops of the native-resolution regions")
    ap.add_argument("--crop", type=int, default=160)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--q", type=int, default=14, help="validation Q")
    ap.add_argument("--csv", type=Path, help="add the before/after validation bits to this table")
    ap.add_argument("--table", type=Path, help="print the README's table from this CSV and stop")
    ap.add_argument("--joint", metavar="PICTURE", help="print how often each (r_R, r_G) occurs in this "
                    "validation picture at --q (in hundreds of pixels) and stop")
    args = ap.parse_args()
    if args.joint:
        print(joint(args.joint, args.q))
        return
    if args.table:
        import pandas as pd

        print(markdown(pd.read_csv(args.table, dtype={"weights_id": str})))
        return
    if args.out is None:
        ap.error("--out is required")
    torch.set_num_threads(2)
    start = time.time()
    base = model.load(args.weights)
    net = extended_copy(args.weights, gated=False, lattice=True)
    plus = model.kind(net) == "rc+"
    batches = training_crops(plus, args.down, args.native, args.crop, args.seed)
    params = frozen_params(net, batches, plus)
    print(f"{sum(len(b[0]) for b in batches)} crops, network outputs in {time.time() - start:.0f} s", flush=True)
    fit(net, params, args.steps, args.lr, args.seed)
    root, cache = data.cache_dir() / "embedded", data.cache_dir() / "prep"
    pairs, groups = train.validation_set(root / "val", cache / "embedded-val", args.q)
    before, after = train.validate(base, pairs, args.q, groups), train.validate(net, pairs, args.q, groups)
    for key in before:
        print(f"{key:28s} {before[key]:.4f} -> {after[key]:.4f} ({100 * (after[key] / before[key] - 1):+.2f} %)")
    meta = {"lattice_fitted_to": model.weights_id(base), "val_bpsp": after["all"], "val_q": args.q,
            "val_groups": {k: v for k, v in after.items() if k != "all"},
            "fit": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "command": "python bench/fit_lattice.py " + " ".join(sys.argv[1:])}
    model.save(net, args.out, meta=meta)
    if args.csv:
        write_rows(args.csv, model.kind(net), model.weights_id(base), model.weights_id(net), before, after)
    print(json.dumps({"before": before, "after": after}), flush=True)
    print(f"done in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
