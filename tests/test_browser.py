"""A real browser: JupyterLab started as `make lab` starts it (headless, 127.0.0.1, a token), driven
by Chromium.  Notebook 05 (with tiny parameters) is Run All'd; no cell may fail; then the Q slider
is moved from the keyboard and the bpsp line and the picture must change.  Screenshots go to
$RCLIB_ARTEFACTS (default: results/test-artefacts).  Skipped, with its reason, where
Chromium, chromedriver or selenium is missing; `.ci/run` installs them so CI always runs it.
The JupyterLab and Chromium harness is bench/lab_run_all.py's (which Run Alls the real notebooks)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from .test_project import _bench_script

ROOT = Path(__file__).resolve().parent.parent
lab_tools = _bench_script("lab_run_all")

try:
    import selenium  # noqa: F401
except ImportError:  # pragma: no cover
    selenium = None

pytestmark = pytest.mark.skipif(
    not (lab_tools.CHROMIUM and lab_tools.CHROMEDRIVER and selenium),
    reason="needs Debian's chromium and chromium-driver and the selenium package (.ci/run installs them)")


def _tiny_notebook(folder: Path, photos, tiny_model) -> Path:
    """notebooks/05 with its parameters cell set to a small picture, three Q and tiny weights."""
    import dataclasses

    import torch

    Image.fromarray(photos["coffee_odd"][:96, :96]).save(folder / "pic.png")
    torch.save({"config": dataclasses.asdict(tiny_model.config), "state_dict": tiny_model.state_dict()},
               folder / "tiny.pt")
    nb = json.loads((ROOT / "notebooks" / "05_sampling.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = (f'image = "{folder / "pic.png"}"\ncrop = 64\nq_min = 12\nq_max = 14\n'
                              f'weights = "{folder / "tiny.pt"}"\nseed = 0\nout = "{folder / "out"}"\n'
                              'interactive = True\n')
    path = folder / "05_tiny.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_notebook_05_runs_all_in_jupyterlab_and_the_q_slider_works(tmp_path, photos, tiny_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    notebook = _tiny_notebook(tmp_path, photos, tiny_model)
    shots = Path(os.environ.get("RCLIB_ARTEFACTS", ROOT / "results" / "test-artefacts"))
    shots.mkdir(parents=True, exist_ok=True)
    with lab_tools.jupyterlab(tmp_path, tmp_path) as (base, token), lab_tools.chromium(tmp_path) as browser:
        try:
            _, errors = lab_tools.run_all(browser, f"{base}/lab/tree/{notebook.name}?token={token}", timeout=300)
        finally:
            browser.save_screenshot(str(shots / "05_run_all.png"))
        assert not errors, errors
        slider = lab_tools.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle"),
                                    60, "the Q slider")[0]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
        readout = lambda: browser.find_element(By.CSS_SELECTOR, ".widget-readout").text  # noqa: E731
        label = lambda: browser.find_element(By.CSS_SELECTOR, ".widget-html-content").text  # noqa: E731
        image = lambda: browser.find_element(By.CSS_SELECTOR, ".widget-image").get_attribute("src")  # noqa: E731
        label_before, image_before = label(), image()
        assert "bpsp" in label_before and "12" in readout()
        slider.click()
        slider.send_keys(Keys.ARROW_RIGHT)
        lab_tools.wait_for(lambda: label() != label_before, 30, "the bpsp line to change")
        assert "13" in readout() and image() != image_before
        browser.save_screenshot(str(shots / "05_slider_moved.png"))


def test_committed_notebooks_open_unmodified_in_jupyterlab(tmp_path):
    import shutil

    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    with lab_tools.jupyterlab(work, tmp_path) as (base, token), lab_tools.chromium(tmp_path) as browser:
        modified = [p.stem for p in sorted(work.glob("[0-9]*.ipynb"))
                    if lab_tools.open_notebook(browser, f"{base}/lab/tree/{p.name}?token={token}")]
    assert not modified, f"JupyterLab marks these modified on opening: {modified}"
