"""Entropy coding: valid int16 CDFs, exact round trips, escapes, thread-count independence."""
from __future__ import annotations

import math

import torch

from rclib import entropy, mixture as M


def _mix(h, w, seed=0, scale=1.0, log_scale=0.0):
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(1, 3 * M.PARAMS_PER_CHANNEL, h, w, generator=g) * scale
    out[:, 30:45] += log_scale
    return M.Mixture.from_network(out), g


def test_quantized_cdf_is_valid():
    mix, _ = _mix(8, 8, scale=3.0)
    x_l = torch.rand(1, 3, 8, 8) * 255
    for c in range(3):
        weights, centres, inv_s = entropy._channel_params(mix, c, x_l.round(), torch.zeros_like(x_l))
        start = entropy.window_start(weights, centres)
        cdf = entropy.quantized_cdf(weights, centres, inv_s, start).to(torch.int64) % (1 << 16)
        body = cdf[:, :-1]
        assert (body[:, 0] == 0).all()
        assert (body[:, 1:] > body[:, :-1]).all()          # every symbol codable
        assert (body[:, -1] < (1 << 16)).all()             # escape keeps >= 1 count


def test_round_trip_and_cost_close_to_the_model():
    mix, g = _mix(40, 50, seed=1, scale=0.5, log_scale=0.5)
    x_l = torch.randint(0, 256, (1, 3, 40, 50), generator=g).float()
    x = (x_l + torch.randint(-3, 4, x_l.shape, generator=g)).clamp(0, 255)
    streams = entropy.encode(mix, x, x_l)
    assert torch.equal(entropy.decode(mix, x_l, streams), x)
    actual = 8 * sum(len(s) for s in streams)
    ideal = float(M.bit_map(mix, x, x_l).sum())
    assert actual <= ideal * 1.03 + 64


def test_escapes_round_trip():
    """Values far from the predicted centre go through the escape path and still decode."""
    mix, g = _mix(16, 16, seed=2, scale=0.1, log_scale=-2.0)
    x_l = torch.full((1, 3, 16, 16), 128.0)
    x = x_l.clone()
    x[0, :, ::3, ::2] = torch.randint(0, 256, x[0, :, ::3, ::2].shape, generator=g).float()
    x[0, 0, 0, 0], x[0, 1, 0, 0], x[0, 2, 0, 0] = 0, 255, 1
    streams = entropy.encode(mix, x, x_l)
    assert any(len(s) for s in streams[1::2])          # escapes were used
    assert torch.equal(entropy.decode(mix, x_l, streams), x)


def test_cdf_bits_matches_stream_length():
    mix, g = _mix(32, 32, seed=3)
    x_l = torch.randint(0, 256, (1, 3, 32, 32), generator=g).float()
    weights, centres, inv_s = entropy._channel_params(mix, 0, x_l, torch.zeros_like(x_l))
    start = entropy.window_start(weights, centres)
    x = (x_l[0, 0].reshape(-1) + torch.randint(-2, 3, (1024,), generator=g)).clamp(0, 255)
    sym, _ = entropy._to_symbols(x, start)
    cdf = entropy.quantized_cdf(weights, centres, inv_s, start)
    stream = entropy._torchac().encode_int16_normalized_cdf(cdf, sym)
    assert 8 * len(stream) <= entropy.cdf_bits(cdf, sym) + 64


def test_torchac_import_is_silent(capfd):
    entropy._torchac()
    assert capfd.readouterr().out == ""


def test_parallel_map_runs_one_intra_op_thread_per_worker_and_leaves_the_caller_alone():
    before = torch.get_num_threads()
    assert entropy.parallel_map(lambda _: torch.get_num_threads(), range(5)) == [1] * 5
    assert torch.get_num_threads() == before


def test_uniform_escape_cdf():
    cdf = entropy._uniform_cdf(2).to(torch.int64) % (1 << 16)
    body = cdf[0, :-1]
    assert body[0] == 0 and (body[1:] > body[:-1]).all()
    counts = torch.diff(torch.cat([body, torch.tensor([1 << 16])]))
    assert counts.min() >= math.floor((1 << 16) / (256 - entropy.WINDOW))
