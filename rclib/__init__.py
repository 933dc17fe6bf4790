"""rclib: lossless image compression built on lossy compression (RC, Mentzer et al., CVPR 2020).

    >>> import rclib
    >>> data = rclib.compress(rgb)          # uint8 (H, W, 3) or (H, W) -> bytes of an .rc file
    >>> assert (rclib.decompress(data) == rgb).all()
"""
from .errors import FormatError, InputError, RclibError

__version__ = "0.1.0"
__all__ = ["compress", "decompress", "RclibError", "FormatError", "InputError", "__version__"]


def compress(pixels, q=None, model=None, backend: str = "auto", tau: bool = False) -> bytes:
    """Losslessly compress a uint8 picture; see rclib.codec.compress."""
    from .codec import compress as _compress

    return _compress(pixels, q=q, model=model, backend=backend, tau=tau)


def decompress(data: bytes, model=None):
    """Decode .rc bytes back to the exact pixels; see rclib.codec.decompress."""
    from .codec import decompress as _decompress

    return _decompress(data, model=model)
