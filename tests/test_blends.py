"""Blends (format version 5): a channel coded with the product of the network's mixture and the
per-image table, p ~ p_model^a * p_table^b; exact, never larger than without, crafted fields refused."""
from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

import rclib
from rclib import bpg, codec, entropy, model as model_lib
from rclib.errors import FormatError

from .test_codec_plus import _decode_on_one_thread
from .test_tables import _refix_crc


def test_blend_coding_round_trips_and_costs_its_ideal_bits(photos, tiny_model):
    x_np = photos["chelsea"][:48, :80]
    x, x_l = model_lib.to_tensor(x_np), model_lib.to_tensor(bpg.decode(bpg.encode(x_np, 14)))
    with torch.no_grad():
        mix = tiny_model.mixture(x_l, 14)
    freqs = [entropy.quantize_table(n) for n in entropy.table_counts(x, x_l)]
    blends = [None, entropy.Blend(freqs[1], 8, 8), entropy.Blend(freqs[2], 2, 20)]
    model_streams = entropy.encode(mix, x, x_l)
    blend_streams = entropy.encode(mix, x, x_l, blends=blends)
    assert blend_streams[:2] == [b"", b""]  # only the blended channels
    decoded = entropy.decode(mix, x_l, model_streams[:2] + blend_streams[2:], tables=blends)
    assert torch.equal(decoded, x)
    ideal = float(entropy.blend_bit_map(mix, x, x_l, blends, torch.zeros(x.shape)).sum())
    assert 8 * sum(map(len, blend_streams)) <= 1.01 * ideal + 8 * 8
    # the grid's scores are these bits (on every 4th subpixel, escapes' uniform part left out)
    grid = entropy.blend_grid_bits(mix, x, x_l, freqs)
    assert grid.shape == (3, len(entropy.BLEND_GRID))


@pytest.mark.parametrize("kind", ["rc", "rc+"])
def test_shipped_weights_blend_a_photo_exactly_and_smaller(photos, kind):
    """Shipped weights on a real photo: blends are kept, the file is smaller than without, decodes
    exactly (also on one thread), and its bytes stay within 0.5 % of the estimate."""
    x = np.concatenate([photos["chelsea"]] * 2, axis=0)[:560, :150]  # several strips
    assert len(codec.strip_spans(150, 560)) > 1
    plain = codec.compress(x, q=14, model=kind)
    blob = codec.compress(x, q=14, model=kind, blend=True)
    header, _ = codec.unpack_header(blob)
    assert header.version == codec.NETWORK_VERSION and header.blend_mask and blob[5] & codec.FLAG_BLEND
    assert not header.blend_mask & header.table_mask
    assert len(blob) < len(plain)
    assert np.array_equal(rclib.decompress(blob), x)
    assert np.array_equal(_decode_on_one_thread(blob, codec.default_model(kind)), x)
    estimate = codec.estimate_coded_bits(x, blob)
    assert 8 * sum(header.stream_lengths) <= 1.005 * estimate + 8 * 24 * 4
    assert codec.info(blob)["blend_channels"]


def test_without_a_useful_blend_the_file_is_the_plain_version_4_file(photos, tiny_model, tiny_plus_model):
    """Random tiny weights: the tables beat any blend, so --blend writes the very file it would
    write without (format version 4, readable by rclib before blends)."""
    for model in (tiny_model, tiny_plus_model):
        x = photos["coffee_odd"][:64, :96]
        blob = codec.compress(x, q=14, model=model, blend=True)
        assert blob == codec.compress(x, q=14, model=model) and blob[4] == codec.VERSION


# ----------------------------------------------------------------------------- crafted fields
@pytest.fixture(scope="module")
def blend_file(photos):
    blob = codec.compress(photos["chelsea"][:128, :160], q=14, model="rc", blend=True)
    assert codec.unpack_header(blob)[0].blend_mask
    return blob


def _blend_offset(blob: bytes) -> int:
    """Offset of the blend section: after the fixed header, the kind byte and the table section."""
    assert not blob[5] & codec.FLAG_TAU
    s = codec.kind_end(blob[4])
    size = struct.unpack_from(">I", blob, s + 2)[0]
    return s + 6 + size


def _with_blends(blob: bytes, mask: int, ab: tuple) -> bytes:
    _, pos = codec.unpack_header(blob)
    b = _blend_offset(blob)
    out = bytearray(blob)
    out[b:b + codec._BLEND.size] = codec._BLEND.pack(mask, *ab)
    return _refix_crc(out, pos)


@pytest.mark.parametrize("case", ["mask0", "beyond", "zero", "huge", "version4", "no_tables"])
def test_crafted_blend_sections_are_refused(blend_file, case):
    header, pos = codec.unpack_header(blend_file)
    ab = tuple(v for pair in header.blend_ab for v in pair)
    if case == "mask0":
        bad = _with_blends(blend_file, 0, ab)
    elif case == "beyond":
        bad = _with_blends(blend_file, header.blend_mask | 1 << 3, ab)
    elif case == "zero":
        bad = _with_blends(blend_file, header.blend_mask, (0, 0) * 3)
    elif case == "huge":
        bad = _with_blends(blend_file, header.blend_mask, (200, 200) * 3)
    elif case == "version4":
        out = bytearray(blend_file)
        out[4] = 4
        bad = _refix_crc(out, pos)
    else:
        out = bytearray(blend_file)
        out[5] &= ~codec.FLAG_TABLES
        bad = _refix_crc(out, pos)
    with pytest.raises(FormatError):
        rclib.decompress(bad)


def test_a_channel_both_tabled_and_blended_is_refused():
    freqs = entropy.quantize_table(np.ones((1, 17), np.int64))
    header = codec.Header(5, 8, 12, 16, 32, bytes(32), bytes(32), 0, [0] * 6, version=codec.BLEND_VERSION,
                          tables=[freqs, None, None], table_mask=1, blend_mask=1, blend_ab=((8, 8),) * 3)
    with pytest.raises(FormatError, match="blends"):
        codec.unpack_header(codec.pack_header(header))


def test_changed_blend_exponents_fail_loudly(blend_file):
    """Valid but different exponents give other CDFs: the decoder must not return wrong pixels."""
    header, _ = codec.unpack_header(blend_file)
    ab = [list(p) for p in header.blend_ab]
    c = next(c for c in range(3) if header.blend_mask >> c & 1)
    ab[c][0] = ab[c][0] + 1 if ab[c][0] < 20 else ab[c][0] - 1
    bad = _with_blends(blend_file, header.blend_mask, tuple(v for p in ab for v in p))
    with pytest.raises(FormatError):
        rclib.decompress(bad)


def test_truncated_blend_section_is_refused(blend_file):
    b = _blend_offset(blend_file)
    with pytest.raises(FormatError):
        codec.unpack_header(blend_file[:b + 3])


def test_cli_blend(tmp_path, photos, capsys):
    from PIL import Image

    from rclib.cli import main

    x = photos["chelsea"][:96, :128]
    Image.fromarray(x).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), str(tmp_path / "a.rc"), "--q", "14", "--model", "rc",
                 "--blend"]) == 0
    assert "blends" in capsys.readouterr().out
    assert codec.info((tmp_path / "a.rc").read_bytes())["blend_channels"]
    assert main(["decompress", str(tmp_path / "a.rc"), str(tmp_path / "b.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), x)
