"""The command line: round trips through files, one-line errors and non-zero exits on bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rclib import cli, codec, model as model_lib, qselect

from .conftest import VECTORS


def rclib_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rclib", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory, tiny_model):
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    model_lib.save(tiny_model, path)
    return path


def test_bpg_encode_decode_round_trip(tmp_path):
    out_bpg, out_png = tmp_path / "c.bpg", tmp_path / "c.png"
    r = rclib_cli("bpg-encode", VECTORS / "coffee_odd.png", out_bpg, "--q", 14)
    assert r.returncode == 0, r.stderr
    assert out_bpg.read_bytes()[:4] == b"\x42\x50\x47\xfb"
    r = rclib_cli("bpg-decode", out_bpg, out_png)
    assert r.returncode == 0, r.stderr
    x = np.asarray(Image.open(VECTORS / "coffee_odd.png").convert("RGB"))
    y = np.asarray(Image.open(out_png))
    assert y.shape == x.shape and np.abs(y.astype(int) - x).mean() < 3


def test_bpg_decode_reference_vector(tmp_path):
    out = tmp_path / "a.png"
    assert rclib_cli("bpg-decode", VECTORS / "coffee_odd_q29_420.bpg", out).returncode == 0
    ref = np.asarray(Image.open(VECTORS / "coffee_odd_q29_420.dec.png").convert("RGB"))
    assert np.array_equal(np.asarray(Image.open(out)), ref)


def test_compress_decompress_exact(tmp_path, tiny_weights, photos):
    src = tmp_path / "in.ppm"
    Image.fromarray(photos["coffee_odd"]).save(src)
    rc, png = tmp_path / "x.rc", tmp_path / "x.png"
    r = rclib_cli("compress", src, rc, "--q", 13, "--model", tiny_weights)
    assert r.returncode == 0, r.stderr
    assert "bpsp" in r.stdout
    r = rclib_cli("decompress", rc, png, "--model", tiny_weights)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(Image.open(png)), photos["coffee_odd"])
    info = rclib_cli("info", rc, "--extract-bpg", tmp_path / "preview.bpg")
    assert info.returncode == 0 and "q: 13" in info.stdout.replace("  ", "")
    assert (tmp_path / "preview.bpg").read_bytes()[:4] == b"\x42\x50\x47\xfb"


def test_existing_output_needs_force(tmp_path, tiny_weights, photos):
    src, out = tmp_path / "in.png", tmp_path / "out.rc"
    Image.fromarray(photos["coffee_odd"][:20, :20]).save(src)
    out.write_bytes(b"keep me")
    r = rclib_cli("compress", src, out, "--model", tiny_weights)
    assert r.returncode != 0 and "exists" in r.stderr
    assert out.read_bytes() == b"keep me"
    assert rclib_cli("compress", src, out, "--model", tiny_weights, "--force").returncode == 0
    assert out.read_bytes()[:4] == codec.MAGIC


@pytest.mark.parametrize("content", [b"", b"not an image", b"\x89PNG\r\n\x1a\n\0\0"])
def test_unreadable_inputs_are_one_line_errors(tmp_path, content):
    src = tmp_path / "broken.png"
    src.write_bytes(content)
    r = rclib_cli("compress", src, tmp_path / "o.rc")
    assert r.returncode == 1
    assert r.stderr.startswith("rclib: error:") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr


def test_corrupt_rc_is_one_line_error(tmp_path, tiny_weights, photos):
    data = codec.compress(photos["coffee_odd"][:40, :40], model=model_lib.load(tiny_weights))
    bad = tmp_path / "bad.rc"
    bad.write_bytes(data[: len(data) // 2])
    r = rclib_cli("decompress", bad, tmp_path / "o.png", "--model", tiny_weights)
    assert r.returncode == 1 and r.stderr.startswith("rclib: error:") and "Traceback" not in r.stderr
    assert not (tmp_path / "o.png").exists()


def test_missing_input_and_missing_model(tmp_path):
    r = rclib_cli("decompress", tmp_path / "nope.rc", tmp_path / "o.png")
    assert r.returncode == 1 and "nope.rc" in r.stderr
    src = VECTORS / "tiny.png"
    r = rclib_cli("compress", src, tmp_path / "o.rc", "--model", tmp_path / "missing.pt")
    assert r.returncode == 1 and "not found" in r.stderr


@pytest.mark.parametrize("mode,ok", [("RGBA-opaque", True), ("RGBA", False), ("I;16", False),
                                      ("P", True), ("L", True), ("CMYK", False)])
def test_picture_modes(tmp_path, tiny_weights, photos, mode, ok):
    """Exact conversions are accepted and round-trip; lossy ones are refused, never reduced."""
    x = photos["chelsea"][:24, :30]
    if mode == "RGBA-opaque":
        im = Image.fromarray(x).convert("RGBA")
    elif mode == "RGBA":
        a = np.full(x.shape[:2] + (1,), 255, np.uint8)
        a[0, 0] = 10
        im = Image.fromarray(np.concatenate([x, a], axis=2))
    elif mode == "I;16":
        im = Image.fromarray(x[..., 0].astype(np.uint16) * 257)
    elif mode == "P":
        im = Image.fromarray(x).quantize(16)
    elif mode == "L":
        im = Image.fromarray(x[..., 1])
    else:
        im = Image.fromarray(x).convert("CMYK")
    src = tmp_path / ("in.tif" if mode in ("I;16", "CMYK") else "in.png")
    im.save(src)
    rc, png = tmp_path / "o.rc", tmp_path / "o.png"
    r = rclib_cli("compress", src, rc, "--model", tiny_weights)
    if not ok:
        assert r.returncode == 1 and "rclib: error:" in r.stderr and not rc.exists()
        return
    assert r.returncode == 0, r.stderr
    assert rclib_cli("decompress", rc, png, "--model", tiny_weights).returncode == 0
    back = np.asarray(Image.open(png))
    expect = np.asarray(im.convert("L") if mode == "L" else im.convert("RGB"))
    assert np.array_equal(back, expect)


def test_parser_lists_every_command():
    text = cli.build_parser().format_help()
    for command in ("compress", "decompress", "info", "bpg-encode", "bpg-decode", "prep", "train"):
        assert command in text


def test_bench_runs_models_side_by_side(tmp_path, tiny_weights, tiny_plus_model, photos):
    """`rclib bench --model A B --q auto 13`: one row per picture, model and Q choice, each a
    verified round trip (bench_rclib raises otherwise), beside the baselines."""
    import pandas as pd

    folder = tmp_path / "pics"
    folder.mkdir()
    for name in ("coffee_odd", "chelsea"):
        Image.fromarray(photos[name][:40, :52]).save(folder / f"{name}.png")
    plus = tmp_path / "plus.pt"
    model_lib.save(tiny_plus_model, plus)
    csv = tmp_path / "bench.csv"
    r = rclib_cli("bench", folder, "--model", tiny_weights, plus, "--q", "auto", "13", "--csv", csv)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(csv)
    rows = {f"rclib {m} Q{q}" for m in (tiny_weights, plus) for q in ("auto", 13)}
    assert rows | {"PNG", "WebP-LL"} <= set(table.codec)
    assert (table.groupby("codec").image.count()[sorted(rows)] == 2).all()
    assert set(table[table.codec == f"rclib {plus} Q13"].q) == {13}
    assert set(table[table.codec == f"rclib {plus} Qauto"].q) <= set(qselect.AUTO_QS["rc+"])
    assert f"rclib {plus}: residual model forward pass" in r.stdout


def test_bench_cache_reuses_matching_files_only(tmp_path, tiny_model, photos, monkeypatch):
    """bench's cache: a second run with the same picture, settings and setup reads the file and
    its encode time back (and still decodes and checks it); other settings code afresh; a file
    altered in the cache is caught by the round trip check, never reported."""
    from rclib import bench

    x = photos["coffee_odd"][:40, :52]
    cache = tmp_path / "cache"
    before = dict(bench.REUSED)
    first = bench.bench_rclib(x, 13, tiny_model, cache=cache)
    again = bench.bench_rclib(x, 13, tiny_model, cache=cache)
    assert bench.REUSED["rclib"] == before["rclib"] + 1
    assert again["bytes"] == first["bytes"] and again["encode_mpix_s"] == first["encode_mpix_s"]
    bench.bench_rclib(x, 14, tiny_model, cache=cache)                # another Q
    bench.bench_rclib(x, 13, tiny_model, tau=True, cache=cache)      # another setting
    bench.bench_rclib(x[:, :50], 13, tiny_model, cache=cache)        # another picture
    assert bench.REUSED["rclib"] == before["rclib"] + 1
    assert len(list(cache.glob("*.rc"))) == 4
    png = bench.bench_baseline("PNG", x, cache)
    assert bench.bench_baseline("PNG", x, cache) == png and bench.REUSED["baseline"] == before["baseline"] + 1
    for f in cache.glob("*.rc"):   # damage every cached file: the decode check refuses it
        data = bytearray(f.read_bytes())
        data[-1] ^= 0xFF
        f.write_bytes(bytes(data))
    with pytest.raises(Exception):
        bench.bench_rclib(x, 13, tiny_model, cache=cache)


def test_bench_tau_row_continues_the_row_without_tau(tiny_model, photos, monkeypatch):
    """A picture's row with tau fits tau to the files its row without tau made (same q, model,
    tables), not searching and coding again: the same bytes as qselect.compress(tau=True), and an
    encode time of both stages."""
    from rclib import bench

    x = photos["chelsea"][:48, :64]
    searches = []
    real = qselect.files
    monkeypatch.setattr(qselect, "files", lambda *a, **k: searches.append(k) or real(*a, **k))
    shared = {}
    plain = bench.bench_rclib(x, "auto", tiny_model, shared=shared)
    tuned = bench.bench_rclib(x, "auto", tiny_model, tau=True, shared=shared)
    assert len(searches) == 1
    assert tuned["bytes"] == len(qselect.compress(x, q="auto", model=tiny_model, tau=True)) <= plain["bytes"]
    assert tuned["encode_mpix_s"] < plain["encode_mpix_s"]
    searches.clear()
    bench.bench_rclib(x, 13, tiny_model, tau=True, shared=shared)   # another Q: coded afresh
    assert len(searches) == 1


def test_bench_cache_names_the_classifier_in_effect(photos, monkeypatch, tmp_path):
    """$RCLIB_CLASSIFIER naming the shipped classifier (as `make reproduce` does) finds the same
    cache entries as leaving it unset (Run All in JupyterLab); another classifier, other entries."""
    from rclib import bench, classifier

    x = photos["coffee_odd"][:16, :16]
    monkeypatch.delenv("RCLIB_CLASSIFIER", raising=False)
    unset = bench._key(x, "rclib", "auto")
    monkeypatch.setenv("RCLIB_CLASSIFIER", str(classifier.DEFAULT_WEIGHTS))
    assert bench._key(x, "rclib", "auto") == unset
    other = tmp_path / "clf.pt"
    other.write_bytes(classifier.DEFAULT_WEIGHTS.read_bytes() + b"\0")
    monkeypatch.setenv("RCLIB_CLASSIFIER", str(other))
    assert bench._key(x, "rclib", "auto") != unset
    png = bench._key(x, "baseline", "PNG")   # a baseline's entry knows no classifier
    monkeypatch.delenv("RCLIB_CLASSIFIER")
    assert bench._key(x, "baseline", "PNG") == png


def test_info_puts_this_machines_float_path_beside_the_files():
    """A file that runs a network names its writer's float path; info shows this machine's for
    the file's format version beside it (they differ where the checksum may fail)."""
    expected = Path(__file__).parent / "expected"
    for path in (next(expected.glob("numerics-*/v8_rc_cpu_*.rc")), next(expected.glob("numerics-*/v9_rc_cpu_*.rc"))):
        out = rclib_cli("info", path)
        assert out.returncode == 0, out.stderr
        lines = dict((k.strip(), v.strip()) for k, v in (line.split(":", 1) for line in out.stdout.splitlines()))
        version = int(lines["version"])
        assert lines["float_path"] == codec.unpack_header(path.read_bytes())[0].numerics.hex()
        assert lines["this machine"] == codec.numerics_fingerprint(version), path.name
