"""The BPG layer: reference vectors decode exactly, our files round-trip, bad input fails loudly."""
from __future__ import annotations

import numpy as np
import pytest

from rclib import bpg, hevc
from rclib.errors import FormatError, InputError

from .conftest import VECTORS, load

VECTOR_FILES = sorted(p.name for p in VECTORS.glob("*.bpg"))


def test_vectors_present():
    assert len(VECTOR_FILES) == 8  # 7 x 4:4:4 and the 4:2:0 default-settings file


@pytest.mark.parametrize("name", VECTOR_FILES)
def test_reference_vectors_decode_exactly(name):
    rgb = bpg.decode((VECTORS / name).read_bytes())
    ref = load(name.replace(".bpg", ".dec.png"))
    assert rgb.shape == ref.shape
    assert np.array_equal(rgb, ref)


def _slice_qp(data: bytes) -> int:
    f = bpg.parse(data)
    nals = hevc.split_nals(b"\x00\x00\x01" + f.hevc_data)
    types = [hevc.nal_type(n) for n in nals]
    pps = hevc.parse_pps(nals[types.index(hevc.NAL_PPS)])
    return hevc.slice_qp(nals[[t < 32 for t in types].index(True)], pps, f.sps, f.pixel_format)


@pytest.mark.parametrize("q", [12, 17])
def test_embedded_matches_reference_slice_qp(photos, q):
    ref = (VECTORS / f"chelsea_q{q}_444.bpg").read_bytes()
    ours = bpg.encode(photos["chelsea"], q, backend="embedded")
    assert _slice_qp(ours) == _slice_qp(ref) == q - 3


def test_embedded_bits_close_to_reference_at_q12(photos):
    ours = sum(len(bpg.encode(photos[n], 12, backend="embedded")) for n in photos)
    ref = sum((VECTORS / f"{n}_q12_444.bpg").stat().st_size for n in photos)
    assert abs(ours / ref - 1) < 0.05


def test_embedded_file_is_genuine_bpg(photos):
    blob = bpg.encode(photos["coffee_odd"], 12, backend="embedded")
    assert blob[:4] == b"\x42\x50\x47\xfb"
    assert blob[4] == 0x60            # 4:4:4, no alpha, 8-bit
    assert blob[5] == 0x00            # YCbCr BT.601 full range, no extension, still
    f = bpg.parse(blob)
    assert (f.width, f.height) == (301, 173)
    nal_types = [hevc.nal_type(n) for n in hevc.split_nals(b"\x00\x00\x01" + f.hevc_data)]
    # PPS, the slice(s), and the decoded-picture-hash SEI that decoding checks
    assert nal_types[0] == hevc.NAL_PPS and nal_types[-1] == hevc.NAL_SEI_SUFFIX
    assert all(t < 32 for t in nal_types[1:-1])
    # the hash SEI: NAL header, SEI header, 3 MD5s (the README says 57 bytes with its start code)
    assert len(hevc.split_nals(b"\x00\x00\x01" + f.hevc_data)[-1]) + 3 == 57


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (173, 301), (8, 8), (33, 1)])
def test_round_trip_sizes(photos, shape):
    h, w = shape
    x = photos["astronaut"][100:100 + h, 200:200 + w]
    for q in (9, 17):
        blob = bpg.encode(x, q, backend="embedded")
        y = bpg.decode(blob)
        assert y.shape == x.shape
        assert np.abs(y.astype(int) - x).mean() < 4


def test_round_trip_big_photo(big_photo):
    assert big_photo.shape == (1500, 2000, 3)
    y = bpg.decode(bpg.encode(big_photo, 12, backend="embedded"))
    mse = ((y.astype(float) - big_photo) ** 2).mean()
    assert mse < 3


def test_quality_improves_with_lower_q(photos):
    x = photos["coffee_odd"]
    err = [np.abs(bpg.decode(bpg.encode(x, q, "embedded")).astype(int) - x).mean() for q in (9, 13, 17)]
    assert err[0] < err[1] < err[2]


def test_deterministic_encoding(photos):
    x = photos["coffee_odd"]
    first = bpg.encode(x, 14, "embedded")
    bpg.forget()   # the encoder itself, twice, not encode()'s memory of its last files
    assert first == bpg.encode(x, 14, "embedded")


def test_encode_remembers_recent_files(photos, monkeypatch):
    """A second ask for the same picture, Q, space and backend returns the first file without
    encoding again; any other picture, Q or space runs the encoder."""
    calls = []
    real = bpg._encode_embedded
    monkeypatch.setattr(bpg, "_encode_embedded", lambda *a: calls.append(a[1:]) or real(*a))
    bpg.forget()
    x = photos["chelsea"][:40, :48]
    first = bpg.encode(x, 20, "embedded")
    assert bpg.encode(x.copy(), 20, "embedded") == first and len(calls) == 1
    other = x.copy()
    other[0, 0, 0] ^= 1
    bpg.encode(other, 20, "embedded")
    bpg.encode(x, 21, "embedded")
    bpg.encode(x, 20, "embedded", space="rgb")
    assert calls == [(20, "ycbcr"), (20, "ycbcr"), (21, "ycbcr"), (20, "rgb")]
    bpg.forget()
    assert bpg.encode(x, 20, "embedded") == first and len(calls) == 5


@pytest.mark.skipif(not bpg.have_bpgenc(), reason="reference bpgenc not installed")
def test_bpgenc_backend_round_trip(photos):
    y = bpg.decode(bpg.encode(photos["chelsea"], 12, backend="bpgenc"))
    assert np.abs(y.astype(int) - photos["chelsea"]).mean() < 2


def test_bpgenc_backend_missing_is_clear(monkeypatch, photos):
    monkeypatch.setattr(bpg, "have_bpgenc", lambda: False)
    with pytest.raises(InputError, match="bpgenc"):
        bpg.encode(photos["chelsea"], 12, backend="bpgenc")
    assert bpg.encode(photos["chelsea"][:16, :16], 12, backend="auto")  # auto falls back


@pytest.mark.parametrize("bad", [
    b"", b"BPG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
    b"\x42\x50\x47\xfb\x60\x00",                       # header cut after the flags
])
def test_malformed_headers(bad):
    with pytest.raises(FormatError):
        bpg.decode(bad)


def test_unsupported_flags():
    blob = bytearray((VECTORS / "chelsea_q12_444.bpg").read_bytes())
    for index, value, what in [(4, 0x70, "alpha"), (4, 0x62, "bit depth"), (5, 0x20, "colour space"),
                               (5, 0x01, "animated"), (4, 0x40, "pixel format")]:
        bad = bytearray(blob)
        bad[index] = value
        with pytest.raises(FormatError, match=what):
            bpg.decode(bytes(bad))


@pytest.mark.parametrize("keep", [0.01, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file_fails(photos, keep):
    # rclib writes picture_data_length, so any cut is detected.  (bpgenc writes 0 = "to the end
    # of the file"; HEVC decoders conceal a cut slice silently, so no decoder can detect a cut
    # there.  The .rc container guards its BPG part with a length and a pixel checksum.)
    blob = bpg.encode(photos["coffee_odd"], 12, backend="embedded")
    with pytest.raises(FormatError):
        bpg.decode(blob[: int(len(blob) * keep)])


def test_truncated_reference_header_fails():
    blob = (VECTORS / "coffee_odd_q12_444.bpg").read_bytes()
    for cut in range(4, 16):
        with pytest.raises(FormatError):
            bpg.decode(blob[:cut])


def test_bad_arguments(photos):
    with pytest.raises(InputError):
        bpg.encode(photos["chelsea"], 52)
    with pytest.raises(InputError):
        bpg.encode(photos["chelsea"].astype(np.uint16), 12)
    with pytest.raises(InputError):
        bpg.encode(photos["chelsea"][..., :2], 12)
    with pytest.raises(InputError):
        bpg.encode(photos["chelsea"], 12, backend="jpeg")


def test_ue7_round_trip():
    for v in (0, 1, 127, 128, 542, 728855, 2**32 - 1):
        assert bpg._read_ue7(bpg._write_ue7(v), 0) == (v, len(bpg._write_ue7(v)))
    assert bpg._write_ue7(542) == b"\x84\x1e"
    assert bpg._write_ue7(728855) == b"\xac\xbe\x17"
