"""JPEG colour: a picture decoded from a JPEG is libjpeg's conversion of integer YCbCr, so rclib codes
that YCbCr's residual against BPG's decoded YCbCr instead of the RGB residual (format version 6).
The conversion checked against libjpeg itself, exact round trips of real decoded JPEGs through every
path, the encoder's choice, and loud failures on crafted files."""
from __future__ import annotations

import dataclasses
import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import rclib
from rclib import bpg, codec, colour, qselect
from rclib import model as model_lib
from rclib.codec import ModelMismatch
from rclib.errors import FormatError


def _jpeg(rgb: np.ndarray, subsampling: int, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling=subsampling)
    return buf.getvalue()


def _decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def decoded(photos) -> dict[str, np.ndarray]:
    """Real photos through Pillow's JPEG coder: odd-sized 4:4:4, and 4:2:0."""
    return {"coffee_odd": _decoded(_jpeg(photos["coffee_odd"], 0)),
            "chelsea": _decoded(_jpeg(photos["chelsea"][:200, :264], 2))}


def test_conversion_is_libjpegs(photos):
    """libjpeg's own YCbCr output (Pillow's draft mode), converted by rclib, is libjpeg's RGB output."""
    for sub in (0, 2):
        data = _jpeg(photos["chelsea"], sub)
        raw = Image.open(io.BytesIO(data))
        raw.draft("YCbCr", raw.size)
        assert raw.mode == "YCbCr"
        ycc = np.asarray(raw).transpose(2, 0, 1)
        assert np.array_equal(colour.jpeg_ycc_to_rgb(ycc), _decoded(data))


def test_decoded_jpegs_lift_exactly_and_ordinary_photos_do_not(photos, decoded):
    for name, x in decoded.items():
        ycc = colour.jpeg_ycc_of(x)
        assert ycc is not None and ycc.shape == (3, *x.shape[:2]), name
        assert np.array_equal(colour.jpeg_ycc_to_rgb(ycc), x), name
    for name, x in photos.items():
        assert colour.jpeg_ycc_of(x) is None, name


def test_saturated_colours_lift_through_the_complete_search():
    """Random YCbCr clips often (a third of these pixels lie far from the rounded conversion)."""
    g = np.random.default_rng(0)
    x = colour.jpeg_ycc_to_rgb(g.integers(0, 256, (3, 24, 24), dtype=np.uint8))
    assert colour.jpeg_ycc_of(x) is None  # too many misses for the default: no decoded JPEG
    ycc = colour.jpeg_ycc_of(x, most_missing=1.0)
    assert np.array_equal(colour.jpeg_ycc_to_rgb(ycc), x)


def test_a_colour_libjpeg_never_outputs_is_refused(decoded):
    """(1, 0, 1) is the image of no YCbCr triple: one such pixel rules JPEG colour out."""
    x = decoded["coffee_odd"].copy()
    assert colour.jpeg_ycc_of(x) is not None
    x[5, 7] = (1, 0, 1)
    assert colour.jpeg_ycc_of(x) is None
    assert colour.jpeg_ycc_of(x[5:6, 7:8], most_missing=1.0) is None


@pytest.mark.parametrize("net", ["rc", "rc+", "tiny", "tiny+"])
def test_decoded_jpegs_round_trip_in_jpeg_colour(decoded, net, tiny_model, tiny_plus_model):
    model = {"tiny": tiny_model, "tiny+": tiny_plus_model}.get(net, net)
    for name, x in decoded.items():
        for q in (12, 17):
            blob = rclib.compress(x, q=q, model=model)
            info = codec.info(blob)
            networked = info["version"] == codec.NETWORK_VERSION  # a kind by name, where JPEG weights win
            assert info["jpeg_colour"] and (info["version"] == codec.JPEG_VERSION or networked and net in ("rc", "rc+"))
            assert networked or info["table_channels"] == "RGB" and not info["tau"]
            assert np.array_equal(rclib.decompress(blob, model=model), x), (name, q)
            rgb_only = rclib.compress(x, q=q, model=model, jpeg=False)
            assert not codec.info(rgb_only)["jpeg_colour"]
            assert len(blob) < len(rgb_only), (name, q)
            assert np.array_equal(rclib.decompress(rgb_only, model=model), x)


def test_jpeg_colour_needs_tables_and_tau_never_makes_it_larger(decoded):
    """JPEG colour only with tables; with --tau a decoded JPEG stays in JPEG colour, no larger
    than without, and carries a tau only where its network codes a channel (always fitted there)."""
    x = decoded["coffee_odd"]
    assert not codec.info(rclib.compress(x, q=14, model="rc", tables=False))["jpeg_colour"]
    blob = rclib.compress(x, q=14, model="rc", tau=True)
    info = codec.info(blob)
    assert info["jpeg_colour"] and len(blob) <= len(rclib.compress(x, q=14, model="rc"))
    assert bool(info["tau"]) == (info["table_mask"] != 0b111)
    assert np.array_equal(rclib.decompress(blob), x)


def test_grayscale_decoded_jpeg_round_trips(photos):
    gray = np.asarray(Image.fromarray(photos["coffee_odd"]).convert("L"))
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "JPEG", quality=90)
    x = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    assert x.ndim == 2
    blob = rclib.compress(x, q=14, model="rc")
    assert codec.info(blob)["grayscale"]
    y = rclib.decompress(blob)
    assert y.ndim == 2 and np.array_equal(y, x)


def test_decoding_with_other_thread_counts(decoded):
    x = decoded["chelsea"]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        blob = rclib.compress(x, q=13, model="rc+")
        assert codec.info(blob)["jpeg_colour"]
        torch.set_num_threads(1)
        assert np.array_equal(rclib.decompress(blob), x)
        torch.set_num_threads(3)
        assert rclib.compress(x, q=13, model="rc+") == blob
    finally:
        torch.set_num_threads(before)


def test_real_bytes_match_the_estimate(decoded):
    x = decoded["coffee_odd"]
    blob = rclib.compress(x, q=15, model="rc")
    info = codec.info(blob)
    estimate = codec.estimate_coded_bits(x, blob)
    assert 8 * info["residual_bytes"] <= 1.005 * estimate + 64
    assert 8 * info["residual_bytes"] >= 0.95 * estimate


def test_q_auto_weighs_jpeg_colour(decoded, tiny_model):
    """`auto` minimizes BPG + the fewer of RGB table bits and JPEG colour table bits, per Q."""
    x = decoded["coffee_odd"]
    ycc = colour.jpeg_ycc_of(x)
    costs = {}
    for q in qselect.AUTO_QS["rc"] + qselect.JPEG_LOW_QS:
        f = bpg.encode(x, q)
        rgb_bits = codec.table_only_bits(x, bpg.decode(f))
        jpeg_bits = codec.jpeg_colour_bits(x, f, ycc)
        assert jpeg_bits < rgb_bits, q
        costs[q] = 8 * len(f) + jpeg_bits
    assert min(costs, key=costs.get) in qselect.JPEG_LOW_QS  # a fine JPEG: BPG close to its YCbCr
    for model in (tiny_model, "rc+"):  # RC+'s step above its optimum is for its network: none here
        blob = qselect.compress(x, model=model)
        assert codec.info(blob)["q"] == min(costs, key=costs.get)
        assert codec.info(blob)["jpeg_colour"]
        assert np.array_equal(codec.decompress(blob, model=tiny_model if model is tiny_model else None), x)


def test_low_qs_are_tried_for_decoded_jpegs_only(monkeypatch, photos, decoded, tiny_model):
    """`min` searches JPEG_LOW_QS too for a decoded JPEG, and only the model's range otherwise;
    `auto` tries every Q of its grid and the low Qs for a decoded JPEG (its costs have two valleys)."""
    tried = []
    encode = bpg.encode
    monkeypatch.setattr(bpg, "encode", lambda rgb, q, **k: tried.append(q) or encode(rgb, q, **k))
    for x, expected in ((photos["coffee_odd"][:40, :48], qselect.q_range(tiny_model)),
                        (decoded["coffee_odd"][:40, :48], qselect.q_range(tiny_model) + qselect.JPEG_LOW_QS)):
        tried.clear()
        assert qselect.search_q(x, tiny_model)[0] in expected
        assert sorted(tried) == sorted(expected)
    tried.clear()
    qselect.table_search_q(decoded["coffee_odd"][:40, :48], qselect.AUTO_QS["rc+"])
    assert sorted(tried) == sorted(qselect.AUTO_QS["rc+"] + qselect.JPEG_LOW_QS)


@pytest.mark.parametrize("q", ["auto", "min"])
def test_the_ycbcr_is_found_once_per_picture(monkeypatch, decoded, tiny_model, tiny_plus_model, q):
    """Every Q of a search and both kinds of `--model auto` reuse one lift; the file is the same."""
    x = decoded["coffee_odd"][:48, :40]
    expected = qselect.compress(x, q=q, model=tiny_model)
    calls = []
    lift = colour.jpeg_ycc_of
    monkeypatch.setattr(colour, "jpeg_ycc_of", lambda *a, **k: calls.append(1) or lift(*a, **k))
    assert qselect.compress(x, q=q, model=tiny_model) == expected
    assert codec.info(expected)["jpeg_colour"] and len(calls) == 1
    calls.clear()
    shipped = {"rc": tiny_model, "rc+": tiny_plus_model}
    monkeypatch.setattr(codec, "default_model", lambda kind, space="ycbcr", levels=1: shipped[kind])
    qselect.compress(x, q=q)
    assert len(calls) == 1


def test_cli_codes_jpeg_colour_and_can_refuse_it(tmp_path, decoded, capsys):
    from rclib.cli import main

    src = tmp_path / "in.png"
    Image.fromarray(decoded["chelsea"]).save(src)
    assert main(["compress", str(src), str(tmp_path / "a.rc"), "--q", "14", "--model", "rc"]) == 0
    assert "JPEG colour" in capsys.readouterr().out
    assert main(["compress", str(src), str(tmp_path / "b.rc"), "--q", "14", "--model", "rc",
                 "--no-jpeg-colour"]) == 0
    assert "JPEG colour" not in capsys.readouterr().out
    for name in ("a", "b"):
        assert main(["decompress", str(tmp_path / f"{name}.rc"), str(tmp_path / f"{name}.png")]) == 0
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"{name}.png")), decoded["chelsea"])


# ----------------------------------------------------------------------------- a network for JPEG colour
def _forced_masks(by_model, by_table, side, by_blend=None):
    """The coder made to send Y's table (every pass) and code Cb and Cr with the network."""
    return sum(1 << 3 * k for k in range(len(by_model))), 0, float("inf")


def _force_network(monkeypatch):
    """_forced_masks, and the networked file kept even where tables alone come out shorter."""
    monkeypatch.setattr(codec, "coder_masks", _forced_masks)
    monkeypatch.setattr(codec, "_keep_networked", lambda networked, tables_only: True)


@pytest.fixture
def jpeg_weights(monkeypatch):
    """Each kind's weights for BPG in RGB stand in for its JPEG-colour weights (zoo weights decode
    by their id; unlike the default ones, a decoder that took the kind's YCbCr weights fails), so
    these tests hold whether or not JPEG-colour weights are shipped."""
    stand_in = dict(model_lib.DEFAULT_RGB_WEIGHTS)
    monkeypatch.setattr(model_lib, "DEFAULT_JPEG_WEIGHTS", stand_in)
    return {kind: codec._cached_load(path) for kind, path in stand_in.items()}


@pytest.mark.parametrize("kind", ["rc", "rc+"])
def test_jpeg_colour_channels_from_the_network_round_trip(monkeypatch, decoded, jpeg_weights, kind):
    _force_network(monkeypatch)
    x = decoded["coffee_odd"][:81, :117]  # odd sizes; small, as the network and tau run here
    blob = rclib.compress(x, q=14, model=kind)
    info = codec.info(blob)
    assert info["jpeg_colour"] and info["version"] == codec.NETWORK_VERSION and info["float_path"]
    assert info["table_channels"] == "R" and info["weights_id"] == model_lib.weights_id(jpeg_weights[kind])
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert np.array_equal(rclib.decompress(blob), x)          # weights found by their id
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(rclib.decompress(blob, model=kind), x)  # by kind name: its JPEG weights
    estimate = codec.estimate_coded_bits(x, blob)
    assert 0.95 * estimate <= 8 * info["residual_bytes"] <= 1.005 * estimate + 64


def test_a_network_for_jpeg_colour_never_makes_the_file_longer(monkeypatch, decoded, jpeg_weights):
    """Left to choose, the coder keeps the network per channel only where it is shorter."""
    for name, x in decoded.items():
        x = x[:97, :131]
        with_net = rclib.compress(x, q=14, model="rc")
        monkeypatch.setattr(model_lib, "DEFAULT_JPEG_WEIGHTS", {})
        tables = rclib.compress(x, q=14, model="rc")
        monkeypatch.setattr(model_lib, "DEFAULT_JPEG_WEIGHTS", {"rc": model_lib.DEFAULT_RGB_WEIGHTS["rc"]})
        assert codec.info(tables)["version"] == codec.JPEG_VERSION, name
        assert codec.info(with_net)["jpeg_colour"] and len(with_net) <= len(tables), name
        assert np.array_equal(rclib.decompress(with_net), x), name
        bpg_file = codec.extract_bpg(with_net)  # the estimate with the network: the encoder's choice
        by_net = codec.jpeg_colour_bits(x, bpg_file, q=14, net=jpeg_weights["rc"])
        assert by_net <= codec.jpeg_colour_bits(x, bpg_file), name
        assert abs(by_net - codec.estimate_coded_bits(x, with_net)) <= 0.01 * by_net + 64, name


@pytest.mark.parametrize("case", ["version7", "blend", "tau", "weights"])
def test_crafted_networked_jpeg_colour_files_are_refused(monkeypatch, decoded, jpeg_weights, case):
    """A networked JPEG-colour file whose header (checksum made right) says version 7 (JPEG colour
    from tables alone before 8), carries a blend, another tau or names other weights fails loudly."""
    _force_network(monkeypatch)
    blob = rclib.compress(decoded["chelsea"][:64, :96], q=14, model="rc")
    header, pos = codec.unpack_header(blob)
    assert header.version == codec.NETWORK_VERSION and header.flags & codec.FLAG_JPEG
    if case == "version7":
        header = dataclasses.replace(header, version=codec.FLOAT_VERSION - 1, numerics=b"")
    elif case == "blend":
        header = dataclasses.replace(header, blend_mask=2, blend_ab=((0, 0), (8, 8), (0, 0)))
    elif case == "tau":
        assert header.tau is not None  # (JPEG colour's network always fits one)
        header = dataclasses.replace(header, tau=header.tau * 1.5)
    else:
        header = dataclasses.replace(header, weights_id=bytes(32))
    bad = codec.pack_header(header) + blob[pos:]
    with pytest.raises(ModelMismatch if case == "weights" else FormatError):
        rclib.decompress(bad)


# ----------------------------------------------------------------------------- crafted files
@pytest.fixture(scope="module")
def jpeg_file(decoded):
    blob = rclib.compress(decoded["chelsea"][:64, :96], q=14, model=codec.default_model("rc"))
    assert codec.info(blob)["jpeg_colour"] and codec.info(blob)["version"] == codec.JPEG_VERSION
    return blob


def _refix_crc(blob: bytearray) -> bytes:
    """The header's CRC made right again (RC, no tau: the table section follows the kind byte)."""
    header_end = codec._FIXED.size + 1 + 6 + struct.unpack_from(">I", blob, codec._FIXED.size + 3)[0]
    n = struct.unpack_from(">I", blob, 86)[0]
    end = header_end + 4 * n
    blob[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(blob[:end])))
    return bytes(blob)


@pytest.mark.parametrize("case", ["version5", "tau_flag", "blend_flag", "mask", "flag_off"])
def test_crafted_jpeg_colour_headers_are_refused(jpeg_file, case):
    bad = bytearray(jpeg_file)
    if case == "version5":
        bad[4] = codec.BLEND_VERSION
    elif case == "tau_flag":
        bad[5] |= codec.FLAG_TAU
    elif case == "blend_flag":
        bad[5] |= codec.FLAG_BLEND
    elif case == "mask":
        s = codec._FIXED.size + 1
        bad[s:s + 2] = struct.pack(">H", 3)
    else:  # the YCbCr residual read as an RGB one: other pixels, which the checksum must catch
        bad[5] &= ~codec.FLAG_JPEG
    bad = _refix_crc(bad)
    with pytest.raises(FormatError):
        rclib.decompress(bad)


def test_every_truncation_is_refused(jpeg_file):
    for cut in (5, 60, 95, len(jpeg_file) // 2, len(jpeg_file) - 1):
        with pytest.raises(FormatError):
            rclib.decompress(jpeg_file[:cut])


def test_a_quarter_of_rgb_triples_are_libjpeg_outputs():
    """What the README says of the conversion: of the 2^24 RGB triples, 25.4 % are the image of
    some YCbCr triple (so a picture that never was a JPEG has most of its pixels elsewhere)."""
    keys, order = colour._jpeg_inverse()
    assert keys.size == order.size == 1 << 24 and (np.diff(keys) >= 0).all()
    share = (np.count_nonzero(np.diff(keys)) + 1) / (1 << 24)
    assert round(100 * share, 1) == 25.4


def test_tau_keeps_a_kinds_weights_for_jpeg_colour(monkeypatch, decoded):
    """With --tau, the file without tau that it is weighed against is made as asked: a kind by
    name tries its weights for JPEG colour there too (it once got the resolved network, so a
    decoded JPEG's --tau file could be the tables-only one, larger than the file without --tau)."""
    nets = []
    real = codec._jpeg_colour_file
    monkeypatch.setattr(codec, "_jpeg_colour_file", lambda *a: nets.append(a[-1]) or real(*a))
    x = decoded["coffee_odd"][:48, :64]
    codec.compress(x, 14, "rc", tau=True)
    assert nets and all(net is not None for net in nets)
