"""Q selection and tau: strategies min/auto, the Q histories, the classifier, tau round trips."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from rclib import classifier, codec, qselect, tau as tau_lib
from rclib.errors import FormatError, InputError, RclibError


@pytest.fixture(scope="module")
def crop(photos):
    return photos["chelsea"][40:120, 60:170]


def test_tau_round_trip_and_header(crop, tiny_model):
    blob = codec.compress(crop, q=14, model=tiny_model, tau=True, tables=False)
    assert np.array_equal(codec.decompress(blob, model=tiny_model), crop)
    header, _ = codec.unpack_header(blob)
    # tau is kept only when it lowers the bits; random tiny weights leave a lot to gain.
    assert header.tau is not None and header.tau.shape == (1, 3, 5) and header.tau.dtype == np.float32
    plain = codec.compress(crop, q=14, model=tiny_model, tables=False)
    assert len(blob) < len(plain)
    assert codec.info(blob)["tau"] and not codec.info(plain)["tau"]


def test_tau_takes_the_file_without_it_from_the_caller(crop, tiny_model, monkeypatch):
    """codec.compress(tau=True, plain=...) makes the same bytes as without `plain`, and does not
    code the picture without tau again."""
    plain = codec.compress(crop, q=14, model=tiny_model, tables=False)
    tuned = codec.compress(crop, q=14, model=tiny_model, tau=True, tables=False)
    calls = []
    real = codec.compress
    monkeypatch.setattr(codec, "compress", lambda *a, **k: calls.append(k) or real(*a, **k))
    assert real(crop, q=14, model=tiny_model, tau=True, tables=False, plain=plain) == tuned
    assert not calls and len(tuned) < len(plain)


def test_tau_is_fitted_only_near_the_smallest_file(photos, monkeypatch):
    """--model auto --tau: both kinds, and BPG in RGB, are weighed without tau; tau is fitted to
    the files within TAU_REACH of the smallest (0: that one alone), kept only where it makes a file
    smaller still."""
    x = photos["chelsea"][:64, :96]
    fits = []
    real = codec._fit_tau
    monkeypatch.setattr(codec, "_fit_tau", lambda *a: fits.append(a[0]) or real(*a))
    plain = qselect.compress(x, q="auto")
    assert not fits
    monkeypatch.setattr(qselect, "TAU_REACH", 0.0)
    tuned = qselect.compress(x, q="auto", tau=True)
    assert len(fits) == 1 and len(tuned) <= len(plain)
    assert codec.info(tuned)["model"] == codec.info(plain)["model"]
    assert np.array_equal(codec.decompress(tuned), x)
    monkeypatch.setattr(qselect, "TAU_REACH", 1.0)  # every file: one fit per kind at least
    fits.clear()
    assert len(qselect.compress(x, q="auto", tau=True)) <= len(tuned) and len(fits) >= 2


def test_tau_field_is_checked(crop, tiny_model):
    import struct
    import zlib

    good = codec.compress(crop, q=14, model=tiny_model, tau=True, tables=False)
    _, pos = codec.unpack_header(good)
    blob = bytearray(good)
    t = codec.kind_end(blob[4])
    blob[t:t + 4] = b"\xff\xc0\x00\x00"           # tau[0] = NaN (after the kind byte), CRC fixed up
    end = pos - 4
    blob[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(blob[:end])))
    with pytest.raises(FormatError, match="tau"):
        codec.decompress(bytes(blob), model=tiny_model)


def test_tau_optimize_lowers_bits():
    from rclib import mixture as M

    g = torch.Generator().manual_seed(0)
    out = torch.randn(1, 3 * M.PARAMS_PER_CHANNEL, 24, 24, generator=g) * 0.1
    mix = M.Mixture.from_network(out)
    x_l = torch.full((1, 3, 24, 24), 100.0)
    x = x_l + torch.randint(-6, 7, x_l.shape, generator=g)   # wider than the unit scales predict
    fitted = tau_lib.optimize(mix, x, x_l)
    assert fitted is not None and (fitted > 1).mean() > 0.5
    before = float(M.bits_per_subpixel(mix, x, x_l))
    after = float(M.bits_per_subpixel(mix.with_tau(torch.from_numpy(fitted)), x, x_l))
    assert after < before - 0.05


def test_q_min_picks_the_cheapest_estimate(crop, tiny_model):
    blob = qselect.compress(crop, q="min", model=tiny_model)
    q = codec.info(blob)["q"]
    assert qselect.q_range(tiny_model) == tuple(range(11, 18))
    estimates = {k: qselect.estimate_bits(crop, k, tiny_model)[0] for k in qselect.q_range(tiny_model)}
    assert q == min(estimates, key=estimates.get)
    assert np.array_equal(codec.decompress(blob, model=tiny_model), crop)


def test_bad_q_values(crop, tiny_model):
    for bad in ("max", "12.5", -1, 52):
        with pytest.raises(InputError):
            qselect.compress(crop, q=bad, model=tiny_model)
        with pytest.raises(InputError):
            codec.compress(crop, q=bad, model=tiny_model)
    with pytest.raises(InputError, match="chooses"):
        codec.compress(crop, q="min", model=tiny_model)


def test_classifier_shapes_and_prediction(photos):
    torch.manual_seed(0)
    qs = qselect.Q_RANGES["rc"]
    net = classifier.QClassifier(classifier.CONFIGS["tiny"], qs).eval()
    assert net(torch.rand(2, 3, 64, 64) * 255).shape == (2, len(qs))
    assert classifier.predict_q(photos["astronaut"], net) in qs
    assert classifier.centre_crop(photos["astronaut"]).shape == (384, 384, 3)


def test_q_histories_and_classifier_training(tmp_path, photos, tiny_model, monkeypatch):
    from rclib import prep

    folder = tmp_path / "pics"
    folder.mkdir()
    for n in ("chelsea", "coffee_odd"):
        Image.fromarray(photos[n][:64, :72]).save(folder / f"{n}.png")
    prepared = tmp_path / "prep"
    qs = (12, 16)
    prep.prep(folder, prepared, qs=qs, workers=1, progress=False)
    out = tmp_path / "hist.csv"
    table = qselect.q_histories(folder, prepared, tiny_model, qs=qs, out=out, progress=False)
    assert len(table) == 4 and out.exists()
    assert (table.bpsp > 0).all() and np.allclose(table.bpsp * table.subpixels,
                                                  table.bpg_bits + table.residual_bits)
    best = qselect.optimal_q(table)
    for image, rows in table.groupby("image"):
        assert best[image] == rows.loc[rows.bpsp.idxmin(), "q"]
    # Resumable: a second call computes nothing new (a trap would make it fail).
    with monkeypatch.context() as m:
        m.setattr(codec, "estimate_residual_bits", lambda *a, **k: 1 / 0)
        again = qselect.q_histories(folder, prepared, tiny_model, qs=qs, out=out, progress=False)
    assert again.equals(table)
    # Rows by another estimator (here: without tables) are recomputed, never mixed in.
    model_only = qselect.q_histories(folder, prepared, tiny_model, qs=qs, out=out, progress=False, tables=False)
    assert (model_only.estimator != table.estimator).all()
    assert (model_only.residual_bits >= table.residual_bits - 1e-6).all()
    net = qselect.train_classifier(folder, table, classifier.ClassifierTrainConfig(model="tiny", steps=3, batch=2,
                                                                                 crop=32), progress=False)
    assert net.qs == qs
    classifier.save(net, tmp_path / "clf.pt", meta={"steps": 3})
    loaded = classifier.load(tmp_path / "clf.pt")
    assert classifier.predict_q(photos["chelsea"], loaded) == classifier.predict_q(photos["chelsea"], net)
    # `auto` judged from the cache picks what the encoder's table search picks, and evaluate() says
    # how many bytes each strategy's Q costs over MIN's.
    answers = qselect.auto_q(folder, prepared, qs)
    for n in ("chelsea", "coffee_odd"):
        x = np.asarray(Image.open(folder / f"{n}.png"))
        assert answers[n] == qselect.table_search_q(x, qs, backend="embedded")[0]
    verdict = qselect.evaluate(table, answers)
    assert qselect.lost_pct(verdict) >= 0 and qselect.lost_pct(qselect.evaluate(table, best)) == 0


def test_q_clf_and_auto_without_tables_use_the_classifier(crop, tiny_model, monkeypatch):
    monkeypatch.setattr(classifier, "predict_q", lambda rgb, net=None: 15)
    for kwargs in ({"q": "clf"}, {"q": "auto", "tables": False}):
        blob = qselect.compress(crop, model=tiny_model, **kwargs)
        assert codec.info(blob)["q"] == 15
        assert np.array_equal(codec.decompress(blob, model=tiny_model), crop)


def _table_costs(rgb, qs) -> dict[int, float]:
    """What `auto` minimizes, computed here independently: BPG bits + per-image table bits per Q."""
    from rclib import bpg

    costs = {}
    for q in qs:
        f = bpg.encode(rgb, q)
        costs[q] = 8 * len(f) + codec.table_only_bits(rgb, bpg.decode(f))
    return costs


def test_q_auto_with_tables_takes_the_fewest_bpg_and_table_bits(crop, tiny_model, monkeypatch):
    """No network and no classifier: BPG + per-image table bits at every Q of the range."""
    monkeypatch.setattr(classifier, "predict_q", lambda *a: 1 / 0)
    costs = _table_costs(crop, qselect.AUTO_QS["rc"])
    blob = qselect.compress(crop, model=tiny_model)
    assert codec.info(blob)["q"] == min(costs, key=costs.get)
    assert np.array_equal(codec.decompress(blob, model=tiny_model), crop)


def test_missing_classifier_is_clear(tmp_path):
    with pytest.raises(RclibError, match="classifier"):
        classifier.load(tmp_path / "none.pt")


def test_rc_plus_auto_takes_the_grid_steps_above_the_table_optimum(crop, tiny_plus_model):
    """RC+'s network prices a higher Q's residual better than tables: `auto` goes two grid steps up."""
    grid, steps = qselect.AUTO_QS["rc+"], qselect.AUTO_STEPS_ABOVE["rc+"]
    assert steps == 2
    costs = _table_costs(crop, grid)
    best = int(np.argmin([costs[q] for q in grid]))
    assert best + steps < len(grid)  # else the step up could not show
    blob = qselect.compress(crop, model=tiny_plus_model)
    assert codec.info(blob)["q"] == grid[best + steps]
    assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), crop)


def test_rc_plus_searches_its_wider_q_range(crop, tiny_plus_model):
    assert qselect.q_range(tiny_plus_model) == tuple(range(11, 31))
    q, bpg_file = qselect.search_q(crop, tiny_plus_model, qs=(14, 26))
    blob = qselect.compress(crop, q=q, model=tiny_plus_model)
    assert codec.extract_bpg(blob) == bpg_file
    assert np.array_equal(codec.decompress(blob, model=tiny_plus_model), crop)


@pytest.mark.parametrize("low", [10, 11, 14, 15, 17, 29])
@pytest.mark.parametrize("workers", [1, 2])
def test_descend_finds_the_minimum_of_a_valley_trying_fewer_qs(low, workers, monkeypatch):
    """BPG + table bits fall, then rise with Q: the downhill walk ends at the grid's minimum
    (lowest Q on ties) with both its neighbours tried, and tries fewer Qs than the grid has."""
    from rclib import entropy

    monkeypatch.setattr(entropy, "workers", lambda: workers)
    for grid in (qselect.AUTO_QS["rc"], qselect.AUTO_QS["rc+"], qselect.RGB_QS):
        asked = []
        tried = qselect.descend(grid, lambda q: asked.append(q) or ((q - low) ** 2 // 4, "file"))
        best = min(grid, key=lambda q: ((q - low) ** 2 // 4, q))
        assert min(tried, key=lambda q: (tried[q][0], q)) == best
        i = sorted(grid).index(best)
        assert {g for g in sorted(grid)[max(i - 1, 0):i + 2]} <= set(tried)
        assert sorted(asked) == sorted(tried) and len(tried) < len(grid) or len(grid) <= 3


def test_auto_walks_the_grid_but_tries_every_q_for_a_decoded_jpeg(monkeypatch, crop):
    """table_search_q: downhill on a picture that is not a decoded JPEG, with the exhaustive
    search's answer; every Q for a decoded JPEG (two valleys), checked in test_jpeg_colour."""
    from rclib import bpg

    tried = []
    encode = bpg.encode
    monkeypatch.setattr(bpg, "encode", lambda rgb, q, **k: tried.append(q) or encode(rgb, q, **k))
    q, bpg_file = qselect.table_search_q(crop, qselect.AUTO_QS["rc"])
    searched = list(tried)
    costs = _table_costs(crop, qselect.AUTO_QS["rc"])
    assert q == min(costs, key=costs.get) and bpg_file == bpg.encode(crop, q)
    assert len(searched) == len(set(searched)) < len(qselect.AUTO_QS["rc"])
