"""`make reproduce`: prepare the data, train (or reuse the shipped weights), benchmark; one command.

Runs the numbered notebooks headless with papermill, writing the executed copies to results/,
then the benchmark on the validation photos, and prints the results table.  Environment:
REUSE_WEIGHTS=1 skips training and uses the shipped weights; PROFILE and DATA pick another
training profile and dataset (e.g. PROFILE=paper DATA=/data/openimages on a GPU); BENCH_Q lists
the quantizers to benchmark (default "12").
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "results"
MARK_BEGIN, MARK_END = "<!-- results:begin -->", "<!-- results:end -->"


def run_notebook(name: str, out_name: str, **parameters) -> Path:
    import papermill

    out = RESULTS / out_name
    print(f"== {name} -> {out.relative_to(ROOT)}  {parameters}", flush=True)
    t0 = time.time()
    papermill.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=parameters, cwd=str(ROOT),
                               kernel_name="python3", progress_bar=False, log_output=False)
    print(f"   done in {time.time() - t0:.0f} s", flush=True)
    return out


def main() -> int:
    from . import bench, data, figures, model

    RESULTS.mkdir(exist_ok=True)
    profile = os.environ.get("PROFILE", "cpu")
    dataset = os.environ.get("DATA", "embedded")
    reuse = os.environ.get("REUSE_WEIGHTS", "0") == "1"
    qs = [int(q) for q in os.environ.get("BENCH_Q", "12").split()]

    run_notebook("01_prep.ipynb", "01_prep_val.ipynb", dataset=dataset, split="val", progress=False)
    weights = model.DEFAULT_WEIGHTS
    if not reuse:
        out = RESULTS / f"train-{profile}"
        run_notebook("02_train.ipynb", "02_train.ipynb", profile=profile, dataset=dataset, out=str(out),
                     progress=False)
        weights = out / "model.pt"
    print(f"== benchmark on the validation photos with {weights.relative_to(ROOT)}", flush=True)
    val = data.resolve(dataset, "val") if dataset == "embedded" else Path(dataset) / "val"
    table = bench.run(val, qs=qs, model=model.load(weights), progress=False)
    table.to_csv(RESULTS / "bench.csv", index=False)
    summary = bench.summary(table).round(3)
    figures.bpsp_bars(table, title=f"{val.parent.name}/{val.name}").savefig(RESULTS / "bench.png", dpi=120)
    speed = bench.forward_speed(model.load(weights))
    text = (f"Validation photos of `{dataset}` ({table.image.nunique()} pictures), weights "
            f"`{weights.relative_to(ROOT)}`, produced by `make reproduce"
            f"{' REUSE_WEIGHTS=1' if reuse else ''}`:\n\n" + markdown_table(summary) +
            f"\n\nResidual model forward pass: {speed:.2f} MPix/s (1024×1024, strips, this machine).\n")
    (RESULTS / "results.md").write_text(text)
    print(text)
    if "--update-readme" in sys.argv:
        update_readme(text)
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
