"""Reader for Qt binary resource files (.rcc), where gcompris-qt-data keeps its photographs.

Layout (Qt's rcc format, versions 1..3, big-endian): "qres", version, then the offsets of the
tree, the data and the names.  Tree nodes are 14 bytes (+8 for a timestamp from version 2 on):
name offset, flags, then either (child count, first child) for a directory or (territory,
language, data offset) for a file.  A name is (length, hash, UTF-16BE); a file's data is
(length, bytes), zlib-compressed behind a 4-byte size when flag 1 is set.
"""
from __future__ import annotations

import struct
import zlib

from .errors import RclibError

_COMPRESSED, _DIRECTORY, _ZSTD = 0x01, 0x02, 0x04


class RccError(RclibError):
    """Not a Qt resource file, or one this reader does not understand."""


def read(blob: bytes) -> dict[str, bytes]:
    """Every file in the resource: {"path/inside/it": bytes}."""
    try:
        return _read(blob)
    except (struct.error, zlib.error, UnicodeDecodeError) as exc:
        raise RccError(f"corrupt Qt resource file: {exc}") from None


def _read(blob: bytes) -> dict[str, bytes]:
    if blob[:4] != b"qres":
        raise RccError("not a Qt resource file (no 'qres' magic)")
    version, tree, data, names = struct.unpack_from(">4I", blob, 4)
    if version not in (1, 2, 3):
        raise RccError(f"unsupported Qt resource version {version}")
    node_size = 14 if version == 1 else 22

    def name(node: int) -> str:
        (offset,) = struct.unpack_from(">I", blob, tree + node * node_size)
        (length,) = struct.unpack_from(">H", blob, names + offset)
        start = names + offset + 6
        return blob[start:start + 2 * length].decode("utf-16-be")

    def payload(node: int, flags: int) -> bytes:
        (offset,) = struct.unpack_from(">I", blob, tree + node * node_size + 10)
        (length,) = struct.unpack_from(">I", blob, data + offset)
        raw = blob[data + offset + 4:data + offset + 4 + length]
        if flags & _ZSTD:
            raise RccError("zstd-compressed resources are not supported")
        return zlib.decompress(raw[4:]) if flags & _COMPRESSED else raw

    out: dict[str, bytes] = {}
    stack = [(0, "")]
    seen = set()
    while stack:
        node, prefix = stack.pop()
        if node in seen:
            raise RccError("corrupt resource tree (a cycle)")
        seen.add(node)
        (flags,) = struct.unpack_from(">H", blob, tree + node * node_size + 4)
        path = f"{prefix}/{name(node)}" if node else ""
        if flags & _DIRECTORY:
            count, first = struct.unpack_from(">II", blob, tree + node * node_size + 6)
            stack.extend((first + i, path) for i in range(count))
        else:
            out[path.lstrip("/")] = payload(node, flags)
    return out
