"""Classical lossless codecs for side-by-side comparisons, each round trip verified.

PNG (Pillow, optimize), WebP lossless (method 6), JPEG 2000 reversible (5/3 wavelet, RCT),
JPEG XL lossless (effort 7 and 9) and JPEG-LS (imagecodecs).  FLIF is not installable: its
numbers can only be quoted from the paper.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import RclibError


def _pil_codec(fmt: str, **options) -> tuple[Callable, Callable]:
    from PIL import Image

    def encode(rgb: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format=fmt, **options)
        return buf.getvalue()

    def decode(data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))

    return encode, decode


def _jxl(effort: int) -> tuple[Callable, Callable]:
    import imagecodecs

    return (lambda rgb: imagecodecs.jpegxl_encode(rgb, lossless=True, effort=effort),
            imagecodecs.jpegxl_decode)


def _jpegls() -> tuple[Callable, Callable]:
    import imagecodecs

    return (lambda rgb: imagecodecs.jpegls_encode(rgb, level=0), imagecodecs.jpegls_decode)


CODECS: dict[str, Callable[[], tuple[Callable, Callable]]] = {
    "PNG": lambda: _pil_codec("PNG", optimize=True),
    "WebP-LL": lambda: _pil_codec("WEBP", lossless=True, method=6, quality=100),
    "JPEG2000-LL": lambda: _pil_codec("JPEG2000", irreversible=False, mct=1),
    "JPEG-LS": _jpegls,
    "JPEGXL-LL-e7": lambda: _jxl(7),
    "JPEGXL-LL-e9": lambda: _jxl(9),
}

# The paper's RC numbers (bpsp, its Table 1, as shared/rc-method.md records them): quoted, never
# re-measured here.  FLIF's row of that table is not repeated: look it up in the paper.
QUOTED_RC = {"openimages": 2.790, "div2k_valid_hr": 3.078, "clic2020_mobile_valid": 2.537,
             "clic2020_professional_valid": 2.932}


@dataclass
class Result:
    codec: str
    bytes: int
    bpsp: float
    encode_s: float
    decode_s: float


def run(name: str, rgb: np.ndarray) -> Result:
    """Code `rgb` with one codec, check the round trip is exact, and time both directions."""
    encode, decode = CODECS[name]()
    t0 = time.perf_counter()
    data = encode(rgb)
    t1 = time.perf_counter()
    back = decode(data)
    t2 = time.perf_counter()
    if back.shape != rgb.shape or not np.array_equal(back, rgb):
        raise RclibError(f"{name} did not round-trip exactly")
    return Result(name, len(data), 8 * len(data) / rgb.size, t1 - t0, t2 - t1)
