"""rclib: lossless image compression built on lossy compression (RC, Mentzer et al., CVPR 2020).

    >>> import rclib
    >>> data = rclib.compress(rgb)          # uint8 (H, W, 3) or (H, W) -> bytes of an .rc file
    >>> assert (rclib.decompress(data) == rgb).all()
"""
from . import numerics

numerics.pin()  # before any torch kernel runs: every machine codes on the same float path

from .errors import FormatError, InputError, RclibError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["compress", "decompress", "RclibError", "FormatError", "InputError", "__version__"]


def compress(pixels, q=None, model=None, backend: str = "auto", tau: bool = False, tables: bool = True,
             blend: bool = False, jpeg: bool = True, rgb_bpg: bool = True, levels: int = 1) -> bytes:
    """Losslessly compress a uint8 picture.

    q: a BPG quantizer 0..51, "min" (the cheapest of the model's Q range, estimated), "auto" or
    None (the fewest BPG + per-image table bits over the range; the Q-classifier without tables),
    "clf" (the Q-classifier); model: None or "auto" (the default: coded by RC and by RC+, the
    smaller file kept), "rc" (the paper's), "rc+" (four passes, beyond the paper) or a model
    object; tau: fit a per-image temperature (RC+: one per pass); tables: code a channel with a per-image
    table of its residual where that is smaller than the model; blend: also try the model and the
    table together (a product of the two, format version 5) where that is smaller still; jpeg:
    code a picture decoded from a JPEG in that JPEG's YCbCr where that is smaller (with tables,
    format version 6); rgb_bpg: with `auto` or `min` and tables, also code the picture over BPG
    in its RGB colour space where that is smaller (format version 7); levels: RC+'s (1..4): its
    first pass's subimage coded by its four passes again, levels - 1 times (format version 10).  See
    rclib.qselect.compress and rclib.codec.compress.
    """
    from .qselect import compress as _compress

    return _compress(pixels, q=q, model=model, backend=backend, tau=tau, tables=tables, blend=blend,
                     jpeg=jpeg, rgb_bpg=rgb_bpg, levels=levels)


def decompress(data: bytes, model=None):
    """Decode .rc bytes back to the exact pixels; see rclib.codec.decompress."""
    from .codec import decompress as _decompress

    return _decompress(data, model=model)
