"""RC+ levels (format version 10): pass 1's subimage coded by RC+'s four passes again, bit-exact on
photos and edge cases, with tau, tables and blends over every pass, and loud failures otherwise."""
from __future__ import annotations

import numpy as np
import pytest

import rclib
from rclib import codec
from rclib.errors import FormatError, InputError
from rclib.model_plus import MAX_LEVELS, plan

from .test_codec import _edge_pictures
from .test_codec_plus import _decode_on_one_thread, refuses_damage


def test_plan_covers_every_pixel_once_in_coding_order():
    for levels in range(1, MAX_LEVELS + 1):
        passes = plan(levels)
        assert len(passes) == codec.passes_of("rc+", levels) == 3 * levels + 1
        hit = np.zeros((64, 64), int)
        for p in passes:
            hit[p.oy::p.stride, p.ox::p.stride] += 1
        assert (hit == 1).all()
        assert [p.level for p in passes] == sorted((p.level for p in passes), reverse=True)  # deepest first
    assert plan(1)[1] == plan(3)[-3]  # one level's passes 2-4 end every plan
    with pytest.raises(ValueError):
        plan(MAX_LEVELS + 1)


@pytest.mark.parametrize("levels", [2, 4])
def test_levels_round_trip_edge_pictures_and_photos(photos, tiny_plus_model, levels):
    """The network on every pass (no tables), then with tables: where they code every pass alone
    the file is the one-level file of the oldest version that holds it (the same bits)."""
    pictures = {**_edge_pictures(photos), "coffee": photos["coffee_odd"]}
    for name, x in pictures.items():
        for q in (12, 25):
            blob = codec.compress(x, q=q, model=tiny_plus_model, levels=levels, tables=False)
            header = codec.unpack_header(blob)[0]
            assert header.version == codec.LEVELS_VERSION and header.levels == levels, name
            assert len(header.stream_lengths) == 6 * header.passes * len(codec.strip_spans(x.shape[1], x.shape[0]))
            assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), x), (name, q)
        blob = codec.compress(x, q=12, model=tiny_plus_model, levels=levels)
        header = codec.unpack_header(blob)[0]
        if not codec.runs_network(header):
            assert header.version < codec.FLOAT_VERSION and header.levels == 1, name
        assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), x), name


def test_one_level_is_the_version_9_file(photos, tiny_plus_model):
    x = photos["chelsea"][:70, :90]
    blob = codec.compress(x, q=14, model=tiny_plus_model, tables=False)
    assert codec.compress(x, q=14, model=tiny_plus_model, tables=False, levels=1) == blob
    assert codec.info(blob)["version"] == codec.NETWORK_VERSION and codec.info(blob)["levels"] == 1


def test_levels_over_many_strips_decode_with_another_thread_count(photos, tiny_plus_model):
    x = np.concatenate([photos["chelsea"]] * 3, axis=0)[:899, :91]  # odd sizes, strips of 256 rows
    assert len(codec.strip_spans(91, x.shape[0])) > 1
    blob = codec.compress(x, q=14, model=tiny_plus_model, levels=3)
    assert np.array_equal(_decode_on_one_thread(blob, tiny_plus_model), x)
    assert codec.compress(x, q=14, model=tiny_plus_model, levels=3) == blob


def test_levels_with_tau_one_temperature_per_coded_pass(photos, tiny_plus_model):
    """tau per coded pass ((3L+1, 3, K)); the real bytes within 0.5 % of the estimate."""
    x = np.concatenate([photos["coffee_odd"]] * 2, axis=0)[:600, :101]
    blob = codec.compress(x, q=14, model=tiny_plus_model, tau=True, tables=False, levels=4)
    header, _ = codec.unpack_header(blob)
    assert header.tau.shape == (13, 3, 5)  # random tiny weights leave a lot to gain, so tau is kept
    assert np.array_equal(_decode_on_one_thread(blob, tiny_plus_model), x)
    estimate = codec.estimate_coded_bits(x, blob, tiny_plus_model)
    assert 8 * sum(header.stream_lengths) <= 1.005 * estimate + 8 * 24 * 13


def test_levels_round_trip_grayscale(photos, tiny_plus_model):
    gray = photos["chelsea"][5:130, 3:180, 1].copy()
    blob = codec.compress(gray, q=14, model=tiny_plus_model, levels=3, tables=False)
    out = codec.decompress(blob, model=tiny_plus_model)
    assert codec.info(blob)["grayscale"] and out.shape == gray.shape and np.array_equal(out, gray)


def test_shipped_rc_plus_codes_a_photo_exactly_at_every_level(photos):
    x = photos["coffee_odd"][:160, :203]
    sizes = []
    for levels in range(1, MAX_LEVELS + 1):
        blob = rclib.compress(x, q=17, model="rc+", levels=levels)
        assert np.array_equal(rclib.decompress(blob), x) and codec.info(blob)["levels"] == levels
        assert 8 * len(blob) <= 1.005 * (8 * codec.info(blob)["bpg_bytes"] + codec.estimate_coded_bits(x, blob)) + 8 * 600
        sizes.append(len(blob))
    assert len(set(sizes)) > 1  # the levels code differently
    # tables and blends on passes beyond a one-level file's four (version 10's 64-bit masks)
    mixed = rclib.compress(x, q=14, model="rc+", blend=True, levels=4)
    header, _ = codec.unpack_header(mixed)
    assert header.table_mask >> 12 and header.blend_mask >> 16 and header.table_mask & header.blend_mask == 0
    assert np.array_equal(rclib.decompress(mixed), x)
    estimate = codec.estimate_coded_bits(x, mixed)
    assert 8 * sum(header.stream_lengths) <= 1.005 * estimate + 8 * 24 * 13


@pytest.fixture(scope="module")
def levels_file(photos, tiny_plus_model):
    x = photos["chelsea"][:64, :72]
    return x, codec.compress(x, q=14, model=tiny_plus_model, levels=3, tables=False)


@pytest.mark.parametrize("levels", [0, 1, MAX_LEVELS + 1, 255])
def test_crafted_levels_are_refused(levels_file, levels):
    """A levels byte out of 2..MAX_LEVELS: refused before anything is read by it, whether or not
    the header checksum was fixed up after the change."""
    _, blob = levels_file
    header, _ = codec.unpack_header(blob)
    at = codec.kind_end(codec.LEVELS_VERSION) - 1
    assert blob[at] == 3
    bad = bytearray(blob)
    bad[at] = levels
    with pytest.raises(FormatError, match="levels"):
        codec.unpack_header(bytes(bad))
    if levels > 1:  # the writer refuses a version-10 header of one level itself
        with pytest.raises(FormatError, match="levels"):
            codec.unpack_header(codec.pack_header(codec.Header(**{**header.__dict__, "levels": levels})))
    else:
        with pytest.raises(AssertionError):
            codec.pack_header(codec.Header(**{**header.__dict__, "levels": 1}))


def test_version_10_header_of_rc_or_odd_strips_is_refused(levels_file):
    _, blob = levels_file
    header, _ = codec.unpack_header(blob)
    with pytest.raises(FormatError, match="levels"):
        codec.unpack_header(codec.pack_header(codec.Header(**{**header.__dict__, "kind": "rc"})))
    with pytest.raises(FormatError, match="strips"):
        codec.unpack_header(codec.pack_header(codec.Header(**{**header.__dict__, "strip_rows": 4})))


def test_truncated_and_corrupt_levels_files_fail_loudly(levels_file, tiny_plus_model):
    x, blob = levels_file
    assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), x)
    refuses_damage(blob, tiny_plus_model, cuts=(codec.kind_end(codec.LEVELS_VERSION),), seed=1)


def test_levels_above_one_need_rc_plus(photos, tiny_model, tiny_plus_model):
    x = photos["chelsea"][:32, :32]
    with pytest.raises(InputError, match="levels"):
        codec.compress(x, q=14, model=tiny_model, levels=2)
    with pytest.raises(InputError, match="levels"):
        rclib.compress(x, q=14, model="rc", levels=2)
    for levels in (0, MAX_LEVELS + 1):
        with pytest.raises(InputError, match="levels"):
            codec.compress(x, q=14, model=tiny_plus_model, levels=levels)


def test_auto_codes_rc_plus_with_the_levels_asked(photos, monkeypatch):
    """`--model auto` hands the levels to RC+'s files only (RC has one level)."""
    from rclib import qselect

    seen = []
    real = codec.compress
    monkeypatch.setattr(codec, "compress", lambda *a, **k: seen.append((k["model"], k["levels"])) or real(*a, **k))
    x = photos["chelsea"][:48, :64]
    rclib.compress(x, q=14, levels=2, rgb_bpg=False)
    assert sorted(seen) == [("rc", 1), ("rc+", 2)]
    assert qselect.compress.__defaults__[-1] == 1


def test_cli_levels(tmp_path, photos, capsys):
    from PIL import Image

    from rclib.cli import main

    x = photos["chelsea"][:96, :128]
    Image.fromarray(x).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), str(tmp_path / "a.rc"), "--q", "17", "--model", "rc+",
                 "--levels", "3"]) == 0
    assert "levels 3" in capsys.readouterr().out
    assert codec.info((tmp_path / "a.rc").read_bytes())["levels"] == 3
    assert main(["decompress", str(tmp_path / "a.rc"), str(tmp_path / "b.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), x)
    with pytest.raises(SystemExit):
        main(["compress", str(tmp_path / "a.png"), str(tmp_path / "c.rc"), "--levels", "5"])


@pytest.fixture(scope="module")
def tiny_levels_model(tiny_plus_model):
    """tiny_plus_model's passes for level 0 and other random ones for the levels above."""
    import torch

    from rclib.model_plus import RCPlusModel, with_level_net

    torch.manual_seed(2)
    return with_level_net(tiny_plus_model, RCPlusModel(tiny_plus_model.config).eval())


def test_level_networks_code_the_levels_above_0_only(photos, tiny_plus_model, tiny_levels_model):
    """Passes of level 0 keep the model's own networks (the same bits as without level networks);
    those above run the level networks; one weights id names both, so a file names them."""
    from rclib import model as model_lib

    x = photos["coffee_odd"][:90, :77]
    assert tiny_levels_model.at_level(0) is tiny_levels_model and tiny_levels_model.at_level(2) is tiny_levels_model.level
    assert tiny_plus_model.at_level(1) is tiny_plus_model
    assert model_lib.weights_id(tiny_levels_model) != model_lib.weights_id(tiny_plus_model)
    x_l = codec.bpg.decode(codec.bpg.encode(x, 14))
    for levels in (1, 3):
        own, with_level = (codec._pass_sums(codec.residual_bit_map(x, x_l, 14, m, levels=levels), "rc+", levels)
                           for m in (tiny_plus_model, tiny_levels_model))
        above_0 = [p.level > 0 for p in plan(levels)]
        assert np.array_equal(own[~np.array(above_0)], with_level[~np.array(above_0)])
        assert all((own[i] != with_level[i]).any() for i, up in enumerate(above_0) if up)
    blob = codec.compress(x, q=14, model=tiny_levels_model, levels=3, tables=False)
    assert codec.info(blob)["weights_id"] == model_lib.weights_id(tiny_levels_model)
    assert np.array_equal(_decode_on_one_thread(blob, tiny_levels_model), x)
    with pytest.raises(codec.ModelMismatch):
        codec.decompress(blob, model=tiny_plus_model)


def test_level_networks_save_load_and_shape_check(tmp_path, tiny_plus_model, tiny_levels_model):
    from rclib import model as model_lib
    from rclib.model_plus import CONFIGS, RCPlusModel, with_level_net

    model_lib.save(tiny_levels_model, tmp_path / "w.pt")
    back = model_lib.load(tmp_path / "w.pt")
    assert back.config.level_net and model_lib.weights_id(back) == model_lib.weights_id(tiny_levels_model)
    with pytest.raises(ValueError, match="shape"):
        with_level_net(tiny_plus_model, RCPlusModel(CONFIGS["cpu+"]))


def test_named_rc_plus_with_levels_codes_with_the_shipped_level_networks(photos, tmp_path, monkeypatch,
                                                                        tiny_levels_model):
    """`--model rc+ --levels L` (L > 1) codes with DEFAULT_LEVELS_WEIGHTS where they are shipped
    and decodes them from the zoo by the header's id; one level keeps RC+'s weights, and so does
    a file that falls back to one level (tables alone)."""
    from rclib import model as model_lib

    path = tmp_path / "rcplus_levels_cpu.pt"
    model_lib.save(tiny_levels_model, path)
    monkeypatch.setattr(model_lib, "DEFAULT_LEVELS_WEIGHTS", path)
    monkeypatch.setattr(model_lib, "zoo", lambda folder=None: {model_lib.weights_id(tiny_levels_model): path})
    x = photos["chelsea"][:64, :80]
    assert codec.resolve_model("rc+", levels=3).config.level_net
    assert not codec.resolve_model("rc+").config.level_net
    assert not codec.resolve_model("rc+", space="rgb", levels=3).config.level_net
    blob = codec.compress(x, q=14, model="rc+", levels=3, tables=False)
    assert codec.info(blob)["weights_id"] == model_lib.weights_id(tiny_levels_model)
    assert np.array_equal(codec.decompress(blob), x)
    assert np.array_equal(codec.decompress(blob, model="rc+"), x)   # by name: the levels' weights
    flat = np.full((40, 48, 3), 77, np.uint8)
    blob = codec.compress(flat, q=14, model="rc+", levels=3)
    assert codec.info(blob)["levels"] == 1
    assert codec.info(blob)["weights_id"] == model_lib.weights_id(codec.default_model("rc+"))
    assert np.array_equal(codec.decompress(blob, model="rc+"), flat)
