"""RC+ files: four passes over the 2x2 subimages, bit-exact on photos and edge cases, format v2."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import rclib
from rclib import bpg, codec, model as model_lib
from rclib.errors import FormatError

from .test_codec import _edge_pictures


def test_rc_plus_round_trips_edge_pictures_and_photos(photos, tiny_plus_model):
    pictures = {**_edge_pictures(photos), "astronaut": photos["astronaut"], "coffee": photos["coffee_odd"]}
    for name, x in pictures.items():
        for q in (12, 25):
            blob = codec.compress(x, q=q, model=tiny_plus_model)
            header = codec.unpack_header(blob)[0]
            assert header.kind == "rc+" and header.version == (
                codec.NETWORK_VERSION if codec.runs_network(header) else codec.VERSION)
            assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), x), (name, q)


def _decode_on_one_thread(blob: bytes, model) -> np.ndarray:
    """The file decoded with one torch thread (it was coded with the default count)."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        return codec.decompress(blob, model=model)
    finally:
        torch.set_num_threads(before)


def test_rc_plus_many_strips_and_other_thread_count(photos, tiny_plus_model):
    x = np.concatenate([photos["chelsea"]] * 3, axis=0)[:, :90]  # 900 x 90: strips of 256 rows
    assert len(codec.strip_spans(90, x.shape[0])) > 1
    blob = codec.compress(x, q=14, model=tiny_plus_model)
    assert np.array_equal(_decode_on_one_thread(blob, tiny_plus_model), x)
    assert codec.compress(x, q=14, model=tiny_plus_model) == blob


def test_rc_plus_real_bytes_close_to_the_estimate(photos, tiny_plus_model):
    x = photos["astronaut"][:256, :256]
    blob = codec.compress(x, q=14, model=tiny_plus_model)
    x_l = bpg.decode(codec.extract_bpg(blob))
    estimate = 8 * codec.info(blob)["bpg_bytes"] + codec.estimate_residual_bits(x, x_l, 14, tiny_plus_model)
    assert 8 * len(blob) <= 1.005 * estimate + 8 * 200  # the fixed header and per-stream overhead


def test_rc_plus_bit_map_of_the_coder_matches_the_training_bit_map_inside_a_strip(photos, tiny_plus_model):
    """One strip (a small picture): the coder's strip path and the whole-picture bit map agree."""
    x = photos["coffee_odd"][:64, :80]
    x_l = bpg.decode(bpg.encode(x, 14))
    coder = codec.residual_bit_map(x, x_l, 14, tiny_plus_model)
    whole = tiny_plus_model.bit_map(model_lib.to_tensor(x), model_lib.to_tensor(x_l))[0].permute(1, 2, 0).numpy()
    assert np.allclose(coder, whole, atol=1e-4)


def test_rc_plus_file_refuses_other_models(photos, tiny_plus_model, tiny_model):
    x = photos["chelsea"][:40, :40]
    blob = codec.compress(x, q=14, model=tiny_plus_model)
    with pytest.raises(codec.ModelMismatch, match="rc\\+"):
        codec.decompress(blob, model=tiny_model)


def test_rc_plus_tau_one_temperature_per_pass(photos, tiny_plus_model):
    """tau for RC+ (format version 4): four (3, K) temperatures, exact over several strips and with
    another thread count at decode, smaller than without, the estimate within 0.5 %."""
    x = np.concatenate([photos["coffee_odd"]] * 2, axis=0)[:600, :101]
    assert len(codec.strip_spans(101, 600)) > 1
    blob = codec.compress(x, q=14, model=tiny_plus_model, tau=True, tables=False)
    header, _ = codec.unpack_header(blob)
    # random tiny weights leave a lot to gain, so tau is kept
    assert header.version == codec.NETWORK_VERSION and header.tau.shape == (4, 3, 5) and header.tau.dtype == np.float32
    assert not np.allclose(header.tau[0], header.tau[3])
    assert np.array_equal(_decode_on_one_thread(blob, tiny_plus_model), x)
    plain = codec.compress(x, q=14, model=tiny_plus_model, tables=False)
    assert len(blob) < len(plain) and not codec.info(plain)["tau"]
    estimate = codec.estimate_coded_bits(x, blob, tiny_plus_model)
    assert 8 * sum(header.stream_lengths) <= 1.005 * estimate + 8 * 24 * 4


def test_rc_plus_tau_before_version_4_is_refused():
    """Version 3 had one RC temperature; an RC+ file of that version claiming tau is corrupt."""
    header = codec.Header(5, 8, 12, 16, 32, bytes(32), bytes(32), 0, [0] * 24, tau=np.ones((3, 5), np.float32),
                          kind="rc+", version=3)
    with pytest.raises(FormatError, match="tau"):
        codec.unpack_header(codec.pack_header(header))


def refuses_damage(blob: bytes, model, cuts=(), seed: int = 0) -> None:
    """The file cut short (at its last byte, inside its BPG part, inside its header, and at `cuts`)
    or with a residual byte flipped (12 random places) is refused with a FormatError."""
    header, start = codec.unpack_header(blob)
    for cut in (len(blob) - 1, start + 3, 20, *cuts):
        with pytest.raises(FormatError):
            codec.decompress(blob[:cut], model=model)
    rng = np.random.default_rng(seed)
    for pos in rng.integers(start + header.bpg_length, len(blob), 12):
        bad = bytearray(blob)
        bad[pos] ^= 0x41
        with pytest.raises(FormatError):
            codec.decompress(bytes(bad), model=model)


def test_rc_plus_corrupt_and_truncated_files_fail_loudly(photos, tiny_plus_model):
    x = photos["chelsea"][:48, :64]
    refuses_damage(codec.compress(x, q=14, model=tiny_plus_model), tiny_plus_model)


def test_version_1_header_still_reads_as_rc():
    header = codec.Header(5, 7, 12, 16, 32, bytes(32), bytes(32), 0, [0] * 6, version=1)
    blob = codec.pack_header(header)
    parsed, start = codec.unpack_header(blob)
    assert parsed.version == 1 and parsed.kind == "rc" and start == len(blob)
    v2 = codec.pack_header(codec.Header(5, 7, 12, 16, 32, bytes(32), bytes(32), 0, [0] * 24, kind="rc+"))
    assert len(v2) == len(codec.pack_header(codec.Header(5, 7, 12, 16, 32, bytes(32), bytes(32), 0,
                                                          [0] * 24, version=1))) + 1
    assert codec.unpack_header(v2)[0].kind == "rc+"
