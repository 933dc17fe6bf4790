"""`make reproduce`: prepare the data, train (or reuse the shipped weights), benchmark; one command.

Runs the numbered notebooks headless with papermill, writing the executed copies to results/,
then the benchmark on the validation photos, and prints the results table.  By default the
shipped weights are used (notebook 02 draws the committed learning curve and continues that run
for a short segment); RETRAIN=1 trains the profile (`cpu-head`) from scratch instead (hours on 2 cores);
PROFILE and DATA pick another training profile and dataset (e.g. PROFILE=paper
DATA=/data/openimages on a GPU).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from .imageio import atomic_write
from .paths import RESULTS, ROOT

NOTEBOOKS = ROOT / "notebooks"
RESULTS_JSON = ROOT / "docs" / "results.json"   # committed: the README's numbers come from it
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
    # every run codes afresh (notebook 06 still reuses what 04 coded in it), so its minutes and
    # encode timings are its own, not an earlier run's
    shutil.rmtree(RESULTS / "cache", ignore_errors=True)
    profile = os.environ.get("PROFILE", "cpu-head")
    dataset = os.environ.get("DATA", "embedded")
    reuse = os.environ.get("RETRAIN", "0") != "1"   # REUSE_WEIGHTS=1, the old spelling, is the default
    t0 = time.time()

    run_notebook("01_prep.ipynb", "01_prep.ipynb", dataset=dataset, split="val", progress=False)
    # With the shipped weights the notebooks run on their own defaults (only progress bars are
    # turned off), so a reader who presses Run All gets the committed numbers back.
    weights = model.DEFAULT_WEIGHTS.relative_to(ROOT)
    trained = {}
    if reuse:   # the committed learning curve, and that run continued for a short segment
        run_notebook("02_train.ipynb", "02_train.ipynb", progress=False)
    else:
        out = (RESULTS / f"train-{profile}").relative_to(ROOT)
        run_notebook("02_train.ipynb", "02_train.ipynb", profile=profile, dataset=dataset, out=str(out),
                     run=None, progress=False)
        weights = out / "best.pt"
        trained = {"weights": str(weights)}
    qsel = (RESULTS / "qsel").relative_to(ROOT)
    run_notebook("03_q_selection.ipynb", "03_q_selection.ipynb", progress=False,
                 **({"dataset": dataset} if dataset != "embedded" else {}),
                 **({"retrain": True} if trained else {}), **trained)
    clf = classifier.DEFAULT_WEIGHTS if reuse else ROOT / qsel / "q_classifier_cpu.pt"
    os.environ["RCLIB_CLASSIFIER"] = str(clf)  # notebook 04's --q auto uses this run's classifier
    run_notebook("04_eval.ipynb", "04_eval.ipynb", progress=False,
                 **({"datasets": [dataset]} if dataset != "embedded" else {}), **trained)
    run_notebook("05_sampling.ipynb", "05_sampling.ipynb", **trained)
    if reuse and dataset == "embedded":   # RC+ against RC with the shipped weights of both
        run_notebook("06_beyond_rc.ipynb", "06_beyond_rc.ipynb", progress=False)

    name = Path(dataset).name
    figures = ROOT / "docs" / "figures"   # tracked, so the README can show them
    figures.mkdir(parents=True, exist_ok=True)
    for fig in (f"eval_{name}.png", "sampling.png", "q_grid.png"):
        shutil.copyfile(RESULTS / fig, figures / fig)
    table = pd.read_csv(RESULTS / f"eval_{name}.csv")
    lost = pd.read_csv(ROOT / qsel / "tau_gain.csv")
    results = summarize(table, lost, dataset=dataset, weights=str(weights))
    results["by_kind"] = reuse   # on its defaults notebook 04 codes RC by kind name
    results["classifier"] = summarize_q_choice(pd.read_csv(ROOT / qsel / "classifier_eval.csv"),
                                               clf.relative_to(ROOT) if clf.is_relative_to(ROOT) else clf)
    results["auto_q"] = summarize_q_choice(pd.read_csv(ROOT / qsel / "auto_eval.csv"))
    results["weights_ids"] = {"rc": model.weights_id(model.load(ROOT / weights)),   # which weights made
                              "rc+": model.weights_id(model.load(model.DEFAULT_PLUS_WEIGHTS)),  # these numbers
                              **{f"{kind} rgb": model.weights_id(model.load(path))
                                 for kind, path in model.DEFAULT_RGB_WEIGHTS.items() if path.exists()}}
    beyond = RESULTS / "beyond" / "rc_vs_rc_plus.csv"
    if reuse and dataset == "embedded" and beyond.exists():
        results["rc_plus"] = summarize_rc_plus(pd.read_csv(beyond))
        for fig in ("rc_vs_rc_plus.png", "pass_bitmaps.png"):
            shutil.copyfile(RESULTS / "beyond" / fig, figures / fig)
    atomic_write(RESULTS_JSON, (json.dumps(results, indent=1) + "\n").encode(), force=True)
    text = results_markdown(results, minutes=(time.time() - t0) / 60,
                            command="make reproduce" + ("" if reuse else " RETRAIN=1"))
    atomic_write(RESULTS / "results.md", text.encode(), force=True)
    print(text)
    if "--update-readme" in sys.argv:
        update_readme(text)
        for executed in EXECUTED:   # so the committed notebooks open with this run's outputs
            atomic_write(NOTEBOOKS / executed, committable(RESULTS / executed), force=True)
    return 0


def summarize(table, tau_table, dataset: str, weights: str) -> dict:
    """The numbers the README and notebook 04 show, from 04's per-picture table: per codec the
    mean bpsp and speeds, per validation package the mean bpsp, tau's mean gain, and the share of
    channels rclib coded with a per-image table rather than the model."""
    from . import data

    per_codec = table.groupby("codec")[["bpsp", "encode_mpix_s", "decode_mpix_s"]].mean().sort_values("bpsp")
    package = table.image.map(lambda s: data.package_of(s + ".png") if "__" in s else Path(dataset).name)
    per_package = table.assign(package=package).pivot_table(index="codec", columns="package", values="bpsp")
    return {"dataset": dataset, "pictures": int(table.image.nunique()), "weights": weights,
            "codecs": {c: {k: round(float(v), 6) for k, v in row.items()} for c, row in per_codec.iterrows()},
            "per_package": {c: {p: round(float(v), 6) for p, v in row.items()}
                            for c, row in per_package.loc[per_codec.index].iterrows()},
            "packages": {p: int(n) for p, n in package[table.codec == "PNG"].value_counts().sort_index().items()},
            "tau_pictures": int(len(tau_table)), "tau_gain_pct": round(float(tau_table.gain_pct.mean()), 4),
            **({"table_channel_share": round(float(table[table.codec == "rclib"].table_channels.mean() / 3), 4)}
               if "table_channels" in table else {})}


def summarize_q_choice(evaluation, weights=None) -> dict:
    """Notebook 03's judgement of a Q strategy on the validation pictures (its Q against MIN's, from
    their Q histories): % more bytes than MIN and how often it picks MIN's Q."""
    from . import qselect

    out = {"pictures": int(len(evaluation)), "lost_pct": round(qselect.lost_pct(evaluation), 4),
           "picks_min_q": int((evaluation.classifier_q == evaluation.oracle_q).sum())}
    if weights is not None:
        meta = ROOT / Path(weights).with_suffix(".json")
        out = {"weights": str(weights),
               "trained_on": json.loads(meta.read_text()).get("trained_on", "") if meta.exists() else "", **out}
    return out


def summarize_rc_plus(table) -> dict:
    """Notebook 06's numbers: mean bpsp per codec, RC+ / RC, bits per pass, mean Q, speeds, and
    which kind `--model auto` kept how often."""
    from .bench import AUTO_ROW

    mean = table.groupby("codec")[["bpsp", "encode_mpix_s", "decode_mpix_s"]].mean().sort_values("bpsp")
    plus, rc = table[table.codec == "RC+"], table[table.codec == "RC"]
    passes = [c for c in table if c.startswith("pass") and c.endswith("_bpsp")]
    return {"pictures": int(table.image.nunique()),
            "codecs": {c: {k: round(float(v), 6) for k, v in row.items() if v == v} for c, row in mean.iterrows()},
            "rc_plus_over_rc": round(float(plus.bpsp.mean() / rc.bpsp.mean()), 6),
            "per_pass_bpsp": {p: round(float(plus[p].mean()), 6) for p in passes},
            "rc_residual_bpsp": round(float(rc.residual_bpsp.mean()), 6),
            "mean_q": {"RC": round(float(rc.q.mean()), 3), "RC+": round(float(plus.q.mean()), 3)},
            "strategy": {name: _strategy(t) for name, t in (("RC", rc), ("RC+", plus))},
            **({"over_rgb": {c: int((table[table.codec == c].bpg_colour == "rgb").sum()) for c in ("RC", "RC+", AUTO_ROW)}}
               if "bpg_colour" in table else {}),
            **({"auto_keeps": {k: int(v) for k, v in auto.model.value_counts().items()}}
               if len(auto := table[table.codec == AUTO_ROW]) else {})}


def _strategy(rows) -> str:
    """How notebook 06 chose one kind's Q, in words: "`--q auto`" or "MIN over Q [14, 17]"."""
    s = str(rows.strategy.iloc[0])
    return f"MIN over Q {s}" if s.startswith(("[", "(")) else f"`--q {s}`"


def rc_plus_markdown(r: dict) -> str:
    """The README's RC+ paragraph and table, from summarize_rc_plus()'s numbers."""
    import pandas as pd

    from .bench import AUTO_ROW

    codecs = pd.DataFrame(r["codecs"]).T[["bpsp", "encode_mpix_s", "decode_mpix_s"]]
    passes = ", ".join(f"{v:.3f}" for v in r["per_pass_bpsp"].values())
    how = r["strategy"]
    return (f"\n\nRC against RC+ (notebook 06: RC with {how['RC']}, RC+ with {how['RC+']}; real file "
            f"bytes, {r['pictures']} pictures; shipped weights of both):\n\n"
            + markdown_table(codecs.round(3)) +
            f"\n\nRC+ / RC: {r['rc_plus_over_rc']:.3f}. RC+'s residual bits per pass (over each pass's "
            f"own subpixels, as coded): {passes}; RC's residual: {r['rc_residual_bpsp']:.3f}. "
            f"Mean Q chosen: RC {r['mean_q']['RC']:.2f}, RC+ {r['mean_q']['RC+']:.2f}."
            + (f" `{AUTO_ROW}`: per picture the smaller of the two files, what `rclib compress` keeps by "
               f"default (`--model auto`, encoding with both): RC's for {r['auto_keeps'].get('RC', 0)} "
               f"pictures, RC+'s for {r['auto_keeps'].get('RC+', 0)}." if "auto_keeps" in r else "")
            + (f" Coded over BPG in RGB (see \"BPG in RGB\"): RC {r['over_rgb']['RC']} pictures, RC+ "
               f"{r['over_rgb']['RC+']}, `{AUTO_ROW}` {r['over_rgb'][AUTO_ROW]}." if "over_rgb" in r else "")
            + (f" `RC+ --tau` (a temperature per pass, fitted per picture, kept where it makes the file "
               f"smaller): {100 * (1 - r['codecs']['RC+ --tau']['bpsp'] / r['codecs']['RC+']['bpsp']):.2f} % "
               f"below RC+, {_against(r['codecs']['RC+ --tau']['bpsp'], r['codecs']['WebP-LL']['bpsp'])} WebP."
               if {"RC+ --tau", "WebP-LL"} <= set(r["codecs"]) else "")
            + "\n"
            "\n![RC vs RC+](docs/figures/rc_vs_rc_plus.png)\n")


def _against(a: float, b: float) -> str:
    """a relative to b in words: "0.2 % below" or "0.2 % above"."""
    return f"{100 * abs(1 - a / b):.1f} % {'below' if a < b else 'above'}"


def results_markdown(results: dict, minutes: float | None = None, command: str = "make reproduce") -> str:
    """The README's results section, from summarize()'s numbers (a test keeps the two equal)."""
    import pandas as pd

    name = Path(results["dataset"]).name
    codecs = pd.DataFrame(results["codecs"]).T[["bpsp", "encode_mpix_s", "decode_mpix_s"]]
    packages = pd.DataFrame(results["per_package"]).T
    packages.loc["pictures"] = pd.Series(results["packages"])
    when = f" in {minutes:.0f} minutes on this machine" if minutes is not None else ""
    how = (f"rclib as `rclib compress --model rc` codes (RC's shipped weights `{results['weights']}`, and over BPG "
           f"in RGB and in JPEG colour its weights for those) with `--q auto` (and `--tau`; `model only`: "
           f"`--no-tables`)" if results.get("by_kind") else
           f"rclib with `--q auto` (and `--tau`; `model only`: `--no-tables`), residual weights `{results['weights']}`")
    return (f"Validation photos of `{results['dataset']}` ({results['pictures']} pictures), {how}; produced by `{command}`"
            f"{when} (speeds vary from machine to machine; the numbers are in `docs/results.json`):\n\n"
            + markdown_table(codecs.round(3)) +
            "\n\nMean bpsp per validation package (`~native`: 768x512 crops at native resolution, with "
            "their real noise and grain):\n\n" + markdown_table(packages.round(3)) +
            f"\n\ntau (measured on {results['tau_pictures']} pictures): mean gain "
            f"{results['tau_gain_pct']:.2f} % of the file."
            + (f" Channels rclib coded with a per-image table rather than the model: "
               f"{100 * results['table_channel_share']:.0f} %." if "table_channel_share" in results else "")
            + (f" Choosing Q (notebook 03, from the validation pictures' Q histories): `--q auto` picks "
               f"MIN's Q for {results['auto_q']['picks_min_q']} of {results['auto_q']['pictures']} pictures "
               f"and makes {results['auto_q']['lost_pct']:.2f} % more bytes than MIN; the Q-classifier "
               f"(`--q clf`, and `auto` with `--no-tables`; `{results['classifier']['weights']}`) picks it for "
               f"{results['classifier']['picks_min_q']} and makes {results['classifier']['lost_pct']:.2f} % more."
               if "classifier" in results and "auto_q" in results else "")
            + "\n"
            f"\n![bpsp per codec](docs/figures/eval_{name}.png)\n"
            "\nWhat the model sees and samples (notebook 05): x, x_l, the residual, x_l plus residuals "
            "drawn from the model:\n\n![sampling](docs/figures/sampling.png)\n"
            "\nx_l, residual and per-pixel bits at every Q of the slider:\n\n![Q grid](docs/figures/q_grid.png)\n"
            + (rc_plus_markdown(results["rc_plus"]) if "rc_plus" in results else ""))


def committable(executed: Path) -> bytes:
    """An executed notebook as it is committed: without papermill's injected-parameters cell (its
    values would override the notebook's own defaults under Run All) and papermill's timings, with
    the kernelspec JupyterLab writes (otherwise every notebook opens marked modified)."""
    import json

    from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict

    nb = json.loads(executed.read_text())
    spec = get_kernel_dict()
    nb["metadata"]["kernelspec"] = {"display_name": spec["display_name"], "language": spec["language"],
                                    "name": KERNEL_NAME}
    nb["cells"] = [c for c in nb["cells"]
                   if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb["metadata"].pop("papermill", None)
    for c in nb["cells"]:
        c.get("metadata", {}).pop("papermill", None)
        c.get("metadata", {}).pop("execution", None)
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()


def markdown_table(df) -> str:
    """A DataFrame (index included) as a GitHub markdown table, blanks for missing values
    (numbers in %g, text as it is)."""
    cols = [df.index.name or ""] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = [str(idx)] + ["" if v != v else f"{v:g}" if not isinstance(v, str) else v for v in row.values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_readme(text: str) -> None:
    """Replace the README's results section (between the markers) with `text`."""
    readme = ROOT / "README.md"
    s = readme.read_text()
    a, b = s.index(MARK_BEGIN) + len(MARK_BEGIN), s.index(MARK_END)
    atomic_write(readme, (s[:a] + "\n" + text + s[b:]).encode(), force=True)


if __name__ == "__main__":
    sys.exit(main())
