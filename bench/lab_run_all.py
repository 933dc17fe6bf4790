"""Run All of the committed notebooks in JupyterLab itself, as a reader would after `make lab`.

Starts JupyterLab on notebooks/ (127.0.0.1, a token, kernels in notebooks/), opens each notebook
in headless Chromium, runs every cell, waits for the last one, and prints per notebook the wall
time and any error output.  Needs Debian's chromium and chromium-driver and selenium.

    python bench/lab_run_all.py [01_prep 02_train ...] [--timeout 1800] [--open-only]
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyterlab(root_dir: Path, scratch: Path):
    """JupyterLab serving root_dir as `make lab` does; yields (base URL, token)."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(scratch / "jcfg"), "JUPYTER_RUNTIME_DIR": str(scratch / "jrt")}
    log = open(scratch / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
         "--LabApp.expose_app_in_browser=True", *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else [])],
        cwd=root_dir, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.time() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("JupyterLab did not start: " + (scratch / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextmanager
def chromium(scratch: Path):
    """Headless Chromium driven by selenium (the flags this machine needs)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", f"--user-data-dir={scratch / 'chrome'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


def open_notebook(driver, url: str) -> bool:
    """Open a notebook URL; True when JupyterLab marks it modified right after opening."""
    driver.get(url)
    name = url.split("/lab/tree/", 1)[1].split("?", 1)[0]
    wait_for(lambda: driver.execute_script(
        "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget; "
        "return !!(w && w.context && w.context.path.endsWith(arguments[0]) "
        "&& document.querySelectorAll('.jp-Notebook .jp-Cell').length > 0);", name),
        120, "the notebook to open")
    time.sleep(2)
    return bool(driver.execute_script("return window.jupyterapp.shell.currentWidget.context.model.dirty;"))


def run_all(driver, url: str, timeout: float = 1800) -> tuple[float, list[str]]:
    """Open a notebook URL, Run All, wait until every code cell has run; (seconds, error texts)."""
    from selenium.webdriver.common.by import By

    open_notebook(driver, url)
    wait_for(lambda: driver.execute_script(
        "const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel; "
        "return !!k && k.status === 'idle';"), 120, "the kernel to start")
    t0 = time.time()
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")

    def finished():
        # JupyterLab may render only the cells in view; the model knows every cell's count.
        counts = driver.execute_script(
            "const nb = window.jupyterapp.shell.currentWidget.content; "
            "return nb.widgets.filter(c => c.model.type === 'code').map(c => c.model.executionCount);")
        busy = driver.execute_script(
            "const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel; "
            "return !k || k.status !== 'idle';")
        return counts and all(c is not None for c in counts) and not busy

    wait_for(finished, timeout, "Run All to finish")
    seconds = time.time() - t0
    errors = driver.execute_script(
        "const nb = window.jupyterapp.shell.currentWidget.content; const out = []; "
        "for (const c of nb.widgets) { if (c.model.type !== 'code') continue; "
        "  for (let i = 0; i < c.model.outputs.length; i++) { const o = c.model.outputs.get(i); "
        "    if (o.type === 'error') out.push(o.toJSON().ename + ': ' + o.toJSON().evalue); } } return out;")
    errors += [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")
               if re.search(r"Traceback \(most recent call last\)", e.text)]
    return seconds, errors


def main() -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="names without .ipynb (default: every numbered notebook)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--open-only", action="store_true", help="only report whether each opens modified")
    args = ap.parse_args()
    names = args.notebooks or sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        # A scratch copy of notebooks/ so Run All leaves the committed files as they are.
        work = scratch / "notebooks"
        shutil.copytree(ROOT / "notebooks", work)
        with jupyterlab(work, scratch) as (base, token), chromium(scratch) as driver:
            for name in names:
                url = f"{base}/lab/tree/{name}.ipynb?token={token}"
                if args.open_only:
                    print(f"{name}: opens {'modified' if open_notebook(driver, url) else 'unmodified'}", flush=True)
                    continue
                seconds, errors = run_all(driver, url, args.timeout)
                failed += bool(errors)
                print(f"{name}: Run All {'failed' if errors else 'ok'} in {seconds:.0f} s"
                      + "".join(f"\n    {e[:300]}" for e in errors), flush=True)
                driver.execute_script("window.jupyterapp.commands.execute('kernelmenu:shutdown');")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
