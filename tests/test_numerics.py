"""The pinned float path: `import rclib` makes every machine code on the same floats, files that
run a network name the path they were written on, and a file from another path still decodes (on
this machine's native path, in a child process) or fails with both paths named."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import rclib
from rclib import codec, numerics

from .conftest import load

AVX2 = {"avx2", "fma"} <= numerics.cpu_flags()
# What another kind of CPU would pick for itself: ATen without SIMD, oneDNN with SSE4.1, MKL's
# compatible path (each of them alone changes the floats of an unpinned coder: README, "Determinism").
ELSEWHERE = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_CBWR": "COMPATIBLE"}


def _run(code: str, **env) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


FINGERPRINT = "import rclib.codec as c; print(c.numerics_fingerprint())"


@pytest.mark.skipif(not AVX2, reason="the avx2 path needs a CPU with AVX2 and FMA")
def test_import_pins_every_library_to_avx2():
    assert numerics.ACTIVE == "avx2"
    assert {k: os.environ[k] for k in numerics.PATHS["avx2"]} == numerics.PATHS["avx2"]
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"
    assert numerics.check()


@pytest.mark.skipif(not AVX2, reason="the avx2 path needs a CPU with AVX2 and FMA")
def test_the_pin_overrides_what_another_cpu_would_pick():
    """A process set up as another CPU would run (other SIMD levels) computes this process's floats
    once rclib pins them, and other floats when told to stay native."""
    ours = codec.numerics_fingerprint()
    assert _run(FINGERPRINT, **ELSEWHERE) == ours
    assert _run(FINGERPRINT, **ELSEWHERE, RCLIB_FLOAT_PATH="native") != ours


def test_native_env_gives_back_what_the_pin_replaced(monkeypatch):
    for key in numerics.PATHS["avx2"]:
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(numerics._SAVED + key, raising=False)
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")
    monkeypatch.setenv(numerics.VARIABLE, "avx2")
    monkeypatch.setattr(numerics, "cpu_flags", lambda: {"avx2", "fma", "sse4_1"})
    assert numerics.pin() == "avx2" and os.environ["ATEN_CPU_CAPABILITY"] == "avx2"
    env = numerics.native_env()
    assert env["ATEN_CPU_CAPABILITY"] == "avx512" and "ONEDNN_MAX_CPU_ISA" not in env
    assert env[numerics.VARIABLE] == "native"
    monkeypatch.setattr(numerics, "cpu_flags", lambda: set())  # a CPU without AVX2: stays native
    assert numerics.requested() == "native"


@pytest.fixture(scope="module")
def network_file():
    x = load("chelsea.png")[40:103, 60:157]
    return x, codec.compress(x, 14, "rc")


def test_a_file_that_runs_a_network_names_its_float_path(network_file, tiny_model):
    x, data = network_file
    header = codec.unpack_header(data)[0]
    assert header.version == codec.FLOAT_VERSION
    assert header.numerics.hex() == codec.numerics_fingerprint() == codec.info(data)["float_path"]
    assert np.array_equal(rclib.decompress(data), x)
    # a file from tables alone runs no network: it decodes anywhere and keeps version 4
    flat = np.full((40, 56, 3), 77, np.uint8)
    flat[::3, ::5] = 80
    tables_only = codec.compress(flat, 14, tiny_model, jpeg=False)
    assert codec.unpack_header(tables_only)[0].version == codec.VERSION, codec.info(tables_only)
    assert codec.info(tables_only)["float_path"] is None


def test_a_file_from_another_float_path_decodes_natively_or_names_both_paths(network_file, tmp_path):
    """On the "baseline" path (SSE only) a file written here fails the checksum in-process; decompress
    then decodes it again on this machine's native path in a child process.  Given a model object
    (no child can rebuild it) the error names both float paths."""
    x, data = network_file
    (tmp_path / "f.rc").write_bytes(data)
    np.save(tmp_path / "x.npy", x)
    code = f"""
import numpy as np, rclib
from rclib import codec
data, x = open({str(tmp_path / 'f.rc')!r}, 'rb').read(), np.load({str(tmp_path / 'x.npy')!r})
assert codec.numerics_fingerprint() != codec.unpack_header(data)[0].numerics.hex()
assert np.array_equal(rclib.decompress(data), x)
net = codec.model_for_file(codec.unpack_header(data)[0].weights_id)
try:
    codec.decompress(data, model=net)
except codec.FloatPathError as exc:
    print(exc)
"""
    message = _run(code, RCLIB_FLOAT_PATH="baseline")
    assert codec.numerics_fingerprint() in message and "this machine computes" in message, message


README_PATHS = {  # what the README's "Determinism" says this AMD EPYC (AVX2) machine computes
    "7c971ed78f29": {(("RCLIB_FLOAT_PATH", "baseline"),): "bafb4f16a193",
                     (("RCLIB_FLOAT_PATH", "native"), ("MKL_CBWR", "COMPATIBLE")): "a322eaf3b2e0",
                     (("RCLIB_FLOAT_PATH", "native"), ("ATEN_CPU_CAPABILITY", "default")): "6ce5a3d9bb6d",
                     (("RCLIB_FLOAT_PATH", "native"), ("ONEDNN_MAX_CPU_ISA", "SSE41")): "f0e632324578"},
}


@pytest.mark.slow
def test_the_readmes_float_paths_are_this_machines_where_it_is_that_machine():
    from rclib.paths import ROOT

    readme = (ROOT / "README.md").read_text()
    ours = codec.numerics_fingerprint()
    assert f"`{ours}`" in readme or ours not in README_PATHS
    if ours not in README_PATHS:
        pytest.skip(f"the README describes float paths measured on other machines, not {ours}")
    for env, want in README_PATHS[ours].items():
        assert f"`{want}`" in readme, want
        assert _run(FINGERPRINT, **dict(env)) == want, env


def test_a_failed_file_is_retried_on_each_other_path_the_cpu_runs(monkeypatch):
    """On an AVX2 CPU the pinned path is the native one: nothing to retry from it; on an AVX-512
    CPU the native path may differ, so files from before the pin are retried on it."""
    monkeypatch.setattr(numerics, "cpu_flags", lambda: {"avx2", "fma", "sse4_1"})
    assert [numerics.alternatives(p) for p in ("avx2", "baseline", "native")] == [[], ["avx2"], []]
    monkeypatch.setattr(numerics, "cpu_flags", lambda: {"avx2", "fma", "sse4_1", "avx512f"})
    assert [numerics.alternatives(p) for p in ("avx2", "baseline", "native")] == [
        ["native"], ["avx2", "native"], ["avx2"]]
