"""Training: a tiny run end to end, its log and checkpoint, and resuming where it stopped."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from rclib import model as model_lib, train


@pytest.fixture()
def tiny_dataset(tmp_path, photos, monkeypatch):
    monkeypatch.setenv("RCLIB_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "set"
    for split, names in (("train", ("chelsea", "astronaut")), ("val", ("coffee_odd",))):
        (root / split).mkdir(parents=True)
        for n in names:
            Image.fromarray(photos[n][:72, :88]).save(root / split / f"{n}.png")
    return root


def test_tiny_training_run_and_resume(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    summary = train.run("tiny", out, dataset=str(tiny_dataset), progress=False, q_min=12, q_max=13)
    assert summary["steps"] == 6
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [3, 6]
    assert all(np.isfinite(float(r["train_bpsp"])) for r in rows)
    assert np.isfinite(float(rows[-1]["val_bpsp"]))
    model = model_lib.load(out / "model.pt")
    assert model.config.name == "tiny"

    # Resume: asking for more steps continues from the checkpoint instead of starting again, and
    # ends with exactly the weights of a run that never stopped.
    summary = train.run("tiny", out, dataset=str(tiny_dataset), progress=False, q_min=12, q_max=13,
                        steps=9)
    assert summary["steps"] == 9
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [3, 6, 9]
    straight = tmp_path / "straight"
    train.run("tiny", straight, dataset=str(tiny_dataset), progress=False, q_min=12, q_max=13, steps=9)
    assert (model_lib.weights_id(model_lib.load(straight / "model.pt"))
            == model_lib.weights_id(model_lib.load(out / "model.pt")))


def test_weight_average_is_validated_shipped_and_resumed(tiny_dataset, tmp_path):
    """With `ema`, best.pt and model.pt hold the moving average of the weights, not the last ones,
    and a resumed run carries the average on exactly as a run that never stopped."""
    kw = dict(dataset=str(tiny_dataset), progress=False, q_min=12, q_max=13, ema=0.5)
    out, straight = tmp_path / "run", tmp_path / "straight"
    train.run("tiny", out, **kw)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    shipped = model_lib.load(out / "model.pt").state_dict()
    assert all(torch.equal(shipped[k], v) for k, v in state["ema"].items())
    assert not all(torch.equal(state["model"][k], v) for k, v in state["ema"].items())
    expected = {k: 0.5 * v for k, v in state["ema"].items()}   # one more step of the average
    train.run("tiny", out, steps=7, **kw)
    later = torch.load(out / "checkpoint.pt", weights_only=False)
    assert all(torch.allclose(later["ema"][k], expected[k] + 0.5 * later["model"][k])
               for k in expected if later["ema"][k].is_floating_point())
    train.run("tiny", out, steps=9, **kw)
    train.run("tiny", straight, steps=9, **kw)
    assert (model_lib.weights_id(model_lib.load(straight / "model.pt"))
            == model_lib.weights_id(model_lib.load(out / "model.pt")))


def test_short_segment_prepares_only_what_it_draws(tiny_dataset, tmp_path, photos):
    """A segment of a few steps makes BPG only for the crops it draws, and trains exactly as it
    would on the whole split prepared ahead (the same draws, the same weights)."""
    from rclib import prep

    for n in ("coffee_odd", "chelsea~small"):   # more pictures than 6 steps of 2 crops can all draw
        Image.fromarray(photos[n.split("~")[0]][8:64, :72]).save(tiny_dataset / "train" / f"{n}.png")
    cfg = train.profile("tiny", q_min=11, q_max=17, steps=2)
    prep.prep(tiny_dataset / "val", tmp_path / "pv", qs=[cfg.val_q], workers=1, progress=False)
    ahead = tmp_path / "ahead"
    prep.prep(tiny_dataset / "train", ahead, qs=range(11, 18), workers=1, progress=False,
              qs_for=train.picture_qs(cfg))
    drawn = tmp_path / "drawn"
    for prepared, as_drawn in ((ahead, False), (drawn, True)):
        train.train(cfg, tiny_dataset / "train", tiny_dataset / "val", prepared, tmp_path / "pv",
                    tmp_path / f"run-{as_drawn}", progress=False, prepare_as_drawn=as_drawn)
    made = lambda folder: sorted(p.relative_to(folder) for p in folder.rglob("*.bpg"))  # noqa: E731
    assert 0 < len(made(drawn)) <= 2 * 2 < len(made(ahead)) and set(made(drawn)) <= set(made(ahead))
    assert (model_lib.weights_id(model_lib.load(tmp_path / "run-True" / "model.pt"))
            == model_lib.weights_id(model_lib.load(tmp_path / "run-False" / "model.pt")))
    for f in made(drawn):   # and what it made is what the ahead-of-time prep made
        assert (drawn / f).read_bytes() == (ahead / f).read_bytes()


def test_loss_goes_down_on_one_batch(tiny_dataset, tmp_path):
    """A sanity check that the gradients point somewhere useful: overfit one fixed batch."""
    from rclib import mixture, prep

    prepared = tmp_path / "prep"
    prep.prep(tiny_dataset / "train", prepared, qs=[12], workers=1, progress=False)
    pairs = train.PairSet(tiny_dataset / "train", prepared, [12])
    x, x_l, q = pairs.batch(np.random.default_rng(0), 2, 32)
    assert q.tolist() == [12, 12]
    torch.manual_seed(0)
    net = model_lib.ResidualModel(model_lib.CONFIGS["tiny"])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = mixture.bits_per_subpixel(net.mixture(x_l, q), x, x_l)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.95 * losses[0], losses[::10]


def test_pick_device():
    assert train.pick_device("cpu").type == "cpu"
    assert train.pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_q_conditioning():
    """Models that see Q need it and use it; models without the Q plane ignore it."""
    torch.manual_seed(0)
    net = model_lib.ResidualModel(model_lib.CONFIGS["tiny"]).eval()
    x_l = torch.rand(2, 3, 24, 20) * 255
    with pytest.raises(ValueError, match="pass the BPG quantizer"):
        net(x_l)
    with torch.no_grad():
        a, b = net(x_l, 11), net(x_l, 17)
        both = net(x_l, torch.tensor([11.0, 17.0]))
    assert not torch.equal(a, b)
    assert torch.allclose(both[0], a[0]) and torch.allclose(both[1], b[1])
    plain = model_lib.ResidualModel(model_lib.ModelConfig("old", 16, 8, 1, False)).eval()
    assert plain.head.in_channels == 3
    with torch.no_grad():
        assert torch.equal(plain(x_l), plain(x_l, 14))


def test_tiny_rc_plus_training_run_resumes_and_codes(tiny_dataset, tmp_path, photos):
    """RC+ through the same pipeline: log, best checkpoint, resume; its weights code a photo."""
    import rclib

    out = tmp_path / "run+"
    summary = train.run("tiny+", out, dataset=str(tiny_dataset), progress=False, q_min=12, q_max=13)
    assert summary["steps"] == 6
    assert (out / "best.pt").exists()
    summary = train.run("tiny+", out, dataset=str(tiny_dataset), progress=False, q_min=12, q_max=13, steps=9)
    assert summary["steps"] == 9
    net = model_lib.load(out / "model.pt")
    assert model_lib.kind(net) == "rc+"
    x = photos["coffee_odd"][:30, :41]
    assert np.array_equal(rclib.decompress(rclib.compress(x, q=12, model=net), model=net), x)


def test_trainpack_round_trip(tiny_dataset, tmp_path):
    """The compact pack a lent GPU trains from gives back exactly the prepared pairs."""
    from rclib import data, prep, trainpack

    prepared = tmp_path / "prepared"
    prep.prep(tiny_dataset / "train", prepared, qs=[12, 13], workers=1, progress=False)
    index = trainpack.write(tiny_dataset / "train", prepared, tmp_path / "pack", lambda s, a: a, size=1000)
    assert {e["qs"] == [12, 13] for e in index["pictures"].values()} == {True}
    n = trainpack.unpack(tmp_path / "pack", tmp_path / "orig", tmp_path / "prep2")
    assert n == 2
    for p in data.list_images(tiny_dataset / "train"):
        assert np.array_equal(data.load_rgb(tmp_path / "orig" / p.name), data.load_rgb(p))
        for q in (12, 13):
            assert np.array_equal(data.load_rgb(prep.q_dir(tmp_path / "prep2", q) / p.name),
                                  data.load_rgb(prep.q_dir(prepared, q) / p.name))
    small = trainpack.write(tiny_dataset / "train", prepared, tmp_path / "small", lambda s, a: [12], size=40)
    assert {tuple(e["shape"]) for e in small["pictures"].values()} == {(40, 40, 3)}


def test_time_budget_snapshots_and_validation_elsewhere(tiny_dataset, tmp_path):
    """A segment trained against the clock (as on a lent GPU) ends on a checkpoint and keeps weight
    snapshots; fill_validation later scores them into the log and best.pt, and training resumes."""
    from rclib import data, prep

    prepared, prepared_val = tmp_path / "prep-train", tmp_path / "prep-val"
    prep.prep(tiny_dataset / "train", prepared, qs=[12], workers=1, progress=False)
    prep.prep(tiny_dataset / "val", prepared_val, qs=[12], workers=1, progress=False)
    cfg = train.profile("tiny", q_min=12, q_max=12, val_q=12, steps=10**9, val_every=10**9)
    out = tmp_path / "run"
    args = (tiny_dataset / "train", tiny_dataset / "val", prepared, prepared_val, out)
    train.train(cfg, *args, progress=False, max_seconds=0, snapshot_every=1)
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [(r["step"], r["val_bpsp"]) for r in rows] == [("1", "")]
    assert (out / "snapshots" / "step0000001.pt").exists() and not (out / "best.pt").exists()

    scores = train.fill_validation(out, cfg, tiny_dataset / "val", prepared_val, progress=False)
    assert list(scores) == [1]
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert float(rows[0]["val_bpsp"]) == pytest.approx(scores[1], abs=1e-5)
    assert json.loads((out / "best.json").read_text())["steps"] == 1
    assert not list((out / "snapshots").glob("*.pt"))
    net = model_lib.load(out / "best.pt")
    pairs = [(data.load_rgb(p), data.load_rgb(prep.q_dir(prepared_val, 12) / p.name))
             for p in data.list_images(tiny_dataset / "val")]
    assert train.validate(net, pairs, 12)["all"] == pytest.approx(scores[1])

    train.train(cfg, *args, progress=False, max_seconds=0)  # resumes: one more step
    assert [r["step"] for r in csv.DictReader(open(out / "log.csv"))] == ["1", "2"]
    assert b"\r" not in (out / "log.csv").read_bytes()  # appended and rewritten rows: one dialect

    # A segment that validates on nothing (a GPU without the validation set) keeps the log's columns.
    log = out / "log.csv"
    header, *rows = log.read_text().splitlines()
    log.write_text("\n".join([header + ",val_somepackage", *(r + "," for r in rows)]) + "\n")
    empty = tmp_path / "no-val"
    empty.mkdir()
    train.train(cfg, tiny_dataset / "train", empty, prepared, empty, out, progress=False, max_seconds=0)
    lines = log.read_text().splitlines()
    assert len(lines) == 4 and {line.count(",") for line in lines} == {header.count(",") + 1}


def test_half_weights_file(tmp_path):
    """float16 weights files (the big `paper` network) load as float32 with the id their JSON names."""
    torch.manual_seed(0)
    net = model_lib.ResidualModel(model_lib.CONFIGS["tiny"])
    model_lib.save(net, tmp_path / "full.pt")
    model_lib.save(net, tmp_path / "half.pt", half=True, meta={"weights_id": "stale", "steps": 1})
    loaded = model_lib.load(tmp_path / "half.pt")
    assert next(loaded.parameters()).dtype == torch.float32
    assert json.loads((tmp_path / "half.json").read_text())["weights_id"] == model_lib.weights_id(loaded)
    assert model_lib.weights_id(loaded) != model_lib.weights_id(net)
    assert (tmp_path / "half.pt").stat().st_size < 0.7 * (tmp_path / "full.pt").stat().st_size
    for a, b in zip(loaded.parameters(), net.parameters()):
        assert torch.equal(a, b.half().float())


def test_cli_offers_every_training_profile():
    from rclib import cli

    train_parser = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    profile = next(a for a in train_parser._actions if a.dest == "profile")
    assert sorted(profile.choices) == sorted(train.PROFILES)
    assert profile.default == "cpu-head"


def test_validation_bits_are_the_coders_estimate(photos, tiny_model, tiny_plus_model, monkeypatch):
    """One tiling: training's validation counts the bits the coder's strips give (several strips
    here), for both model kinds."""
    from rclib import bpg, codec

    monkeypatch.setattr(codec, "STRIP_PIXELS", 1 << 12)
    x = photos["coffee_odd"]
    x_l = bpg.decode(bpg.encode(x, 14))
    assert len(codec.strip_spans(x.shape[1], x.shape[0])) > 1
    for net in (tiny_model, tiny_plus_model):
        val = train.validate(net, [(x, x_l)], 14)["all"]
        estimate = codec.estimate_residual_bits(x, x_l, 14, model=net, tables=False)
        assert val * x.size == pytest.approx(estimate, rel=1e-6)
    # Validation leaves the model on its device (on a GPU, training goes on there).
    monkeypatch.setattr(tiny_model, "cpu", lambda: pytest.fail("validation moved the model to the CPU"))
    train.validate(tiny_model, [(x, x_l)], 14)


def test_the_annealed_tail_falls_from_the_step_schedule_to_zero():
    cfg = train.TrainConfig(steps=1000, lr=1e-3, lr_decay=0.5, decay_every=300, anneal=400)
    assert train.learning_rate(cfg, 0) == 1e-3 and train.learning_rate(cfg, 599) == 5e-4
    assert train.learning_rate(cfg, 600) == pytest.approx(5e-4 * 0.5)  # step 600 = 2 decays, then the fall
    tail = [train.learning_rate(cfg, s) for s in range(600, 1001)]
    assert all(a > b for a, b in zip(tail, tail[1:])) and tail[-1] == 0.0
    assert train.learning_rate(train.TrainConfig(steps=1000, anneal=0), 999) > 0


def test_a_short_annealed_ending_forks_from_a_longer_run(monkeypatch):
    """`rclib train --steps S --anneal N` resumed from a run at step S - N ends that run's schedule
    early: the rate starts where the run's step decay stands and falls to 0 at step S."""
    from rclib import cli

    seen = {}
    monkeypatch.setattr(train, "run", lambda profile, out, **kw: seen.update(kw, profile=profile) or {})
    cli.main(["train", "--profile", "cpu+wide", "--out", "somewhere", "--steps", "14800", "--anneal", "1300"])
    assert seen["profile"] == "cpu+wide" and (seen["steps"], seen["anneal"]) == (14800, 1300)
    cfg = train.profile("cpu+wide", steps=14800, anneal=1300)
    long_run = train.profile("cpu+wide")
    assert train.learning_rate(cfg, 13500) == pytest.approx(train.learning_rate(long_run, 13500))
    assert train.learning_rate(cfg, 14800) == 0.0


def test_fine_tuning_resumes_where_it_stopped(tiny_dataset, tmp_path):
    """train.fine_tune (bench/finetune_*.py): a run stopped after a snapshot and called again ends
    with exactly the weights of one that never stopped; its log, snapshots and the refusal to
    resume another run's checkpoint."""
    from rclib import prep

    prepared = tmp_path / "prep"
    prep.prep(tiny_dataset / "train", prepared, qs=[12, 13], workers=1, progress=False)
    pairs = train.PairSet(tiny_dataset / "train", prepared, [12, 13])
    meta = {"command": "tiny fine-tune"}

    def tune(out, stop_at=None):
        torch.manual_seed(1)
        net = model_lib.ResidualModel(model_lib.CONFIGS["tiny"])
        budget = lambda step, seconds: 1.0 if stop_at and step >= stop_at else step / 6  # noqa: E731
        return train.fine_tune(net, pairs, out, budget, meta, 1e-3, batch=2, crop=32,
                               snapshot_every=2, log_every=2)

    assert tune(tmp_path / "straight") == 6
    assert tune(tmp_path / "stopped", stop_at=4) == 4
    assert tune(tmp_path / "stopped") == 6
    ids = [model_lib.weights_id(model_lib.load(run / "snapshots" / "step000006.pt"))
           for run in (tmp_path / "straight", tmp_path / "stopped")]
    assert ids[0] == ids[1]
    rows = list(csv.DictReader(open(tmp_path / "stopped" / "log.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert float(rows[-1]["lr"]) == pytest.approx(1e-3 / 6, rel=1e-2)  # the last step: a sixth of the rate
    assert json.loads((tmp_path / "stopped" / "snapshots" / "step000004.json").read_text())["steps"] == 4
    with pytest.raises(ValueError, match="delete it"):
        train.fine_tune(model_lib.ResidualModel(model_lib.CONFIGS["tiny"]), pairs, tmp_path / "stopped",
                        lambda step, seconds: step / 8, {"command": "another"}, 1e-3)
