"""A compact copy of prepared training data, for a machine that has no BPG encoder (a lent GPU).

Training needs x and BPG's x_l at each Q; the prepared cache holds them as PNG (over 1 GB).  A
pack keeps a seeded region of each picture, x as WebP lossless and, per chosen Q, the residual
x - x_l (int8, lzma), which BPG's near-white residual makes cheap.  `unpack` writes back the
layout `train.train` reads (originals folder + prepared/qNN/), bit-exact to the regions.
"""
from __future__ import annotations

import io
import json
import lzma
from pathlib import Path

import numpy as np
from PIL import Image

from . import data, prep

RESIDUAL_RANGE = 127  # |x - x_l| beyond this cannot be packed as int8 (never seen at Q <= 30)


def _region(shape, size: int, rng: np.random.Generator) -> tuple[slice, slice]:
    """A seeded size x size window (the whole side where the picture is smaller)."""
    h, w = shape[:2]
    ch, cw = min(size, h), min(size, w)
    y0, x0 = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
    return slice(y0, y0 + ch), slice(x0, x0 + cw)


def _webp(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "WEBP", lossless=True, quality=100, method=4)
    return buf.getvalue()


def write(originals: Path, prepared: Path, dest: Path, qs_for, size: int, seed: int = 0,
          names: list[str] | None = None) -> dict:
    """Pack the pictures of `originals` (or those stems in `names`): a `size` region of each, with
    the residuals at the Qs `qs_for(stem, available_qs)` picks; returns the index it writes."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    index = {"size": size, "seed": seed, "pictures": {}}
    for path in data.list_images(originals):
        if names is not None and path.stem not in names:
            continue
        avail = sorted(q for q in range(0, 52) if (prep.q_dir(prepared, q) / f"{path.stem}.png").exists())
        qs = qs_for(path.stem, avail)
        if not qs:
            continue
        rng = np.random.default_rng([seed, data._key_int(path.stem)])
        whole = data.load_rgb(path)
        rows, cols = _region(whole.shape, size, rng)
        x = np.ascontiguousarray(whole[rows, cols])
        (dest / f"{path.stem}.webp").write_bytes(_webp(x))
        for q in qs:
            x_l = data.load_rgb(prep.q_dir(prepared, q) / f"{path.stem}.png")[rows, cols]
            r = x.astype(np.int16) - x_l.astype(np.int16)
            if np.abs(r).max() > RESIDUAL_RANGE:
                raise ValueError(f"{path.stem} at Q {q}: residual beyond int8")
            (dest / f"{path.stem}.q{q}.xz").write_bytes(lzma.compress(r.astype(np.int8).tobytes(), preset=6))
        index["pictures"][path.stem] = {"shape": list(x.shape), "qs": [int(q) for q in qs]}
    (dest / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def unpack(pack: Path, originals: Path, prepared: Path) -> int:
    """Write a pack back as PNG originals in `originals` and x_l in prepared/qNN/; returns the
    number of pictures."""
    pack, originals, prepared = Path(pack), Path(originals), Path(prepared)
    index = json.loads((pack / "index.json").read_text())
    originals.mkdir(parents=True, exist_ok=True)
    for stem, entry in index["pictures"].items():
        x = data.load_rgb(pack / f"{stem}.webp")
        if list(x.shape) != entry["shape"]:
            raise ValueError(f"{stem}: packed picture has shape {x.shape}, index says {entry['shape']}")
        Image.fromarray(x).save(originals / f"{stem}.png", compress_level=1)
        for q in entry["qs"]:
            r = np.frombuffer(lzma.decompress((pack / f"{stem}.q{q}.xz").read_bytes()), np.int8)
            x_l = (x.astype(np.int16) - r.reshape(x.shape)).astype(np.uint8)
            out = prep.q_dir(prepared, q)
            out.mkdir(parents=True, exist_ok=True)
            Image.fromarray(x_l).save(out / f"{stem}.png", compress_level=1)
    return len(index["pictures"])
