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
    assert versions >= {1}


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_file_decodes_to_its_picture(path):
    blob = path.read_bytes()
    expected = np.asarray(Image.open(path.with_suffix(".png")))
    assert np.array_equal(rclib.decompress(blob), expected)


def test_every_golden_files_weights_are_in_the_zoo():
    zoo = model_lib.zoo()
    for path in GOLDEN:
        assert codec.unpack_header(path.read_bytes())[0].weights_id.hex() in zoo, path.name


def test_unknown_weights_are_a_clear_error():
    with pytest.raises(codec.ModelMismatch, match="not among"):
        codec.model_for_file(bytes(32))
