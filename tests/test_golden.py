"""Golden files: .rc files written by earlier shipped weights and format versions must decode to
their committed pictures forever (the header names the weights; decompress finds them in the zoo)."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import rclib
from rclib import codec, model as model_lib
from rclib.errors import FormatError

EXPECTED = Path(__file__).parent / "expected"
# Files decode exactly on machines that compute the writer's floats (README, "Determinism"). Each
# folder numerics-<fingerprint> holds files whose header names that float path: a machine whose
# codec.numerics_fingerprint() (format version 9's) names a folder must decode all of it.  The
# version-8 folder's fingerprint is never a version-9 one: its files decode or fail loudly
# anywhere (on an AVX-512 EPYC one of them fails, README).  The files directly in expected/ were
# written before fingerprints were recorded, on the machines of earlier sessions.
GOLDEN = sorted(EXPECTED.rglob("*.rc"))
UNRECORDED = "unrecorded"


def family(path: Path) -> str:
    return path.parent.name.removeprefix("numerics-") if path.parent != EXPECTED else UNRECORDED


@pytest.fixture(scope="module")
def fingerprint() -> str:
    return codec.numerics_fingerprint()


@functools.cache  # the per-file test and the per-family test ask about the same files
def _decodes(path: Path) -> bool:
    """Whether a golden file decodes to its picture here; a FormatError (other floats fail the pixel
    checksum, or leave the residual streams undecodable) is False; other pixels fail the test."""
    expected = np.asarray(Image.open(path.with_suffix(".png")))
    try:
        got = rclib.decompress(path.read_bytes())
    except FormatError:
        return False
    assert np.array_equal(got, expected), f"{path.name} decoded to other pixels"
    return True


def test_there_are_golden_files_of_every_format_version():
    versions = {p.read_bytes()[4] for p in GOLDEN}
    assert versions == set(codec.VERSIONS)


def test_the_fingerprint_is_stable_and_names_the_float_path(fingerprint):
    assert len(fingerprint) == 12 and int(fingerprint, 16) >= 0
    assert codec.numerics_fingerprint.__wrapped__() == fingerprint  # computed again (not cached)


def test_version_8_golden_files_name_the_float_path_of_their_folder():
    """From version 8 a file that runs a network names its writer's float path; the golden files of
    a numerics folder name that folder's."""
    for path in GOLDEN:
        header = codec.unpack_header(path.read_bytes())[0]
        if header.version >= codec.FLOAT_VERSION:
            assert header.numerics.hex() == family(path), path.name


@pytest.mark.parametrize("path", GOLDEN, ids=[f"{family(p)}/{p.stem}" for p in GOLDEN])
def test_golden_file_decodes_to_its_picture_or_fails_loudly(path, fingerprint):
    """A file of this machine's numerics decodes exactly; one written elsewhere decodes exactly or
    fails loudly, never giving other pixels."""
    ok = _decodes(path)
    assert ok or family(path) != fingerprint, f"{path.name} was written with this machine's numerics"


def test_this_machines_golden_files_all_decode(fingerprint):
    """Some family of golden files decodes completely here: this machine's own where one is
    recorded, else (an unrecorded machine, such as the one the first files were written on) one
    of the others, whose numerics it shares; a machine sharing none skips, naming what to record."""
    families = {}
    for path in GOLDEN:
        families.setdefault(family(path), []).append(path)
    if fingerprint in families:
        failing = [p.name for p in families[fingerprint] if not _decodes(p)]
        assert not failing, f"written with this machine's numerics, yet fail here: {failing}"
    elif not any(all(_decodes(p) for p in paths) for paths in families.values()):
        # a float path nobody recorded: its networks' files may all fail (loudly: the test above);
        # what can be checked here is the files without a network (the test below)
        pytest.skip(f"no golden folder decodes on float path {fingerprint}: record one with "
                    f"python bench/golden.py (tests/expected/numerics-{fingerprint}/)")


def test_golden_files_coded_from_tables_alone_decode_on_every_machine():
    """A file that runs no network has no floats to disagree on: it decodes exactly everywhere."""
    tables_only = [p for p in GOLDEN if not codec.runs_network(codec.unpack_header(p.read_bytes())[0])]
    assert tables_only
    assert [p.name for p in tables_only if not _decodes(p)] == []


def test_every_golden_files_weights_are_in_the_zoo():
    zoo = model_lib.zoo()
    for path in GOLDEN:
        assert codec.unpack_header(path.read_bytes())[0].weights_id.hex() in zoo, path.name


def test_todays_default_weights_of_each_kind_have_a_golden_file():
    """New weights must not orphan files: the files the shipped defaults write today are pinned too."""
    ids = {codec.unpack_header(p.read_bytes())[0].weights_id.hex() for p in GOLDEN}
    shipped = [model_lib.DEFAULT_WEIGHTS, model_lib.DEFAULT_PLUS_WEIGHTS]
    copies = [*model_lib.DEFAULT_RGB_WEIGHTS.values(), *model_lib.DEFAULT_JPEG_WEIGHTS.values()]
    for weights in shipped + [p for p in copies if p.exists()]:
        assert model_lib.weights_id(model_lib.load(weights)) in ids, weights.name


def test_unknown_weights_are_a_clear_error():
    with pytest.raises(codec.ModelMismatch, match="not among"):
        codec.model_for_file(bytes(32))


@pytest.mark.slow
def test_validation_photos_code_to_their_expected_byte_counts(fingerprint):
    """CompressAI-style golden numbers: the exact .rc sizes of two validation photos at Q 12 with the
    weights named in tests/expected/numerics-<fingerprint>/validation_bytes.json (a change to BPG,
    the model, the mixture, the tables or the coder shows up here), in RGB, by default (Mountain's
    native crop, a decoded JPEG, in JPEG colour) and with the model alone; they decode exactly.
    A network's bytes depend on the float path, so only a machine whose path has recorded sizes
    can compare them (the others skip, naming the file to record)."""
    import json

    from rclib import data

    own = EXPECTED / f"numerics-{fingerprint}" / "validation_bytes.json"
    if not own.exists():
        pytest.skip(f"no byte counts recorded for float path {fingerprint}: record them in {own}")
    expected = json.loads(own.read_text())
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
