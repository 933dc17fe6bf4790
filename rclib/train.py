"""Training the residual model: random crops of (x, x_l) pairs, the bpsp loss, Adam.

Readable top to bottom: a config dataclass, a data sampler, the loop (tqdm, CSV log,
validation on whole images with the coder's strips, checkpoints, resume).  Multi-GPU: run under
`torchrun`; each rank samples its own crops and DistributedDataParallel averages the gradients.
"""
from __future__ import annotations

import copy
import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from . import data, mixture, model_plus, prep
from .model import CONFIGS, ResidualModel, kind, save


@dataclass(frozen=True)
class TrainConfig:
    model: str = "cpu"            # key of model.CONFIGS (RC) or model_plus.CONFIGS (RC+)
    q_min: int = 11               # Q drawn uniformly from q_min..q_max per crop
    q_max: int = 17
    crop: int = 128
    batch: int = 8
    steps: int = 500
    lr: float = 5e-4
    lr_decay: float = 0.75        # multiplied in every `decay_every` steps (the seed's schedule)
    decay_every: int = 1500
    anneal: int = 0               # the last `anneal` steps: the rate falls along a half cosine to 0
    weight_decay: float = 1e-4
    val_q: int = 12
    val_every: int = 250
    ckpt_every: int = 250
    seed: int = 0
    ema: float = 0.0              # decay of a moving average of the weights, validated and shipped (0: off)
    extra_qs: int = 3             # BPG versions prepared per extra sample ("~small", "~noisy")


PROFILES = {
    # The seed's recipe (new_oi_q12_14_128 + gdn_wide_deep3): 1M steps on a GPU.
    "paper": TrainConfig(model="paper", q_min=12, q_max=14, crop=128, batch=16, steps=1_000_000,
                         lr=5e-5, decay_every=100_000, val_every=10_000, ckpt_every=5_000),
    # The seed's network in the minutes a lent GPU gives (a time budget, not a step count): RC's Q
    # range, and a learning rate for thousands of steps rather than the seed's million.
    "paper-gpu": TrainConfig(model="paper", q_min=11, q_max=17, crop=128, batch=16, steps=1_000_000,
                             lr=2e-4, lr_decay=0.7, decay_every=2000, val_q=14, val_every=1000,
                             ckpt_every=1000),
    # The cpu network over the whole Q range the classifier may pick, trained long on every
    # photo the embedded set has (and its extra samples): a background job of several sittings
    # (about 0.5 s a step on 2 cores), resumed from its checkpoint; the shipped weights are its
    # best validation checkpoint.  Validation at Q 14, near where the best Q of most photos lies.
    "cpu": TrainConfig(steps=24_000, lr=5e-4, lr_decay=0.7, decay_every=4000, val_q=14,
                       val_every=500, ckpt_every=250),
    # `cpu` with a wider full-resolution head: the best of the shapes compared at equal training
    # time (README, "the right size"); the shape of RC's shipped weights.
    "cpu-head": TrainConfig(model="cpu-head", steps=24_000, lr=5e-4, lr_decay=0.7, decay_every=4000,
                            val_q=14, val_every=500, ckpt_every=250),
    # The first shipped weights (rclib 0.1): 500 steps on 41 photos.
    "cpu-short": TrainConfig(),
    # RC+ (four passes, each seeing the earlier ones), same data and schedule; its best Q lies
    # higher than RC's, so it also trains on BPG at Q 19..25 (prepared for the main samples).
    # After the 24k steps of `cpu`'s schedule (validation flat, bouncing by 1 %), 4k more whose
    # rate falls to zero.
    "cpu+": TrainConfig(model="cpu+", q_max=25, steps=28_000, lr=5e-4, lr_decay=0.7, decay_every=4000,
                        anneal=4000, val_q=14, val_every=500, ckpt_every=250),
    # cpu+ with 48 channels a pass instead of 32 (decodes at about 2/3 of cpu+'s speed): steps
    # 0-7188 at cpu+'s batch of 8 on a lent GPU, then batches of 32 there (the shipped RC+).
    "cpu+wide": TrainConfig(model="cpu+wide", q_max=25, steps=28_000, lr=5e-4, lr_decay=0.7,
                            decay_every=4000, anneal=4000, val_q=14, val_every=500, ckpt_every=250),
    # Seconds, for tests.
    "tiny": TrainConfig(model="tiny", crop=32, batch=2, steps=6, val_every=3, ckpt_every=3,
                        lr=1e-3, decay_every=1000),
    "tiny+": TrainConfig(model="tiny+", crop=32, batch=2, steps=6, val_every=3, ckpt_every=3,
                         lr=1e-3, decay_every=1000),
}


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


# A run that adds at most this many steps (notebook 02's resumed segment) prepares BPG only for
# the crops it draws, not the whole split (thousands of BPG encodes, half an hour on 2 cores).
SHORT_SEGMENT = 100
DENSE_Q_MAX = 17  # every Q up to here is prepared; above it every second one (19, 21, ...)


def sample_qs(stem: str, qs, extra: int) -> list[int]:
    """The Q values BPG is prepared at for one training picture (BPG prep is the cost): for a
    photo's main sample every Q up to DENSE_Q_MAX and every second one above; for its extra
    samples (file names with "~") a seeded `extra` of the Qs up to DENSE_Q_MAX."""
    dense = [q for q in qs if q <= DENSE_Q_MAX]
    if "~" not in stem:
        return dense + [q for q in qs if q > DENSE_Q_MAX and (q - DENSE_Q_MAX) % 2 == 0]
    if extra >= len(dense):
        return dense
    rng = np.random.default_rng(data._key_int(stem))
    return sorted(int(q) for q in rng.choice(dense, extra, replace=False))


def picture_qs(cfg: TrainConfig):
    """qs_for(stem, qs) of a config: each training picture's Qs (sample_qs), for prep and PairSet."""
    return lambda stem, qs: sample_qs(stem, qs, cfg.extra_qs)


class PairSet:
    """The training pairs (x, x_l) as uint8, each read when the crop sampler first draws it.

    Which pictures at which Qs: with `qs_for(stem, qs)`, every picture of `originals` at its own
    Qs, a BPG version missing from `prepared` made when first drawn (so a short segment prepares
    only what it draws); without, the versions already in `prepared` (a picture with none is left
    out).  Both give the same sampler when `prepared` holds what qs_for names."""

    def __init__(self, originals: Path, prepared: Path, qs, qs_for=None):
        self.prepared = Path(prepared)
        self.paths, self.qs = [], []
        for path in data.list_images(originals):
            if qs_for is not None:
                mine = sorted(qs_for(path.stem, list(qs)))
            else:
                mine = [q for q in qs if (prep.q_dir(prepared, q) / f"{path.stem}.png").exists()]
            if mine:
                self.paths.append(path)
                self.qs.append(mine)
        if not self.paths:
            raise ValueError(f"no prepared training pictures in {originals}")
        self._x, self._x_l = {}, {}

    def _original(self, i: int) -> np.ndarray:
        if i not in self._x:
            self._x[i] = data.load_rgb(self.paths[i])
        return self._x[i]

    def _load(self, drawn) -> None:
        """x_l for every drawn (picture, Q) not in memory yet, made in parallel where missing."""
        from concurrent.futures import ThreadPoolExecutor

        todo = sorted(set(drawn) - set(self._x_l))
        with ThreadPoolExecutor(max(1, min(len(todo), os.cpu_count() or 1))) as pool:
            for iq, x_l in zip(todo, pool.map(self._version, todo)):
                self._x_l[iq] = x_l

    def _version(self, iq: tuple[int, int]) -> np.ndarray:
        """x_l of picture i at Q q: its decoded pixels where prepared (a pack brings those without
        the BPG file), else BPG run now and cached."""
        i, q = iq
        png = prep.q_dir(self.prepared, q) / f"{self.paths[i].stem}.png"
        if png.exists():
            return data.load_rgb(png)
        return prep.version(self.paths[i], self.prepared, q, x=self._original(i))[1]

    def batch(self, rng: np.random.Generator, batch: int, crop: int):
        """(x, x_l, q): `batch` random crops (B, 3, crop, crop), each flipped and rotated at random,
        and each crop's Q (B,)."""
        draws = []
        for _ in range(batch):   # the sampler's draws first, then the pictures they need
            i = int(rng.integers(len(self.paths)))
            q = self.qs[i][int(rng.integers(len(self.qs[i])))]
            h, w = self._original(i).shape[:2]
            ch, cw = min(crop, h), min(crop, w)
            y0, x0 = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
            draws.append((i, q, y0, x0, ch, cw, rng.random() < 0.5, int(rng.integers(4))))
        self._load([(i, q) for i, q, *_ in draws])
        xs, xls = [], []
        for i, q, y0, x0, ch, cw, flip, turns in draws:
            a = self._x[i][y0:y0 + ch, x0:x0 + cw]
            b = self._x_l[(i, q)][y0:y0 + ch, x0:x0 + cw]
            if (ch, cw) != (crop, crop):  # tiny pictures: pad by edge replication
                pad = ((0, crop - ch), (0, crop - cw), (0, 0))
                a, b = np.pad(a, pad, mode="edge"), np.pad(b, pad, mode="edge")
            if flip:
                a, b = a[:, ::-1], b[:, ::-1]
            xs.append(np.rot90(a, turns))
            xls.append(np.rot90(b, turns))
        to = lambda arr: torch.from_numpy(np.stack(arr)).permute(0, 3, 1, 2).float()  # noqa: E731
        return to(xs), to(xls), torch.tensor([d[1] for d in draws], dtype=torch.float32)


@torch.no_grad()
def build(name: str):
    """A fresh network from its configuration name (RC's or RC+'s)."""
    if name in model_plus.CONFIGS:
        return model_plus.RCPlusModel(model_plus.CONFIGS[name])
    return ResidualModel(CONFIGS[name])


def weight_average(model: torch.nn.Module, state: dict | None = None) -> torch.nn.Module:
    """A frozen copy of `model` that holds the moving average of its weights (`state` when
    resuming a run that kept one; else it starts from the weights as they are)."""
    avg = copy.deepcopy(model)
    if state is not None:
        avg.load_state_dict(state)
    return avg.requires_grad_(False)


@torch.no_grad()
def update_average(avg: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """One step of the exponential moving average: avg <- decay * avg + (1 - decay) * weights.
    Averaging late weights smooths the noise of the last steps (the validation bounce by ~1 %)."""
    for a, w in zip(avg.parameters(), model.parameters()):
        a.lerp_(w, 1.0 - decay)
    for a, w in zip(avg.buffers(), model.buffers()):
        a.copy_(w)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """The seed's step decay; over the last `cfg.anneal` steps, from its value there to 0 along a
    half cosine (a run's noisy final stretch settles instead of bouncing)."""
    start = cfg.steps - cfg.anneal
    if cfg.anneal and step >= start:
        return cfg.lr * cfg.lr_decay ** (start // cfg.decay_every) * 0.5 * (
            1 + math.cos(math.pi * (step - start) / cfg.anneal))
    return cfg.lr * cfg.lr_decay ** (step // cfg.decay_every)


def loss_of(net, x: torch.Tensor, x_l: torch.Tensor, q: torch.Tensor, rc_plus: bool,
            rng: np.random.Generator) -> torch.Tensor:
    """Residual bits per subpixel of a batch: RC's one mixture, or RC+'s four passes (with random
    strip edges, as the codec's strips make them, drawn from the sampler's rng so that a
    resumed run is the run that never stopped)."""
    if rc_plus:
        cuts = torch.Generator(device=x.device).manual_seed(int(rng.integers(1 << 62)))
        return net(x_l, q, x, generator=cuts, cut=True)
    return mixture.bits_per_subpixel(net.mixture(x_l, q), x, x_l)


def validate(model, pairs: list[tuple[np.ndarray, np.ndarray]], q: int,
             groups: list[str] | None = None) -> dict[str, float]:
    """Residual bpsp over whole validation pictures coded at Q q (weighted by their subpixels):
    {"all": ..., group: ...} for the pictures' groups (their source packages) when given.
    The bits are the coder's own (codec.residual_bit_map: its strips, margins and, for RC+, the
    residuals each strip's passes see), computed on the model's device."""
    from .codec import residual_bit_map

    model.eval()
    bits, n = {}, {}
    for i, (x, x_l) in enumerate(pairs):
        b = float(residual_bit_map(x, x_l, q, model).sum(dtype=np.float64))
        for key in ("all", groups[i] if groups else None):
            if key is not None:
                bits[key] = bits.get(key, 0.0) + b
                n[key] = n.get(key, 0) + x.size
    model.train()
    return {k: bits[k] / n[k] for k in bits}


def validation_set(val_dir: Path, prepared_val: Path, q: int, limit: int | None = None, space: str = "ycbcr"):
    """The validation pictures with their BPG at Q q (in BPG's colour space `space`, which the
    cache `prepared_val` holds; made and cached where missing): ([(x, x_l)], [group of each])."""
    paths = data.list_images(val_dir)[:limit]
    xs = [data.load_rgb(p) for p in paths]
    pairs = [(x, prep.version(p, prepared_val, q, x=x, space=space)[1]) for p, x in zip(paths, xs)]
    return pairs, [val_group(p) for p in paths]


def _best_val(best_path: Path) -> float:
    """The validation bpsp of a run's best.pt so far (inf when it has none)."""
    return json.loads(best_path.with_suffix(".json").read_text())["val_bpsp"] if best_path.exists() else math.inf


def _log_writer(fh):
    """The one CSV dialect of log.csv (plain newlines), for appending and for rewriting it."""
    return csv.writer(fh, lineterminator="\n")


def val_group(path: Path) -> str:
    """A validation picture's group in the log: its package (and variant) for the embedded set."""
    return data.package_of(path.name) if "__" in path.stem else "all"


def train(cfg: TrainConfig, train_dir: Path, val_dir: Path, prepared_train: Path,
          prepared_val: Path, out: Path, device: str = "auto", resume: bool = True,
          progress: bool = True, val_limit: int | None = None, max_seconds: float | None = None,
          snapshot_every: int | None = None, prepare_as_drawn: bool = False) -> dict:
    """Train to `cfg.steps` (or until `max_seconds` have passed, ending on a checkpoint), resuming
    from out/checkpoint.pt when present; returns a summary.  `snapshot_every`: also keep the
    weights every that many steps in out/snapshots/ (for validating elsewhere later).
    `prepare_as_drawn`: BPG versions missing from `prepared_train` are made as crops draw them
    (every picture at its sample_qs); otherwise training uses the versions prepared."""
    from tqdm.auto import tqdm

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    if distributed:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            device = f"cuda:{torch.cuda.current_device()}"
    dev = pick_device(device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: let cuDNN pick its fastest kernels
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)

    model = build(cfg.model).to(dev)
    rc_plus = kind(model) == "rc+"
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = 0
    rng = np.random.default_rng([cfg.seed, rank])
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():  # the crop sampler's state too, so resuming = never stopping
        state = torch.load(ckpt, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        saved = state.get("rng", {}).get(rank)  # only rank 0 writes checkpoints
        if saved is not None:
            rng.bit_generator.state = saved
        else:
            rng = np.random.default_rng([cfg.seed, rank, step])
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    # With cfg.ema, the averaged weights are what is validated, kept as best.pt and shipped.
    average = weight_average(model, state.get("ema") if step else None) if cfg.ema else None
    scored = average if average is not None else model

    pairs = PairSet(train_dir, prepared_train, range(cfg.q_min, cfg.q_max + 1),
                    qs_for=picture_qs(cfg) if prepare_as_drawn else None)
    val_pairs, groups = validation_set(val_dir, prepared_val, cfg.val_q, val_limit)
    group_names = sorted(set(groups) - {"all"})
    log_path = out / "log.csv"
    new_log = not log_path.exists() or step == 0
    if not new_log:  # appending: keep the log's columns (a segment may validate on other groups)
        with open(log_path, newline="") as f:
            group_names = [c[4:] for c in next(csv.reader(f)) if c.startswith("val_") and c != "val_bpsp"]
    columns = ["step", "train_bpsp", "val_bpsp", "lr", "seconds", *(f"val_{g}" for g in group_names)]
    log = open(log_path, "w" if new_log else "a", newline="")
    writer = _log_writer(log)
    if new_log:
        writer.writerow(columns)
    best_path = out / "best.pt"
    best = _best_val(best_path)

    model.train()
    t0, running, skipped = time.time(), [], 0
    bar = tqdm(total=cfg.steps, initial=step, desc=f"train {cfg.model}", disable=not progress or rank)
    while step < cfg.steps:
        lr = learning_rate(cfg, step)
        for group in opt.param_groups:
            group["lr"] = lr
        x, x_l, q = pairs.batch(rng, cfg.batch, cfg.crop)
        x, x_l, q = x.to(dev), x_l.to(dev), q.to(dev)
        loss = loss_of(net, x, x_l, q, rc_plus, rng)
        if not torch.isfinite(loss):  # a rare bad batch: drop it rather than poison the weights
            skipped += 1
            if skipped > 100:
                raise FloatingPointError(f"training diverged at step {step}: 100 non-finite losses")
            continue
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        if average is not None:
            update_average(average, model, cfg.ema)
        step += 1
        running.append(loss.item())
        bar.update(1)
        if rank == 0 and snapshot_every and step % snapshot_every == 0:
            save(scored, out / "snapshots" / f"step{step:07d}.pt", meta={"steps": step})
        bar.set_postfix(bpsp=f"{np.mean(running[-50:]):.3f}")
        val = {}
        if rank == 0 and val_pairs and (step % cfg.val_every == 0 or step == cfg.steps):
            val = validate(scored, val_pairs, cfg.val_q, groups)
            if val["all"] < best:  # the best validation weights so far, written atomically
                best = val["all"]
                save(scored, best_path, meta={"steps": step, "val_bpsp": best, "val_q": cfg.val_q,
                                             "train_config": asdict(cfg)})
        out_of_time = max_seconds is not None and time.time() - t0 > max_seconds
        if rank == 0 and (step % cfg.ckpt_every == 0 or step == cfg.steps or val or out_of_time):
            fmt = lambda key: f"{val[key]:.5f}" if key in val else ""  # noqa: E731
            writer.writerow([step, f"{np.mean(running):.5f}", fmt("all"), f"{lr:.3g}",
                             f"{time.time() - t0:.1f}", *(fmt(g) for g in group_names)])
            log.flush()
            running = []
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "rng": {rank: rng.bit_generator.state}, "config": asdict(cfg),
                        **({"ema": average.state_dict()} if average is not None else {})}, tmp)
            os.replace(tmp, ckpt)
        if out_of_time:
            break
    bar.close()
    log.close()
    summary = {"steps": step, "train_config": asdict(cfg)}
    if rank == 0 and max_seconds is None:
        if val_pairs:
            summary["val_bpsp_q%d" % cfg.val_q] = validate(scored, val_pairs, cfg.val_q)["all"]
        save(scored.cpu(), out / "model.pt", meta=summary)
    if distributed:
        torch.distributed.destroy_process_group()
    return summary


def fine_tune(net, pairs: PairSet, out: Path, done_fraction, meta: dict, lr: float, batch: int = 8,
              crop: int = 128, seed: int = 0, snapshot_every: int = 250, log_every: int = 50) -> int:
    """Fine-tune shipped weights on other pairs (bench/finetune_rgb.py, bench/finetune_jpeg.py):
    Adam, the mixture's shared tables at 10x the rate, the rate falling linearly to zero as
    done_fraction(steps done, seconds) goes from 0 to 1 (a step budget or a clock).  Weights
    snapshots go to out/snapshots every snapshot_every steps and at the end, each with a checkpoint
    (weights, optimizer, sampler, clock) written atomically; a later call with the same
    meta["command"] resumes from it.  out/log.csv: step, seconds, train_bpsp, lr.  Returns the
    last step."""
    out = Path(out)
    ckpt = out / "checkpoint.pt"
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    named = list(net.named_parameters())
    groups = [([p for n, p in named if not n.startswith("mix_")], lr),
              ([p for n, p in named if n.startswith("mix_")], 10 * lr)]
    opt = torch.optim.Adam([{"params": ps, "base": rate} for ps, rate in groups if ps])
    step, elapsed = 0, 0.0
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        if state["command"] != meta["command"]:
            raise ValueError(f"{ckpt} is from `{state['command']}`: delete it to start this run afresh")
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        step, elapsed = state["step"], state["seconds"]

    def keep(step: int, seconds: float) -> None:
        save(copy.deepcopy(net).eval(), out / "snapshots" / f"step{step:06d}.pt", meta={**meta, "steps": step})
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": seconds,
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                    "command": meta["command"]}, tmp)
        os.replace(tmp, ckpt)

    (out / "snapshots").mkdir(parents=True, exist_ok=True)
    log = open(out / "log.csv", "a" if step else "w", newline="")
    writer = _log_writer(log)
    if not step:
        writer.writerow(["step", "seconds", "train_bpsp", "lr"])
    net.train()
    start, running, last = time.time() - elapsed, [], step
    while (fraction := done_fraction(step, time.time() - start)) < 1:
        for group in opt.param_groups:
            group["lr"] = group["base"] * (1.0 - fraction)
        x, x_l, q = pairs.batch(rng, batch, crop)
        loss = loss_of(net, x, x_l, q, kind(net) == "rc+", rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        step += 1
        running.append(loss.item())
        if step % log_every == 0:
            writer.writerow([step, round(time.time() - start, 1), round(float(np.mean(running)), 5),
                             f"{opt.param_groups[0]['lr']:.3g}"])
            log.flush()
            running = []
        if step % snapshot_every == 0:
            keep(step, time.time() - start)
            last = step
    if step != last:
        keep(step, time.time() - start)
    log.close()
    return step


def fill_validation(run_dir: Path, cfg: TrainConfig, val_dir: Path, prepared_val: Path,
                    progress: bool = True) -> dict[int, float]:
    """Score a run's weight snapshots (out/snapshots/, kept by a segment trained where the
    validation set was not, e.g. a lent GPU) on the whole validation set at cfg.val_q: their rows
    of log.csv get the validation columns, best.pt/json the best of them, and the scored
    snapshots are removed.  Returns {step: val_bpsp}."""
    import io

    from tqdm.auto import tqdm

    from .imageio import atomic_write
    from .model import load

    run_dir = Path(run_dir)
    snaps = sorted((run_dir / "snapshots").glob("step*.pt"))
    val_pairs, groups = validation_set(val_dir, prepared_val, cfg.val_q)
    with open(run_dir / "log.csv", newline="") as f:
        reader = csv.DictReader(f)
        rows, columns = list(reader), reader.fieldnames
    best_path = run_dir / "best.pt"
    best = _best_val(best_path)
    scores = {}
    for snap in tqdm(snaps, desc="validate snapshots", disable=not progress):
        step = int(snap.stem[4:])
        row = next((r for r in rows if int(r["step"]) == step), None)
        if row is None:
            raise ValueError(f"{snap.name}: no row for step {step} in {run_dir / 'log.csv'}")
        net = load(snap)
        val = validate(net, val_pairs, cfg.val_q, groups)
        row["val_bpsp"] = f"{val['all']:.5f}"
        for g, v in val.items():
            if f"val_{g}" in row:
                row[f"val_{g}"] = f"{v:.5f}"
        scores[step] = val["all"]
        if val["all"] < best:
            best = val["all"]
            save(net, best_path, meta={"steps": step, "val_bpsp": best, "val_q": cfg.val_q,
                                       "train_config": asdict(cfg)})
    buf = io.StringIO()
    writer = _log_writer(buf)
    writer.writerow(columns)
    writer.writerows([r[c] for c in columns] for r in rows)
    atomic_write(run_dir / "log.csv", buf.getvalue().encode(), force=True)
    for snap in snaps:
        snap.unlink()
        snap.with_suffix(".json").unlink(missing_ok=True)
    return scores


RUN_FILES = ("checkpoint.pt", "log.csv", "best.pt", "best.json")


def continue_from(run_dir: Path, out: Path) -> int:
    """Put a committed run's state (checkpoint, log, best weights) into `out`, replacing what
    `out` had, so training there continues that run, the same way every time; returns the step
    training resumes at."""
    import shutil

    run_dir, out = Path(run_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
        if (run_dir / name).exists():
            shutil.copyfile(run_dir / name, out / name)
    return checkpoint_step(out)


def checkpoint_step(out: Path) -> int:
    """The step training in `out` resumes at (0 without a checkpoint)."""
    ckpt = Path(out) / "checkpoint.pt"
    if not ckpt.exists():
        return 0
    return int(torch.load(ckpt, map_location="cpu", weights_only=False)["step"])


def profile(name: str, **overrides) -> TrainConfig:
    return replace(PROFILES[name], **overrides)


def run(profile_name: str, out: Path, dataset: str = "embedded", device: str = "auto",
        limit: int | None = None, val_limit: int | None = None, progress: bool = True,
        max_seconds: float | None = None, **overrides) -> dict:
    """Prepare the data a profile needs (BPG at its Q range) and train; what `rclib train` runs."""
    cfg = profile(profile_name, **overrides)
    if dataset == "embedded":
        root = data.prepare_embedded(limit=limit, progress=progress)
        train_dir, val_dir = root / "train", root / "val"
    else:  # a folder with train/ and val/ sub-folders
        train_dir, val_dir = Path(dataset) / "train", Path(dataset) / "val"
    tag = Path(dataset).name if dataset != "embedded" else "embedded"
    prepared_train = data.cache_dir() / "prep" / f"{tag}-train"
    prepared_val = data.cache_dir() / "prep" / f"{tag}-val"
    as_drawn = max_seconds is None and cfg.steps - checkpoint_step(out) <= SHORT_SEGMENT
    if not as_drawn:   # the whole split, in parallel processes; a short segment makes what it draws
        prep.prep(train_dir, prepared_train, qs=range(cfg.q_min, cfg.q_max + 1), limit=limit,
                  progress=progress, qs_for=picture_qs(cfg))
    prep.prep(val_dir, prepared_val, qs=[cfg.val_q], limit=val_limit, progress=progress)
    if limit is not None:  # train on exactly the pictures that were prepared
        train_dir = _subset(train_dir, limit, Path(out) / "train-subset")
    return train(cfg, train_dir, val_dir, prepared_train, prepared_val, out, device=device,
                 progress=progress, val_limit=val_limit, max_seconds=max_seconds, prepare_as_drawn=as_drawn)


def _subset(folder: Path, limit: int, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in data.list_images(folder)[:limit]:
        link = dest / p.name
        if not link.exists():
            link.symlink_to(p.resolve())
    return dest


def ship(run_dir: Path, dest: Path, command: str, dataset: str = "embedded") -> dict:
    """Copy a run's best validation weights (best.pt, else model.pt) to `dest` with a JSON beside
    it saying how it was made: configurations, the training set (data.split_digest of its
    split), steps, validation bpsp, the weights' identifier and the command that reproduces it.
    Both files are written atomically."""
    from .imageio import atomic_write
    from .model import load

    run_dir, dest = Path(run_dir), Path(dest)
    source = run_dir / "best.pt" if (run_dir / "best.pt").exists() else run_dir / "model.pt"
    info = json.loads(source.with_suffix(".json").read_text())
    if dataset == "embedded":
        packages = sorted({p[1] for p in data.EMBEDDED_PHOTOS if p[0] == "train"})
        photos, digest = data.split_digest("train", packages=packages, variants=data.TRAIN_VARIANTS)
        info["training_set"] = {"name": "embedded (rclib.data.EMBEDDED_PHOTOS), train split",
                                "photos": photos, "sha256": digest, "packages": packages,
                                "variants": list(data.TRAIN_VARIANTS)}
        info["val_photos"] = data.split_digest("val")[0]
    else:
        info["training_set"] = {"name": dataset}
    info["command"] = command
    info["torch"] = torch.__version__
    log = list(csv.DictReader(open(run_dir / "log.csv")))
    info["log"] = [{k: r[k] for k in ("step", "train_bpsp", "val_bpsp")} for r in log if r["val_bpsp"]]
    load(source)  # it must load
    atomic_write(dest, source.read_bytes(), force=True)
    atomic_write(dest.with_suffix(".json"), (json.dumps(info, indent=2) + "\n").encode(), force=True)
    return info
