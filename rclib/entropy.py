"""Arithmetic coding of x given x_l with torchac, under the residual model's mixture.

torchac needs a full CDF per symbol.  Each subpixel's alphabet is its valid range x in 0..255
(r in [-x_l, 255 - x_l]).  To keep the cost bounded, the mixture is evaluated only in a window
of `window` values around the predicted centre, plus one escape symbol carrying the mass
outside it; an escaped value is then coded uniformly among the 256 - window others.  Edge
windows fold the tails into 0 and 255.  The window is stored in each file's header: WINDOW = 16
covers +-8 around the centre, which BPG's residual at Q <= 17 almost never leaves (the same
bits as 32 on the validation photos, half the CDF work); files written with 32 still decode.

Determinism: the decoder must rebuild the encoder's CDFs bit for bit.  PyTorch's CPU kernels
give thread-count-dependent float results (conv reductions, vector/scalar tails of elementwise
ops), so every float computation here and in the model runs with ONE intra-op thread on a fixed
partition of the work (tiles, chunks); parallelism comes from running whole tiles/chunks
concurrently.  The result is the same whatever torch.set_num_threads says, on one machine and
PyTorch build.  Other CPUs (another SIMD path), other PyTorch versions or a GPU may compute
different floats: decoding then fails loudly on the pixel checksum, it never returns wrong pixels.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .mixture import Mixture

WINDOW = 16                 # symbols evaluated per subpixel around the predicted centre
WINDOWS = (16, 32)          # windows a file may use (32: files written by rclib <= 0.1)
_BLOCK = 1024               # subpixels per float evaluation; part of the format (see above)
PRECISION = 16


_IMPORT_LOCK = threading.Lock()


def _torchac():
    """Import torchac, keeping its JIT build log (printed on first import) off stdout.

    Thread-safe: coding threads may ask for it at once, and the import swaps file descriptors.
    """
    import sys

    with _IMPORT_LOCK:
        module = sys.modules.get("torchac")
        if module is not None and hasattr(module, "encode_int16_normalized_cdf"):
            return module
        return _import_quietly()


def _import_quietly():
    """Import torchac with fds 1 and 2 pointed at a log file; the log is shown only on failure."""
    import sys
    import tempfile

    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile("w+") as log:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                import torchac
        except Exception as exc:
            log.seek(0)
            raise RuntimeError(f"torchac could not be imported or built: {exc}\n{log.read()}") from exc
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
    return torchac


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _one_thread(fn):
    def run(item):
        torch.set_num_threads(1)  # this worker thread's own setting (OpenMP keeps it per thread)
        return fn(item)
    return run


def parallel_map(fn, items):
    """Map fn over items in fresh worker threads, each running torch ops with one intra-op thread.

    Coding must compute the same floats on every run, which needs one intra-op thread.  torch's
    thread count belongs to the thread that sets it (the process-wide default only to the
    initial thread), so each worker sets its own and the caller's is never touched: any number of
    threads may code at once.  (rclib 0.1 set and restored the caller's count: coding from two
    threads at once, or from a thread other than the main one, could write undecodable files.)
    """
    items = list(items)
    with ThreadPoolExecutor(max(1, min(workers(), len(items)))) as pool:
        return list(pool.map(_one_thread(fn), items))


def window_start(weights: torch.Tensor, centres: torch.Tensor, window: int = WINDOW) -> torch.Tensor:
    """First value of each subpixel's window: `window` values around the mixture mean."""
    centre = (weights * centres).sum(dim=1).round()
    return (centre - window // 2).clamp(0, 256 - window)


def quantized_cdf(weights: torch.Tensor, centres: torch.Tensor, inv_scales: torch.Tensor,
                  start: torch.Tensor, window: int = WINDOW) -> torch.Tensor:
    """int16 CDFs (N, window + 2) over [window values..., escape] for N subpixels.

    Inputs (N, K) in pixel units: mixture weights, centres (x_l + mu) and 1 / scales; start (N,)
    from window_start.  Mass below 0 and above 255 is folded into the edge values 0 and 255; the
    escape symbol carries the mass outside the window; every symbol keeps >= 1 count.
    """
    n = weights.shape[0]
    free = (1 << PRECISION) - (window + 1)
    offsets = torch.arange(window + 1, dtype=torch.float32) - 0.5
    out = torch.empty(n, window + 2, dtype=torch.int32)
    for a in range(0, n, _BLOCK):
        b = min(a + _BLOCK, n)
        u = start[a:b].unsqueeze(1) + offsets                                  # (m, W+1)
        u[:, 0].masked_fill_(u[:, 0] < 0, -math.inf)        # fold the tail below 0 into x = 0
        u[:, -1].masked_fill_(u[:, -1] > 255, math.inf)     # ... and the tail above 255 into 255
        t = u.unsqueeze(1) - centres[a:b].unsqueeze(2)                          # (m, K, W+1)
        t.mul_(inv_scales[a:b].unsqueeze(2)).sigmoid_()
        t.mul_(weights[a:b].unsqueeze(2))
        cdf = t.sum(dim=1)                                                      # (m, W+1)
        cdf = (cdf - cdf[:, :1]).clamp_(0, 1)
        out[a:b, :window + 1] = torch.round(cdf * free).to(torch.int32)
    out[:, :window + 1] += torch.arange(window + 1, dtype=torch.int32)
    out[:, window + 1] = 0  # torchac ignores the last entry (it is 2^16)
    return (out - (out >= 1 << 15).to(torch.int32) * (1 << 16)).to(torch.int16)


def _uniform_cdf(n: int, window: int = WINDOW) -> torch.Tensor:
    """int16 CDFs (n, 257 - window) of the uniform law over the 256 - window values outside."""
    outside = 256 - window
    edges = torch.round(torch.arange(outside + 1, dtype=torch.float64) * (1 << 16) / outside)
    edges = edges.to(torch.int32)
    edges[-1] = 0
    edges = edges - (edges >= 1 << 15).to(torch.int32) * (1 << 16)
    return edges.to(torch.int16).expand(n, -1).contiguous()


def _to_symbols(x: torch.Tensor, start: torch.Tensor, window: int = WINDOW):
    """Window symbols (escape = window) and, for escapes, the index among the values outside."""
    off = x - start
    inside = (off >= 0) & (off < window)
    sym = torch.where(inside, off, torch.full_like(off, window)).to(torch.int16)
    outside = torch.where(x < start, x, x - window)[~inside].to(torch.int16)
    return sym, outside


def _from_symbols(sym: torch.Tensor, outside: torch.Tensor, start: torch.Tensor,
                  window: int = WINDOW) -> torch.Tensor:
    x = start + sym.to(torch.float32)
    esc = sym == window
    o = outside.to(torch.float32)
    s = start[esc]
    x[esc] = torch.where(o < s, o, o + window)
    return x


def _channel_params(mix: Mixture, c: int, x_l: torch.Tensor, residual: torch.Tensor):
    """Flattened (N, K) weights, centres and inverse scales of channel c (batch of one)."""
    logits, mu, log_s = mix.channel(c, residual)
    flat = lambda t: t[0].reshape(t.shape[1], -1).T.contiguous()  # noqa: E731
    weights = torch.softmax(logits, dim=1)
    return flat(weights), flat(mu + x_l[:, c:c + 1]), flat(torch.exp(-log_s))


def encode(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor, window: int = WINDOW) -> list[bytes]:
    """x, x_l: (1, 3, H, W) float 0..255 -> 6 byte strings: for R, G, B the window symbols
    and the escaped values."""
    torchac = _torchac()
    residual = x - x_l
    out = []
    for c in range(3):
        weights, centres, inv_s = _channel_params(mix, c, x_l, residual)
        start = window_start(weights, centres, window)
        sym, outside = _to_symbols(x[0, c].reshape(-1), start, window)
        cdf = quantized_cdf(weights, centres, inv_s, start, window)
        out.append(torchac.encode_int16_normalized_cdf(cdf, sym))
        out.append(torchac.encode_int16_normalized_cdf(_uniform_cdf(len(outside), window), outside)
                   if len(outside) else b"")
    return out


def decode(mix: Mixture, x_l: torch.Tensor, streams: list[bytes], window: int = WINDOW) -> torch.Tensor:
    """Inverse of encode: decode R, then G given r_R, then B given r_R and r_G."""
    torchac = _torchac()
    if len(streams) != 6:
        raise ValueError("expected 6 residual streams")
    _, _, h, w = x_l.shape
    x = torch.zeros_like(x_l)
    residual = torch.zeros_like(x_l)
    for c in range(3):
        weights, centres, inv_s = _channel_params(mix, c, x_l, residual)
        start = window_start(weights, centres, window)
        sym = torchac.decode_int16_normalized_cdf(quantized_cdf(weights, centres, inv_s, start, window),
                                                  streams[2 * c])
        n_esc = int((sym == window).sum())
        outside = (torchac.decode_int16_normalized_cdf(_uniform_cdf(n_esc, window), streams[2 * c + 1])
                   if n_esc else torch.zeros(0, dtype=torch.int16))
        x[0, c] = _from_symbols(sym, outside, start, window).view(h, w)
        residual[0, c] = x[0, c] - x_l[0, c]
    return x


def cdf_bits(cdf: torch.Tensor, symbols: torch.Tensor) -> float:
    """Ideal code length (bits) of symbols under int16 CDFs, for checking the coder's overhead."""
    full = cdf.to(torch.int64) % (1 << 16)
    full[:, -1] = 1 << 16
    s = symbols.long().unsqueeze(1)
    p = (full.gather(1, s + 1) - full.gather(1, s)).double() / (1 << 16)
    return float(-torch.log2(p).sum())
