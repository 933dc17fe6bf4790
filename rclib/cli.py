"""The `rclib` command line: compress, decompress and inspect .rc files; BPG tools, datasets, training, benchmarks."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import RclibError


def _bpg_encode(args) -> None:
    from . import bpg
    from .imageio import atomic_write, read_rgb8

    atomic_write(args.output, bpg.encode(read_rgb8(args.input), args.q, backend=args.backend),
                 force=args.force)


def _bpg_decode(args) -> None:
    from . import bpg
    from .imageio import write_png

    write_png(args.output, bpg.decode(_read_bytes(args.input)), force=args.force)


def _load_model(path):
    """--model: a kind ("rc", "rc+": its shipped weights), "auto" or a weights file; None: the default."""
    if path is None or path in ("rc", "rc+", "auto"):
        return path
    from . import model

    return model.load(Path(path))


def _read_bytes(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RclibError(f"{path}: cannot read ({exc.strerror})") from None


def _refuse_existing(path, force: bool) -> None:
    """Fail before any work when the output exists (the atomic write checks again at the end)."""
    if Path(path).exists() and not force:
        raise RclibError(f"{path}: exists (use --force to overwrite)")


def _compress(args) -> None:
    from . import codec, qselect
    from .imageio import atomic_write, read_picture

    _refuse_existing(args.output, args.force)
    picture, note = read_picture(args.input)
    if note:
        print(f"rclib: note: {note}", file=sys.stderr)
    blob = qselect.compress(picture, q=_q_arg(args.q), model=_load_model(args.model), backend=args.backend,
                            tau=args.tau, tables=not args.no_tables, blend=args.blend,
                            jpeg=not args.no_jpeg_colour, rgb_bpg=not args.no_rgb_bpg, levels=args.levels)
    atomic_write(args.output, blob, force=args.force)
    i = codec.info(blob)
    print(f"{args.output}: {i['bytes']} bytes, {i['bpsp']:.3f} bpsp "
          f"(BPG Q{i['q']} {i['bpg_bpsp']:.3f} + residual {i['residual_bpsp']:.3f}"
          f"{', tau' if i['tau'] else ''}{', levels ' + str(i['levels']) if i['levels'] > 1 else ''}"
          f"{', tables ' + i['table_channels'] if i['table_channels'] else ''}"
          f"{', blends ' + i['blend_channels'] if i['blend_channels'] else ''}"
          f"{', JPEG colour' if i['jpeg_colour'] else ''}{', BPG in RGB' if i['bpg_colour'] == 'rgb' else ''})")


def _q_arg(value: str):
    """--q: a number, 'min', 'auto' or 'clf'; None leaves the choice to qselect.compress (auto)."""
    if value is None or value in ("min", "auto", "clf"):
        return value
    try:
        return int(value)
    except ValueError:
        raise RclibError(f"--q takes a quantizer 0..51, 'min', 'auto' or 'clf', not {value!r}") from None


def _decompress(args) -> None:
    from . import codec
    from .imageio import write_png

    _refuse_existing(args.output, args.force)
    pixels = codec.decompress(_read_bytes(args.input), model=_load_model(args.model))
    write_png(args.output, pixels, force=args.force)


def _info(args) -> None:
    from . import codec
    from .imageio import atomic_write

    blob = _read_bytes(args.input)
    info = codec.info(blob)
    for k, v in info.items():
        print(f"{k:>14}: {v:.4f}" if isinstance(v, float) else f"{k:>14}: {v}")
    if info["float_path"]:  # where it differs, this machine may fail the file's checksum (README, "Determinism")
        print(f"{'this machine':>14}: {codec.numerics_fingerprint(info['version'])}")
    if args.extract_bpg:
        atomic_write(args.extract_bpg, codec.extract_bpg(blob), force=args.force)


def _prep(args) -> None:
    from . import data, prep

    folder = data.resolve(args.dataset, args.split)
    table = prep.prep(folder, Path(args.out), qs=range(args.q_min, args.q_max + 1),
                      backend=args.backend, limit=args.limit, workers=args.workers)
    summary = table.groupby("q")[["bpg_bpsp", "resid_entropy_bpsp", "psnr"]].mean()
    print(summary.round(3).to_string())


def _fetch(args) -> None:
    from . import data

    if args.dataset == "embedded":
        print(data.prepare_embedded(limit=args.limit))
    else:
        print(data.fetch_paper_dataset(args.dataset))


def _train(args) -> None:
    from . import train

    overrides = {k: v for k, v in {"steps": args.steps, "batch": args.batch, "crop": args.crop,
                                       "ema": args.ema, "anneal": args.anneal}.items()
                 if v is not None}
    summary = train.run(args.profile, Path(args.out), dataset=args.dataset, device=args.device,
                        limit=args.limit, max_seconds=args.minutes and 60 * args.minutes, **overrides)
    print({k: v for k, v in summary.items() if k != "train_config"})


def _bench(args) -> None:
    import pandas as pd

    from . import bench, data, qselect

    folder = data.resolve(args.dataset, "val")
    names = list(bench.baselines.CODECS) if args.all_baselines else list(bench.DEFAULT_BASELINES)
    models = {f"rclib {m or 'default'}": _load_model(m) for m in args.model}
    table = bench.run(folder, qs=[_q_arg(q) for q in args.q], limit=args.limit, baseline_names=names,
                      model=models if len(models) > 1 else next(iter(models.values())))
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(bench.summary(table).round(3).to_string())
    for label, m in models.items():
        for kind_or_model in qselect.AUTO_MODELS if qselect.kind_per_picture(m) else [m]:
            name = f"{label} ({kind_or_model})" if isinstance(kind_or_model, str) else label
            print(f"{name}: residual model forward pass {bench.forward_speed(kind_or_model):.3f} MPix/s "
                  "(1024x1024, this machine)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rclib", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    # Options several commands share: which BPG encoder, and overwriting an existing output.
    backend = argparse.ArgumentParser(add_help=False)
    backend.add_argument("--backend", default="auto", choices=["auto", "embedded", "bpgenc"])
    force = argparse.ArgumentParser(add_help=False)
    force.add_argument("--force", action="store_true", help="overwrite an existing output")

    c = sub.add_parser("compress", help="losslessly compress a PNG/PPM/TIFF/BMP picture to .rc",
                       parents=[backend, force])
    c.add_argument("input")
    c.add_argument("output")
    c.add_argument("--q", default=None,
                   help="BPG quantizer: a number 0..51; 'min' (estimate every Q of the model's range, network "
                        "included, keep the cheapest); 'auto' (the default: the fewest BPG + per-image table bits "
                        "over the range, no network; with --no-tables the Q-classifier); 'clf' (the Q-classifier)")
    c.add_argument("--tau", action="store_true", help="fit a per-image temperature of the scales (RC+: one per pass): slower to encode, about 1 %% smaller")
    c.add_argument("--blend", action="store_true",
                   help="also try each channel as the network's and its table's product (format version 5): "
                        "slower to encode, smaller on noisy photos")
    c.add_argument("--no-tables", action="store_true",
                   help="code every channel with the network, as the paper does (default: a per-image table where smaller)")
    c.add_argument("--no-jpeg-colour", action="store_true",
                   help="never code in JPEG colour (default: a picture decoded from a JPEG is coded in that "
                        "JPEG's YCbCr, from per-image tables, where that is smaller)")
    c.add_argument("--no-rgb-bpg", action="store_true",
                   help="keep BPG in YCbCr, as the paper does (default: with --q auto or min, also code over BPG in its RGB "
                        "colour space, from per-image tables, where that file is smaller; format version 7)")
    c.add_argument("--levels", type=int, default=1, choices=range(1, 5), metavar="1..4",
                   help="RC+ only: code the first pass's subimage with RC+'s four passes again, LEVELS - 1 times "
                        "(format version 10): slower to decode, smaller on most photos (README, RC+)")
    c.add_argument("--model", default=None, help="auto (the default: code with rc and with rc+, keep the smaller file; "
                        "encodes at half the speed), rc, rc+ (their shipped weights) or a weights file (.pt)")
    c.set_defaults(func=_compress)

    x = sub.add_parser("decompress", help="decode an .rc file to PNG, bit-exactly", parents=[force])
    x.add_argument("input")
    x.add_argument("output")
    x.add_argument("--model", default=None, help="weights file (.pt); default: the shipped weights the file names")
    x.set_defaults(func=_decompress)

    i = sub.add_parser("info", help="show an .rc file's header; optionally extract its BPG preview",
                       parents=[force])
    i.add_argument("input")
    i.add_argument("--extract-bpg", metavar="OUT.bpg", default=None)
    i.set_defaults(func=_info)

    e = sub.add_parser("bpg-encode", help="encode a picture as a BPG file (lossy)", parents=[backend, force])
    e.add_argument("input")
    e.add_argument("output")
    e.add_argument("--q", type=int, default=12, help="BPG quantizer, bpgenc's -q (default 12)")
    e.set_defaults(func=_bpg_encode)

    d = sub.add_parser("bpg-decode", help="decode a BPG file to PNG", parents=[force])
    d.add_argument("input")
    d.add_argument("output")
    d.set_defaults(func=_bpg_decode)

    pr = sub.add_parser("prep", help="BPG-compress a dataset at every Q of a range and cache it",
                        parents=[backend])
    pr.add_argument("dataset", help="'embedded', a paper dataset name, or a folder of pictures")
    pr.add_argument("out", help="cache folder (out/eN/qQQ/<name>.bpg|.png for BPG encoder version N, out/prep.csv)")
    pr.add_argument("--split", default="train", choices=["train", "val"])
    pr.add_argument("--q-min", type=int, default=9)
    pr.add_argument("--q-max", type=int, default=17)
    pr.add_argument("--limit", type=int, default=None, help="first N pictures only")
    pr.add_argument("--workers", type=int, default=None)
    pr.set_defaults(func=_prep)

    f = sub.add_parser("fetch", help="download and prepare a dataset into the cache")
    f.add_argument("dataset", help="'embedded' or one of the paper datasets")
    f.add_argument("--limit", type=int, default=None)
    f.set_defaults(func=_fetch)
    t = sub.add_parser("train", help="train the residual model (resumes from OUT/checkpoint.pt)")
    t.add_argument("--profile", default="cpu-head",
                   choices=["cpu-head", "cpu", "cpu+", "cpu+wide", "cpu-short", "paper", "paper-gpu", "tiny", "tiny+"])
    t.add_argument("--out", required=True, help="folder for checkpoint.pt, log.csv, model.pt")
    t.add_argument("--dataset", default="embedded", help="'embedded' or a folder with train/ and val/")
    t.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--batch", type=int, default=None)
    t.add_argument("--crop", type=int, default=None)
    t.add_argument("--ema", type=float, default=None,
                   help="validate and keep a moving average of the weights with this decay (e.g. 0.999)")
    t.add_argument("--anneal", type=int, default=None,
                   help="end the run along a half cosine to rate 0 over its last N steps (with --steps: a "
                        "short ending forked from a longer run)")
    t.add_argument("--minutes", type=float, default=None,
                   help="stop after this much training time, on a checkpoint (resume later)")
    t.add_argument("--limit", type=int, default=None, help="first N pictures per split (tests)")
    t.set_defaults(func=_train)

    b = sub.add_parser("bench", help="rclib vs PNG/WebP/JPEG 2000/JPEG XL on a folder: bpsp, speed, memory")
    b.add_argument("dataset", nargs="?", default="embedded",
                   help="'embedded' (its validation split), a paper dataset name, or a folder")
    b.add_argument("--q", nargs="+", default=["auto"],
                   help="how rclib chooses Q, one run each: quantizers and/or strategies (auto, min, clf); default auto")
    b.add_argument("--limit", type=int, default=None, help="first N pictures only")
    b.add_argument("--model", nargs="+", default=[None],
                   help="auto, rc, rc+ or weights files, side by side (default: the codec's default, auto)")
    b.add_argument("--all-baselines", action="store_true", help="add JPEG XL effort 7 and JPEG-LS")
    b.add_argument("--csv", default=None, help="write the per-picture rows here")
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except RclibError as exc:
        print(f"rclib: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # output folder read-only, output is a folder, parent is a file ...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"rclib: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print("rclib: error: out of memory (try a smaller picture, or lower RCLIB_MAX_PIXELS)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rclib: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
