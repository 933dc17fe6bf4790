"""BPG in its RGB colour space: x_l without YCbCr's rounding (format version 7).  Genuine BPG files,
exact round trips of real photos through every model kind and path, `auto`'s choice, and loud
failures on crafted files."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import rclib
from rclib import bpg, codec, qselect
from rclib.errors import FormatError, InputError

from .conftest import VECTORS
from .test_project import _bench_script
from .test_tables import _refix_crc


@pytest.fixture(scope="module")
def smooth() -> np.ndarray:
    """A smooth picture, as wallpapers are: gradients with a least-significant bit of noise."""
    h, w = 72, 104
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([40 + 1.5 * xx + 0.5 * yy, 90 + 0.8 * yy + 0.3 * xx, 200 - 1.1 * xx], -1)
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, base.shape)
    return np.clip(np.round(base + noise), 0, 255).astype(np.uint8)


def test_rgb_files_are_genuine_bpg(photos):
    x = photos["coffee_odd"]
    blob = bpg.encode(x, 14, backend="embedded", space="rgb")
    assert blob[4] == 0x60 and blob[5] == 0x10  # 4:4:4 8-bit; colour space 1 (RGB), full range
    assert bpg.colour_space(blob) == "rgb" and bpg.colour_space(bpg.encode(x, 14)) == "ycbcr"
    y = bpg.decode(blob)
    assert y.shape == x.shape and np.abs(y.astype(int) - x).mean() < 2
    planes = bpg.decode_planes(bpg.parse(blob))  # stored as G, B, R, as bpgdec reads them
    assert all(np.array_equal(p, y[..., c]) for p, c in zip(planes, (1, 2, 0)))
    with pytest.raises(FormatError, match="RGB"):
        bpg.decode_ycbcr(blob)


def test_rgb_with_subsampled_planes_and_unknown_spaces_are_refused(photos):
    blob = bytearray((VECTORS / "coffee_odd_q29_420.bpg").read_bytes())
    assert blob[4] >> 5 == bpg.FORMAT_420
    blob[5] = 0x10  # RGB
    with pytest.raises(FormatError, match="colour space"):
        bpg.decode(bytes(blob))
    with pytest.raises(InputError, match="colour space"):
        bpg.encode(photos["coffee_odd"], 12, space="ycgco")


@pytest.mark.parametrize("net", ["rc", "rc+", "tiny", "tiny+"])
def test_round_trips_over_rgb_bpg(photos, net, tiny_model, tiny_plus_model):
    model = {"tiny": tiny_model, "tiny+": tiny_plus_model}.get(net, net)
    given = None if net in ("rc", "rc+") else model
    for name in ("coffee_odd", "chelsea"):
        x = photos[name][:97, :131]  # odd sizes
        for q in (12, 20):
            for tables in (True, False):
                blob = codec.compress(x, q, model, space="rgb", tables=tables)
                info = codec.info(blob)
                networked = codec.runs_network(codec.unpack_header(blob)[0])
                assert info["bpg_colour"] == "rgb"
                assert info["version"] == (codec.NETWORK_VERSION if networked else codec.RGB_VERSION)
                assert np.array_equal(rclib.decompress(blob, model=given), x), (name, q, tables)


def test_auto_codes_a_smooth_picture_over_rgb_bpg(smooth, tiny_model):
    """The YCbCr file pays for YCbCr's rounding; the RGB one does not, and `auto` keeps it."""
    for model in ("rc", "rc+"):
        ycbcr = rclib.compress(smooth, model=model, rgb_bpg=False)
        blob = rclib.compress(smooth, model=model)
        assert codec.info(ycbcr)["bpg_colour"] == "ycbcr"
        assert codec.info(blob)["bpg_colour"] == "rgb" and codec.info(blob)["q"] in qselect.RGB_QS
        assert len(blob) < 0.9 * len(ycbcr), model
        assert np.array_equal(rclib.decompress(blob), smooth)
    default = rclib.compress(smooth)
    assert codec.info(default)["bpg_colour"] == "rgb"
    assert np.array_equal(rclib.decompress(default), smooth)


def test_rgb_is_weighed_only_by_the_searching_strategies_with_tables(smooth, tiny_model):
    for kwargs in ({"q": 14}, {"q": "clf"}, {"tables": False}, {"rgb_bpg": False}):
        blob = rclib.compress(smooth, model=tiny_model, **kwargs)
        assert codec.info(blob)["bpg_colour"] == "ycbcr", kwargs
    assert codec.info(rclib.compress(smooth, q="min", model=tiny_model))["bpg_colour"] == "rgb"


def test_the_rgb_grid_is_searched_once_per_picture(monkeypatch, smooth, tiny_model, tiny_plus_model):
    shipped = {"rc": tiny_model, "rc+": tiny_plus_model}
    monkeypatch.setattr(codec, "default_model", lambda kind, space="ycbcr", levels=1: shipped[kind])
    spaces = []
    encode = bpg.encode
    monkeypatch.setattr(bpg, "encode", lambda rgb, q, **k: spaces.append((q, k.get("space"))) or encode(rgb, q, **k))
    rclib.compress(smooth)  # both kinds
    in_rgb = [q for q, space in spaces if space == "rgb"]
    assert len(in_rgb) == len(set(in_rgb)) and set(in_rgb) <= set(qselect.RGB_QS)


def test_decoding_with_other_thread_counts(photos):
    x = photos["chelsea"][:120, :160]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        blob = codec.compress(x, 17, "rc+", space="rgb")
        torch.set_num_threads(1)
        assert np.array_equal(rclib.decompress(blob), x)
        torch.set_num_threads(3)
        assert codec.compress(x, 17, "rc+", space="rgb") == blob
    finally:
        torch.set_num_threads(before)


def test_real_bytes_match_the_estimate(photos):
    x = photos["astronaut"][:128, :160]
    for model in ("rc", "rc+"):
        blob = codec.compress(x, 14, model, space="rgb")
        estimate = codec.estimate_coded_bits(x, blob)
        assert 8 * codec.info(blob)["residual_bytes"] <= 1.005 * estimate + 64, model


@pytest.mark.parametrize("kind", ["rc", "rc+"])
def test_kinds_by_name_code_over_rgb_with_their_weights_for_rgb(photos, kind):
    """A kind named by name codes over BPG in RGB with its copy fine-tuned on it (the file names
    those weights); a model object codes as given; decoding by kind name picks the weights for the
    file's colour space."""
    from rclib import model as model_lib

    x = photos["chelsea"][:97, :131]
    plain = codec.default_model(kind)
    tuned = codec.default_model(kind, "rgb")
    assert model_lib.DEFAULT_RGB_WEIGHTS[kind].exists() and tuned.config == plain.config
    assert model_lib.weights_id(tuned) != model_lib.weights_id(plain)
    blob = codec.compress(x, 14, kind, space="rgb")
    assert codec.info(blob)["weights_id"] == model_lib.weights_id(tuned)
    for model in (None, kind, tuned):
        assert np.array_equal(codec.decompress(blob, model=model), x)
    with pytest.raises(codec.ModelMismatch):
        codec.decompress(blob, model=plain)
    assert codec.info(codec.compress(x, 14, kind))["weights_id"] == model_lib.weights_id(plain)
    given = codec.compress(x, 14, plain, space="rgb")
    assert codec.info(given)["weights_id"] == model_lib.weights_id(plain)
    assert np.array_equal(codec.decompress(given), x)


@pytest.mark.parametrize("kind", ["rc", "rc+"])
def test_the_weights_for_rgb_record_how_they_were_made(kind):
    import json

    from rclib import model as model_lib

    info = json.loads(model_lib.DEFAULT_RGB_WEIGHTS[kind].with_suffix(".json").read_text())
    plain_path = model_lib.DEFAULT_WEIGHTS if kind == "rc" else model_lib.DEFAULT_PLUS_WEIGHTS
    plain = json.loads(plain_path.with_suffix(".json").read_text())
    assert info["fine_tuned_from"]["weights_id"] == plain["weights_id"]
    assert info["bpg_colour"] == "rgb" and info["steps"] > 0
    assert info["command"].startswith(f"python bench/finetune_rgb.py run --kind {kind} ")


def test_cli_says_so_and_can_refuse_it(tmp_path, smooth, capsys):
    from PIL import Image

    from rclib.cli import main

    src = tmp_path / "in.png"
    Image.fromarray(smooth).save(src)
    assert main(["compress", str(src), str(tmp_path / "a.rc"), "--model", "rc"]) == 0
    assert "BPG in RGB" in capsys.readouterr().out
    assert main(["compress", str(src), str(tmp_path / "b.rc"), "--model", "rc", "--no-rgb-bpg"]) == 0
    assert "BPG in RGB" not in capsys.readouterr().out
    for name in ("a", "b"):
        assert main(["decompress", str(tmp_path / f"{name}.rc"), str(tmp_path / f"{name}.png")]) == 0
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"{name}.png")), smooth)


# ----------------------------------------------------------------------------- crafted files
@pytest.fixture(scope="module")
def rgb_file(photos):
    blob = codec.compress(photos["chelsea"][:64, :96], 14, "rc", tables=False, space="rgb")
    assert codec.info(blob)["bpg_colour"] == "rgb"
    return blob


@pytest.mark.parametrize("case", ["version6", "version4", "jpeg_flag"])
def test_crafted_rgb_headers_are_refused(rgb_file, case):
    bad = bytearray(rgb_file)
    if case == "jpeg_flag":
        bad[5] |= codec.FLAG_JPEG
    else:
        bad[4] = int(case[-1])
    with pytest.raises(FormatError):
        rclib.decompress(_refix_crc(bad, codec.unpack_header(rgb_file)[1]))
    assert np.array_equal(rclib.decompress(rgb_file), rclib.decompress(bytes(rgb_file)))


def test_the_bpg_part_read_in_the_other_colour_space_is_caught(rgb_file, photos):
    """Its colour space flipped to YCbCr inside the .rc file: other pixels, which the checksum catches."""
    header, pos = codec.unpack_header(rgb_file)
    bad = bytearray(rgb_file)
    bad[pos + 5] = 0x00
    with pytest.raises(FormatError):
        rclib.decompress(bytes(bad))


def test_every_truncation_is_refused(rgb_file):
    for cut in (5, 60, 95, len(rgb_file) // 2, len(rgb_file) - 1):
        with pytest.raises(FormatError):
            rclib.decompress(rgb_file[:cut])


@pytest.mark.parametrize("kind", ["rc", "rc+"])
def test_rgb_network_share_and_the_weights_record_are_their_measurements(kind):
    """qselect.RGB_NETWORK_SHARE is the median of bench/finetune_rgb.py ratio's table; the weights'
    record holds score's validation bits for their step, the best snapshot's."""
    import csv
    import json
    from pathlib import Path

    from rclib import model as model_lib

    finetune_rgb = _bench_script("finetune_rgb")
    docs = Path(__file__).resolve().parents[1] / "docs"
    ratios = [float(r["ratio"]) for r in csv.DictReader(open(docs / finetune_rgb.SHARES[kind]))]
    assert len(ratios) == 41 and qselect.RGB_NETWORK_SHARE[kind] == round(float(np.median(ratios)), 3)
    info = json.loads(model_lib.DEFAULT_RGB_WEIGHTS[kind].with_suffix(".json").read_text())
    rows = list(csv.DictReader(open(docs / finetune_rgb.SCORES[kind])))
    mine = next(r for r in rows if r["weights"] == "snapshot" and int(r["step"]) == info["steps"])
    assert float(mine["rgb_q17"]) == info["val_bpsp_rgb"] == min(float(r["rgb_q17"]) for r in rows)


def test_prep_caches_bpg_in_rgb(tmp_path, photos):
    """The training data for the weights for RGB: prep's versions in BPG's RGB colour space."""
    from PIL import Image

    from rclib import prep

    src = tmp_path / "pic.png"
    Image.fromarray(photos["chelsea"][:48, :64]).save(src)
    table = prep.prep(tmp_path, tmp_path / "out", qs=[17], space="rgb", workers=1, progress=False)
    assert list(table.q) == [17]
    blob, x_l = prep.version(src, tmp_path / "out", 17)  # from the cache
    assert bpg.colour_space(blob) == "rgb" and np.array_equal(x_l, bpg.decode(blob))
