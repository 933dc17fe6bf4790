"""RC network shapes compared at equal training time ("the right size", README).

Each weights file in data/runs/shapes/ is the end of one of four trainings that ran side by side
for the same minutes on one lent GPU, from scratch, on the same pack and schedule (`cpu` profile;
`bench/device_train.py run --runs rc_cpu_scratch,rc_wide,rc_deep,rc_head`).  For each this prints
its size, the steps it reached, its residual bpsp on all validation pictures at Q 14 (per package)
and how fast its network runs on this machine's CPUs (a 1 MPix picture, forward pass only: the
codec's decode adds the arithmetic coder, `bench/big_picture.py`).

    python bench/shapes.py [--csv docs/shapes.csv]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHAPES = ROOT / "data" / "runs" / "shapes"


def network_mpix_s(net, side: int = 1024, repeats: int = 2) -> float:
    """Forward passes of one side x side picture per second, in MPix/s (the best of `repeats`)."""
    import torch

    x_l = torch.rand(1, 3, side, side) * 255
    best = float("inf")
    with torch.no_grad():
        net(x_l, 14)  # warm-up
        for _ in range(repeats):
            t = time.perf_counter()
            net(x_l, 14)
            best = min(best, time.perf_counter() - t)
    return side * side / 1e6 / best


def main() -> int:
    import pandas as pd
    import torch

    from rclib import data, model, train
    from rclib.reproduce import markdown_table

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", type=Path, help="also write the table here")
    args = ap.parse_args()
    torch.set_num_threads(2)
    root = data.prepare_embedded(progress=False)
    pairs, groups = train.validation_set(root / "val", data.cache_dir() / "prep" / "embedded-val", 14)
    rows = []
    for path in sorted(SHAPES.glob("*.pt")):
        info = json.loads(path.with_suffix(".json").read_text())
        net = model.load(path)
        c = net.config
        val = train.validate(net, pairs, 14, groups)
        rows.append({"shape": c.name, "width": c.width, "head_width": c.head_width, "blocks": c.blocks,
                     "fuse": f"{c.fuse_kernel}x{c.fuse_kernel}",
                     "parameters": sum(p.numel() for p in net.parameters()),
                     "steps": info["steps"], "minutes": round(info["train_seconds"] / 60, 1),
                     "val_bpsp": round(val["all"], 4),
                     **{f"val_{g}": round(v, 4) for g, v in sorted(val.items()) if g != "all"},
                     "network_mpix_s": round(network_mpix_s(net), 3)})
        print(f"{c.name}: {rows[-1]['val_bpsp']}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).sort_values("val_bpsp")
    if args.csv:
        from rclib.imageio import atomic_write

        atomic_write(args.csv, table.to_csv(index=False).encode(), force=True)
    print(markdown_table(table.set_index("shape")[["width", "head_width", "blocks", "fuse", "parameters", "steps",
                                                   "minutes", "val_bpsp", "network_mpix_s"]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
