"""Reader for Eet files (.edj), where enlightenment-data keeps its wallpaper photographs.

Layout (Eet's second file format, big-endian): magic 0x1EE70F42, the number of directory entries
and of dictionary entries, then six uint32 per directory entry: data offset, stored size,
unpacked size, name offset, name length (with its NUL) and flags (bit 0 compressed, bit 1
ciphered, bit 2 alias).  Wallpapers keep each size of the picture as a plain JPEG entry
"edje/images/N"; only such stored-as-is entries are read here.
"""
from __future__ import annotations

import struct

from .errors import RclibError

MAGIC = 0x1EE70F42
_COMPRESSED, _CIPHERED, _ALIAS = 0x1, 0x2, 0x4


class EetError(RclibError):
    """Not an Eet file, or an entry this reader does not handle."""


def entries(blob: bytes) -> dict[str, tuple[int, int, int]]:
    """{name: (offset, stored size, flags)} for every directory entry, bounds-checked."""
    if len(blob) < 12 or struct.unpack_from(">I", blob)[0] != MAGIC:
        raise EetError("not an Eet file (bad magic)")
    n_dir = struct.unpack_from(">I", blob, 4)[0]
    if 12 + 24 * n_dir > len(blob):
        raise EetError("corrupt Eet file: directory runs past the end")
    out = {}
    for i in range(n_dir):
        offset, size, _unpacked, name_at, name_len, flags = struct.unpack_from(">6I", blob, 12 + 24 * i)
        if offset + size > len(blob) or name_at + name_len > len(blob) or name_len == 0:
            raise EetError(f"corrupt Eet file: entry {i} points past the end")
        name = blob[name_at:name_at + name_len].rstrip(b"\0").decode("utf-8", "strict")
        out[name] = (offset, size, flags)
    return out


def read(blob: bytes, name: str) -> bytes:
    """The bytes of one entry stored as-is (not compressed, ciphered or an alias)."""
    table = entries(blob)
    if name not in table:
        raise EetError(f"no entry {name!r} in this Eet file")
    offset, size, flags = table[name]
    if flags & (_COMPRESSED | _CIPHERED | _ALIAS):
        raise EetError(f"entry {name!r} is compressed, ciphered or an alias (flags {flags:#x})")
    return blob[offset:offset + size]
