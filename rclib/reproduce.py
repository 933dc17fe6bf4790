"""`make reproduce`: prepare the data, train (or reuse the shipped weights), benchmark; one command.

Runs the numbered notebooks headless with papermill, writing the executed copies to results/,
then the benchmark on the validation photos, and prints the results table.  Environment:
REUSE_WEIGHTS=1 skips training and uses the shipped weights; PROFILE and DATA pick another
training profile and dataset (e.g. PROFILE=paper DATA=/data/openimages on a GPU); BENCH_Q lists
the quantizers to benchmark (default "12").
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "results"
MARK_BEGIN, MARK_END = "<!-- results:begin -->", "<!-- results:end -->"


EXECUTED: list[str] = []


def run_notebook(name: str, out_name: str, **parameters) -> Path:
    import papermill

    out = RESULTS / out_name
    print(f"== {name} -> {out.relative_to(ROOT)}  {parameters}", flush=True)
    t0 = time.time()
    papermill.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=parameters, cwd=str(ROOT),
                               kernel_name="python3", progress_bar=False, log_output=False)
    print(f"   done in {time.time() - t0:.0f} s", flush=True)
    if out_name == name:
        EXECUTED.append(name)
    return out


def main() -> int:
    import pandas as pd

    from . import classifier, model

    RESULTS.mkdir(exist_ok=True)
    profile = os.environ.get("PROFILE", "cpu")
    dataset = os.environ.get("DATA", "embedded")
    reuse = os.environ.get("REUSE_WEIGHTS", "0") == "1"
    t0 = time.time()

    run_notebook("01_prep.ipynb", "01_prep.ipynb", dataset=dataset, split="val", progress=False)
    weights = model.DEFAULT_WEIGHTS.relative_to(ROOT)   # notebooks run in ROOT; relative paths read better
    if not reuse:
        out = (RESULTS / f"train-{profile}").relative_to(ROOT)
        run_notebook("02_train.ipynb", "02_train.ipynb", profile=profile, dataset=dataset, out=str(out),
                     progress=False)
        weights = out / "model.pt"
    qsel = (RESULTS / "qsel").relative_to(ROOT)
    run_notebook("03_q_selection.ipynb", "03_q_selection.ipynb", dataset=dataset, weights=str(weights),
                 out=str(qsel), progress=False)
    clf = classifier.DEFAULT_WEIGHTS if reuse else ROOT / qsel / "q_classifier_cpu.pt"
    os.environ["RCLIB_CLASSIFIER"] = str(clf)  # notebook 04's --q auto uses this run's classifier
    run_notebook("04_eval.ipynb", "04_eval.ipynb", datasets=[dataset], q="auto", tau=True,
                 weights=str(weights), out="results", progress=False)
    run_notebook("05_sampling.ipynb", "05_sampling.ipynb", weights=str(weights), out="results",
                 interactive=False)

    name = Path(dataset).name
    figures = ROOT / "docs" / "figures"   # tracked, so the README can show them
    figures.mkdir(parents=True, exist_ok=True)
    for fig in (f"eval_{name}.png", "sampling.png", "q_grid.png"):
        shutil.copyfile(RESULTS / fig, figures / fig)
    table = pd.read_csv(RESULTS / f"eval_{name}.csv")
    summary = table.groupby("codec")[["bpsp", "encode_mpix_s", "decode_mpix_s"]].mean().sort_values("bpsp")
    lost = pd.read_csv(ROOT / qsel / "tau_gain.csv")
    text = (f"Validation photos of `{dataset}` ({table.image.nunique()} pictures), rclib with `--q auto` "
            "(and `--tau`), "
            f"residual weights `{weights}`; produced by `make reproduce"
            f"{' REUSE_WEIGHTS=1' if reuse else ''}` in {(time.time() - t0) / 60:.0f} minutes on this "
            "machine (speeds vary from machine to machine):\n\n" + markdown_table(summary.round(3)) +
            f"\n\ntau (measured on {len(lost)} pictures): mean gain {lost.gain_pct.mean():.2f} % of the file.\n"
            f"\n![bpsp per codec](docs/figures/eval_{name}.png)\n"
            "\nWhat the model sees and samples (notebook 05): x, x_l, the residual, x_l plus residuals "
            "drawn from the model:\n\n![sampling](docs/figures/sampling.png)\n"
            "\nx_l, residual and per-pixel bits at three Q:\n\n![Q grid](docs/figures/q_grid.png)\n")
    (RESULTS / "results.md").write_text(text)
    print(text)
    if "--update-readme" in sys.argv:
        update_readme(text)
        for executed in EXECUTED:   # so the committed notebooks open with this run's outputs
            shutil.copyfile(RESULTS / executed, NOTEBOOKS / executed)
    return 0


def markdown_table(df) -> str:
    """A DataFrame (index included) as a GitHub markdown table, blanks for missing values."""
    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = [str(idx)] + ["" if v != v else f"{v:g}" for v in row.values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_readme(text: str) -> None:
    """Replace the README's results section (between the markers) with `text`."""
    readme = ROOT / "README.md"
    s = readme.read_text()
    a, b = s.index(MARK_BEGIN) + len(MARK_BEGIN), s.index(MARK_END)
    readme.write_text(s[:a] + "\n" + text + s[b:])


if __name__ == "__main__":
    sys.exit(main())
