"""Training: a tiny run end to end, its log and checkpoint, and resuming where it stopped."""
from __future__ import annotations

import csv

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
