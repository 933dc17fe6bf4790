"""The pinned float path: `import rclib` makes every machine code on the same floats, files that
run a network name the path they were written on, and a file from another path still decodes (on
this machine's native path, in a child process) or fails with both paths named."""
from __future__ import annotations

import dataclasses
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


def _run(code: str, base: dict | None = None, **env) -> str:
    """`code` in a child process, its environment this one's (or `base`) with `env` over it."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**(os.environ if base is None else base), **env}, cwd=os.path.dirname(os.path.dirname(__file__)))
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
    assert header.version == codec.NETWORK_VERSION
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


AVX512 = any(f.startswith("avx512") for f in numerics.cpu_flags())
README_PATHS = {  # what the README's "Determinism" says an AMD EPYC with AVX-512 computes (format 9)
    ("1fe45439f5bb", "avx512"): {
        (("RCLIB_FLOAT_PATH", "baseline"),): "1a519f3cc262",
        (("RCLIB_FLOAT_PATH", "native"),): "473dce37a964",
        (("RCLIB_FLOAT_PATH", "native"), ("MKL_CBWR", "COMPATIBLE")): "e16b0339adb7",
        (("RCLIB_FLOAT_PATH", "native"), ("ATEN_CPU_CAPABILITY", "default")): "b924718716a7",
        (("RCLIB_FLOAT_PATH", "native"), ("ONEDNN_MAX_CPU_ISA", "SSE41")): "4db52ee6eb6c"},
}


@pytest.mark.slow
def test_the_readmes_float_paths_are_this_machines_where_it_is_that_machine():
    """The fingerprints the README quotes, computed again where they were measured (the native
    ones depend on the CPU's SIMD level, so only a machine of that kind can check them)."""
    from rclib.paths import ROOT

    readme = (ROOT / "README.md").read_text()
    ours = (codec.numerics_fingerprint(), "avx512" if AVX512 else "avx2")
    if ours not in README_PATHS:
        pytest.skip(f"the README describes float paths measured on other machines, not {ours}")
    assert f"`{ours[0]}`" in readme
    for env, want in README_PATHS[ours].items():
        assert f"`{want}`" in readme, want
        env = dict(env)  # over the environment from before this process's pin, as a user sets it
        assert _run(FINGERPRINT, numerics.env_for(env["RCLIB_FLOAT_PATH"]), **env) == want, env


def test_networks_floats_do_not_depend_on_the_pictures_width():
    """Why format 9 upsamples by a sub-pixel convolution: oneDNN blocks the sums of its transposed
    convolution by the picture's width (measured: a pixel's floats changed with it), and blockings
    may follow the CPU's caches, which a fingerprint cannot see.  The networks of both kinds'
    shipped shapes, as they code, give each pixel the same floats at any width where PyTorch runs oneDNN;
    the sub-pixel weights are the transposed convolution's, to rounding."""
    from rclib import model as model_lib

    torch.manual_seed(3)
    x = torch.rand(1, 3, 48, 600) * 255
    for name in ("rc_cpu_v1.pt", "rc_cpu_v4.pt"):  # the `cpu` and `cpu-head` shapes
        net = model_lib.load(model_lib.MODELS_DIR / name)
        with torch.no_grad():
            wide = net(x)
            for w in (200, 264, 344):
                keep = w - net.margin
                assert torch.equal(net(x[..., :w])[..., :keep], wide[..., :keep]), (name, w)
            low = torch.randn(1, net.config.width, 20, 30)
            assert torch.allclose(net.upsample(low), net.up(low), atol=1e-5), name
        assert model_lib.with_transposed_up(net).transposed_up and not net.transposed_up
    plus = model_lib.load(model_lib.MODELS_DIR / "rcplus_cpu_v4.pt")  # RC+'s shipped shape, `cpu+wide`
    for k, net in enumerate(plus.passes):  # plain convolutions only: the same at any width
        inputs = torch.randn(1, net.head.in_channels, 40, 300)
        with torch.no_grad():
            assert torch.equal(net(inputs[..., :132])[..., :112], net(inputs)[..., :112]), k
    assert model_lib.with_transposed_up(plus) is plus


def test_each_format_version_names_its_own_float_path():
    """Version 8 named the float path of RC's transposed convolution, 9 that of its sub-pixel
    convolution (more networks and pictures): a version-8 file is judged by the first."""
    assert codec.numerics_fingerprint(8) != codec.numerics_fingerprint(9) == codec.numerics_fingerprint()
    assert codec.fingerprint_bytes(8).hex() == codec.numerics_fingerprint(8)
    with pytest.raises(ValueError, match="names no float path"):
        codec.numerics_fingerprint(7)


def test_a_failed_file_is_retried_on_each_other_path_the_cpu_runs(monkeypatch):
    """On an AVX2 CPU the pinned path is the native one: nothing to retry from it; on an AVX-512
    CPU the native path may differ, so files from before the pin are retried on it."""
    monkeypatch.setattr(numerics, "cpu_flags", lambda: {"avx2", "fma", "sse4_1"})
    assert [numerics.alternatives(p) for p in ("avx2", "baseline", "native")] == [[], ["avx2"], []]
    monkeypatch.setattr(numerics, "cpu_flags", lambda: {"avx2", "fma", "sse4_1", "avx512f"})
    assert [numerics.alternatives(p) for p in ("avx2", "baseline", "native")] == [
        ["native"], ["avx2", "native"], ["avx2"]]


def test_the_checksum_error_of_a_file_naming_this_machines_path_says_what_that_means():
    """Version 9's fingerprint covers RC's kernels: the same path and a failed checksum is a corrupt
    file.  Version 8's missed one, so its file may come from another kind of CPU: the error says so."""
    header = codec.Header(8, 8, 14, 16, 8, bytes(32), bytes(32), 0, [0] * 6, version=9,
                          numerics=codec.fingerprint_bytes(9))
    assert "corrupt (it names this machine's float path)" in codec._checksum_message(header)
    header = dataclasses.replace(header, version=8, numerics=codec.fingerprint_bytes(8))
    message = codec._checksum_message(header)
    assert "another kind of CPU with the same version-8 float path" in message, message
