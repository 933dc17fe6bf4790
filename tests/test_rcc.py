"""The Qt resource (.rcc) reader that gets gcompris' photos out of their containers."""
from __future__ import annotations

import struct
import zlib

import pytest

from rclib import rcc


def _rcc(version: int = 2) -> bytes:
    """A resource holding a/b.txt (stored) and a/c/d.bin (zlib) plus top.txt, built by hand."""
    names, data = b"", b""
    name_at, data_at = {}, {}

    def name(n):
        nonlocal names
        if n not in name_at:
            name_at[n] = len(names)
            names += struct.pack(">HI", len(n), 0) + n.encode("utf-16-be")
        return name_at[n]

    def blob(key, raw, compress):
        nonlocal data
        data_at[key] = len(data)
        body = struct.pack(">I", len(raw)) + zlib.compress(raw) if compress else raw
        data += struct.pack(">I", len(body)) + body

    blob("b", b"hello", False)
    blob("d", bytes(range(256)) * 4, True)
    blob("top", b"top level", False)
    # nodes: 0 root -> [1 a, 2 top.txt]; 1 a -> [3 b.txt, 4 c]; 4 c -> [5 d.bin]
    nodes = [
        (0, 2, ("dir", 2, 1)),
        (name("a"), 2, ("dir", 2, 3)),
        (name("top.txt"), 0, ("file", data_at["top"])),
        (name("b.txt"), 0, ("file", data_at["b"])),
        (name("c"), 2, ("dir", 1, 5)),
        (name("d.bin"), 1, ("file", data_at["d"])),
    ]
    tree = b""
    for name_off, flags, kind in nodes:
        tree += struct.pack(">IH", name_off, flags)
        tree += struct.pack(">II", *kind[1:]) if kind[0] == "dir" else struct.pack(">HHI", 0, 0, kind[1])
        if version >= 2:
            tree += bytes(8)
    head = 20
    return (b"qres" + struct.pack(">4I", version, head, head + len(tree), head + len(tree) + len(data))
            + tree + data + names)


@pytest.mark.parametrize("version", [1, 2])
def test_reads_nested_stored_and_compressed_members(version):
    files = rcc.read(_rcc(version))
    assert files == {"a/b.txt": b"hello", "a/c/d.bin": bytes(range(256)) * 4, "top.txt": b"top level"}


def test_refuses_what_is_not_a_resource():
    with pytest.raises(rcc.RccError, match="qres"):
        rcc.read(b"\x89PNG....")
    bad = bytearray(_rcc())
    bad[7] = 9
    with pytest.raises(rcc.RccError, match="version 9"):
        rcc.read(bytes(bad))


def test_truncated_resource_fails_clearly():
    blob = _rcc()
    for cut in (10, 30, len(blob) // 2, len(blob) - 3):
        with pytest.raises(rcc.RccError):
            rcc.read(blob[:cut])
