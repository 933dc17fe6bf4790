"""Per-image residual tables: a channel coded with the picture's own residual frequencies (given the
earlier channels' clipped residuals) when that is smaller than the model.  Exact round trips through
every path, the encoder's choice, and loud failures on crafted table sections."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch

import rclib
from rclib import bpg, codec, entropy, model as model_lib
from rclib.errors import FormatError

from .test_codec import _edge_pictures


def test_quantized_rows_sum_to_the_total_and_keep_every_symbol():
    counts = np.array([[0] * 17, [5] + [0] * 16, [10**9] * 3 + [0] * 14, list(range(17))])
    f = entropy.quantize_table(counts)
    assert f.dtype == np.uint16 and (f >= 1).all()
    assert (f.sum(axis=1, dtype=np.int64) == entropy.TABLE_TOTAL).all()
    assert f[0].max() - f[0].min() <= 1 + entropy.TABLE_TOTAL - 17 * (entropy.TABLE_TOTAL // 17)  # empty: ~uniform
    assert f[1, 0] > entropy.TABLE_TOTAL - 20


def test_table_coding_round_trips_and_costs_what_the_table_says():
    g = torch.Generator().manual_seed(0)
    x_l = torch.randint(0, 256, (1, 3, 40, 56), generator=g).float()
    r = torch.randint(-3, 4, x_l.shape, generator=g).float()
    r[0, 1] = torch.where(torch.rand(r[0, 1].shape, generator=g) < 0.8, r[0, 0], r[0, 1])  # G follows R
    r[0, 2, :2] = 60                                                                        # some escapes
    x = (x_l + r).clamp(0, 255)
    counts = entropy.table_counts(x, x_l)
    freqs = [entropy.quantize_table(n) for n in counts]
    cdfs = [entropy.table_cdf(f) for f in freqs]
    streams = entropy.encode_tables(cdfs, x, x_l)
    assert torch.equal(entropy.decode(None, x_l, streams, tables=cdfs), x)
    ideal = sum(entropy.table_bits(f, n) for f, n in zip(freqs, counts))
    assert 8 * sum(map(len, streams)) <= ideal * 1.01 + 8 * 16


def test_photos_round_trip_with_tables_at_every_q(photos, tiny_model, tiny_plus_model):
    """The shipped networks (which may win every channel of this photo) and untrained ones (which
    lose channels to the tables, so the table path is taken) round-trip at every Q."""
    x = photos["coffee_odd"]
    for q in (9, 12, 14, 17):
        for net in ("rc", "rc+", tiny_model, tiny_plus_model):
            blob = rclib.compress(x, q=q, model=net)
            info = codec.info(blob)
            networked = codec.runs_network(codec.unpack_header(blob)[0])
            assert info["version"] == (codec.NETWORK_VERSION if networked else codec.VERSION)
            assert np.array_equal(rclib.decompress(blob, model=net), x), (q, net)
            if not isinstance(net, str):
                assert info["table_channels"], (q, net)


def test_encoder_keeps_the_smaller_coding_per_channel(photos):
    x = photos["astronaut"]
    with_tables = rclib.compress(x, q=14)
    model_only = rclib.compress(x, q=14, tables=False)
    assert len(with_tables) < len(model_only)
    assert not codec.info(model_only)["table_channels"] and codec.unpack_header(model_only)[0].tables is None
    estimate = 8 * codec.info(with_tables)["bpg_bytes"] + codec.estimate_coded_bits(x, with_tables)
    assert 8 * len(with_tables) <= 1.005 * estimate + 8 * 200  # header
    # estimate_residual_bits (Q search, Q histories) counts the tables the coder would keep.
    x_l = bpg.decode(codec.extract_bpg(with_tables))
    assert codec.estimate_residual_bits(x, x_l, 14) < codec.estimate_residual_bits(x, x_l, 14, tables=False)


def test_edge_pictures_and_tiny_model_mixed_channels(photos, tiny_model):
    seen = set()
    for name, x in _edge_pictures(photos).items():
        for tau in (False, True):
            blob = codec.compress(x, q=12, model=tiny_model, tau=tau)
            seen.add(codec.info(blob)["table_channels"])
            assert np.array_equal(codec.decompress(blob, model=tiny_model), x), (name, tau)
    assert "RGB" in seen and "" in seen


def test_tables_decode_with_other_thread_counts(photos):
    x = photos["chelsea"][:300, :300]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        blob = rclib.compress(x, q=13)
        torch.set_num_threads(1)
        assert np.array_equal(rclib.decompress(blob), x)
        torch.set_num_threads(3)
        assert rclib.compress(x, q=13) == blob
    finally:
        torch.set_num_threads(before)


def test_tau_is_dropped_when_every_channel_uses_a_table(photos, tiny_model):
    kept = []
    for name in ("chelsea", "coffee_odd"):
        for model in ("rc", tiny_model):
            blob = rclib.compress(photos[name], q=12, tau=True, model=model)
            header, _ = codec.unpack_header(blob)
            kept.append((header.table_mask == 7, header.tau is not None))
            assert np.array_equal(rclib.decompress(blob, model=model), photos[name])
    assert (True, True) not in kept and (True, False) in kept, kept


# ----------------------------------------------------------------------------- crafted sections
@pytest.fixture(scope="module")
def table_file(photos):
    blob = rclib.compress(photos["chelsea"][:64, :96], q=14)
    assert codec.info(blob)["table_channels"]
    return blob


def _section(blob: bytes) -> int:
    """Offset of the table section (after the fixed header and the kind byte; no tau here)."""
    assert not blob[5] & codec.FLAG_TAU
    return codec.kind_end(blob[4])


def _refix_crc(blob: bytearray, pos: int) -> bytes:
    end = pos - 4
    blob[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(blob[:end])))
    return bytes(blob)


def _with_tables(blob: bytes, mask: int, payload: bytes) -> bytes:
    """The file with its table section replaced (mask, payload), CRC and offsets consistent."""
    header, pos = codec.unpack_header(blob)
    s = _section(blob)
    size = struct.unpack_from(">I", blob, s + 2)[0]
    head = blob[:s] + struct.pack(">HI", mask, len(payload)) + payload
    rest = blob[s + 6 + size:pos]
    out = bytearray(head + rest + blob[pos:])
    return _refix_crc(out, len(head) + len(rest))


@pytest.mark.parametrize("case", ["mask0", "mask8", "zero_freq", "bad_sum", "short", "long", "garbage", "huge"])
def test_crafted_table_sections_are_refused(table_file, case):
    header, _ = codec.unpack_header(table_file)
    raw = b"".join(np.asarray(t, ">u2").tobytes() for t in header.tables if t is not None)
    mask = header.table_mask
    arr = np.frombuffer(raw, ">u2").copy()
    if case == "mask0":
        bad = _with_tables(table_file, 0, zlib.compress(raw))
    elif case == "mask8":
        bad = _with_tables(table_file, 8 | mask, zlib.compress(raw))  # a second pass in an RC file
    elif case == "zero_freq":
        arr[0], arr[1] = 0, arr[0] + arr[1]
        bad = _with_tables(table_file, mask, zlib.compress(arr.astype(">u2").tobytes()))
    elif case == "bad_sum":
        arr[0] += 1
        bad = _with_tables(table_file, mask, zlib.compress(arr.astype(">u2").tobytes()))
    elif case == "short":
        bad = _with_tables(table_file, mask, zlib.compress(raw[:-2]))
    elif case == "long":
        bad = _with_tables(table_file, mask, zlib.compress(raw + b"\0\1"))
    elif case == "garbage":
        bad = _with_tables(table_file, mask, b"\x78\x9c" + bytes(range(40)))
    else:  # a zlib bomb: inflates far past the declared tables
        bad = _with_tables(table_file, mask, zlib.compress(b"\0" * (1 << 24)))
    with pytest.raises(FormatError):
        rclib.decompress(bad)


def test_declared_table_size_over_the_limit_is_refused(table_file):
    s = _section(table_file)
    bad = bytearray(table_file)
    bad[s + 2:s + 6] = struct.pack(">I", codec._TABLES_MAX + 1)
    with pytest.raises(FormatError, match="tables"):
        codec.unpack_header(bytes(bad))


def test_tables_flag_in_a_version_2_file_is_refused(table_file):
    bad = bytearray(table_file)
    bad[4] = 2
    _, pos = codec.unpack_header(table_file)
    with pytest.raises(FormatError):
        codec.unpack_header(_refix_crc(bad, pos))


def test_table_frequencies_changed_fail_loudly(table_file):
    """A consistent but different table decodes other symbols: the checksum must catch it."""
    header, _ = codec.unpack_header(table_file)
    c = next(c for c, t in enumerate(header.tables) if t is not None)
    f = header.tables[c].astype(np.int64)
    i = int(f[0].argmax())
    j = (i + 1) % f.shape[1]
    f[0, i], f[0, j] = f[0, j], f[0, i]
    tables = list(header.tables)
    tables[c] = f.astype(np.uint16)
    bad = _with_tables(table_file, header.table_mask, codec.pack_tables(tables))
    with pytest.raises(FormatError):
        rclib.decompress(bad)


def test_cli_no_tables(tmp_path, photos):
    from PIL import Image

    from rclib.cli import main

    Image.fromarray(photos["coffee_odd"][:64, :64]).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), str(tmp_path / "a.rc"), "--q", "14", "--no-tables"]) == 0
    assert not codec.info((tmp_path / "a.rc").read_bytes())["table_channels"]
    assert model_lib.kind(codec.default_model("rc")) == "rc"


def test_rc_plus_passes_use_tables_and_round_trip(photos, tiny_plus_model):
    seen = set()
    for name, x in {**_edge_pictures(photos), "coffee": photos["coffee_odd"]}.items():
        blob = codec.compress(x, q=14, model=tiny_plus_model)
        header, _ = codec.unpack_header(blob)
        seen.add(header.table_mask)
        assert header.table_mask < 1 << 12
        assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), x), name
        plain = codec.compress(x, q=14, model=tiny_plus_model, tables=False)
        assert len(blob) <= len(plain), name
        estimate = 8 * codec.info(blob)["bpg_bytes"] + codec.estimate_coded_bits(x, blob, tiny_plus_model)
        assert 8 * len(blob) <= 1.005 * estimate + 8 * 300, name
    assert any(m >> 3 for m in seen), seen  # some pass after the first uses a table


def test_rc_plus_mask_beyond_its_passes_is_refused(photos, tiny_plus_model):
    blob = codec.compress(photos["coffee_odd"], q=14, model=tiny_plus_model)
    header, pos = codec.unpack_header(blob)
    assert header.table_mask
    s = _section(blob)
    bad = bytearray(blob)
    bad[s:s + 2] = struct.pack(">H", header.table_mask | 1 << 12)
    with pytest.raises(FormatError, match="table mask"):
        codec.unpack_header(_refix_crc(bad, pos))
