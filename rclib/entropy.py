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
PyTorch build, and `import rclib` pins the SIMD path of every x86-64 CPU to AVX2 (numerics.py).
Other PyTorch versions, other architectures or a GPU may compute different floats: decoding then
fails loudly on the pixel checksum, it never returns wrong pixels.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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
    logits, mu, log_s = mix.channel(c, residual, x_l)
    flat = lambda t: t[0].reshape(t.shape[1], -1).T.contiguous()  # noqa: E731
    weights = torch.softmax(logits, dim=1)
    return flat(weights), flat(mu + x_l[:, c:c + 1]), flat(torch.exp(-log_s))


# ----------------------------------------------------------------------------- per-image tables
# A channel may instead be coded with a table sent in the file: the picture's own frequencies of
# r = x - x_l (window values around 0, plus escape), given the earlier channels' residuals clipped
# to +-TABLE_CLIP.  BPG's residual carries a per-picture joint pattern across R, G, B (mostly from
# its YCbCr rounding) that the mixture's linear channel coupling cannot express; the encoder keeps
# the table for a channel only when it codes that channel in fewer bytes than the model.
TABLE_CLIP = 3
TABLE_CONTEXTS = (1, 2 * TABLE_CLIP + 1, (2 * TABLE_CLIP + 1) ** 2)  # rows of R's, G's and B's table
TABLE_TOTAL = 1 << 12     # each row's frequencies sum to this; every symbol >= 1


def table_context(residual: torch.Tensor, c: int) -> torch.Tensor:
    """Row index of every subpixel of channel c: its earlier channels' residuals, clipped."""
    clip = lambda t: (t.clamp(-TABLE_CLIP, TABLE_CLIP) + TABLE_CLIP).reshape(-1).long()  # noqa: E731
    if c == 0:
        return torch.zeros(residual[0, 0].numel(), dtype=torch.long)
    if c == 1:
        return clip(residual[0, 0])
    return clip(residual[0, 0]) * (2 * TABLE_CLIP + 1) + clip(residual[0, 1])


def _table_symbols(residual_c: torch.Tensor, window: int) -> torch.Tensor:
    """Window symbols of residuals: r + window/2 inside [-window/2, window/2), else escape (window)."""
    sym = residual_c.reshape(-1) + window // 2
    return torch.where((sym >= 0) & (sym < window), sym, torch.full_like(sym, window)).long()


def table_counts(x: torch.Tensor, x_l: torch.Tensor, window: int = WINDOW) -> list[np.ndarray]:
    """Counts (rows, window + 1) per channel of each symbol under its row, over the picture."""
    residual = x - x_l
    out = []
    for c in range(3):
        row = table_context(residual, c)
        sym = _table_symbols(residual[0, c], window)
        flat = np.bincount((row * (window + 1) + sym).numpy(), minlength=TABLE_CONTEXTS[c] * (window + 1))
        out.append(flat.reshape(TABLE_CONTEXTS[c], window + 1))
    return out


def quantize_table(counts: np.ndarray) -> np.ndarray:
    """Counts -> frequencies (uint16) summing to TABLE_TOTAL per row, every symbol >= 1 (an
    empty row becomes uniform).  Deterministic integer arithmetic: encoder and decoder agree."""
    counts = np.asarray(counts, dtype=np.int64)
    n_sym = counts.shape[1]
    free = TABLE_TOTAL - n_sym
    total = counts.sum(axis=1, keepdims=True)
    share = np.where(total > 0, counts * free // np.maximum(total, 1), free // n_sym)
    freqs = share + 1
    # Hand what rounding left over to each row's most frequent symbol.
    top = freqs.argmax(axis=1)
    freqs[np.arange(len(freqs)), top] += TABLE_TOTAL - freqs.sum(axis=1)
    return freqs.astype(np.uint16)


def table_cdf(freqs: np.ndarray) -> torch.Tensor:
    """int16 CDFs (rows, symbols + 1) in torchac's layout from frequencies summing to TABLE_TOTAL."""
    scale = (1 << PRECISION) // TABLE_TOTAL
    cum = np.zeros((freqs.shape[0], freqs.shape[1] + 1), dtype=np.int64)
    cum[:, 1:] = np.cumsum(freqs.astype(np.int64) * scale, axis=1)
    cum[:, -1] = 0
    cum = cum - (cum >= 1 << 15) * (1 << 16)
    return torch.from_numpy(cum.astype(np.int16))


def table_bits(freqs: np.ndarray, counts: np.ndarray) -> float:
    """Ideal bits of symbols with these counts under these frequencies (escapes' 8 bits included)."""
    p = freqs.astype(np.float64) / TABLE_TOTAL
    return float(-(counts * np.log2(p)).sum() + 8 * counts[:, -1].sum())


def _table_encode(cdf: torch.Tensor, c: int, x: torch.Tensor, residual: torch.Tensor, window: int):
    torchac = _torchac()
    sym = _table_symbols(residual[0, c], window)
    cdfs = cdf[table_context(residual, c)]
    esc = x[0, c].reshape(-1)[sym == window].to(torch.int16)
    return [torchac.encode_int16_normalized_cdf(cdfs, sym.to(torch.int16)),
            torchac.encode_int16_normalized_cdf(_uniform_cdf(len(esc), 0), esc) if len(esc) else b""]


def _table_decode(cdf: torch.Tensor, c: int, x_l: torch.Tensor, residual: torch.Tensor,
                  streams: list[bytes], window: int) -> torch.Tensor:
    torchac = _torchac()
    sym = torchac.decode_int16_normalized_cdf(cdf[table_context(residual, c)], streams[0]).long()
    esc = sym == window
    n_esc = int(esc.sum())
    x = x_l[0, c].reshape(-1) + (sym - window // 2).to(torch.float32)
    if n_esc:
        x[esc] = torchac.decode_int16_normalized_cdf(_uniform_cdf(n_esc, 0), streams[1]).to(torch.float32)
    return x


def encode_tables(cdfs: list[torch.Tensor], x: torch.Tensor, x_l: torch.Tensor, window: int = WINDOW) -> list[bytes]:
    """All three channels coded with per-image tables (no model): 6 byte strings like encode's."""
    residual = x - x_l
    return [s for c in range(3) for s in _table_encode(cdfs[c], c, x, residual, window)]


def encode(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor, window: int = WINDOW,
           blends: list | None = None) -> list[bytes]:
    """x, x_l: (1, 3, H, W) float 0..255 -> 6 byte strings: for R, G, B the window symbols
    and the escaped values.  blends: per channel None (the model) or a Blend; with blends, only
    the blended channels are coded (the others' strings are empty)."""
    torchac = _torchac()
    residual = x - x_l
    out = []
    for c in range(3):
        if blends is not None and blends[c] is None:
            out += [b"", b""]
            continue
        weights, centres, inv_s = _channel_params(mix, c, x_l, residual)
        start = window_start(weights, centres, window)
        sym, outside = _to_symbols(x[0, c].reshape(-1), start, window)
        cdf = (quantized_cdf(weights, centres, inv_s, start, window) if blends is None else
               blend_cdf(weights, centres, inv_s, start, x_l[0, c].reshape(-1), table_context(residual, c),
                         blends[c], window))
        out.append(torchac.encode_int16_normalized_cdf(cdf, sym))
        out.append(torchac.encode_int16_normalized_cdf(_uniform_cdf(len(outside), window), outside)
                   if len(outside) else b"")
    return out


def decode(mix: Mixture | None, x_l: torch.Tensor, streams: list[bytes], window: int = WINDOW,
           tables: list | None = None) -> torch.Tensor:
    """Inverse of encode: decode R, then G given r_R, then B given r_R and r_G.  tables: per
    channel None (the mixture's), the int16 CDF rows of a per-image table (encode_tables) or a
    Blend of the two."""
    torchac = _torchac()
    if len(streams) != 6:
        raise ValueError("expected 6 residual streams")
    _, _, h, w = x_l.shape
    x = torch.zeros_like(x_l)
    residual = torch.zeros_like(x_l)
    for c in range(3):
        blend = tables[c] if tables is not None and isinstance(tables[c], Blend) else None
        if tables is not None and tables[c] is not None and blend is None:
            x[0, c] = _table_decode(tables[c], c, x_l, residual, streams[2 * c:2 * c + 2], window).view(h, w)
            residual[0, c] = x[0, c] - x_l[0, c]
            continue
        weights, centres, inv_s = _channel_params(mix, c, x_l, residual)
        start = window_start(weights, centres, window)
        cdf = (quantized_cdf(weights, centres, inv_s, start, window) if blend is None else
               blend_cdf(weights, centres, inv_s, start, x_l[0, c].reshape(-1), table_context(residual, c),
                         blend, window))
        sym = torchac.decode_int16_normalized_cdf(cdf, streams[2 * c])
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


# ----------------------------------------------------------------------------- blends (format 5)
# A channel may also be coded with the model's mixture and the per-image table together, as a
# product of experts: p(v) ~ p_model(v)^a * p_table(v | row)^b over the model's window (and its
# escape).  The table knows the picture's own joint pattern across R, G and B, the model knows
# where in the picture the residual is large: on noisy photos the product beats both.  a and b
# are sixteenths fitted per picture and channel (BLEND_GRID).
BLEND_GRID = tuple((a, b) for a in (2, 4, 8, 12, 16, 20) for b in (4, 8, 12, 16, 20))
BLEND_SUBSAMPLE = 4   # the grid is scored on every 4th subpixel


@dataclass(frozen=True, eq=False)
class Blend:
    """How a channel is coded as a blend: the table's frequencies and the exponents a/16, b/16."""
    freqs: np.ndarray
    a: int
    b: int

    def probs(self) -> torch.Tensor:
        return torch.from_numpy(self.freqs.astype(np.float32) / TABLE_TOTAL)


def _blend_log_probs(weights, centres, inv_scales, start, x_l_c, rows, probs, window):
    """log2 of the model's and of the table's probabilities (m, window + 1) over the model's
    window values and its escape, for one block of subpixels."""
    offsets = torch.arange(window + 1, dtype=torch.float32) - 0.5
    u = start.unsqueeze(1) + offsets
    u[:, 0].masked_fill_(u[:, 0] < 0, -math.inf)
    u[:, -1].masked_fill_(u[:, -1] > 255, math.inf)
    t = ((u.unsqueeze(1) - centres.unsqueeze(2)) * inv_scales.unsqueeze(2)).sigmoid()
    cdf = (t * weights.unsqueeze(2)).sum(dim=1)                                # (m, W+1)
    p_model = torch.cat([cdf[:, 1:] - cdf[:, :-1], 1 - (cdf[:, -1:] - cdf[:, :1])], dim=1)
    sym = (start.unsqueeze(1) + torch.arange(window, dtype=torch.float32) - x_l_c.unsqueeze(1)
           + window // 2).long()                                               # table symbols
    inside = (sym >= 0) & (sym < window)
    row_p = probs[rows]                                                        # (m, W+1)
    p_in = row_p.gather(1, sym.clamp(0, window - 1))
    p_out = row_p[:, window:] / (256 - window)
    p_table = torch.where(inside, p_in, p_out)
    p_table = torch.cat([p_table, (1 - p_table.sum(dim=1, keepdim=True)).clamp(min=1.0 / TABLE_TOTAL)], dim=1)
    return torch.log2(p_model.clamp(min=1e-12)), torch.log2(p_table)


def _log2_prob_of(logit: torch.Tensor, sym: torch.Tensor) -> torch.Tensor:
    """log2 of the probability of symbol sym (m,) under 2 ** logit (m, W+1), normalized per row."""
    return logit.gather(1, sym.long().unsqueeze(1))[:, 0] - torch.logsumexp(logit * math.log(2), dim=1) / math.log(2)


def blend_cdf(weights, centres, inv_scales, start, x_l_c, rows, blend: Blend, window: int = WINDOW) -> torch.Tensor:
    """int16 CDFs (N, window + 2) of the blend, in quantized_cdf's layout (every symbol >= 1)."""
    n = weights.shape[0]
    free = (1 << PRECISION) - (window + 1)
    probs = blend.probs()
    out = torch.empty(n, window + 2, dtype=torch.int32)
    for lo in range(0, n, _BLOCK):
        hi = min(lo + _BLOCK, n)
        lm, lt = _blend_log_probs(weights[lo:hi], centres[lo:hi], inv_scales[lo:hi], start[lo:hi],
                                  x_l_c[lo:hi], rows[lo:hi], probs, window)
        p = torch.softmax((blend.a * lm + blend.b * lt) * (math.log(2) / 16), dim=1)
        cdf = torch.zeros(hi - lo, window + 1)
        cdf[:, 1:] = torch.cumsum(p[:, :window], dim=1)
        out[lo:hi, :window + 1] = torch.round(cdf.clamp_(0, 1) * free).to(torch.int32)
    out[:, :window + 1] += torch.arange(window + 1, dtype=torch.int32)
    out[:, window + 1] = 0
    return (out - (out >= 1 << 15).to(torch.int32) * (1 << 16)).to(torch.int16)


def blend_grid_bits(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor, freqs: list, window: int = WINDOW) -> np.ndarray:
    """Ideal bits (3, len(BLEND_GRID)) of each channel coded as a blend with each grid point
    on every BLEND_SUBSAMPLE-th subpixel (escapes' uniform part left out, the same for all): what
    the encoder fits a and b on."""
    residual = x - x_l
    out = np.zeros((3, len(BLEND_GRID)))
    grid = torch.tensor(BLEND_GRID, dtype=torch.float32) / 16                  # (G, 2)
    pick = slice(None, None, BLEND_SUBSAMPLE)
    for c in range(3):
        weights, centres, inv_s = (t[pick] for t in _channel_params(mix, c, x_l, residual))
        start = window_start(weights, centres, window)
        sym, _ = _to_symbols(x[0, c].reshape(-1)[pick], start, window)
        rows = table_context(residual, c)[pick]
        probs = Blend(freqs[c], 0, 0).probs()
        x_l_c = x_l[0, c].reshape(-1)[pick]
        for lo in range(0, len(start), 8 * _BLOCK):
            hi = min(lo + 8 * _BLOCK, len(start))
            lm, lt = _blend_log_probs(weights[lo:hi], centres[lo:hi], inv_s[lo:hi], start[lo:hi],
                                      x_l_c[lo:hi], rows[lo:hi], probs, window)
            for g, (a, b) in enumerate(grid.tolist()):
                out[c, g] -= float(_log2_prob_of(a * lm + b * lt, sym[lo:hi]).sum(dtype=torch.float64))
    return out


def blend_bit_map(mix: Mixture, x: torch.Tensor, x_l: torch.Tensor, blends: list, model_bits: torch.Tensor,
                  window: int = WINDOW) -> torch.Tensor:
    """model_bits (1, 3, H, W) with the channels coded as blends replaced by their ideal bits
    (escapes included)."""
    residual = x - x_l
    _, _, h, w = x.shape
    out = model_bits.clone()
    for c, blend in enumerate(blends):
        if not isinstance(blend, Blend):
            continue
        weights, centres, inv_s = _channel_params(mix, c, x_l, residual)
        start = window_start(weights, centres, window)
        sym, _ = _to_symbols(x[0, c].reshape(-1), start, window)
        lm, lt = _blend_log_probs(weights, centres, inv_s, start, x_l[0, c].reshape(-1),
                                  table_context(residual, c), blend.probs(), window)
        bits = -_log2_prob_of((blend.a * lm + blend.b * lt) / 16, sym) + (sym == window).float() * math.log2(256 - window)
        out[0, c] = bits.view(h, w)
    return out
