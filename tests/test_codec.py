"""The .rc codec: bit-exact round trips on real photos and edge cases, loud failures otherwise."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import rclib
from rclib import codec, model as model_lib
from rclib.errors import FormatError, InputError


def test_round_trip_photos_every_q(photos, tiny_model):
    x = photos["coffee_odd"]
    for q in (9, 12, 17):
        blob = rclib.compress(x, q=q, model=tiny_model)
        assert np.array_equal(rclib.decompress(blob, model=tiny_model), x)
        assert codec.info(blob)["q"] == q


@pytest.mark.parametrize("name", ["astronaut", "chelsea"])
def test_round_trip_full_photos(photos, tiny_model, name):
    blob = codec.compress(photos[name], model=tiny_model)
    assert np.array_equal(codec.decompress(blob, model=tiny_model), photos[name])


def _edge_pictures(photos):
    g = np.random.default_rng(0)
    return {
        "1x1": photos["astronaut"][:1, :1],
        "5x7": photos["astronaut"][200:205, 300:307],
        "odd": photos["chelsea"][3:100, 5:134],
        "flat": np.full((37, 45, 3), 77, np.uint8),
        "black": np.zeros((16, 17, 3), np.uint8),
        "white": np.full((9, 40, 3), 255, np.uint8),
        "noise": g.integers(0, 256, (64, 48, 3), dtype=np.uint8),
        "tall": photos["coffee_odd"][:, :3],
    }


def test_round_trip_edge_pictures(photos, tiny_model):
    for name, x in _edge_pictures(photos).items():
        blob = codec.compress(x, q=12, model=tiny_model)
        assert np.array_equal(codec.decompress(blob, model=tiny_model), x), name


def test_round_trip_grayscale(photos, tiny_model):
    gray = photos["chelsea"][..., 1].copy()
    blob = codec.compress(gray, model=tiny_model)
    out = codec.decompress(blob, model=tiny_model)
    assert out.shape == gray.shape and np.array_equal(out, gray)


def test_decoding_with_other_thread_count(photos, tiny_model):
    x = photos["chelsea"][:300, :300]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        blob = codec.compress(x, model=tiny_model)
        torch.set_num_threads(1)
        assert np.array_equal(codec.decompress(blob, model=tiny_model), x)
        torch.set_num_threads(3)
        assert codec.compress(x, model=tiny_model) == blob
    finally:
        torch.set_num_threads(before)


def test_big_photo_round_trip(big_photo, tiny_model):
    blob = codec.compress(big_photo, model=tiny_model)
    assert codec.info(blob)["strips"] > 2
    assert np.array_equal(codec.decompress(blob, model=tiny_model), big_photo)


@pytest.mark.slow
def test_twelve_megapixel_round_trip(big_photo, tiny_model):
    x = np.tile(big_photo, (2, 2, 1))[:3000, :4000]           # 12 MPix of real photo content
    blob = codec.compress(x, q=17, model=tiny_model)
    assert np.array_equal(codec.decompress(blob, model=tiny_model), x)


# ----------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small_file(photos, tiny_model):
    return codec.compress(photos["coffee_odd"][:80, :120], model=tiny_model)


def test_every_truncation_fails(small_file, tiny_model):
    for cut in list(range(0, 120)) + list(range(120, len(small_file), 97)) + [len(small_file) - 1]:
        with pytest.raises(FormatError):
            codec.decompress(small_file[:cut], model=tiny_model)


def test_trailing_garbage_fails(small_file, tiny_model):
    with pytest.raises(FormatError):
        codec.decompress(small_file + b"\0", model=tiny_model)


def test_bit_flips_fail_loudly(small_file, tiny_model, photos):
    """Flip bytes everywhere: decoding must raise, never return pixels that differ."""
    x = photos["coffee_odd"][:80, :120]
    rng = np.random.default_rng(1)
    positions = sorted(set(range(0, 94)) | set(rng.integers(94, len(small_file), 150).tolist()))
    for pos in positions:
        bad = bytearray(small_file)
        bad[pos] ^= 1 << int(rng.integers(8))
        try:
            out = codec.decompress(bytes(bad), model=tiny_model)
        except (FormatError, codec.ModelMismatch):
            continue
        assert np.array_equal(out, x), f"flip at byte {pos} returned wrong pixels"


def test_wrong_magic_and_future_version(small_file, tiny_model):
    with pytest.raises(FormatError, match="magic"):
        codec.decompress(b"\x89PNG" + small_file[4:], model=tiny_model)
    future = bytearray(small_file)
    future[4] = max(codec.VERSIONS) + 1
    with pytest.raises(FormatError, match=f"version {max(codec.VERSIONS) + 1}"):
        codec.decompress(bytes(future), model=tiny_model)


def test_other_weights_are_refused(small_file):
    torch.manual_seed(1)
    other = model_lib.ResidualModel(model_lib.CONFIGS["tiny"]).eval()
    with pytest.raises(codec.ModelMismatch):
        codec.decompress(small_file, model=other)


def test_missing_model_is_clear(monkeypatch, tmp_path, photos):
    monkeypatch.setattr(model_lib, "DEFAULT_WEIGHTS", tmp_path / "none.pt")
    monkeypatch.setattr(model_lib, "DEFAULT_PLUS_WEIGHTS", tmp_path / "none+.pt")
    monkeypatch.setattr(codec, "_MODEL_CACHE", {})
    with pytest.raises(rclib.RclibError, match="no rc model weights"):
        codec.compress(photos["chelsea"][:8, :8], model="rc")
    with pytest.raises(rclib.RclibError, match="no rc\\+ model weights"):
        codec.compress(photos["chelsea"][:8, :8])  # the default kind


def test_bad_arrays(tiny_model):
    for bad in (np.zeros((4, 4, 3), np.uint16), np.zeros((4, 4, 4), np.uint8),
                np.zeros((0, 4, 3), np.uint8), np.zeros((4, 4), np.float32)):
        with pytest.raises(InputError):
            codec.compress(bad, model=tiny_model)


def test_extract_bpg_is_the_lossy_layer(small_file, photos):
    from rclib import bpg

    preview = bpg.decode(codec.extract_bpg(small_file))
    assert preview.shape == (80, 120, 3)
    assert np.abs(preview.astype(int) - photos["coffee_odd"][:80, :120]).mean() < 3


def test_files_with_the_older_window_still_decode(photos, tiny_model, monkeypatch):
    """The window is read from each file's header: files written with 32 (rclib 0.1) decode."""
    from rclib import entropy

    x = photos["coffee_odd"][:70, :90]
    monkeypatch.setattr(entropy, "WINDOW", 32)
    old = codec.compress(x, q=14, model=tiny_model)
    monkeypatch.undo()
    assert codec.unpack_header(old)[0].window == 32
    new = codec.compress(x, q=14, model=tiny_model)
    assert codec.unpack_header(new)[0].window == entropy.WINDOW != 32
    for blob in (old, new):
        assert np.array_equal(codec.decompress(blob, model=tiny_model), x)


def test_unknown_window_is_refused(photos, tiny_model):
    blob = codec.compress(photos["coffee_odd"][:40, :50], q=14, model=tiny_model, tables=False)
    header, pos = codec.unpack_header(blob)
    header.window = 20
    with pytest.raises(FormatError, match="window of 20"):
        codec.decompress(codec.pack_header(header) + blob[pos:], model=tiny_model)
