"""Encode and decode one large real photograph (default 12 MPix) with the shipped model, each in
its own process, and print the wall time, MPix/s and peak resident memory of each.

    python bench/big_picture.py [--mpix 12] [--q 12] [--model rc|rc+|weights.pt] [--levels 1..4] [--network]

The photo's source is a JPEG, so the codec may code it from tables alone (JPEG colour, or tables
cheaper than the network at that Q), which times no network; `--network` codes every channel with
the model (tables=False, jpeg=False), the speed of the model and the coder together.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

STEP = r"""
import sys, time, json, resource, numpy as np
from rclib import codec, entropy, model
mode, path, out, q, which, levels, network = sys.argv[1:8]
net = codec.resolve_model(model.load(which) if which.endswith(".pt") else which or None)
entropy._torchac()   # weights and torchac loaded outside the timing
if mode == "encode":
    x = np.load(path)
    t = time.perf_counter(); blob = codec.compress(x, q=int(q), model=net, levels=int(levels), tables=network != "1", jpeg=network != "1"); dt = time.perf_counter() - t
    open(out, "wb").write(blob)
else:
    blob = open(path, "rb").read()
    t = time.perf_counter(); y = codec.decompress(blob); dt = time.perf_counter() - t
    np.save(out, y)
print(json.dumps({"seconds": dt, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    import numpy as np

    from rclib import data

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mpix", type=float, default=12.0)
    ap.add_argument("--q", type=int, default=12)
    ap.add_argument("--model", default="", help="rc, rc+ or a weights file (default: the codec's default kind)")
    ap.add_argument("--levels", type=int, default=1, help="RC+'s levels (codec.compress)")
    ap.add_argument("--network", action="store_true", help="every channel from the model (no tables, no JPEG colour)")
    args = ap.parse_args()
    src = data.source_photo("lomiri-wallpapers-16.04",
                            "usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg")
    h = int((args.mpix * 1e6 * 3 / 4) ** 0.5)
    w = int(h * 4 / 3)
    reps = (-(-h // src.shape[0]), -(-w // src.shape[1]), 1)
    x = np.tile(src, reps)[:h, :w]     # real photo content, tiled up to the size asked for
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "x.npy", x)
        rows = {}
        for mode, inp, out in (("encode", "x.npy", "x.rc"), ("decode", "x.rc", "y.npy")):
            run = subprocess.run([sys.executable, "-c", STEP, mode, str(tmp / inp), str(tmp / out), str(args.q), args.model,
                                  str(args.levels), str(int(args.network))],
                                 capture_output=True, text=True, check=True)
            rows[mode] = json.loads(run.stdout.strip().splitlines()[-1])
        assert np.array_equal(np.load(tmp / "y.npy"), x), "round trip is not exact"
        size = (tmp / "x.rc").stat().st_size
    mp = h * w / 1e6
    print(f"{w}x{h} ({mp:.1f} MPix), Q {args.q}: {8 * size / x.size:.3f} bpsp, exact round trip"
          f"{', every channel from the model' if args.network else ''}")
    for mode, r in rows.items():
        print(f"  {mode}: {r['seconds']:.1f} s, {mp / r['seconds']:.3f} MPix/s, peak RSS {r['peak_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
