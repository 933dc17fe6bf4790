"""Numbers that cannot drift: the README's results section and notebook 04's committed tables are
both made from docs/results.json (written by `make reproduce`), and must say what it says."""
from __future__ import annotations

import json
import re
from pathlib import Path

from rclib import reproduce

from .test_project import _bench_script

ROOT = Path(__file__).resolve().parent.parent


def _results():
    return json.loads(reproduce.RESULTS_JSON.read_text())


def test_readme_results_section_is_made_from_the_results_file():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(reproduce.MARK_BEGIN) + len(reproduce.MARK_BEGIN):readme.index(reproduce.MARK_END)]
    expected = reproduce.results_markdown(_results(), minutes=None)
    # Only the run's duration is not in the results file ("in N minutes on this machine").
    section = re.sub(r" in \d+ minutes on this machine", "", section)
    assert section.strip() == expected.strip()


def test_notebook_04_committed_tables_show_the_results_file_numbers():
    nb = json.loads((ROOT / "notebooks" / "04_eval.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    results = _results()
    for codec in ("rclib", "WebP-LL", "PNG"):
        assert f"{results['codecs'][codec]['bpsp']:.3f}" in text, codec
    assert f"{results['pictures']} pictures" in (ROOT / "README.md").read_text()


def test_committed_notebooks_have_no_injected_parameters_and_stay_lean():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        tags = [t for c in nb["cells"] for t in c.get("metadata", {}).get("tags", [])]
        assert "injected-parameters" not in tags, path.name
        assert tags.count("parameters") == 1, path.name
        assert path.stat().st_size < 1_100_000, path.name


def _readme_table(first_cell: str) -> list[list[str]]:
    """Rows of the README table whose header starts with `first_cell`."""
    lines = [l.strip() for l in (ROOT / "README.md").read_text().splitlines()]  # tables in lists too
    start = next(i for i, l in enumerate(lines) if l.startswith(f"| {first_cell}"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_readme_learning_curve_is_the_committed_log():
    import pandas as pd

    columns = ["val_bpsp", "val_enlightenment-data", "val_enlightenment-data~native", "val_libjxl-testdata",
               "val_libjxl-testdata~native", "val_lxqt-themes"]
    for run, header in (("rc_cpu", "step | RC `cpu`"), ("rc_head", "step | RC `cpu-head`:"),
                        ("rc_head_anneal", "step | RC `cpu-head` annealed"),
                        ("rcplus_cpu", "step | RC+ `cpu+`"), ("rcplus_wide_b32", "step | RC+ `cpu+wide`:"),
                       ("rcplus_wide_b32_anneal", "step | RC+ `cpu+wide` annealed"),
                       ("rcplus_wide_end", "step | RC+ `cpu+wide` ending in batches of 32"),
                       ("rcplus_wide_b64_end", "step | RC+ `cpu+wide` ending in batches of 64")):
        log = pd.read_csv(ROOT / "data" / "runs" / run / "log.csv").dropna(subset=["val_bpsp"]).set_index("step")
        rows = [r for r in _readme_table(header) if r[0].isdigit()]
        assert rows
        for row in rows:
            assert [f"{v:.4f}" for v in log.loc[int(row[0]), columns]] == row[1:], (run, row[0])


def test_readme_residual_table_is_the_committed_benchmark_output():
    import pandas as pd

    bench = _bench_script("residual_entropy")
    table = pd.read_csv(ROOT / "docs" / "residual_entropy.csv")
    per_package = bench.per_package(table)
    rows = _readme_table("package |")
    assert len(rows) == len(per_package)
    for row in rows:
        got = per_package.loc[(row[0], int(row[1]))]
        expected = [str(int(got.photos))] + [f"{got[c]:.3f}" for c in
                                             ("bpg", "h0", "hch", "hctx", "hsp", "model", "model/hch", "jnet",
                                              "jnet/hch", "tables", "jpeg", "coded", "webp")]
        assert row[2:] == expected, row[:2]


def test_readme_tau_table_is_the_committed_benchmark_output():
    """The README's table of the networks with their per-image tau is the residual benchmark's
    committed CSV, and tau never costs bits there (it is kept only where it saves)."""
    import pandas as pd

    bench = _bench_script("residual_entropy")
    table = pd.read_csv(ROOT / "docs" / "residual_entropy.csv")
    readme = (ROOT / "README.md").read_text()
    assert bench.tau_markdown(table) in readme
    assert (table.model_tau <= table.model + 1e-4).all() and (table.jnet_tau <= table.jnet + 1e-4).all()
    g = bench.per_package(table)
    peaks = table[(table.image == "enlightenment-data__Peaks") & (table.q == 14)].iloc[0]
    enl = g.loc[("enlightenment-data", 14)]
    text = " ".join(readme.split())
    assert (f"Peaks at Q 14 the network alone pays {peaks.model:.3f} bpsp, with its tau {peaks.model_tau:.3f}, "
            f"the histogram {peaks.hch:.3f}") in text
    assert (f"with their tau cost {g.loc[('all', 14), 'jnet_tau/hch']:.3f} × the histogram" in text
            and f"photos, {enl['jnet_tau/hch']:.3f} × ({enl['jnet/hch']:.3f} × without tau)" in text)
    assert (g["jnet_tau/hch"] < 1).all()  # "below the per-photo histogram on every package at every Q"


def test_readme_jpeg_colour_table_and_sentences_are_the_committed_benchmark_output():
    """The README's JPEG colour table is `bench/jpeg_colour.py`'s committed output; what the prose
    says of it holds there, and its residual sentence quotes the residual benchmark's CSV."""
    import pandas as pd

    bench = _bench_script("jpeg_colour")
    table = pd.read_csv(ROOT / "docs" / "jpeg_colour.csv")
    readme = (ROOT / "README.md").read_text()
    assert bench.markdown(bench.summary(table)) in readme
    assert "JPEG_COLOUR_TABLE" not in readme
    native = table.package.str.endswith("~native")
    assert table[native].decoded_jpeg.all() and (table[native].reachable == 1).all()  # "every one of them"
    jpeg = table[table.decoded_jpeg]
    assert (jpeg.bpsp_default <= jpeg.bpsp_without).all()
    saved = bench.summary(table).set_index("package").loc["all decoded JPEGs", "saved_pct"]
    assert f"(about {saved:.0f} % smaller again on such pictures)" in " ".join(readme.split())
    assert (table[~table.decoded_jpeg].reachable < 1).all()
    residual = _bench_script("residual_entropy")
    rows = pd.read_csv(ROOT / "docs" / "residual_entropy.csv")
    everything = residual.weighted(rows.assign(package="all"), ["package", "q"]).loc[("all", 14)]
    crops = residual.weighted(rows, ["package", "q"]).loc[("enlightenment-data~native", 14)]
    text = " ".join(readme.split())
    assert (f"rclib codes it is {100 * (1 - everything.coded / everything.hch):.0f} % below the per-photo "
            f"histogram at Q 14 (on enlightenment's native crops the tables in JPEG colour cost "
            f"{100 * (1 - crops.jpeg / crops.hch):.0f} % less") in text


def test_readme_jpeg_low_q_table_is_the_committed_benchmark_output():
    """The README's low-Q table is `bench/jpeg_low_q.py`'s committed runs, the benchmark's Qs below
    11 are the grid the strategies add for decoded JPEGs, and on the training regions (where the
    grid was chosen) those Qs win often enough to be worth their BPG encodes."""
    import pandas as pd

    from rclib import qselect

    bench = _bench_script("jpeg_low_q")
    table = pd.concat([pd.read_csv(ROOT / "docs" / f"jpeg_low_q_{split}.csv") for split in ("train", "val")])
    summary = bench.summary(table)
    assert bench.markdown(summary) in (ROOT / "README.md").read_text()
    assert qselect.JPEG_LOW_QS == tuple(q for q in bench.QS if q < 11)
    train = summary.set_index("split").loc["train"]
    assert train["best Q below 11"] >= train["decoded JPEGs"] / 3 and train.saved_pct > 0.5
    assert (table.best_all <= table.best_high).all()


def test_readme_finetune_rgb_table_is_the_committed_scores():
    """The README's table of RC+'s weights for BPG in RGB is `bench/finetune_rgb.py score`'s CSV."""
    import csv

    bench = _bench_script("finetune_rgb")
    readme = (ROOT / "README.md").read_text()
    assert bench.markdown(ROOT / "docs" / "finetune_rgb.csv") in readme
    rows = list(csv.DictReader(open(ROOT / "docs" / "finetune_rgb.csv")))
    first, last = rows[0], rows[-1]
    gain = 100 * (1 - float(last["rgb_q17"]) / float(first["rgb_q17"]))
    loss = 100 * (float(last["ycbcr_q14"]) / float(first["ycbcr_q14"]) - 1)
    assert all(float(last[k]) < float(first[k]) for k in first if k.startswith("rgb_"))
    text = " ".join(readme.split())
    assert (f"prices the residual over BPG in RGB {gain:.1f} % lower than the weights it started from, and lower "
            f"on every package; over YCbCr it is {loss:.1f} % worse") in text
    plus = json.loads((ROOT / "docs" / "results.json").read_text())["rc_plus"]
    rcp, best, jxl = (plus["codecs"][k]["bpsp"] for k in ("RC+", "RC or RC+", "JPEGXL-LL-e9"))
    # what notebook 06 gave when these weights shipped (docs/results.json at fd95d28), then today's
    assert ("RC+ then coded 8 of the 41 validation pictures over BPG in RGB (6 before) and its mean fell from "
            "2.403 to 2.394 bpsp, the default's from 2.402 to 2.393, 0.3 % above JPEG XL e9 (0.7 % before); "
            "RC+ / RC fell from 0.966 to 0.962") in text
    assert rcp < 2.394 and best < 2.393  # the weights for JPEG colour since have only lowered them
    assert (f"the results below have RC+ coding {plus['over_rgb']['RC+']} pictures over BPG in RGB and RC+ / RC "
            f"at {plus['rc_plus_over_rc']:.3f}") in text


def test_readme_rc_finetune_rgb_table_and_sentences_are_the_committed_measurements():
    """RC's copy for BPG in RGB (trained, not shipped): the README's table is score's CSV, and its
    sentence's numbers are that CSV's best snapshot and ratio's median."""
    import csv

    import numpy as np

    bench = _bench_script("finetune_rgb")
    readme = (ROOT / "README.md").read_text()
    scores = ROOT / "docs" / bench.SCORES["rc"]
    assert bench.markdown(scores) in readme
    rows = list(csv.DictReader(open(scores)))
    shipped = rows[0]
    best = min(rows[1:], key=lambda r: float(r["rgb_q17"]))
    gain = 100 * (1 - float(best["rgb_q17"]) / float(shipped["rgb_q17"]))
    worse = [k for k in shipped if k.startswith("rgb_") and float(best[k]) >= float(shipped[k])]
    assert worse == ["rgb_enlightenment-data~native"]
    native = 100 * (float(best[worse[0]]) / float(shipped[worse[0]]) - 1)
    ratios = [float(r["ratio"]) for r in csv.DictReader(open(ROOT / "docs" / bench.SHARES["rc"]))]
    text = " ".join(readme.split())
    assert (f"Step {best['step']} is the best: {gain:.1f} % below RC's weights over RGB, lower on every "
            f"package but enlightenment's native crops (+{native:.1f} %;") in text
    assert f"to a median {np.median(ratios):.3f} of the tables' bits" in text
    assert (ROOT / "data" / "runs" / "rc_rgb" / "snapshots" / f"step{int(best['step']):06d}.pt").exists()


def test_readme_rgb_bpg_table_is_the_committed_benchmark_output():
    """The README's BPG-in-RGB table is `bench/rgb_bpg.py`'s committed runs, and the strategies'
    RGB grid holds every Q that is RGB's best for more than one of the training pictures it was
    chosen on."""
    import pandas as pd

    from rclib import qselect

    bench = _bench_script("rgb_bpg")
    table = pd.concat([pd.read_csv(ROOT / "docs" / f"rgb_bpg_{split}.csv") for split in ("train", "val")])
    assert bench.markdown(bench.summary(table)) in (ROOT / "README.md").read_text()
    summary = bench.summary(table).set_index(["split", "package"])
    lxqt = summary.loc[("val", "lxqt-themes")]
    drop = table.set_index("image").loc["lxqt-themes__drop"]
    text = " ".join((ROOT / "README.md").read_text().split())
    assert (f"lxqt's wallpapers code {lxqt.saved_pct:.0f} % smaller from tables alone, the smoothest by much more "
            f"(`drop`: {drop.best_ycbcr:.3f} → {drop.best_rgb:.3f} bpsp, "
            f"{100 * (1 - drop.best_rgb / drop.best_ycbcr):.0f} % smaller)") in text
    train = table[table.split == "train"].best_rgb_q.value_counts()
    assert set(train[train > 1].index) <= set(qselect.RGB_QS) <= set(bench.QS)


def test_readme_shapes_table_is_the_committed_comparison():
    """The size comparison in the README is `bench/shapes.py --csv docs/shapes.csv`'s output, and
    the shipped RC weights have the shape that won it."""
    import pandas as pd

    from rclib import model

    table = pd.read_csv(ROOT / "docs" / "shapes.csv")
    rows = _readme_table("shape |")
    assert [r[0] for r in rows] == list(table["shape"])
    for row, (_, want) in zip(rows, table.iterrows()):
        assert row[1:] == [str(want[c]) for c in ("width", "head_width", "blocks", "fuse", "parameters",
                                                  "steps", "minutes", "val_bpsp", "network_mpix_s")], row[0]
    assert model.load(model.DEFAULT_WEIGHTS).config.name == table["shape"].iloc[0]


def test_default_model_is_the_smallest_on_the_validation_set():
    """rclib.compress's default model is whichever coded the validation set in fewest bytes in
    notebook 06's side-by-side run (docs/results.json): RC, RC+, or per picture the smaller
    ("auto"); so changing a model and not the default shows up here."""
    import json

    from rclib import bench, qselect

    codecs = json.loads((ROOT / "docs" / "results.json").read_text())["rc_plus"]["codecs"]
    models = {"RC": "rc", "RC+": "rc+", bench.AUTO_ROW: "auto"}
    assert qselect.DEFAULT_MODEL == models[min(models, key=lambda k: codecs[k]["bpsp"])]


def test_results_were_made_with_the_shipped_weights():
    """New default weights mean a new `make reproduce`: the committed numbers name their weights."""
    import json

    from rclib import model

    ids = json.loads((ROOT / "docs" / "results.json").read_text())["weights_ids"]
    assert ids == {"rc": model.weights_id(model.load(model.DEFAULT_WEIGHTS)),
                   "rc+": model.weights_id(model.load(model.DEFAULT_PLUS_WEIGHTS)),
                   **{f"{kind} rgb": model.weights_id(model.load(path))
                      for kind, path in model.DEFAULT_RGB_WEIGHTS.items() if path.exists()}}


def test_readme_paper_network_numbers_are_its_record():
    """The README's numbers for the GPU-trained `paper` weights are those of their JSON record."""
    import json

    info = json.loads((ROOT / "data" / "models" / "rc_paper.json").read_text())
    text = " ".join((ROOT / "README.md").read_text().split())
    assert f"checkpoint (step {info['steps']}) scores {info['val_bpsp']:.4f} bpsp" in text
    for value in info["val_groups"].values():
        assert f"{value:.4f}" in text


def test_readme_prose_percentages_follow_the_results():
    """The few percentages the README's prose quotes are recomputed from docs/results.json."""
    import json

    results = json.loads((ROOT / "docs" / "results.json").read_text())
    text = " ".join((ROOT / "README.md").read_text().split())
    codecs = results["codecs"]
    tables_gain = round(100 * (1 - codecs["rclib"]["bpsp"] / codecs["rclib model only"]["bpsp"]))
    assert f"which makes files {tables_gain} % smaller" in text
    plus = results["rc_plus"]["codecs"]
    rcp, rc = plus["RC+"]["bpsp"], plus["RC"]["bpsp"]
    webp, jxl = plus["WebP-LL"]["bpsp"], plus["JPEGXL-LL-e9"]["bpsp"]
    assert rcp < webp
    side = lambda a, b: "above" if a > b else "below"  # noqa: E731
    assert (f"RC+ is {round(100 * (1 - rcp / webp))} % below WebP over the set and {round(100 * (1 - rcp / rc))} % "
            f"below RC, {round(100 * abs(rcp / jxl - 1))} % {side(rcp, jxl)} JPEG XL e9 "
            f"({100 * abs(rcp / jxl - 1):.2f} %)") in text
    crops = {name: results["per_package"][name]["enlightenment-data~native"] for name in ("rclib", "JPEGXL-LL-e9")}
    assert (f"there rclib codes the JPEG's own YCbCr, {round(100 * (1 - crops['rclib'] / crops['JPEGXL-LL-e9']))} % "
            "below JPEG XL e9 on enlightenment's") in text
    best = plus["RC or RC+"]["bpsp"]
    assert best < min(webp, rcp, rc)
    assert (f"the codec's default, `--model auto`, keeps per picture the smaller of RC's and RC+'s "
            f"files: {100 * (1 - best / webp):.1f} % below WebP and {100 * abs(best / jxl - 1):.1f} % "
            f"{side(best, jxl)} JPEG XL e9") in text


def test_readme_rc_plus_tau_gain_is_the_committed_benchmark_output():
    """The README's RC+ `--tau` saving is `bench/tau_gain.py --model rc+`'s committed table."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.spec_from_file_location("tau_gain", ROOT / "bench" / "tau_gain.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    row = bench.summary(pd.read_csv(ROOT / "docs" / "tau_gain_rcplus.csv")).set_index("package").loc["all"]
    text = " ".join((ROOT / "README.md").read_text().split())
    assert (f"For RC+ on the {int(row.pictures)} validation pictures at `--q auto` it saves {row.saved_pct:.2f} % "
            f"(mean {row.bpsp:.3f} → {row.bpsp_tau:.3f} bpsp, kept for {int(row.tau_kept)} pictures") in text


def test_readme_channel_gap_table_is_the_committed_benchmark_output():
    """The README's per-channel table (network against the per-photo histogram) is
    `bench/channel_gap.py`'s committed output, and its sentence quotes the native crops' rows."""
    import pandas as pd

    gap = _bench_script("channel_gap")
    table = gap.summary(pd.read_csv(ROOT / "docs" / "channel_gap.csv"))
    readme = (ROOT / "README.md").read_text()
    assert gap.markdown(table) in readme
    native = table.set_index("package").loc["enlightenment-data~native"]
    text = " ".join(readme.split())
    assert (f"on enlightenment's native crops it prices R {100 * (1 - native['network R'] / native['hch R']):.0f} % "
            f"below the histogram but pays {100 * (native['network G'] / native['hch G'] - 1):.0f} % more for G and "
            f"{100 * (native['network B'] / native['hch B'] - 1):.0f} % more for B") in text


def test_readme_blend_table_is_the_committed_benchmark_output():
    """The README's `--blend` table and sentence are `bench/blend_gain.py`'s committed tables."""
    import pandas as pd

    gain = _bench_script("blend_gain")
    rc, plus = (pd.read_csv(ROOT / "docs" / f, keep_default_na=False)
                for f in ("blend_gain_rc.csv", "blend_gain_rcplus.csv"))
    table, markdown = gain.combined(rc, plus)
    readme = (ROOT / "README.md").read_text()
    assert markdown in readme
    row = table.set_index("package").loc["all"]
    text = " ".join(readme.split())
    assert (f"the {int(row.pictures)} validation pictures at `--q auto` it saves "
            f"{100 * (1 - row['RC --blend'] / row['RC']):.1f} % for RC, "
            f"{100 * (1 - row['RC+ --blend'] / row['RC+']):.1f} % for RC+ and {row.saved_pct:.1f} % for the "
            f"default `--model auto` (mean {row['RC or RC+']:.3f} → {row['RC or RC+ --blend']:.3f} bpsp") in text
    for t in (rc, plus):  # a blend is kept only where it makes the file smaller
        assert (t.bpsp_blend <= t.bpsp).all()
    plus_run = json.loads((ROOT / "docs" / "results.json").read_text())["rc_plus"]["codecs"]
    # notebook 06's run, the same files -- unless the README says the blend runs used earlier weights
    # (the lattice tables' weights and JPEG colour came after the last blend run: bench/blend_gain.py reruns it)
    if "The `--blend` table above was measured with the weights before" not in text:
        assert abs(plus_run["RC or RC+"]["bpsp"] - row["RC or RC+"]) < 5e-4
    elif "which have since taken the default without blends to" in text:
        assert plus_run["RC or RC+"]["bpsp"] < row["RC or RC+ --blend"]
        assert f"the default without blends to {plus_run['RC or RC+']['bpsp']:.3f} bpsp in notebook 06, below" in text
    assert (f"against WebP's {plus_run['WebP-LL']['bpsp']:.3f} and JPEG XL e9's "
            f"{plus_run['JPEGXL-LL-e9']['bpsp']:.3f} in notebook 06") in text
    jxl = plus_run["JPEGXL-LL-e9"]["bpsp"]
    assert (f"with `--blend` the default is {100 * abs(1 - row['RC or RC+ --blend'] / jxl):.1f} % "
            f"{'below' if row['RC or RC+ --blend'] < jxl else 'above'} JPEG XL e9") in text
    ratio = lambda t, a, b: t[a].sum() / t[b].sum()  # noqa: E731
    assert (f"coding takes {ratio(rc, 'code_blend_s', 'code_s'):.1f} (RC) and "
            f"{ratio(plus, 'code_blend_s', 'code_s'):.1f} (RC+) times as long") in text
    assert (f"RC's files decode in {ratio(rc, 'decode_blend_s', 'decode_s'):.1f} times the time, RC+'s in "
            f"{ratio(plus, 'decode_blend_s', 'decode_s'):.1f} times") in text


def test_readme_gates_table_is_the_committed_scores_and_the_shipped_record():
    """The README's fine-tuning table is `bench/finetune_gates.py table` over the committed scores,
    and the RC+ weights shipped before the lattice tables are its stage-2 gated arm: same
    validation bits, gated."""
    import pandas as pd

    from rclib import model

    gates = _bench_script("finetune_gates")
    scores = pd.read_csv(ROOT / "docs" / "finetune_gates.csv")
    assert gates.markdown(gates.summary(scores)) in (ROOT / "README.md").read_text()
    info = json.loads((ROOT / "data" / "models" / "rcplus_cpu_v6.json").read_text())  # shipped until the lattice
    final = scores[(scores.stage == 2) & (scores.arm == "rcplus_gated_native")].sort_values("steps").iloc[-1]
    assert abs(info["val_bpsp"] - final["all"]) < 1e-5 and info["config"]["gated"]
    before = scores[scores.arm == "rcplus_cpu"].iloc[0]
    assert info["fine_tuned_from"]["weights_id"] == json.loads(
        (ROOT / "data" / "models" / "rcplus_cpu_v5.json").read_text())["weights_id"]
    assert final["all"] < before["all"]


def test_readme_lattice_table_is_the_committed_fits_and_the_shipped_records():
    """The README's lattice table is `bench/fit_lattice.py --table` over docs/lattice.csv; each
    shipped network is its `fitted` row (same id and validation bits), fitted to the zoo's weights
    of its `none` row, with fewer bits over the whole set."""
    import pandas as pd

    from rclib import model

    fits = _bench_script("fit_lattice")
    table = pd.read_csv(ROOT / "docs" / "lattice.csv", dtype={"weights_id": str})
    readme = (ROOT / "README.md").read_text()
    assert fits.markdown(table) in readme
    assert fits.joint("enlightenment-data__Mountain~native", 14) in readme  # the pattern it is for
    zoo = {k[:6]: v for k, v in model.zoo().items()}
    for kind, path in (("rc", model.DEFAULT_WEIGHTS), ("rc+", model.DEFAULT_PLUS_WEIGHTS)):
        rows = table[table.kind == kind].set_index("tables")
        info = json.loads(path.with_suffix(".json").read_text())
        assert info["weights_id"][:6] == rows.loc["fitted", "weights_id"] and info["config"]["lattice"]
        assert abs(info["val_bpsp"] - rows.loc["fitted", "all"]) < 1e-5
        assert info["lattice_fitted_to"]["weights_id"][:6] == rows.loc["none", "weights_id"]
        assert zoo[rows.loc["none", "weights_id"]].name == info["lattice_fitted_to"]["file"]
        assert rows.loc["fitted", "all"] < rows.loc["none", "all"]


def test_readme_rc_plus_jpeg_weights_table_and_sentence_are_the_committed_measurements():
    """RC+'s weights for JPEG colour: the README's score table is `finetune_jpeg.py score --kind rc+`'s
    CSV, its sentence `coded --kind rc+`'s, and the shipped JSON records the scored snapshot."""
    bench = _bench_script("finetune_jpeg")
    readme = (ROOT / "README.md").read_text()
    assert bench.table(bench.SCORES["rc+"]) in readme
    assert bench.coded_sentence(bench.CODED["rc+"], "rc+") in " ".join(readme.split())
    info = json.loads((ROOT / "data" / "models" / "rcplus_jpeg_cpu.json").read_text())
    assert info["steps"] == 3000 and info["colour"] == "jpeg" and "--kind rc+" in info["command"]
    import pandas as pd

    scores = pd.read_csv(bench.SCORES["rc+"])
    for q, part in scores.groupby("q"):
        net = (part["step 3000"] * part.subpixels).sum() / part.subpixels.sum()
        assert abs(info["val_native_crops"][f"q{q}"]["network"] - net) < 1e-5


def test_readme_q_descent_sentence_is_the_committed_comparison():
    """`auto`'s downhill walk: the README's numbers are bench/q_descent.py's on its committed rows,
    which were measured on training pictures with today's grids."""
    import pandas as pd

    from rclib import qselect

    bench = _bench_script("q_descent")
    table = pd.read_csv(ROOT / "docs" / "q_descent_train.csv")
    assert bench.sentence(table) in " ".join((ROOT / "README.md").read_text().split())
    assert (table.rc_of == len(qselect.AUTO_QS["rc"])).all() and (table.rgb_of == len(qselect.RGB_QS)).all()
    assert (table["rc+_of"] == len(qselect.AUTO_QS["rc+"])).all()
    for name in ("rc", "rc+"):   # measured with today's step above the table optimum
        assert (table[f"{name}_steps_above"] == qselect.AUTO_STEPS_ABOVE[name]).all()
    assert not any(n.startswith(("enlightenment", "libjxl", "lxqt")) for n in table.image)   # not validation


def test_readme_rcplus_q_shift_figures_are_the_committed_measurement():
    """RC+'s step above the table optimum: the README quotes bench/rcplus_q_shift.py's committed
    rows (training pictures), and the shift `auto` takes is the best of the steps its grid allows."""
    import pandas as pd

    from rclib import qselect

    bench = _bench_script("rcplus_q_shift")
    table = pd.read_csv(ROOT / "docs" / "rcplus_q_shift.csv")
    text = " ".join((ROOT / "README.md").read_text().split())
    assert bench.sentence(table) in text
    assert not any(n.startswith(("enlightenment", "libjxl", "lxqt")) for n in table.image)   # not validation
    step = qselect.AUTO_QS["rc+"][1] - qselect.AUTO_QS["rc+"][0]
    s = bench.summary(table)
    on_grid = {k: s.bpsp[f"{k * step:+d}"] for k in range(3) if f"{k * step:+d}" in s.index}
    assert min(on_grid, key=on_grid.get) == qselect.AUTO_STEPS_ABOVE["rc+"]
    real = pd.read_csv(ROOT / "docs" / "rcplus_q_step_train.csv")
    assert bench.real_sentence(real) in text
    assert not any(n.startswith(("enlightenment", "libjxl", "lxqt")) for n in real.image)
    assert real.bytes_step2.sum() < real.bytes_step1.sum()   # the step shipped is the smaller on training


def test_readme_rcplus_levels_paragraph_is_the_committed_benchmark_output():
    """The README's paragraph on RC+'s levels quotes bench/rcplus_levels.py's committed CSVs, whose
    one-level files are notebook 06's RC+ and RC files (docs/results.json)."""
    import pandas as pd

    bench = _bench_script("rcplus_levels")
    table = pd.read_csv(ROOT / "docs" / "rcplus_levels.csv")
    s = bench.summary(table).set_index("levels")
    codecs = json.loads((ROOT / "docs" / "results.json").read_text())["rc_plus"]["codecs"]
    assert abs(s.loc[1, "rc_plus_bpsp"] - codecs["RC+"]["bpsp"]) < 1e-5
    assert abs(s.loc[1, "rc_bpsp"] - codecs["RC"]["bpsp"]) < 1e-5
    over_bpg = table.coded_1.notna()
    coded = {n: 100 * (1 - table[f"coded_{n}"].sum() / table.coded_1.sum()) for n in (2, 3)}
    net = {n: 100 * (1 - s.loc[n, "network_bits_vs_1"]) for n in (2, 3)}
    text = " ".join((ROOT / "README.md").read_text().split())
    assert (f"on the {over_bpg.sum()} validation files over BPG (each at its Q and colour space in notebook 06's "
            f"table; the {(~over_bpg).sum()} in JPEG colour stay as they are), the network alone codes "
            f"{net[2]:.1f} % fewer residual bits with one level added (`--levels 2`) and {net[3]:.1f} % with two (`--levels 3`); as the coder "
            f"codes them (a table wherever it is shorter) that becomes {coded[2]:.2f} % and {coded[3]:.2f} %: "
            f"RC+ {s.loc[1, 'rc_plus_bpsp']:.3f} → {s.loc[2, 'rc_plus_bpsp']:.3f} (two levels "
            f"{s.loc[3, 'rc_plus_bpsp']:.3f}) bpsp, RC+ / RC {s.loc[1, 'rc_plus_over_rc']:.3f} → "
            f"{s.loc[2, 'rc_plus_over_rc']:.3f} ({s.loc[3, 'rc_plus_over_rc']:.3f})") in text
    files = pd.read_csv(ROOT / "docs" / "rcplus_levels_files.csv")
    assert bench.files_markdown(files) in (ROOT / "README.md").read_text()
    coded = files.bytes_1_0.notna()
    assert (files.bytes_1_0[coded] == files.bytes[coded]).all()  # one level at its Q: notebook 06's file
    assert bench.files_sentence(files) in text
