"""Would networks trained for RC+'s levels pay?  A copy of RC+'s shipped weights fine-tuned on
training crops subsampled 2x (the pictures a second level codes), scored as the second level.

`run` fine-tunes for a number of minutes on 2 cores (train.fine_tune: Adam, the rate falling to
zero; crops of 2 x CROP subsampled to CROP; main samples at Q 17, 20 and 23 (BPG made when first
drawn), extra samples at Q 17).  `score` codes each validation file over BPG in YCbCr of
docs/rcplus_levels.csv at its Q with one level, and with two levels whose second level runs the
shipped or the fine-tuned weights: residual bits of the network alone and as the coder codes them
(codec._coded_bits), against one level.

    python bench/level_finetune.py run --minutes 20 --out /tmp/level_ft
    python bench/level_finetune.py score --weights /tmp/level_ft/final_state.pt
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np

CROP, BATCH, LR = 96, 8, 5e-5


def run(minutes: float, out: Path) -> None:
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
    steps = train.fine_tune(net, pairs, out, lambda step, seconds: seconds / (60 * minutes),
                            {"command": f"level_finetune run --minutes {minutes}"}, lr=LR, batch=BATCH, crop=CROP,
                            snapshot_every=100_000, log_every=25)
    torch.save(net.state_dict(), out / "final_state.pt")
    print(f"{steps} steps; weights in {out / 'final_state.pt'}")


def score(weights: Path, levels_csv: Path) -> None:
    import pandas as pd
    import torch

    from rclib import codec, data, prep

    root = data.prepare_embedded(progress=False)
    files = pd.read_csv(levels_csv)
    files = files[(files.space == "ycbcr") & (files.q >= 10)]
    shipped = codec.default_model("rc+")
    tuned = copy.deepcopy(shipped)
    tuned.load_state_dict(torch.load(weights))
    tuned.eval()
    totals: dict[str, float] = {}
    for f in files.itertuples():
        src = root / "val" / f"{f.image}.png"
        x = data.load_rgb(src)
        _, x_l = prep.version(src, data.cache_dir() / "levels-ycbcr", int(f.q))
        one = codec._pass_sums(codec.residual_bit_map(x, x_l, int(f.q), shipped), "rc+")
        sub = np.ascontiguousarray(x[::2, ::2]), np.ascontiguousarray(x_l[::2, ::2])
        for name, second in (("one level", None), ("two, shipped", shipped), ("two, fine-tuned", tuned)):
            bits = one.copy()
            if second is not None:
                bits[0] = codec._pass_sums(codec.residual_bit_map(*sub, int(f.q), second), "rc+").sum(axis=0)
            totals[f"{name}: network"] = totals.get(f"{name}: network", 0.0) + bits.sum()
            totals[f"{name}: coded"] = totals.get(f"{name}: coded", 0.0) + codec._coded_bits(x, x_l, bits, "rc+")
    print(f"{len(files)} validation files over BPG in YCbCr, residual bits against one level:")
    for key, value in totals.items():
        base = totals["one level: " + key.split(": ")[1]]
        print(f"  {key:28s} {value / base:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--minutes", type=float, default=20.0)
    r.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("score")
    s.add_argument("--weights", type=Path, required=True)
    s.add_argument("--levels-csv", type=Path, default=Path("docs/rcplus_levels.csv"))
    args = ap.parse_args()
    if args.command == "run":
        run(args.minutes, args.out)
    else:
        score(args.weights, args.levels_csv)


if __name__ == "__main__":
    main()
