"""The Eet (.edj) reader that gets enlightenment's photos out of their containers."""
from __future__ import annotations

import hashlib
import struct

import pytest

from rclib import data, eet


def _eet(entries: dict[str, tuple[bytes, int]]) -> bytes:
    """An Eet file (second format) holding `entries` {name: (bytes, flags)}, built by hand."""
    n = len(entries)
    head = 12 + 24 * n
    names = b"".join(k.encode() + b"\0" for k in entries)
    body, directory, name_at, data_at = b"", b"", head, head + len(names)
    for name, (raw, flags) in entries.items():
        directory += struct.pack(">6I", data_at + len(body), len(raw), len(raw), name_at, len(name) + 1, flags)
        name_at += len(name) + 1
        body += raw
    return struct.pack(">3I", eet.MAGIC, n, 0) + directory + names + body


def test_reads_stored_entries():
    blob = _eet({"edje/images/0": (b"\xff\xd8big", 0), "edje/images/1": (b"\xff\xd8small", 0),
                 "edje/file": (b"zzz", 0x51)})
    assert set(eet.entries(blob)) == {"edje/images/0", "edje/images/1", "edje/file"}
    assert eet.read(blob, "edje/images/0") == b"\xff\xd8big"
    assert eet.read(blob, "edje/images/1") == b"\xff\xd8small"


def test_refuses_what_it_cannot_read():
    blob = _eet({"a": (b"abc", 0), "packed": (b"xyz", 0x51)})
    with pytest.raises(eet.EetError, match="compressed"):
        eet.read(blob, "packed")
    with pytest.raises(eet.EetError, match="no entry"):
        eet.read(blob, "b")
    with pytest.raises(eet.EetError, match="magic"):
        eet.entries(b"\0" * 40)
    with pytest.raises(eet.EetError, match="past the end"):
        eet.entries(blob[:20])  # directory cut short
    with pytest.raises(eet.EetError, match="past the end"):
        eet.entries(blob[:-1])  # last entry's data cut short


def test_recipe_reads_and_verifies_an_eet_member(tmp_path):
    payload = b"\xff\xd8 a picture"
    (tmp_path / "bg").mkdir()
    (tmp_path / "bg" / "x.edj").write_bytes(_eet({"edje/images/0": (payload, 0)}))
    photo = ("val", "pkg", "bg/x.edj!edje/images/0", hashlib.sha256(payload).hexdigest())
    assert data._read_source(tmp_path, photo) == payload
    assert data._out_name(photo) == "pkg__x.png"
    with pytest.raises(data.DatasetError, match="SHA-256"):
        data._read_source(tmp_path, photo[:3] + ("0" * 64,))
    with pytest.raises(data.DatasetError, match="no entry"):
        data._read_source(tmp_path, ("val", "pkg", "bg/x.edj!edje/images/7", photo[3]))
    with pytest.raises(data.DatasetError, match="no longer contains"):
        data._read_source(tmp_path, ("val", "pkg", "bg/y.edj!edje/images/0", photo[3]))


def test_validation_split_follows_the_datasets_recipe():
    """shared/datasets.md: validation = enlightenment-data + lxqt-themes + flower.png."""
    val = [p for p in data.EMBEDDED_PHOTOS if p[0] == "val"]
    assert {p[1] for p in val} == {"enlightenment-data", "lxqt-themes", "libjxl-testdata"}
    assert sum(p[1] == "enlightenment-data" for p in val) == 14
