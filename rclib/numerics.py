"""The float path rclib's coder runs on: pinned at import so that other CPUs compute the same floats.

The decoder must rebuild the encoder's CDFs bit for bit, and PyTorch picks its CPU kernels by
the machine: ATen's SIMD level (AVX-512, AVX2 or none), oneDNN's ISA for convolutions and
MKL's code path for the 1x1 convolutions (matrix products).  Each changes the floats (README,
"Determinism").  So `import rclib` pins all three to AVX2 with FMA, which every x86-64 CPU of
the last decade has, before any torch kernel runs (they read these variables once, on first
use).  RCLIB_FLOAT_PATH chooses: "avx2" (the default), "baseline" (SSE only: slower, for
x86-64 CPUs without AVX2) or "native" (leave PyTorch's own choice, as rclib did before).
This module imports nothing of rclib and no torch, so it can run first.
"""
from __future__ import annotations

import os
import platform
import warnings

PATHS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"},
    "baseline": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_CBWR": "COMPATIBLE"},
    "native": {},
}
ATEN_NAME = {"avx2": "AVX2", "baseline": "DEFAULT"}  # torch.backends.cpu.get_cpu_capability()
VARIABLE = "RCLIB_FLOAT_PATH"
_SAVED = "RCLIB_SAVED_"  # prefix of the variables that keep what the pin replaced, for native_env


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux x86-64); empty where they cannot be read."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def requested() -> str:
    """The float path asked for: RCLIB_FLOAT_PATH, else "avx2" where the CPU has AVX2 and FMA
    (a path the CPU lacks would crash on an illegal instruction: such machines stay native)."""
    name = os.environ.get(VARIABLE, "").strip().lower()
    if name and name not in PATHS:
        warnings.warn(f"rclib: ignoring {VARIABLE}={name!r} (expected one of {', '.join(PATHS)})",
                      RuntimeWarning, stacklevel=3)
        name = ""
    flags = cpu_flags()
    need = {"avx2": {"avx2", "fma"}, "baseline": {"sse4_1"}}
    chosen = name or "avx2"
    return chosen if chosen == "native" or need[chosen] <= flags else "native"


ACTIVE = "native"  # the path pin() chose for this process


def pin() -> str:
    """Set the pinned path's variables (keeping any values they replace for native_env); returns
    the path's name.  Called once, by `import rclib`, before torch runs a kernel."""
    global ACTIVE
    name = ACTIVE = requested()
    for key, value in PATHS[name].items():
        if os.environ.get(key) != value and _SAVED + key not in os.environ:
            os.environ[_SAVED + key] = os.environ.get(key, "")
        os.environ[key] = value
    return name


def native_env() -> dict[str, str]:
    """This process's environment without the pin: for a child process that decodes files written
    on the native path of this machine (files from before the pin)."""
    return env_for("native")


def env_for(name: str) -> dict[str, str]:
    """This process's environment as it was before the pin, asking a child process for path `name`
    (the child pins itself when it imports rclib)."""
    env = dict(os.environ)
    for key in PATHS["avx2"]:
        saved = env.pop(_SAVED + key, None)
        if saved is not None:
            if saved:
                env[key] = saved
            else:
                env.pop(key, None)
    env[VARIABLE] = name
    return env


def alternatives(name: str | None = None) -> list[str]:
    """The other float paths this CPU runs that may compute other floats than `name` (default:
    this process's), the pinned one first: where a file that failed here may decode."""
    name = ACTIVE if name is None else name
    avx2_is_native = not differs_from_native("avx2")
    out = []
    if name != "avx2" and {"avx2", "fma"} <= cpu_flags() and not (name == "native" and avx2_is_native):
        out.append("avx2")
    if name != "native" and differs_from_native(name) and not (out and avx2_is_native):
        out.append("native")
    return out


def differs_from_native(name: str) -> bool:
    """Whether the pinned path may compute other floats than this machine's native one: always
    for "baseline"; for "avx2" only on CPUs with AVX-512 (where PyTorch would pick it)."""
    if name == "native":
        return False
    return name == "baseline" or any(f.startswith("avx512") for f in cpu_flags())


def check(name: str | None = None) -> bool:
    """Whether ATen runs the pinned path (default: this process's); warns where torch ran kernels
    before rclib was imported (then the variables came too late: this process codes natively)."""
    name = ACTIVE if name is None else name
    if name == "native":
        return True
    import torch

    got = torch.backends.cpu.get_cpu_capability()
    if got != ATEN_NAME[name]:
        warnings.warn(f"rclib: torch ran before rclib was imported, so its float path is {got}, not "
                      f"{ATEN_NAME[name]}: files written here may fail to decode on other CPUs (import "
                      f"rclib before using torch)", RuntimeWarning, stacklevel=3)
        return False
    return True
