"""Record this machine's golden files: tests/expected/numerics-<fingerprint>/ (tests/test_golden.py).

Codes the pictures of the files recorded on the first fingerprinted machine again with today's
format and the shipped weights of each kind and colour space, checks each decodes to its picture,
and writes the byte counts of two validation photos that test_validation_photos_code_to_their_
expected_byte_counts compares.  Run it on a machine whose fingerprint has no folder yet:

    python bench/golden.py            # writes tests/expected/numerics-<this machine's fingerprint>/
    python bench/golden.py --only _levels3   # adds the files whose name ends so to an existing folder
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import rclib
from rclib import codec, data, model as model_lib
from rclib.imageio import atomic_write

EXPECTED = Path(__file__).resolve().parent.parent / "tests" / "expected"
SOURCE = EXPECTED / "numerics-7c971ed78f29"  # where the pictures come from
# (picture of SOURCE, compress arguments, what the name says after Q)
FILES = [
    ("v8_rc_cpu_a9b5d8_rgb_q14", dict(model="rc", q=14, tables=False, jpeg=False), ""),
    ("v8_rc_rgb_cpu_4be819_rgb_q14_bpg_in_rgb", dict(model="rc", q=14, tables=False, jpeg=False, space="rgb"), "_bpg_in_rgb"),
    ("v8_rc_jpeg_cpu_61a32a_rgb_q14_jpeg_colour", dict(model="rc", q=14, tau=True), "_jpeg_colour"),
    ("v8_rcplus_cpu_a8497b_rgb_q17", dict(model="rc+", q=17, tables=False, jpeg=False), ""),
    ("v7_rcplus_rgb_cpu_f59a3d_rgb_q14_bpg_in_rgb", dict(model="rc+", q=14, tables=False, jpeg=False, space="rgb"), "_bpg_in_rgb"),
    ("v8_rcplus_jpeg_cpu_9836f1_rgb_q14_jpeg_colour", dict(model="rc+", q=14, tau=True), "_jpeg_colour"),
    ("v8_rcplus_cpu_a8497b_rgb_q17", dict(model="rc+", q=17, tables=False, jpeg=False, levels=3), "_levels3"),
]
VALIDATION = {"weights": "rc_cpu_v4.pt", "q": 12,  # `cpu-head` weights that never change
              "pictures": ("lxqt-themes__fog", "enlightenment-data__Mountain~native")}


def golden_files(out: Path) -> None:
    zoo = model_lib.zoo()
    for stem, kwargs, suffix in FILES:
        x = np.asarray(Image.open(SOURCE / f"{stem}.png"))
        blob = codec.compress(x, **kwargs)
        header = codec.unpack_header(blob)[0]
        assert header.version == (codec.LEVELS_VERSION if header.levels > 1 else codec.NETWORK_VERSION), stem
        weights = zoo[header.weights_id.hex()]  # shipped weights: old files must keep finding them
        name = f"v{header.version}_{weights.stem}_{header.weights_id.hex()[:6]}_rgb_q{header.q}{suffix}"
        assert np.array_equal(rclib.decompress(blob), x), name
        atomic_write(out / f"{name}.rc", blob, force=True)
        Image.fromarray(x).save(out / f"{name}.png")
        print(name, len(blob), "bytes")


def validation_bytes(out: Path) -> None:
    """The numbers test_validation_photos_code_to_their_expected_byte_counts compares."""
    net = model_lib.load(model_lib.MODELS_DIR / VALIDATION["weights"])
    root = data.resolve("embedded", "val")
    q = VALIDATION["q"]
    pictures = {}
    for name in VALIDATION["pictures"]:
        x = data.load_rgb(root / f"{name}.png")
        blob = rclib.compress(x, q=q, model=net, jpeg=False)
        default = rclib.compress(x, q=q, model=net)
        model_only = rclib.compress(x, q=q, model=net, tables=False)
        for b in (blob, default, model_only):
            assert np.array_equal(rclib.decompress(b), x), name
        info = codec.info(blob)
        pictures[name] = {"q": q, "png_sha256": data.sha256_file(root / f"{name}.png"),
                          "bpg_bytes": info["bpg_bytes"], "rc_bytes_model_only": len(model_only),
                          "rc_bytes": len(blob), "table_channels": info["table_channels"],
                          "rc_bytes_default": len(default), "jpeg_colour": codec.info(default)["jpeg_colour"]}
        print(name, pictures[name])
    record = {"weights_id": model_lib.weights_id(net), "pictures": pictures}
    atomic_write(out / "validation_bytes.json", (json.dumps(record, indent=1) + "\n").encode(), force=True)


if __name__ == "__main__":
    out = EXPECTED / f"numerics-{codec.numerics_fingerprint()}"
    if "--only" in sys.argv:  # files added to the format since the folder was recorded
        suffix = sys.argv[sys.argv.index("--only") + 1]
        FILES[:] = [f for f in FILES if f[2] == suffix]
        sys.exit(golden_files(out) if FILES and out.exists() else f"no {suffix!r} files or no folder {out}")
    if out.exists() and "--force" not in sys.argv:
        sys.exit(f"{out} exists (--force writes it again)")
    out.mkdir(exist_ok=True)
    golden_files(out)
    validation_bytes(out)
