"""Benchmark: rclib against the classical lossless codecs on a folder, in one run.

Per picture and on average: bpsp from real file bytes (rclib: BPG part + residual part), the
model's estimated bits (its likelihood; the coder's overhead is the gap), encode and decode speed
in MPix/s, and the process's peak resident memory while coding.  Every round trip is verified.
`rclib bench FOLDER` prints the table and writes per-picture rows to a CSV.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import baselines, bpg, codec, data, numerics, qselect
from .imageio import atomic_write
from .paths import ROOT

DEFAULT_BASELINES = ("PNG", "WebP-LL", "JPEG2000-LL", "JPEGXL-LL-e9")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def peak_rss():
    """Sample this process's resident memory every 5 ms; yields a dict whose 'peak' is filled in."""
    result = {"peak": _rss_bytes()}
    done = threading.Event()

    def poll():
        while not done.is_set():
            result["peak"] = max(result["peak"], _rss_bytes())
            done.wait(0.005)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        done.set()
        thread.join()
        result["peak"] = max(result["peak"], _rss_bytes())


# ----------------------------------------------------------------------------- reuse
# Measurements kept between runs in a cache folder (the notebooks' is results/cache, which `make
# clean` removes): notebooks 04 and 06 both code the validation pictures with RC at `--q auto` and
# with the baselines, and the second takes the first's files and encode timings instead of coding
# them again.  An entry is found only for the same pixels, settings and setup (_setup_digest), so a
# changed coder never reuses an old answer; decoding, its exactness check and its timing run every
# time.
REUSED = {"rclib": 0, "baseline": 0}   # entries found, this process (the notebooks print them)


@functools.cache
def _setup_digest() -> str:
    """What a coded file or a baseline's size depends on besides the picture and its settings:
    rclib's sources, its shipped weights, the float path and the encoders' versions."""
    import imagecodecs
    import PIL
    import torch

    h = hashlib.sha256()
    files = sorted((ROOT / "rclib").glob("*.py")) + sorted((ROOT / "data" / "models").glob("*"))
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    tool = shutil.which("bpgenc")
    h.update(repr((numerics.ACTIVE, tool and os.stat(tool).st_size, bpg.ENCODER_VERSION, PIL.__version__,
                   imagecodecs.__version__, torch.__version__)).encode())
    return h.hexdigest()


def _key(x: np.ndarray, *settings) -> str:
    """An entry's name: the picture's pixels, the settings (and for rclib's files, the Q-classifier
    in effect: the shipped one, or one $RCLIB_CLASSIFIER names, by its bytes, so `make reproduce`,
    which names the shipped one, and Run All in JupyterLab find each other's files) and the setup."""
    h = hashlib.sha256(_setup_digest().encode() + repr((x.shape, settings)).encode())
    h.update(np.ascontiguousarray(x).data)
    if settings[0] == "rclib":
        clf = qselect.classifier_weights("rc")
        h.update(clf.read_bytes() if clf.exists() else str(clf).encode())
    return h.hexdigest()[:32]


def _model_name(model) -> str:
    """A model as cache entries and shared rows name it: a kind by name, or a weights id."""
    return str(model) if model is None or isinstance(model, str) else codec.model_lib.weights_id(model)


def _rclib_entry(cache: Path | None, x: np.ndarray, strategy, model, tau: bool, tables: bool) -> Path | None:
    """The cache entry of rclib's file for this picture (None without a cache): bench_rclib and
    rc_vs_rc_plus name the same coding alike, so either finds the other's.  strategy: a Q, a
    strategy's name, or a list of Qs (MIN on that grid); model: a kind by name, or a weights id."""
    if not cache:
        return None
    how = ("MIN", *strategy) if isinstance(strategy, (list, tuple)) else str(strategy)
    return Path(cache) / _key(x, "rclib", how, _model_name(model), tau, tables)


def _encode_once(encode, entry: Path | None, before: tuple[float, int] = (0.0, 0)):
    """(file, encode seconds, encode peak memory in bytes): from the cache entry (entry.rc and
    entry.json) where it exists, else encode() timed from cold (bpg.forget) and, with an entry, kept.
    before: (seconds, peak) of the work encode() continues, made and measured earlier."""
    if entry is not None and entry.with_suffix(".json").exists() and entry.with_suffix(".rc").exists():
        REUSED["rclib"] += 1
        meta = json.loads(entry.with_suffix(".json").read_text())
        return entry.with_suffix(".rc").read_bytes(), meta["encode_s"], meta["encode_peak"]
    bpg.forget()
    with peak_rss() as mem:
        t0 = time.perf_counter()
        blob = encode()
        t_enc = before[0] + time.perf_counter() - t0
    mem["peak"] = max(mem["peak"], before[1])
    if entry is not None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(entry.with_suffix(".rc"), blob, force=True)
        atomic_write(entry.with_suffix(".json"),
                     json.dumps({"encode_s": t_enc, "encode_peak": mem["peak"]}).encode(), force=True)
    return blob, t_enc, mem["peak"]


# ----------------------------------------------------------------------------- measuring
def _rclib_round_trip(x: np.ndarray, q, model, tau: bool, tables: bool, entry: Path | None,
                      shared: dict | None = None):
    """_round_trip of qselect.compress(x, q, model, tau, tables).  shared: a dict the rows of one
    picture share.  A row without tau leaves there the files qselect.files made and their encode
    time; a row with tau and the same q, model and tables fits tau to those files (with_tau)
    instead of making them again, and its encode time is theirs plus its own, what `--tau` costs."""
    key = (repr(q), _model_name(model), tables)
    decoder = None if qselect.kind_per_picture(model) else model  # None: the weights the file names
    if tau and shared is not None and key in shared:
        made, seconds, peak = shared[key]
        return _round_trip(lambda: qselect.with_tau(x, made), x, decoder, entry, before=(seconds, peak))
    kept = {}

    def encode():
        kept["made"] = qselect.files(x, q=q, model=model, tables=tables)
        return qselect.with_tau(x, kept["made"]) if tau else qselect.smallest(kept["made"])

    result = _round_trip(encode, x, decoder, entry)
    if shared is not None and not tau and "made" in kept:   # (not when the file came from the cache)
        shared[key] = (kept["made"], result[1], result[3]["peak"])
    return result


def bench_rclib(x: np.ndarray, q, model=None, name: str | None = None, tau: bool = False,
                tables: bool = True, cache: Path | None = None, shared: dict | None = None) -> dict:
    """Compress and decompress one picture; check it is exact; sizes, estimate, speed, memory.
    cache: a folder to take the file and its encode timing from where an earlier run made them;
    shared: as _rclib_round_trip's (the rows of one picture)."""
    mpix = x.shape[0] * x.shape[1] / 1e6
    decoder = None if qselect.kind_per_picture(model) else model  # None: the weights the file names
    entry = _rclib_entry(cache, x, q, model, tau, tables)
    blob, t_enc, t_dec, enc_mem, dec_mem = _rclib_round_trip(x, q, model, tau, tables, entry, shared)
    meta = codec.info(blob)
    # a kind by name: the weights the file names (over BPG in RGB or JPEG colour, the kind's own)
    estimated = 8 * meta["bpg_bytes"] + codec.estimate_coded_bits(
        x, blob, None if isinstance(decoder, str) else decoder)
    n = x.size
    label = (name or f"rclib Q{q}") + ("+tau" if tau else "") + ("" if tables else " model only")
    return {"codec": label, "model": meta["model"], "q": meta["q"], "bytes": len(blob), "bpsp": 8 * len(blob) / n,
            "table_channels": len(meta["table_channels"]),
            "bpg_bpsp": meta["bpg_bpsp"], "residual_bpsp": meta["residual_bpsp"],
            "estimated_bpsp": estimated / n, "encode_mpix_s": mpix / t_enc, "decode_mpix_s": mpix / t_dec,
            "encode_peak_mib": enc_mem["peak"] / 2**20, "decode_peak_mib": dec_mem["peak"] / 2**20}


def _round_trip(encode, x: np.ndarray, model, entry: Path | None = None, before: tuple[float, int] = (0.0, 0)):
    """Time encode() (or take its file and time from a cache entry, _encode_once; before: as
    there) and the decoding of its file, and check the pixels come back exactly:
    (file, encode s, decode s, encode peak, decode peak)."""
    blob, t_enc, enc_peak = _encode_once(encode, entry, before)
    enc_mem = {"peak": enc_peak}
    with peak_rss() as dec_mem:
        t0 = time.perf_counter()
        back = codec.decompress(blob, model=model)
        t_dec = time.perf_counter() - t0
    if not np.array_equal(back, x):
        raise AssertionError("rclib round trip is not exact")
    return blob, t_enc, t_dec, enc_mem, dec_mem


def bench_baseline(name: str, x: np.ndarray, cache: Path | None = None) -> dict:
    """One baseline's round trip (baselines.run, checked exact); cache: a folder to take its size
    and timings from where an earlier run measured them."""
    entry = Path(cache) / f"{_key(x, 'baseline', name)}.json" if cache else None
    if entry is not None and entry.exists():
        REUSED["baseline"] += 1
        r = json.loads(entry.read_text())
    else:
        result = baselines.run(name, x)
        r = {"bytes": result.bytes, "encode_s": result.encode_s, "decode_s": result.decode_s}
        if entry is not None:
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(entry, json.dumps(r).encode(), force=True)
    mpix = x.shape[0] * x.shape[1] / 1e6
    return {"codec": name, "bytes": r["bytes"], "bpsp": 8 * r["bytes"] / x.size, "encode_mpix_s": mpix / r["encode_s"],
            "decode_mpix_s": mpix / r["decode_s"]}


def run(folder: Path, qs=(12,), limit: int | None = None, baseline_names=DEFAULT_BASELINES,
        model=None, progress: bool = True, rclib_name: str | None = None, variants=((False, True),),
        cache: Path | None = None):
    """Benchmark every picture of `folder` (rclib at each of `qs`, then the baselines).

    qs: quantizers or strategies ("min", "auto", "clf"); model: one model, or {label: model} to
    run several side by side (rows "<label> Q<q>"); variants: rclib's (tau, tables) settings to
    run; rclib_name labels rclib's rows (default "rclib Q<q>", then "+tau" for rows coded with tau
    and " model only" for rows coded without per-image tables); cache: a folder of files, sizes and
    encode timings earlier runs measured, taken from it where they match (decoding runs again).
    Returns the per-picture DataFrame.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    models = model if isinstance(model, dict) else {None: model}
    rows = []
    images = data.list_images(folder)[:limit]
    for path in tqdm(images, desc="benchmark", disable=not progress):
        x = data.load_rgb(path)
        shared = {}  # a row with tau continues the row without it (_rclib_round_trip)
        for label, m in models.items():
            for q in qs:
                name = rclib_name or (f"{label} Q{q}" if label else None)
                for tau, tables in variants:
                    rows.append({"image": path.stem, **bench_rclib(x, q, m, name, tau, tables, cache, shared)})
        for name in baseline_names:
            rows.append({"image": path.stem, **bench_baseline(name, x, cache)})
    return pd.DataFrame(rows)


def summary(table):
    """Mean per codec (bpsp averaged over pictures, as the paper does), best bpsp first."""
    cols = [c for c in ("bpsp", "q", "bpg_bpsp", "residual_bpsp", "estimated_bpsp", "encode_mpix_s",
                        "decode_mpix_s", "encode_peak_mib", "decode_peak_mib") if c in table]
    return table.groupby("codec")[cols].mean().sort_values("bpsp")


def forward_speed(model=None, size: int = 1024, repeats: int = 2) -> float:
    """The residual model's forward pass over a size x size picture, strip by strip: MPix/s."""
    import torch

    model = codec.resolve_model(model)
    x_l = torch.rand(1, 3, size, size) * 255
    spans = codec.strip_spans(size, size)
    if codec.model_lib.kind(model) == "rc+":  # its passes, with the bits of each (a small part)
        work = lambda s: codec._plus_strip(model, x_l, *s, codec.entropy.WINDOW, x=x_l, bits=True)  # noqa: E731
    else:
        work = lambda s: codec._strip_mixture(model, x_l, codec.DEFAULT_Q, *s)  # noqa: E731
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        codec.entropy.parallel_map(work, spans)
        best = min(best, time.perf_counter() - t0)
    return size * size / 1e6 / best


def tau_gain(paths, q="auto", model=None, progress: bool = True):
    """Actual file sizes with and without tau on each picture (both round trips verified).

    q: a quantizer, "min", "auto", or a dict from picture stem to quantizer.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    rows = []
    for path in tqdm(list(paths), desc="tau", disable=not progress):
        x = data.load_rgb(path)
        plain = qselect.compress(x, q=q[path.stem] if isinstance(q, dict) else q, model=model)
        chosen = codec.info(plain)["q"]
        tuned = codec.compress(x, q=chosen, model=model, tau=True, bpg_file=codec.extract_bpg(plain))
        for blob in (plain, tuned):
            if not np.array_equal(codec.decompress(blob, model=model), x):
                raise AssertionError("round trip is not exact")
        rows.append({"image": path.stem, "q": chosen, "bpsp": 8 * len(plain) / x.size,
                     "bpsp_tau": 8 * len(tuned) / x.size, "tau_used": codec.info(tuned)["tau"],
                     "gain_pct": 100 * (1 - len(tuned) / len(plain))})
    return pd.DataFrame(rows)


def blend_gain(paths, q="auto", model=None, progress: bool = True):
    """Actual file sizes with and without blends (`--blend`) on each picture, at the Q the plain
    file chose (BPG reused), both round trips verified; seconds to code each at that Q (BPG and
    the choice of Q not included) and to decode each."""
    import pandas as pd
    from tqdm.auto import tqdm

    rows = []
    for path in tqdm(list(paths), desc=f"blend {model}", disable=not progress):
        x = data.load_rgb(path)
        first = qselect.compress(x, q=q, model=model)
        info, bpg_file = codec.info(first), codec.extract_bpg(first)
        t0 = time.perf_counter()
        plain = codec.compress(x, q=info["q"], model=model, bpg_file=bpg_file)
        t1 = time.perf_counter()
        blended = codec.compress(x, q=info["q"], model=model, bpg_file=bpg_file, blend=True)
        t2 = time.perf_counter()
        seconds = []
        for blob in (plain, blended):
            t = time.perf_counter()
            if not np.array_equal(codec.decompress(blob, model=model), x):
                raise AssertionError("round trip is not exact")
            seconds.append(time.perf_counter() - t)
        rows.append({"image": path.stem, "q": info["q"], "bpsp": 8 * len(plain) / x.size,
                     "bpsp_blend": 8 * len(blended) / x.size,
                     "blend_channels": codec.info(blended)["blend_channels"],
                     "gain_pct": 100 * (1 - len(blended) / len(plain)),
                     "code_s": t1 - t0, "code_blend_s": t2 - t1,
                     "decode_s": seconds[0], "decode_blend_s": seconds[1]})
    return pd.DataFrame(rows)


def pass_bytes(blob: bytes) -> list[int]:
    """Residual bytes of each pass of an .rc file (one for RC, four for RC+, 3L + 1 for RC+ of L
    levels), from its header."""
    header, _ = codec.unpack_header(blob)
    passes = header.passes
    out = [0] * passes
    for i, n in enumerate(header.stream_lengths):
        out[(i // 6) % passes] += n
    return out


AUTO_ROW = "RC or RC+"  # rc_vs_rc_plus's row for `--model auto`


def rc_vs_rc_plus(paths, qs: dict, models: dict | None = None, baseline_names=DEFAULT_BASELINES,
                  progress: bool = True, tau_rows=(), cache: Path | None = None):
    """Each picture coded by RC and RC+, real bytes with round trips verified, beside the baselines.

    qs[kind]: a strategy for that kind (a quantizer, "auto", "min", "clf"), or a list of
    quantizers (strategy MIN on that grid).  tau_rows: names of `models` also coded with `--tau`
    (rows "<name> --tau", the whole encode timed: Q search, files without tau, fitting tau,
    coding; for a strategy by name the first three are the row without tau's, _rclib_round_trip).
    Rows: image, codec, strategy, q, bpsp, bpg_bpsp, residual bits per pass (pass1_bpsp.., each over the
    pass's own subpixels), which passes used tables, encode/decode MPix/s.  With both RC and RC+,
    also AUTO_ROW: per picture the smaller of their two files, as `--model auto` keeps (encoding
    is both encodes, decoding the kept file's).  cache: as run()'s (a kind's file at a strategy
    by name is the same entry as run()'s for that model name, so notebook 06 finds notebook 04's).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    models = models or {"RC": "rc", "RC+": "rc+"}
    runs = [(name, model, False) for name, model in models.items()] + [(name, models[name], True) for name in tau_rows]
    rows = []
    for path in tqdm(list(paths), desc="RC vs RC+", disable=not progress):
        x = data.load_rgb(path)
        mpix = x.shape[0] * x.shape[1] / 1e6
        mine, shared = {}, {}
        for name, given, tau in runs:  # a kind by name codes over BPG in RGB with its weights for RGB
            model = codec.resolve_model(given)
            strategy = qs[codec.model_lib.kind(model)]
            entry = _rclib_entry(cache, x, strategy, given, tau, True)
            if isinstance(strategy, (list, tuple)):
                def encode():
                    q, bpg_file = qselect.search_q(x, model, qs=strategy)
                    return codec.compress(x, q, model, bpg_file=bpg_file, tau=tau)

                blob, t_enc, t_dec, _, _ = _round_trip(encode, x, given, entry)
            else:   # a row with tau continues the row without it
                blob, t_enc, t_dec, _, _ = _rclib_round_trip(x, strategy, given, tau, True, entry, shared)
            meta = codec.info(blob)
            q = meta["q"]
            per_pass = pass_bytes(blob)
            label = f"{name} --tau" if tau else name
            row = {"image": path.stem, "codec": label, "strategy": str(strategy), "q": q, "bytes": len(blob),
                   "bpsp": 8 * len(blob) / x.size, "bpg_bpsp": meta["bpg_bpsp"], "residual_bpsp": meta["residual_bpsp"],
                   "table_mask": meta["table_mask"], "bpg_colour": meta["bpg_colour"],
                   "encode_mpix_s": mpix / t_enc, "decode_mpix_s": mpix / t_dec}
            for k, n in enumerate(per_pass):
                row[f"pass{k + 1}_bpsp"] = 8 * n * len(per_pass) / x.size
            rows.append(row)
            mine[label] = row
        if {"RC", "RC+"} <= set(mine):
            kept = min(mine["RC"], mine["RC+"], key=lambda r: r["bytes"])  # ties: RC, as `auto`
            both = mpix / mine["RC"]["encode_mpix_s"] + mpix / mine["RC+"]["encode_mpix_s"]
            rows.append({**{k: kept[k] for k in ("image", "q", "bytes", "bpsp", "bpg_bpsp", "residual_bpsp",
                                                  "bpg_colour", "decode_mpix_s")},
                         "codec": AUTO_ROW, "strategy": kept["strategy"], "model": kept["codec"],
                         "encode_mpix_s": mpix / both})
        for name in baseline_names:
            rows.append({"image": path.stem, **bench_baseline(name, x, cache)})
    return pd.DataFrame(rows)
