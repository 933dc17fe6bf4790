"""Move prep caches written before the picture-hash SEI (BPG encoder version 1) to today's layout
without encoding again.

Version 2 of the embedded encoder only adds x265's decoded-picture-hash SEI (the MD5 of each
decoded plane) after the slice, and the decoded picture is the same, so a version-1 file becomes
the version-2 file by decoding it once and appending that SEI.  Every converted file is checked by
decoding it (the hash must match), and a sample is encoded afresh and compared byte for byte.
Old `qNN/` folders under each cache become `e2/qNN/`; `prep.csv` files are left to be rewritten.

    python bench/upgrade_prep_cache.py [CACHE ...]    # default: every folder of ~/.cache/rclib/prep
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from pathlib import Path

import numpy as np

from rclib import bpg, data, hevc, prep
from rclib.imageio import atomic_write

SEI_DECODED_PICTURE_HASH, MD5 = 132, 0


def with_hash(blob: bytes) -> bytes:
    """A version-1 BPG file with the MD5 picture-hash SEI x265 writes under `hash=1`."""
    parsed = bpg.parse(blob)
    frame = bpg.decode_frame(parsed)   # at the coded size: the hash covers the padding too
    digests = b"".join(
        hashlib.md5(np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[:frame.height, :frame.width]
                    .tobytes()).digest() for p in frame.planes)
    payload = bytes([SEI_DECODED_PICTURE_HASH, 1 + len(digests), MD5]) + digests + b"\x80"
    sei = bytes([hevc.NAL_SEI_SUFFIX << 1, 1]) + hevc.escape(payload)
    return bpg.write(parsed.width, parsed.height, parsed.annexb() + b"\x00\x00\x00\x01" + sei)


def upgrade(cache: Path, originals: Path | None, sample: int = 3) -> int:
    """Convert every old qNN/ folder of `cache`; returns the number of files converted."""
    old = sorted(d for d in cache.iterdir() if d.is_dir() and re.fullmatch(r"q\d\d", d.name))
    done = 0
    for folder in old:
        q = int(folder.name[1:])
        dest = prep.q_dir(cache, q)
        for i, path in enumerate(sorted(folder.glob("*.bpg"))):
            png = path.with_suffix(".png")
            if not png.exists():
                continue
            new = with_hash(path.read_bytes())
            assert np.array_equal(bpg.decode(new), data.load_rgb(png)), path   # hash checked too
            if i < sample and originals is not None and (originals / png.name).exists():
                fresh = bpg.encode(data.load_rgb(originals / png.name), q, backend="embedded")
                if fresh != new:
                    sys.exit(f"{path}: a fresh encode differs from the converted file; re-run prep instead")
            dest.mkdir(parents=True, exist_ok=True)
            atomic_write(dest / path.name, new, force=True)
            os.replace(png, dest / png.name)
            path.unlink()
            done += 1
        if not any(folder.iterdir()):
            folder.rmdir()
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("caches", nargs="*", type=Path)
    args = ap.parse_args()
    caches = args.caches or sorted(p for p in (data.cache_dir() / "prep").glob("*") if p.is_dir())
    for cache in caches:
        split = cache.name.rsplit("-", 1)[-1]
        originals = data.cache_dir() / "embedded" / split if cache.name.startswith("embedded-") else None
        print(f"{cache}: {upgrade(cache, originals)} files converted", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
