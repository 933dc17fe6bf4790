"""The project's shape: the dependency lists agree, the entry points exist."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return {_name(r): r.replace(" ", "") for r in reqs}


def _environment_yml() -> dict[str, str]:
    pip_section = False
    out = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("- pip:"):
            pip_section = True
            continue
        if pip_section and stripped.startswith("- ") and not stripped.startswith("- -e"):
            req = stripped[2:].strip()
            out[_name(req)] = req.replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    assert _environment_yml() == _pyproject()


def test_torch_is_pinned():
    assert _pyproject()["torch"] == "torch==2.13.0"


def test_layout_of_the_design_card():
    for path in ("notebooks", "rclib", "data", "environment.yml", "Makefile", "README.md", "tests",
                 ".ci/run", "LICENSE"):
        assert (ROOT / path).exists(), path
    assert "make test" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make reproduce" in readme


def test_notebooks_have_a_parameters_cell():
    import json

    books = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert books
    for nb in books:
        cells = json.loads(nb.read_text())["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, nb.name


def test_notebooks_name_the_kernelspec_jupyterlab_writes():
    """Any other kernelspec is rewritten when JupyterLab opens the notebook, which marks it modified."""
    import json

    from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict

    want = {"display_name": get_kernel_dict()["display_name"], "language": "python", "name": KERNEL_NAME}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert json.loads(nb.read_text())["metadata"]["kernelspec"] == want, nb.name


def _bench_script(name: str):
    """Import bench/<name>.py (a script, not a package module) with bench/ on the path."""
    import importlib.util
    import sys

    path = ROOT / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def test_residual_entropy_benchmark_measures_entropy():
    """bench/residual_entropy.py's conditional entropies, on laws whose entropy is known."""
    import numpy as np

    bench = _bench_script("residual_entropy")
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 2, 200_000)                  # uniform over 4 values: 2 bits
    noise = rng.integers(0, 2, x.size)                # 1 bit
    assert abs(bench.conditional_entropy(x) - 2) < 1e-3
    assert bench.conditional_entropy(x, x) == 0
    assert abs(bench.conditional_entropy(x + noise, x) - 1) < 1e-3
    assert abs(bench.conditional_entropy(-255 + 0 * x, x)) < 1e-12


def test_val_ceiling_counts_channel_context_bits():
    """bench/val_ceiling.py: G and B equal to R cost nothing once R is known."""
    import numpy as np

    bench = _bench_script("val_ceiling")
    rng = np.random.default_rng(1)
    x_l = rng.integers(10, 240, (300, 400, 1)).repeat(3, axis=2).astype(np.uint8)
    r = rng.integers(-2, 2, (300, 400, 1)).repeat(3, axis=2)     # 2 bits for R, then G = B = R
    x = (x_l + r).astype(np.uint8)
    assert abs(bench.channel_context_bits(x, x_l) / (300 * 400) - 2) < 1e-3


def test_upgrading_a_prep_cache_gives_todays_bpg_files(tmp_path, photos):
    """bench/upgrade_prep_cache.py turns a BPG file of encoder version 1 (no picture-hash SEI) into
    exactly the file today's encoder writes, and moves the cache's folders to today's layout."""
    import numpy as np

    from rclib import bpg, hevc, prep

    upgrade = _bench_script("upgrade_prep_cache")
    x = photos["coffee_odd"][:70, :90]
    today = bpg.encode(x, 13, backend="embedded")
    p = bpg.parse(today)
    nals = hevc.split_nals(p.annexb())
    old = bpg.write(p.width, p.height, b"".join(b"\x00\x00\x00\x01" + n for n in nals[:-1]))  # no SEI
    assert old != today and upgrade.with_hash(old) == today
    cache = tmp_path / "emb-val"
    (cache / "q13").mkdir(parents=True)
    (cache / "q13" / "c.bpg").write_bytes(old)
    Image.fromarray(bpg.decode(old)).save(cache / "q13" / "c.png")
    assert upgrade.upgrade(cache, originals=None) == 1
    assert (prep.q_dir(cache, 13) / "c.bpg").read_bytes() == today and not (cache / "q13").exists()
    assert np.array_equal(np.asarray(Image.open(prep.q_dir(cache, 13) / "c.png")), bpg.decode(today))
