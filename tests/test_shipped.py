"""The shipped weights: they load, they code the real validation photos bit-exactly, and the
files are close to the model's own estimate of the bits."""
from __future__ import annotations

import json

import numpy as np
import pytest

import rclib
from rclib import bpg, classifier, codec, data, model as model_lib, qselect


def test_shipped_weights_and_their_record():
    assert codec.default_model().config.name == "cpu+wide"  # the default kind is RC+
    for kind, path, name in (("rc", model_lib.DEFAULT_WEIGHTS, "cpu-head"), ("rc+", model_lib.DEFAULT_PLUS_WEIGHTS, "cpu+wide")):
        net = codec.default_model(kind)
        assert net.config.name == name
        info = json.loads(path.with_suffix(".json").read_text())
        assert info["weights_id"] == model_lib.weights_id(net)
        assert info["command"] and info["steps"] > 0
        assert any(k.startswith("val_bpsp") for k in info)
    clf = classifier.load()
    assert clf.qs == qselect.Q_RANGES["rc"]


def test_shipped_weights_record_the_training_split_they_were_trained_on():
    data.resolve("embedded", "train")
    for path in model_lib.zoo().values():
        record = json.loads(path.with_suffix(".json").read_text())["training_set"]
        photos, digest = data.split_digest("train", packages=record.get("packages"),
                                           variants=record.get("variants"))
        assert (record["photos"], record["sha256"]) == (photos, digest), path.name


VAL_PHOTOS = 41  # the embedded validation split (checked below)


@pytest.fixture(scope="module")
def val_photos() -> list:
    return data.list_images(data.resolve("embedded", "val"))


def test_the_validation_split_has_its_photos(val_photos):
    assert len(val_photos) == sum(len(data.variants(p)) for p in data.EMBEDDED_PHOTOS if p[0] == "val") == VAL_PHOTOS


@pytest.mark.slow
@pytest.mark.parametrize("i", range(VAL_PHOTOS))  # one test a photo, so test workers share them
def test_validation_photos_round_trip_with_shipped_weights(val_photos, i):
    path = val_photos[i]
    x = data.load_rgb(path)
    # RC on every fourth photo, RC+ on every other (each native crop, a decoded JPEG that both code
    # in JPEG colour with their networks and a fitted tau, by one of them: RC on 8, RC+ on 7); the
    # estimate on RC's and on every third photo's RC+ files
    native = "~native" in path.name
    kinds = ("rc",) if native and i % 4 == 1 else ("rc+", "rc") if i % 4 == 1 else ("rc+",)
    for kind in kinds:
        blob = rclib.compress(x, q=12, model=kind)
        assert np.array_equal(rclib.decompress(blob), x), (path.name, kind)
        if kind == "rc+" and i % 3:
            continue
        info = codec.info(blob)
        estimate = 8 * info["bpg_bytes"] + codec.estimate_residual_bits(
            x, bpg.decode(codec.extract_bpg(blob)), 12, model=kind)
        assert 8 * info["bytes"] <= 1.005 * estimate, (path.name, kind)


def test_auto_and_tau_round_trip_with_shipped_weights(photos):
    x = photos["coffee_odd"]
    for kwargs in ({"q": "auto"}, {"q": 13, "tau": True, "model": "rc"}, {"q": "auto", "model": "rc"},
                   {"q": 17, "tau": True, "model": "rc+"}):
        blob = rclib.compress(x, **kwargs)
        assert np.array_equal(rclib.decompress(blob), x)


def test_estimate_with_tau_is_what_a_tau_file_costs(photos):
    """estimate_residual_bits(tau=True) fits tau as the encoder does (residual_entropy's tau columns):
    never more bits than without, and a --tau file coded by the network alone costs about that."""
    x = photos["coffee_odd"]
    for kind, q in (("rc", 13), ("rc+", 17)):
        blob = codec.compress(x, q=q, model=kind, tau=True, tables=False, jpeg=False)
        assert np.array_equal(rclib.decompress(blob), x)
        x_l = bpg.decode(codec.extract_bpg(blob))
        plain = codec.estimate_residual_bits(x, x_l, q, model=kind, tables=False)
        tempered = codec.estimate_residual_bits(x, x_l, q, model=kind, tables=False, tau=True)
        assert tempered <= plain, kind
        info = codec.info(blob)
        assert 8 * info["bytes"] <= 1.005 * (8 * info["bpg_bytes"] + tempered), kind
        assert (tempered < plain) == info["tau"], kind


def test_auto_model_keeps_the_smaller_of_rc_and_rc_plus(photos):
    """The default model, "auto": each kind codes the picture at its own Q strategy and the smaller
    file is kept, decoded from its header alone (RC+ on a smooth photo, RC on a noisy one here)."""
    rng = np.random.default_rng(0)
    smooth = photos["coffee_odd"][:96, :128]
    noisy = np.clip(smooth + rng.normal(0, 6, smooth.shape), 0, 255).astype(np.uint8)
    kinds = set()
    for x in (smooth, noisy):
        tries = {kind: rclib.compress(x, model=kind) for kind in ("rc", "rc+")}
        blob = rclib.compress(x)
        assert blob == min(tries.values(), key=len)
        kinds.add(codec.info(blob)["model"])
        assert np.array_equal(rclib.decompress(blob), x)
    assert kinds == {"rc", "rc+"}
