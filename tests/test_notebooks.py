"""Notebooks: each runs headless under papermill on a tiny parameter set, then nbval re-runs the
executed notebook and checks that every cell reproduces its outputs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from rclib import prep

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
    assert (prep.q_dir(tmp_path / "prep", 12) / "coffee_odd.bpg").exists()


def test_02_train(tiny_set, tmp_path):
    """A committed-like run of 6 steps, continued by the notebook for 3 more."""
    from rclib import train

    committed = tmp_path / "committed"
    train.run("tiny", committed, dataset=str(tiny_set), progress=False, q_min=12, q_max=12)
    run_and_validate("02_train.ipynb", dict(profile="tiny", run=str(committed), segment=3, dataset=str(tiny_set),
                                            out=str(tmp_path / "run"), q_min=12, q_max=12, progress=False), tmp_path)
    assert (tmp_path / "run" / "model.pt").exists()
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert rows[-1].startswith("9,") and any(r.startswith("6,") for r in rows)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory, tiny_model):
    from rclib import model as model_lib

    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    model_lib.save(tiny_model, path)
    return path


def test_03_q_selection(tiny_set, tiny_weights, tmp_path):
    run_and_validate("03_q_selection.ipynb", dict(dataset=str(tiny_set), weights=str(tiny_weights), q_min=12,
                                                  q_max=13, retrain=True, classifier_profile="tiny", steps=3,
                                                  out=str(tmp_path / "qsel"), tau_limit=1, progress=False),
                     tmp_path)
    assert (tmp_path / "qsel" / "q_histories_val.csv").exists()
    assert (tmp_path / "qsel" / "q_classifier_tiny.pt").exists()


def test_04_eval(tiny_set, tiny_weights, tmp_path):
    run_and_validate("04_eval.ipynb", dict(datasets=[str(tiny_set / "val")], q=12, weights=str(tiny_weights),
                                           limit=1, all_baselines=False, out=str(tmp_path / "res"),
                                           cache=str(tmp_path / "reuse"), progress=False), tmp_path)
    assert (tmp_path / "res" / "eval_val.csv").exists() and (tmp_path / "res" / "eval_val.png").exists()


def test_05_sampling(tiny_set, tiny_weights, tmp_path):
    run_and_validate("05_sampling.ipynb", dict(image=str(tiny_set / "val" / "coffee_odd.png"), crop=48,
                                               q_min=12, q_max=13, weights=str(tiny_weights),
                                               out=str(tmp_path / "res")), tmp_path)
    for name in ("sampling.png", "bitmaps.png", "q_grid.png"):
        assert (tmp_path / "res" / name).exists()


def test_q_slider_moves(photos):
    """The widget the sampling notebook shows: moving the slider swaps in that Q's panel."""
    import numpy as np

    from rclib import bpg, figures

    x = photos["coffee_odd"][:32, :40]
    lossy = {q: bpg.decode(bpg.encode(x, q)) for q in (12, 16)}
    bits = {q: np.abs(x.astype(int) - lossy[q]).sum(axis=2).astype(float) for q in lossy}
    box = figures.q_explorer(x, lossy, bits, {12: "twelve", 16: "sixteen"})
    slider, label, image = box.children
    assert image.value == box.pngs[12] and label.value == "twelve"
    slider.value = 16
    assert image.value == box.pngs[16] and label.value == "sixteen"
    assert box.pngs[12] != box.pngs[16]


def test_06_beyond_rc(tiny_set, tiny_weights, tmp_path, tiny_plus_model):
    from rclib import model as model_lib, qselect

    plus = tmp_path / "tiny_plus.pt"
    model_lib.save(tiny_plus_model, plus)
    run_and_validate("06_beyond_rc.ipynb", dict(dataset=str(tiny_set / "val"), weights_rc=str(tiny_weights),
                                                weights_plus=str(plus), q_rc=[12, 13], q_plus="auto",
                                                out=str(tmp_path / "res"), cache=str(tmp_path / "reuse"),
                                                progress=False), tmp_path)
    table = __import__("pandas").read_csv(tmp_path / "res" / "rc_vs_rc_plus.csv")
    assert set(table.codec) >= {"RC", "RC+", "PNG", "WebP-LL"}
    assert table[table.codec == "RC+"][[f"pass{k}_bpsp" for k in range(1, 5)]].notna().all().all()
    # RC on a MIN grid, RC+ as the codec's default would choose
    assert set(table[table.codec == "RC"].q) <= {12, 13}
    assert set(table[table.codec == "RC+"].strategy) == {"auto"}
    assert set(table[table.codec == "RC+"].q) <= set(qselect.AUTO_QS["rc+"])
    # `--model auto`'s row: per picture the smaller file of the two kinds
    by = table.pivot_table(index="image", columns="codec", values="bytes")
    assert (by["RC or RC+"] == by[["RC", "RC+"]].min(axis=1)).all()
    for name in ("q_shift.png", "rc_vs_rc_plus.png", "pass_bitmaps.png"):
        assert (tmp_path / "res" / name).exists()
