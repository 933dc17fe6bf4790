"""The one pixel limit for every picture rclib reads or decodes (.rc, .bpg, PNG/PPM/TIFF/BMP).

Decoding a picture costs memory in proportion to its pixels (about 140 bytes a pixel for .rc),
so sizes are checked arithmetically against this limit before anything is allocated: a small
file declaring a huge picture is refused at once.  RCLIB_MAX_PIXELS overrides the default.
"""
from __future__ import annotations

import os

from .errors import FormatError, InputError

DEFAULT_MAX_PIXELS = 40_000_000


def max_pixels() -> int:
    value = os.environ.get("RCLIB_MAX_PIXELS")
    try:
        return int(value) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        raise InputError(f"RCLIB_MAX_PIXELS must be a whole number, not {value!r}") from None


def check_pixels(width: int, height: int, what: str, error=FormatError) -> None:
    """Raise `error` when width x height exceeds the limit (say what was being read)."""
    limit = max_pixels()
    if width * height > limit:
        raise error(f"{what}: {width}x{height} pixels is over rclib's limit of {limit:,} "
                    "(set RCLIB_MAX_PIXELS to raise it)")
