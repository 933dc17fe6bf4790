"""Notebooks: each runs headless under papermill on a tiny parameter set, then nbval re-runs the
executed notebook and checks that every cell reproduces its outputs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory, photos):
    root = tmp_path_factory.mktemp("nbdata")
    for split, names in (("train", ("chelsea", "astronaut")), ("val", ("coffee_odd", "chelsea"))):
        (root / split).mkdir()
        for n in names:
            Image.fromarray(photos[n][:64, :80]).save(root / split / f"{n}.png")
    return root


def run_and_validate(name: str, params: dict, workdir: Path) -> Path:
    """papermill-execute notebooks/<name> with params, then nbval the executed copy."""
    import papermill

    out = workdir / name
    env_cache = os.environ.get("RCLIB_CACHE")
    os.environ["RCLIB_CACHE"] = str(workdir / "cache")
    try:
        papermill.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=params, cwd=str(workdir),
                                   progress_bar=False, kernel_name="python3")
    finally:
        if env_cache is None:
            os.environ.pop("RCLIB_CACHE")
        else:
            os.environ["RCLIB_CACHE"] = env_cache
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         str(out)],
        cwd=workdir, capture_output=True, text=True,
        env={**os.environ, "RCLIB_CACHE": str(workdir / "cache")})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


def test_01_prep(tiny_set, tmp_path):
    run_and_validate("01_prep.ipynb", dict(dataset=str(tiny_set / "val"), q_min=12, q_max=13, show=1,
                                           out=str(tmp_path / "prep"), progress=False), tmp_path)
    assert (tmp_path / "prep" / "q12" / "coffee_odd.bpg").exists()


def test_02_train(tiny_set, tmp_path):
    run_and_validate("02_train.ipynb", dict(profile="tiny", dataset=str(tiny_set), out=str(tmp_path / "run"),
                                            q_min=12, q_max=12, progress=False), tmp_path)
    assert (tmp_path / "run" / "model.pt").exists()
