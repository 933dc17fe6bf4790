"""Would networks trained for RC+'s levels pay?  A copy of RC+'s shipped weights fine-tuned on
training crops subsampled 2x (the pictures a second level codes), scored as the second level.

`run` fine-tunes for a number of minutes on 2 cores (train.fine_tune: Adam, the rate falling to
zero; crops of 2 x CROP subsampled to CROP; main samples at Q 17, 20 and 23 (BPG made when first
drawn), extra samples at Q 17).  `score` codes each validation file over BPG in YCbCr of
docs/rcplus_levels.csv at its Q with one level, and with 2 and 3 levels whose levels above 0 run
the shipped or the fine-tuned weights (model_plus.with_level_net): residual bits of the network
alone and as the coder codes them (codec._coded_bits), against one level.  `ship` writes RC+'s
weights with a snapshot's level networks where `--levels` above 1 finds them
(model.DEFAULT_LEVELS_WEIGHTS).

    python bench/level_finetune.py run --minutes 20 --out /tmp/level_ft
    python bench/level_finetune.py score --weights /tmp/level_ft/final_state.pt

A longer run over several sittings: the same `run --steps N` (the rate falls to zero over N
steps; `--minutes M`: over M minutes of training, counted across sittings) with `--snapshot-every
K` resumes from its last checkpoint; `score --weights DIR/snapshots/stepNNNNNN.pt` scores a snapshot.
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

CROP, BATCH, LR = 96, 8, 5e-5


def run(minutes: float, steps: int | None, out: Path, snapshot_every: int, lr: float = LR) -> None:
    import torch

    from rclib import codec, data, train

    class Subsampled(train.PairSet):
        """Crops of twice the size, every second pixel of each row and column kept."""

        def batch(self, rng, batch, crop):
            x, x_l, q = super().batch(rng, batch, 2 * crop)
            return x[:, :, ::2, ::2].contiguous(), x_l[:, :, ::2, ::2].contiguous(), q

    root = data.prepare_embedded(progress=False)
    pairs = Subsampled(root / "train", data.cache_dir() / "prep" / "embedded-train", range(11, 27),
                       qs_for=lambda stem, qs: [17, 20, 23] if "~" not in stem else [17])
    net = copy.deepcopy(codec.default_model("rc+"))
    if steps:   # a step budget: a sitting shared with other work trains slower, not shorter
        budget, command = (lambda step, seconds: step / steps), f"level_finetune run --steps {steps} --lr {lr}"
    else:
        budget = lambda step, seconds: seconds / (60 * minutes)  # noqa: E731
        command = f"level_finetune run --minutes {minutes}" + (f" --lr {lr}" if lr != LR else "")
    steps = train.fine_tune(net, pairs, out, budget, {"command": command}, lr=lr, batch=BATCH, crop=CROP,
                            snapshot_every=snapshot_every, log_every=25)
    torch.save(net.state_dict(), out / "final_state.pt")
    print(f"{steps} steps; weights in {out / 'final_state.pt'}")


def score(weights: Path, levels_csv: Path, levels=(2, 3)) -> None:
    """Residual bits of the validation files over BPG in YCbCr at their Q (levels_csv), as the
    codec computes them at each number of levels, with the shipped networks on every level and
    with the fine-tuned ones above level 0; network alone and as coded, against one level."""
    import pandas as pd
    import torch

    from rclib import codec, data, model, prep
    from rclib.model_plus import with_level_net

    root = data.prepare_embedded(progress=False)
    files = pd.read_csv(levels_csv)
    files = files[(files.space == "ycbcr") & (files.q >= 10)]
    shipped = codec.default_model("rc+")
    if "state_dict" in torch.load(weights, weights_only=True):   # an rclib weights file: a snapshot or shipped
        tuned = model.load(weights)
    else:
        tuned = copy.deepcopy(shipped)
        tuned.load_state_dict(torch.load(weights))
    combined = tuned if tuned.config.level_net else with_level_net(shipped, tuned.eval())
    runs = [("one level", shipped, 1)] + [(f"{n} levels, shipped", shipped, n) for n in levels] + \
           [(f"{n} levels, fine-tuned", combined, n) for n in levels]
    totals: dict[str, float] = {}
    for f in files.itertuples():
        src = root / "val" / f"{f.image}.png"
        x = data.load_rgb(src)
        _, x_l = prep.version(src, data.cache_dir() / "levels-ycbcr", int(f.q))
        for name, net, n in runs:
            bits = codec._pass_sums(codec.residual_bit_map(x, x_l, int(f.q), net, levels=n), "rc+", n)
            totals[f"{name}: network"] = totals.get(f"{name}: network", 0.0) + bits.sum()
            totals[f"{name}: coded"] = totals.get(f"{name}: coded", 0.0) + codec._coded_bits(x, x_l, bits, "rc+", n)
    print(f"{len(files)} validation files over BPG in YCbCr, residual bits against one level:")
    for key, value in totals.items():
        base = totals["one level: " + key.split(": ")[1]]
        print(f"  {key:30s} {value / base:.4f}")


def ship(weights: Path, out: Path) -> None:
    """RC+'s shipped weights with the snapshot's networks for the levels above 0, as one weights
    file (model_plus.with_level_net) that `--levels` above 1 codes with."""
    import json

    from rclib import codec, model
    from rclib.model_plus import with_level_net

    snapshot = model.load(weights)
    meta = json.loads(weights.with_suffix(".json").read_text())
    base = codec.default_model("rc+")
    combined = with_level_net(base, snapshot)
    model.save(combined, out, meta={
        "level_networks": {"from": str(weights), "steps": meta.get("steps"), "command": meta.get("command"),
                           "training": f"RC+'s weights fine-tuned on crops of 2 x {CROP} of the training photos "
                                       f"subsampled 2x (bench/level_finetune.py run), batches of {BATCH}"},
        "base": {"weights_id": model.weights_id(base), "file": model.DEFAULT_PLUS_WEIGHTS.name},
        "command": f"python bench/level_finetune.py ship --weights {weights} --out {out}"})
    print(f"{out}: {model.weights_id(combined)[:12]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    budget = r.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=20.0, help="a clock budget")
    budget.add_argument("--steps", type=int, default=None, help="a step budget instead of the clock")
    r.add_argument("--lr", type=float, default=LR, help="Adam's rate at the start")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--snapshot-every", type=int, default=100_000,
                   help="steps between snapshots and checkpoints (a run killed resumes from its last)")
    s = sub.add_parser("score")
    s.add_argument("--weights", type=Path, required=True)
    s.add_argument("--levels-csv", type=Path, default=Path("docs/rcplus_levels.csv"))
    h = sub.add_parser("ship")
    h.add_argument("--weights", type=Path, required=True, help="a snapshot of `run` (DIR/snapshots/stepNNNNNN.pt)")
    h.add_argument("--out", type=Path, default=None, help="default: model.DEFAULT_LEVELS_WEIGHTS")
    args = ap.parse_args()
    if args.command == "ship":
        from rclib import model

        ship(args.weights, args.out or model.DEFAULT_LEVELS_WEIGHTS)
    elif args.command == "run":
        run(args.minutes, args.steps, args.out, args.snapshot_every, args.lr)
    else:
        score(args.weights, args.levels_csv)


if __name__ == "__main__":
    main()
