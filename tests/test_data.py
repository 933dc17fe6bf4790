"""Datasets and prep: the embedded recipe, archive fetching with checksums, the BPG prep cache."""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rclib import data, prep

from .conftest import VECTORS


# ----------------------------------------------------------------------------- paper-set loader
@pytest.fixture()
def http_root(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/www; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _zip_of_pictures(photos) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("chelsea", "coffee_odd"):
            png = io.BytesIO()
            Image.fromarray(photos[name][:40, :50]).save(png, format="PNG")
            zf.writestr(f"set/sub/{name}.png", png.getvalue())
    return buf.getvalue()


def test_fetch_archive_verifies_and_unpacks(http_root, tmp_path, photos):
    www, url = http_root
    blob = _zip_of_pictures(photos)
    (www / "set.zip").write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    folder = data.fetch_archive("set", f"{url}/set.zip", digest, root=tmp_path / "cache", progress=False)
    assert sorted(p.name for p in data.list_images(folder)) == ["chelsea.png", "coffee_odd.png"]
    assert np.array_equal(data.load_rgb(folder / "chelsea.png"), photos["chelsea"][:40, :50])
    # Cached: a second call does not download again (the server no longer has the file).
    (www / "set.zip").unlink()
    assert data.fetch_archive("set", f"{url}/set.zip", digest, root=tmp_path / "cache") == folder


def test_fetch_archive_rejects_a_wrong_checksum(http_root, tmp_path, photos):
    www, url = http_root
    (www / "set.zip").write_bytes(_zip_of_pictures(photos))
    with pytest.raises(data.DatasetError, match="SHA-256"):
        data.fetch_archive("set", f"{url}/set.zip", "0" * 64, root=tmp_path / "c", progress=False)
    assert not list((tmp_path / "c").glob("set*.zip*"))


def test_fetch_archive_pins_the_first_digest(http_root, tmp_path, photos):
    www, url = http_root
    (www / "a.zip").write_bytes(_zip_of_pictures(photos))
    data.fetch_archive("a", f"{url}/a.zip", None, root=tmp_path / "c", progress=False)
    (tmp_path / "c" / "a" / ".complete").unlink()
    (tmp_path / "c" / "a.zip").unlink()  # the cached archive too: the next download must match the pin
    (www / "a.zip").write_bytes(b"PK" + b"changed content")
    with pytest.raises(data.DatasetError, match="does not match"):
        data.fetch_archive("a", f"{url}/a.zip", None, root=tmp_path / "c", progress=False)


def test_fetch_archive_network_error_is_clear(tmp_path):
    with pytest.raises(data.DatasetError, match="could not download"):
        data.fetch_archive("x", "http://127.0.0.1:9/x.zip", None, root=tmp_path, progress=False)


# ----------------------------------------------------------------------------- embedded set
def test_embedded_recipe_is_well_formed():
    names = [(p[1], p[2]) for p in data.EMBEDDED_PHOTOS]
    assert len(names) == len(set(names))
    packages = {split: {p[1] for p in data.EMBEDDED_PHOTOS if p[0] == split} for split in ("train", "val")}
    assert not packages["train"] & packages["val"], "a package must not feed both splits"
    assert all(len(p[3]) == 64 for p in data.EMBEDDED_PHOTOS)


def test_prepare_embedded_subset(tmp_path):
    root = data.prepare_embedded(tmp_path / "emb", limit=1, progress=False)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    train_photo, val_photo = data._select(1)
    assert files == sorted([f"train/{data._out_name(train_photo, v)}" for v in data.TRAIN_VARIANTS]
                           + [f"val/{data._out_name(val_photo)}"])
    for f in files:
        h, w = data.load_rgb(root / f).shape[:2]
        assert 256 <= max(h, w) <= 1024
    manifest = (root / "manifest.csv").read_text()
    assert all(f in manifest for f in files)
    # Deterministic: preparing again into another folder gives the same PNG bytes.
    again = data.prepare_embedded(tmp_path / "emb2", limit=1, progress=False)
    for f in files:
        assert data.sha256_file(root / f) == data.sha256_file(again / f)


# ----------------------------------------------------------------------------- prep cache
@pytest.fixture()
def small_folder(tmp_path, photos):
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.fromarray(photos["coffee_odd"][:64, :96]).save(folder / "coffee.png")
    Image.fromarray(photos["chelsea"][:48, :40]).save(folder / "chelsea.png")
    return folder


def test_prep_writes_the_documented_layout(small_folder, tmp_path):
    out = tmp_path / "prep"
    table = prep.prep(small_folder, out, qs=[12, 15], workers=2, progress=False)
    assert len(table) == 4 and set(table.q) == {12, 15}
    for stem in ("coffee", "chelsea"):
        for q in (12, 15):
            blob = (prep.q_dir(out, q) / f"{stem}.bpg").read_bytes()
            from rclib import bpg
            x_l = data.load_rgb(prep.q_dir(out, q) / f"{stem}.png")
            assert np.array_equal(bpg.decode(blob), x_l)
    assert (out / "prep.csv").exists()
    # Lower Q costs more BPG bits and leaves a smaller residual.
    for _, rows in table.groupby("image"):
        rows = rows.sort_values("q")
        assert rows.bpg_bytes.iloc[0] > rows.bpg_bytes.iloc[1]
        assert rows.resid_entropy_bpsp.iloc[0] <= rows.resid_entropy_bpsp.iloc[1] + 0.05


def test_prep_skips_work_already_done(small_folder, tmp_path, monkeypatch):
    out = tmp_path / "prep"
    first = prep.prep(small_folder, out, qs=[13], workers=1, progress=False)
    from rclib import bpg

    def fail(*a, **k):
        raise AssertionError("prep re-encoded a cached picture")

    monkeypatch.setattr(bpg, "encode", fail)
    second = prep.prep(small_folder, out, qs=[13], workers=1, progress=False)
    assert first.equals(second)


def test_residual_stats_on_identical_pictures():
    x = np.asarray(Image.open(VECTORS / "tiny.png").convert("RGB"))
    s = prep.residual_stats(x, x)
    assert s["resid_mae"] == 0 and s["resid_entropy_bpsp"] == 0 and s["psnr"] == float("inf")




def test_photos_left_by_an_older_recipe_are_removed(tmp_path):
    root = tmp_path / "emb"
    (root / "train").mkdir(parents=True)
    stale = root / "train" / "gone-package__old.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(stale)
    data.prepare_embedded(root, limit=1, progress=False)
    assert not stale.exists()
    assert len(list((root / "train").glob("*.png"))) == len(data.TRAIN_VARIANTS)


def test_embedded_output_names_are_unique():
    names = [data._out_name(p, v) for p in data.EMBEDDED_PHOTOS for v in data.variants(p)]
    assert len(names) == len(set(names))
    assert data.package_of("enlightenment-data__Bamboo~native.png") == "enlightenment-data~native"
    assert data.package_of("lxqt-themes__fog.png") == "lxqt-themes"


def test_photo_inside_a_qt_resource_is_verified():
    """gcompris keeps its photos in .rcc containers: read one, checked against the recipe."""
    rgb = data.source_photo("gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!"
                            "gcompris/src/activities/explore_farm_animals/resource/animals/cat.webp")
    assert rgb.shape == (768, 1024, 3)


def test_sensor_noise_grows_with_the_signal_and_is_seeded():
    flat = np.concatenate([np.full((64, 64, 3), 30, np.uint8), np.full((64, 64, 3), 220, np.uint8)], 1)
    noisy = [data.add_sensor_noise(flat, np.random.default_rng(s)).astype(int) - flat for s in (1, 2)]
    for n in noisy:
        dark, bright = n[:, :64].std(), n[:, 64:].std()
        assert 0.3 < dark < bright < 8
    assert not np.array_equal(noisy[0], noisy[1])
    assert np.array_equal(data.add_sensor_noise(flat, np.random.default_rng(1)).astype(int) - flat, noisy[0])


def test_variants_of_a_photo():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (1200, 1800, 3), dtype=np.uint8)
    native = data.make_variant(rgb, "k", "~native")
    assert native.shape == (512, 768, 3) and np.array_equal(native, rgb[344:856, 516:1284])
    assert 256 <= max(data.make_variant(rgb, "k", "~small").shape) <= 512
    assert 512 <= max(data.make_variant(rgb, "k", "").shape) <= 900
    assert np.array_equal(data.make_variant(rgb, "k", "~noisy"), data.make_variant(rgb, "k", "~noisy"))


def test_a_limited_run_never_rewrites_the_full_sets_manifest(tmp_path, monkeypatch):
    """`limit` prepares into its own folder by default, so the full set's manifest (and the digest
    that ship() records from it) stays the full set's."""
    debs = data.cache_dir() / "debs"   # the real package cache, shared (downloaded when missing)
    debs.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("RCLIB_CACHE", str(tmp_path))
    (tmp_path / "debs").symlink_to(debs)
    full = tmp_path / "embedded"
    full.mkdir()
    (full / "manifest.csv").write_text("the full set's manifest\n")
    root = data.prepare_embedded(limit=1, progress=False)
    assert root == tmp_path / "embedded-limit1" and (root / "manifest.csv").exists()
    assert (full / "manifest.csv").read_text() == "the full set's manifest\n"
