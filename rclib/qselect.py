"""Choosing BPG's quantizer Q for a picture, above the codec and the classifier.

Strategies: a fixed Q; `min`, which estimates BPG bits + the residual's bits (network or
per-image tables, as the coder would choose) at every Q of the model kind's range and takes the
cheapest; `clf`, the Q-classifier's guess from the picture alone (the seed's CLF_ONLY); `auto`,
with per-image tables (the default) the Q with the fewest BPG + table bits over the kind's grid
(for RC+ the grid's next Q above it), no network needed (the residual is mostly coded from
tables, so this finds `min`'s Q at a fraction of its cost), and without tables the classifier.
For a decoded JPEG, `min` and `auto` also try the low Qs JPEG colour likes (JPEG_LOW_QS).  Both
also weigh BPG in its RGB colour space (rgb_candidate) and keep that file where it is smaller.
Q histories (every picture at every Q) are the classifier's training targets and the yardstick of
every strategy.  codec.compress takes the Q.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import bpg, classifier, codec, colour, model as model_lib
from .errors import InputError
from .imageio import atomic_write

# The quantizers each model kind chooses from: RC's is the seed's 11..17; RC+'s later passes see
# their true neighbours, so BPG may carry less and its range reaches higher.
Q_RANGES = {"rc": tuple(range(11, 18)), "rc+": tuple(range(11, 31))}
FALLBACK_Q = {"rc": codec.DEFAULT_Q, "rc+": 20}   # `clf` without classifier weights
# `auto`'s grid with tables: RC's whole range; for RC+ every third Q of its range (each Q costs a
# BPG encode).  RC+'s network codes what a higher Q leaves behind far better than tables do, so its
# `auto` takes the grid's Q two steps (6 Q) above the table optimum (chosen on training pictures:
# `bench/rcplus_q_shift.py --split train --n 40 --shifts 0 7`: +3 saves 1.9 % of RC+'s estimated
# bits, +6 2.3 %, +7 2.0 %).
AUTO_QS = {"rc": Q_RANGES["rc"], "rc+": Q_RANGES["rc+"][::3]}
AUTO_STEPS_ABOVE = {"rc": 0, "rc+": 2}
# A decoded JPEG is coded in its own YCbCr from tables alone (codec: JPEG colour), with no network,
# so its Q may leave the networks' ranges: below them, BPG at Q 5-10 often comes so close to a fine
# JPEG's YCbCr that its residual saves more than BPG's extra bytes (on the training photos' native
# regions, for 22 of their 40 decoded JPEGs: `bench/jpeg_low_q.py`).  `auto` and `min` also try
# these Qs for such pictures.
JPEG_LOW_QS = tuple(range(5, 11))
# BPG in its RGB colour space (bpg.encode(space="rgb")) gives an x_l without YCbCr's rounding, whose
# lattice the residual pays for: on smooth pictures up to about 1 bpsp, even at Q 0.  `auto` and
# `min` find its Q on this grid by BPG + table bits (chosen on training pictures: `python
# bench/rgb_bpg.py --split train --every 8`), code the picture that way too where those bits,
# times RGB_NETWORK_SHARE, undercut the YCbCr file, and keep the smaller file.
RGB_QS = (10, 12, 14, 17, 20, 23)
# What a kind's file over BPG in RGB comes to, in bits, against rgb_candidate's BPG + table bits,
# with its weights for RGB: the median over 41 training pictures (`python bench/finetune_rgb.py
# ratio --kind rc` and `--kind rc+`).
RGB_NETWORK_SHARE = {"rc": 0.955, "rc+": 0.938}
CLASSIFIER_WEIGHTS = {"rc": classifier.DEFAULT_WEIGHTS,
                      "rc+": classifier.DEFAULT_WEIGHTS.with_name("q_classifier_cpu_plus.pt")}


def q_range(model=None) -> tuple[int, ...]:
    return Q_RANGES[model_lib.kind(codec.resolve_model(model))]


def classifier_weights(kind: str = "rc") -> Path:
    """$RCLIB_CLASSIFIER when set (a freshly trained classifier, for RC), else the shipped ones."""
    if kind == "rc" and os.environ.get("RCLIB_CLASSIFIER"):
        return Path(os.environ["RCLIB_CLASSIFIER"])
    return CLASSIFIER_WEIGHTS[kind]


def jpeg_lift(rgb: np.ndarray, jpeg: bool, ycc: np.ndarray | None = None) -> np.ndarray | None:
    """The YCbCr of a decoded JPEG (colour.jpeg_ycc_of) when JPEG colour is on: ycc when the
    caller has it, else found; the strategies find it once per picture, not once per Q."""
    if not jpeg:
        return None
    return colour.jpeg_ycc_of(rgb) if ycc is None else ycc


def estimate_bits(rgb: np.ndarray, q: int, model=None, backend: str = "auto",
                  tables: bool = True, jpeg: bool = True, ycc: np.ndarray | None = None) -> tuple[float, bytes]:
    """BPG bits + the residual's ideal bits at quantizer q (no arithmetic coding); and the BPG file.
    ycc: the picture's YCbCr when it is a decoded JPEG (jpeg_lift), if known."""
    bpg_file = bpg.encode(rgb, q, backend=backend)
    ycc = jpeg_lift(rgb, jpeg and tables, ycc)
    resid = codec.estimate_residual_bits(rgb, bpg.decode(bpg_file), q, model, tables,
                                         bpg_file if ycc is not None else None, ycc)
    return 8 * len(bpg_file) + resid, bpg_file


def search_q(rgb: np.ndarray, model=None, backend: str = "auto", qs=None, tables: bool = True,
             jpeg: bool = True, ycc: np.ndarray | None = None) -> tuple[int, bytes]:
    """Strategy `min`: the Q of `qs` (default: the model kind's range) with the fewest estimated
    bits, and its BPG file."""
    ycc = jpeg_lift(rgb, jpeg and tables, ycc)
    qs = qs or q_range(model) + (JPEG_LOW_QS if ycc is not None else ())
    best = None
    for q in qs:
        bits, bpg_file = estimate_bits(rgb, q, model, backend, tables, ycc is not None, ycc)
        if best is None or bits < best[0]:
            best = (bits, q, bpg_file)
    return best[1], best[2]


def table_search_q(rgb: np.ndarray, qs, backend: str = "auto", steps_above: int = 0,
                   jpeg: bool = True, ycc: np.ndarray | None = None) -> tuple[int, bytes]:
    """Strategy `auto` with tables: the Q of `qs` with the fewest BPG bits + per-image table bits
    (every channel from its table; no network), or the one `steps_above` places above it in the
    sorted grid (at most its last), and its BPG file.  A decoded JPEG (ycc) is also tried at
    JPEG_LOW_QS, and where JPEG colour's tables are cheapest of all, that Q is taken as it is: the
    file needs no network, so no step above.  Other pictures walk the grid downhill from START_Q
    (descend).  BPG runs in parallel threads."""
    ycc = jpeg_lift(rgb, jpeg, ycc)

    def cost(q):
        bpg_file = bpg.encode(rgb, q, backend=backend)
        rgb_bits, jpeg_bits = table_bits(rgb, bpg_file, ycc=ycc)
        return min(8 * len(bpg_file) + rgb_bits, 8 * len(bpg_file) + jpeg_bits), jpeg_bits < rgb_bits, bpg_file

    if ycc is None:
        tried = descend(qs, cost)
    else:   # a decoded JPEG's costs have two valleys (its own quantizer's low Qs, and BPG's usual
        # one), so every Q is tried
        from concurrent.futures import ThreadPoolExecutor

        from . import entropy

        grid = sorted(set(qs) | set(JPEG_LOW_QS))
        with ThreadPoolExecutor(entropy.workers()) as pool:
            tried = dict(zip(grid, pool.map(cost, grid)))
    best = min(tried, key=lambda q: (tried[q][0], q))
    if tried[best][1]:   # JPEG colour's tables are the cheapest
        return best, tried[best][2]
    q = auto_pick({q: c[0] for q, c in tried.items() if q in qs}, steps_above, grid=qs)
    return q, (tried[q] if q in tried else cost(q))[2]


# Where descend() starts on every grid: near the Q `auto` picks most often (RC's mean 13.8 on the
# validation pictures, RC+'s table optimum before its step up about the same).
START_Q = 14


def descend(grid, cost, start: int = START_Q) -> dict:
    """Walk the sorted Q grid downhill: cost(Q) -> a tuple whose first item is minimized; returns
    {Q: cost(Q)} for the Qs it tried, which hold a local minimum with both its neighbours.

    BPG + table bits fall, then rise with Q (but for decoded JPEGs in JPEG colour, which
    table_search_q tries at every Q), so this finds exhaustive search's Q while encoding BPG at
    about half of the grid's Qs: `bench/q_descent.py` compares both.  Qs are tried two at a time
    in parallel threads (the next one the same way while one thread would idle)."""
    from concurrent.futures import ThreadPoolExecutor

    from . import entropy

    grid = sorted(grid)
    here = min(range(len(grid)), key=lambda i: (abs(grid[i] - start), i))
    batch = grid[here:here + 2] if here + 1 < len(grid) else grid[max(here - 1, 0):here + 1]
    tried: dict = {}
    pair = entropy.workers() > 1
    with ThreadPoolExecutor(entropy.workers()) as pool:
        while batch:
            tried.update(zip(batch, pool.map(cost, batch)))
            j = grid.index(min(tried, key=lambda q: (tried[q][0], q)))
            batch = [grid[k] for k in (j - 1, j + 1) if 0 <= k < len(grid) and grid[k] not in tried]
            if pair and len(batch) == 1:
                k = j + 2 * (grid.index(batch[0]) - j)
                if 0 <= k < len(grid) and grid[k] not in tried:
                    batch.append(grid[k])
    return tried


def auto_pick(costs: dict[int, float], steps_above: int = 0, grid=None) -> int:
    """`auto`'s rule over {Q: BPG + table bits}: the cheapest Q (the lowest on ties), or the one
    `steps_above` places above it in the sorted grid (default: the Qs of costs; at most its last)."""
    grid = sorted(grid or costs)
    best = grid.index(min(costs, key=lambda q: (costs[q], q)))
    return grid[min(best + steps_above, len(grid) - 1)]


def table_cost(rgb: np.ndarray, bpg_file: bytes, x_l: np.ndarray | None = None, ycc=None) -> float:
    """What `auto` minimizes over Q: BPG bits + the residual's bits from per-image tables alone
    (in JPEG colour where the picture has it, ycc = colour.jpeg_ycc_of(rgb), and that is fewer).
    x_l: BPG's decoded picture, when known."""
    return 8 * len(bpg_file) + min(table_bits(rgb, bpg_file, x_l, ycc))


def table_bits(rgb: np.ndarray, bpg_file: bytes, x_l: np.ndarray | None = None, ycc=None) -> tuple[float, float]:
    """The residual's bits from per-image tables alone: in RGB, and in JPEG colour (inf when ycc,
    the picture's YCbCr, is None).  BPG's file is decoded once for both colour spaces."""
    x_l_ycc = bpg.decode_ycbcr(bpg_file) if x_l is None or ycc is not None else None
    x_l = colour.ycbcr_to_rgb(x_l_ycc) if x_l is None else x_l
    jpeg = float("inf") if ycc is None else codec.ycc_table_bits(ycc, x_l_ycc)
    return codec.table_only_bits(rgb, x_l), jpeg


def choose_q(rgb: np.ndarray, q=None, model=None, backend: str = "auto",
             tables: bool = True, jpeg: bool = True, ycc: np.ndarray | None = None) -> tuple[int, bytes | None]:
    """A strategy's Q for a picture, and BPG's file at it when the strategy made one.

    q: a quantizer 0..51; "min"; "auto"; "clf"; None: "auto".  ycc: jpeg_lift's answer, if known."""
    kind = model_lib.kind(codec.resolve_model(model))
    if q is None:
        q = "auto"
    if q == "min":
        return search_q(rgb, model, backend, tables=tables, jpeg=jpeg, ycc=ycc)
    if q == "auto" and tables:
        return table_search_q(rgb, AUTO_QS[kind], backend, AUTO_STEPS_ABOVE[kind], jpeg, ycc)
    if q in ("auto", "clf"):
        weights = classifier_weights(kind)
        if not weights.exists():
            return FALLBACK_Q[kind], None
        return classifier.predict_q(rgb, classifier.load(weights)), None
    if isinstance(q, str) and not q.isdigit():
        raise InputError(f"q must be a quantizer 0..51, 'min', 'auto' or 'clf', got {q!r}")
    return int(q) if isinstance(q, str) else q, None


# model="auto" (the default): the picture coded by each kind, each at its own Q strategy, and the
# smaller file kept; the header names the kind, so decoding needs nothing more.  RC+ wins most
# pictures, RC the noisy photos at native resolution (notebook 06).  Encoding costs both.
AUTO_MODELS = ("rc", "rc+")
DEFAULT_MODEL = "auto"


def kind_per_picture(model) -> bool:
    """Whether `model` asks for the kind to be chosen per picture: "auto", or None (the default)."""
    model = DEFAULT_MODEL if model is None else model
    return isinstance(model, str) and model == "auto"


def rgb_candidate(rgb: np.ndarray, backend: str = "auto") -> tuple[int, bytes, float]:
    """BPG in RGB at the Q of RGB_QS with the fewest BPG + per-image table bits, walking the grid
    downhill (descend): (Q, its BPG file, those bits)."""
    def cost(q):
        bpg_file = bpg.encode(rgb, q, backend=backend, space="rgb")
        return table_cost(rgb, bpg_file, bpg.decode(bpg_file)), bpg_file

    tried = descend(RGB_QS, cost)
    q = min(tried, key=lambda q: (tried[q][0], q))
    return q, tried[q][1], tried[q][0]


# tau lowers a file by tenths of a percent, at most by 4.7 % (RC+ on the validation pictures,
# docs/tau_gain_rcplus.csv): it is fitted only to the files without it within this share of the
# smallest, not to every colour space and kind tried
TAU_REACH = 0.05


def compress(rgb, q=None, model=None, backend: str = "auto", tau: bool = False, tables: bool = True,
             blend: bool = False, jpeg: bool = True, rgb_bpg: bool = True, levels: int = 1) -> bytes:
    """rclib.compress: choose the model kind ("auto": the smaller file of each kind) and Q by
    their strategies, then code the picture (files, then smallest or with_tau).  `tau`: fit a
    per-image temperature (each kind's own) to the files near the smallest (with_tau)."""
    made = files(rgb, q, model, backend, tables, blend, jpeg, rgb_bpg, levels)
    return with_tau(rgb, made, backend) if tau else smallest(made)


def files(rgb, q=None, model=None, backend: str = "auto", tables: bool = True, blend: bool = False,
          jpeg: bool = True, rgb_bpg: bool = True, levels: int = 1) -> list[tuple[bytes, dict]]:
    """The files without tau that compress weighs, each with the arguments of codec.compress
    that made it: per kind ("auto": RC, then RC+) one at its strategy's Q in YCbCr, and one over
    BPG in RGB where that may be smaller.  A decoded JPEG's YCbCr is found once (jpeg_lift) and
    handed to every step; with `rgb_bpg` (and tables, and the strategies `auto` or `min`), BPG in
    RGB is weighed once (rgb_candidate) and each kind codes it where its expected size
    (RGB_NETWORK_SHARE) is below its YCbCr file.  A kind named by name codes over BPG in RGB with
    its weights for RGB (codec.default_model).  levels: RC+'s files' (codec.compress)."""
    picture, _ = codec.as_rgb(rgb)
    ycc = jpeg_lift(picture, jpeg and tables)
    jpeg = ycc is not None
    searched = q is None or q in ("auto", "min")
    in_rgb = rgb_candidate(picture, backend) if rgb_bpg and tables and searched else None
    made = []
    for kind in AUTO_MODELS if kind_per_picture(model) else (model,):
        net = codec.resolve_model(kind)
        chosen, bpg_file = choose_q(picture, q, net, backend, tables, jpeg, ycc)
        settings = dict(q=chosen, model=kind, bpg_file=bpg_file, tables=tables, blend=blend, jpeg=jpeg, ycc=ycc,
                        levels=levels if model_lib.kind(net) == "rc+" or not kind_per_picture(model) else 1)
        made.append((codec.compress(rgb, backend=backend, **settings), settings))
        if in_rgb is not None and RGB_NETWORK_SHARE[model_lib.kind(net)] * in_rgb[2] < 8 * len(made[-1][0]):
            settings = dict(settings, q=in_rgb[0], bpg_file=in_rgb[1], jpeg=False)
            made.append((codec.compress(rgb, backend=backend, **settings), settings))
    return made


def smallest(made: list[tuple[bytes, dict]]) -> bytes:
    """The smallest of files' answer (ties: the first: RC, which decodes faster; YCbCr)."""
    return min((out for out, _ in made), key=len)


def with_tau(rgb, made: list[tuple[bytes, dict]], backend: str = "auto") -> bytes:
    """The smallest file after fitting tau to each of files' answers within TAU_REACH of the
    smallest (codec.compress keeps tau only where the file comes out smaller with it)."""
    bound = (1 + TAU_REACH) * len(smallest(made))
    return smallest([(codec.compress(rgb, backend=backend, tau=True, plain=out, **settings), settings)
                     for out, settings in made if len(out) <= bound])


# ----------------------------------------------------------------------------- Q histories
def q_histories(originals: Path, prepared: Path, model, qs=None, limit: int | None = None,
                out: Path | None = None, progress: bool = True, tables: bool = True):
    """For every picture and Q: BPG bits (from the prep cache) and the residual's estimated bits
    (the model's, or per channel a per-image table's where smaller: codec.estimate_residual_bits).

    Resumable: rows already in `out` (a CSV) by the same estimator (weights, tables and BPG
    encoder version) are kept and not recomputed; rows by another are dropped.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from . import data, prep

    qs = qs or q_range(model)
    model = codec.resolve_model(model)
    estimator = (model_lib.weights_id(model)[:16] + ("+tables+jpeg" if tables else "")
                 + f"+bpg{bpg.ENCODER_VERSION}")
    done = pd.read_csv(out) if out is not None and Path(out).exists() else None
    if done is not None:
        done = done[done.get("estimator", pd.Series(index=done.index, dtype=object)) == estimator]
    have = set() if done is None else set(zip(done.image, done.q))
    rows = [] if done is None else done.to_dict("records")
    jobs = [(p, q) for p in data.list_images(originals)[:limit] for q in qs if (p.stem, q) not in have]
    lifted = (None, None)  # (path, its YCbCr): found once per picture, its Qs are consecutive jobs
    for i, (path, q) in enumerate(tqdm(jobs, desc="Q histories", disable=not progress)):
        x = data.load_rgb(path)
        if lifted[0] != path:
            lifted = (path, jpeg_lift(x, tables))
        folder = prep.q_dir(prepared, q)
        bpg_file = (folder / f"{path.stem}.bpg").read_bytes()
        x_l = data.load_rgb(folder / f"{path.stem}.png")
        ycc = lifted[1]
        resid = codec.estimate_residual_bits(x, x_l, q, model, tables, bpg_file if ycc is not None else None, ycc)
        n = x.size
        rows.append({"image": path.stem, "q": q, "bpg_bits": 8 * len(bpg_file), "residual_bits": resid,
                     "subpixels": n, "bpsp": (8 * len(bpg_file) + resid) / n, "estimator": estimator})
        if out is not None and (i % 10 == 9 or i == len(jobs) - 1):
            atomic_write(out, pd.DataFrame(rows).to_csv(index=False).encode(), force=True)
    table = pd.DataFrame(rows).sort_values(["image", "q"]).reset_index(drop=True)
    if out is not None:
        atomic_write(out, table.to_csv(index=False).encode(), force=True)
    return table


def auto_q(originals: Path, prepared: Path, qs, limit: int | None = None,
           steps_above: int = 0) -> dict[str, int]:
    """Strategy `auto`'s answer per picture (with tables), from the prep cache's BPG files: the
    yardstick of `auto` against MIN without encoding anything again (`steps_above`: as
    AUTO_STEPS_ABOVE gives the model kind)."""
    from . import data, prep

    answers = {}
    for path in data.list_images(originals)[:limit]:
        x = data.load_rgb(path)
        ycc = colour.jpeg_ycc_of(x)

        def cost(q):
            return (table_cost(x, (prep.q_dir(prepared, q) / f"{path.stem}.bpg").read_bytes(),
                               data.load_rgb(prep.q_dir(prepared, q) / f"{path.stem}.png"), ycc),)

        # as table_search_q: downhill, but every Q for a decoded JPEG
        tried = descend(qs, cost) if ycc is None else {q: cost(q) for q in qs}
        answers[path.stem] = auto_pick({q: c[0] for q, c in tried.items()}, steps_above, grid=qs)
    return answers


def optimal_q(histories) -> dict[str, int]:
    """Strategy MIN's answer per picture: the Q with the fewest total bits."""
    best = histories.loc[histories.groupby("image")["bpsp"].idxmin()]
    return dict(zip(best.image, best.q))


def train_classifier(originals: Path, histories, cfg=None, progress: bool = True):
    """The Q-classifier trained on the Q histories' optimal Q per picture (over their Qs)."""
    qs = tuple(sorted(int(q) for q in histories.q.unique()))
    return classifier.train(originals, optimal_q(histories), qs,
                            cfg or classifier.ClassifierTrainConfig(), progress=progress)


def evaluate(histories, predicted: dict[str, int]):
    """Per picture: the oracle's Q and bpsp, the classifier's Q and bpsp, and the bits lost (%)."""
    import pandas as pd

    rows = []
    for image, h in histories.groupby("image"):
        h = h.set_index("q")
        oracle_q = int(h.bpsp.idxmin())
        q = predicted[image]
        rows.append({"image": image, "oracle_q": oracle_q, "oracle_bpsp": h.bpsp[oracle_q],
                     "classifier_q": q, "classifier_bpsp": h.bpsp[q],
                     "lost_pct": 100 * (h.bpsp[q] / h.bpsp[oracle_q] - 1), "subpixels": int(h.subpixels.iloc[0])})
    return pd.DataFrame(rows)


def lost_pct(evaluation) -> float:
    """evaluate()'s verdict over a whole set: % more bits (bytes) than MIN's Q for every picture."""
    n = evaluation.subpixels
    return float(100 * ((evaluation.classifier_bpsp * n).sum() / (evaluation.oracle_bpsp * n).sum() - 1))
