"""Golden files: .rc files written by earlier shipped weights and format versions must decode to
their committed pictures forever (the header names the weights; decompress finds them in the zoo)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rclib
from rclib import codec, model as model_lib

EXPECTED = Path(__file__).parent / "expected"
GOLDEN = sorted(EXPECTED.glob("*.rc"))


def test_there_are_golden_files_of_every_format_version():
    versions = {p.read_bytes()[4] for p in GOLDEN}
    assert versions == set(codec.VERSIONS)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_file_decodes_to_its_picture(path):
    blob = path.read_bytes()
    expected = np.asarray(Image.open(path.with_suffix(".png")))
    assert np.array_equal(rclib.decompress(blob), expected)


def test_every_golden_files_weights_are_in_the_zoo():
    zoo = model_lib.zoo()
    for path in GOLDEN:
        assert codec.unpack_header(path.read_bytes())[0].weights_id.hex() in zoo, path.name


def test_todays_default_weights_of_each_kind_have_a_golden_file():
    """New weights must not orphan files: the files the shipped defaults write today are pinned too."""
    ids = {codec.unpack_header(p.read_bytes())[0].weights_id.hex() for p in GOLDEN}
    shipped = [model_lib.DEFAULT_WEIGHTS, model_lib.DEFAULT_PLUS_WEIGHTS]
    for weights in shipped + [p for p in model_lib.DEFAULT_RGB_WEIGHTS.values() if p.exists()]:
        assert model_lib.weights_id(model_lib.load(weights)) in ids, weights.name


def test_unknown_weights_are_a_clear_error():
    with pytest.raises(codec.ModelMismatch, match="not among"):
        codec.model_for_file(bytes(32))


@pytest.mark.slow
def test_validation_photos_code_to_their_expected_byte_counts():
    """CompressAI-style golden numbers: the exact .rc sizes of two validation photos at Q 12 with the
    weights named in tests/expected/validation_bytes.json (a change to BPG, the model, the mixture,
    the tables or the coder shows up here), in RGB, by default (Mountain's native crop, a decoded
    JPEG, in JPEG colour) and with the model alone; they decode exactly."""
    import json

    from rclib import data

    expected = json.loads((EXPECTED / "validation_bytes.json").read_text())
    net = model_lib.load(model_lib.zoo()[expected["weights_id"]])
    root = data.resolve("embedded", "val")
    for name, want in expected["pictures"].items():
        assert data.sha256_file(root / f"{name}.png") == want["png_sha256"], name
        x = data.load_rgb(root / f"{name}.png")
        blob = rclib.compress(x, q=want["q"], model=net, jpeg=False)
        info = codec.info(blob)
        assert (len(blob), info["bpg_bytes"], info["table_channels"]) == (
            want["rc_bytes"], want["bpg_bytes"], want["table_channels"]), name
        assert np.array_equal(rclib.decompress(blob), x), name
        default = rclib.compress(x, q=want["q"], model=net)
        assert (len(default), codec.info(default)["jpeg_colour"]) == (want["rc_bytes_default"], want["jpeg_colour"])
        assert np.array_equal(rclib.decompress(default), x), name
        model_only = rclib.compress(x, q=want["q"], model=net, tables=False)
        assert len(model_only) == want["rc_bytes_model_only"], name
        assert np.array_equal(rclib.decompress(model_only), x), name
