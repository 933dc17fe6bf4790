"""The `.rc` file: a genuine BPG file plus the residual coded under the model, and its checks.

Layout (all integers big-endian; documented byte by byte in README.md):

    0   4  magic  89 52 43 0A  ("\\x89RC\\n")
    4   1  format version (9 for a file whose decoding runs a network, 10 for RC+ of more than one
           level; for one coded from tables
           alone 4, or 6 in JPEG colour, or 7 where its BPG file is in BPG's RGB colour space;
           versions 1 (no model-kind byte), 2 (no tables), 3 (tau for RC only), 5 (blends),
           7 with a network (no float path) and 8 (RC's transposed convolution) still decode)
    5   1  flags: bit 0 = the source was grayscale (R = G = B; decoded back to one channel),
                  bit 1 = a per-image temperature tau follows the fixed header,
                  bit 2 = per-image residual tables follow (version 3),
                  bit 3 = blends follow the tables (version 5),
                  bit 4 = JPEG colour (version 6): the picture is libjpeg's conversion of
                          integer YCbCr (colour.jpeg_ycc_of), and the residual coded is that
                          YCbCr minus BPG's decoded YCbCr, every pass and channel from its
                          table (no tau, no blends); from version 8 some channels may come
                          from the kind's weights for JPEG colour instead
    6   4  width
   10   4  height
   14   1  BPG quantizer Q
   15   1  residual window (symbols evaluated per subpixel)
   16   2  strip height (rows coded per independent strip)
   18  32  SHA-256 identifier of the model weights
   50  32  SHA-256 of the original RGB pixels (row-major, 8-bit, R G B)
   82   4  length of the BPG file
   86   4  number N of residual streams (6 per strip and pass: R, G, B window symbols and escapes;
           passes: RC 1, RC+ 4, RC+ of L levels 3L + 1 in the order of model_plus.plan(L))
   90   1  model kind: 0 = RC (one pass), 1 = RC+ (four passes over the 2x2 subimages); version >= 2
   91   6  version >= 8: the encoder's float path, numerics_fingerprint(version) as 6 bytes
   97   1  version 10: RC+'s levels L, 2..4 (the table and blend masks below then take 8 bytes)
    . 60P  only with flag bit 1: tau, P x 3 x 5 float32 (pass, channel, component), multiplying
           the scales; P = the file's passes (1 for RC, 4 for RC+, 3L + 1 for RC+ of L levels;
           before version 4, RC only)
    .   2  only with flag bit 2: which (pass, channel) use a table: bit 3 * pass + c (c: R G B;
           RC has one pass, RC+ four), nonzero
    .   4  only with flag bit 2: length L of the tables (at most 65536)
    .   L  only with flag bit 2: zlib of the tables' frequencies, uint16 big-endian, for each
           channel some pass uses, in R G B order, its rows (1 for R, 7 for G, 49 for B) of
           window + 1 values, each row summing to 4096 with every value >= 1 (entropy.TABLE_*)
           (with flag bit 3 the mask may be 0: the tables are then those of the blended channels)
    .   2  only with flag bit 3: which (pass, channel) use a blend of the model and the channel's
           table (entropy.Blend), bit 3 * pass + c, nonzero and apart from the table mask
    .   6  only with flag bit 3: per channel R G B the blend's exponents a and b, in sixteenths
    . 4*N  length of each residual stream
    .   4  CRC-32 of every byte above
    .      the BPG file, then the N residual streams, back to back; nothing after them

x_l is the BPG file decoded to RGB: from YCbCr (BT.601, the paper's) or, from version 7, from
BPG's RGB colour space, whose planes are G, B, R as they are (never with JPEG colour).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from . import bpg, colour, entropy, model as model_lib, numerics
from .errors import FormatError, InputError, RclibError
from .limits import check_pixels
from .mixture import Mixture
from .model_plus import MAX_LEVELS, pad_even, plan

MAGIC = b"\x89RC\n"
FLAG_GRAY, FLAG_TAU, FLAG_TABLES, FLAG_BLEND, FLAG_JPEG = 1, 2, 4, 8, 16
_TAU = struct.Struct(">15f")
_BLEND = struct.Struct(">H6B")
_TABLE_HEAD = struct.Struct(">HI")   # the table section's mask and length
# version 10: 64-bit masks, a bit per (pass, channel) of up to 13 passes
_TABLE_HEAD_WIDE, _BLEND_WIDE = struct.Struct(">QI"), struct.Struct(">Q6B")
VERSION = 4           # written unless the file has blends
BLEND_VERSION = 5     # the first version with blends; older rclib reads every file without them
JPEG_VERSION = 6      # the first version with JPEG colour (written only for such files)
RGB_VERSION = 7       # the first version whose BPG part may be in RGB (written only for such files)
FLOAT_VERSION = 8     # the first version naming the encoder's float path
# Every file that runs a network: RC's network upsamples by a sub-pixel convolution, whose floats
# do not depend on the CPU's caches (ResidualModel.transposed_up), and the float path is named by
# the fingerprint of that computation (numerics_fingerprint).
NETWORK_VERSION = 9
LEVELS_VERSION = 10   # the first version with RC+ levels above 1 (written only for such files)
VERSIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
FINGERPRINT_BYTES = 6
_TABLES_MAX = 1 << 16
_FIXED = struct.Struct(">4sBBIIBBH32s32sII")
KINDS = ("rc", "rc+")   # the model-kind byte of version 2 indexes this
PASSES = {"rc": 1, "rc+": 4}  # at one level (RC+ with more: passes_of)
STRIP_PIXELS = 1 << 19   # pixels per strip (bounds memory; strips are coded independently)
DEFAULT_Q = 12


class ModelMismatch(RclibError):
    """The file was coded with other weights than the ones given for decoding."""


@dataclass
class Header:
    width: int
    height: int
    q: int
    window: int
    strip_rows: int
    weights_id: bytes
    pixels_sha256: bytes
    bpg_length: int
    stream_lengths: list[int]
    flags: int = 0
    tau: np.ndarray | None = None  # float32 (passes, 3, K) or None
    kind: str = "rc"
    version: int = VERSION
    tables: list | None = None  # per channel None or uint16 frequencies (rows, window + 1)
    table_mask: int = 0         # bit 3 * pass + c: that pass codes channel c with tables[c]
    blend_mask: int = 0         # bit 3 * pass + c: that pass codes channel c with a blend
    blend_ab: tuple = ((0, 0),) * 3  # per channel the blend's exponents (sixteenths)
    numerics: bytes = b""       # version >= 8: the encoder's numerics_fingerprint() (6 bytes)
    levels: int = 1             # RC+'s levels (model_plus.plan); above 1 only in version 10

    @property
    def passes(self) -> int:
        return passes_of(self.kind, self.levels)


def passes_of(kind: str, levels: int = 1) -> int:
    """Coded passes of a kind: RC one, RC+ four at one level and three more for each level above."""
    return 1 if kind == "rc" else 3 * levels + 1


def _mask_structs(levels: int) -> tuple[struct.Struct, struct.Struct]:
    """The table section's (mask, length) and the blend section's struct: 16-bit masks at one
    level, 64-bit ones in version 10 (a bit per pass and channel)."""
    return (_TABLE_HEAD, _BLEND) if levels == 1 else (_TABLE_HEAD_WIDE, _BLEND_WIDE)


def strip_rows(width: int, height: int) -> int:
    """Rows per strip: a multiple of 32, at most 256 and about STRIP_PIXELS per strip, with the
    strips as even as the multiple allows (so coding threads finish together)."""
    most = int(min(256, max(32, (STRIP_PIXELS // max(width, 1)) // 32 * 32)))
    count = _ceil_div(height, most)
    return _ceil_div(_ceil_div(height, count), 32) * 32


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _strips(height: int, rows: int):
    return [(y, min(y + rows, height)) for y in range(0, height, rows)]


def strip_spans(width: int, height: int) -> list[tuple[int, int]]:
    """The (y0, y1) row spans compress() codes a width x height picture in."""
    return _strips(height, strip_rows(width, height))


def pack_header(h: Header) -> bytes:
    has_tables = (h.table_mask | h.blend_mask) != 0
    flags = (h.flags | (FLAG_TAU if h.tau is not None else 0) | (FLAG_TABLES if has_tables else 0)
             | (FLAG_BLEND if h.blend_mask else 0))
    body = _FIXED.pack(MAGIC, h.version, flags, h.width, h.height, h.q, h.window, h.strip_rows,
                       h.weights_id, h.pixels_sha256, h.bpg_length, len(h.stream_lengths))
    if h.version >= 2:
        body += bytes([KINDS.index(h.kind)])
    if h.version >= FLOAT_VERSION:
        assert len(h.numerics) == FINGERPRINT_BYTES, "a version-8 header names the encoder's float path"
        body += h.numerics
    assert (h.version >= LEVELS_VERSION) == (h.levels > 1), "version 10 is for RC+ files with levels above 1"
    if h.version >= LEVELS_VERSION:
        body += bytes([h.levels])
    table_head, blend = _mask_structs(h.levels)
    if h.tau is not None:
        per_pass = np.asarray(h.tau, dtype=np.float32).reshape(-1, 15)  # (passes, 3 x K)
        body += b"".join(_TAU.pack(*row.tolist()) for row in per_pass)
    if has_tables:
        blob = pack_tables(h.tables)
        body += table_head.pack(h.table_mask, len(blob)) + blob
    if h.blend_mask:
        body += blend.pack(h.blend_mask, *(v for ab in h.blend_ab for v in ab))
    body += struct.pack(f">{len(h.stream_lengths)}I", *h.stream_lengths)
    return body + struct.pack(">I", zlib.crc32(body))


def unpack_header(data: bytes) -> tuple[Header, int]:
    """Parse and check the header; return it and the offset of the BPG part."""
    if len(data) < 4 or data[:4] != MAGIC:
        raise FormatError("not an .rc file (bad magic)")
    if len(data) < 5:
        raise FormatError("truncated .rc file")
    version = data[4]
    if version not in VERSIONS:
        raise FormatError(f".rc format version {version} is not supported by this rclib "
                          f"(it reads versions {', '.join(map(str, VERSIONS))}; upgrade rclib for newer files)")
    kind_size = 1 if version >= 2 else 0
    tau_start = kind_end(version)
    if len(data) < tau_start:
        raise FormatError("truncated .rc file (header)")
    (_, _, flags, w, h, q, window, rows, wid, pix, bpg_len, n) = _FIXED.unpack_from(data)
    kind_byte = data[_FIXED.size] if kind_size else 0
    levels = data[tau_start - 1] if version >= LEVELS_VERSION else 1
    fingerprint = data[_FIXED.size + kind_size:tau_start - (levels > 1)]
    if not 1 <= levels <= MAX_LEVELS or version >= LEVELS_VERSION and (levels == 1 or kind_byte != KINDS.index("rc+")):
        raise FormatError("corrupt .rc file (RC+ levels)")
    tau_passes = passes_of(KINDS[kind_byte], levels) if version >= 4 and kind_byte < len(KINDS) else 1
    table = tau_start + (tau_passes * _TAU.size if flags & FLAG_TAU else 0)
    table_head, blend = _mask_structs(levels)
    mask, blob = 0, b""
    if flags & FLAG_TABLES and version >= 3:
        if len(data) < table + table_head.size:
            raise FormatError("truncated .rc file (tables)")
        mask, size = table_head.unpack_from(data, table)
        table += table_head.size
        if size > _TABLES_MAX or len(data) < table + size:
            raise FormatError("truncated or corrupt .rc file (tables)")
        blob = data[table:table + size]
        table += size
    bmask, blend_ab = 0, ((0, 0),) * 3
    if flags & FLAG_BLEND and version >= BLEND_VERSION:
        if len(data) < table + blend.size:
            raise FormatError("truncated .rc file (blends)")
        bmask, *ab = blend.unpack_from(data, table)
        blend_ab = tuple(zip(ab[::2], ab[1::2]))
        table += blend.size
    end = table + 4 * n
    if n > 6 * passes_of("rc+", MAX_LEVELS) * 65536 or len(data) < end + 4:
        raise FormatError("truncated or corrupt .rc file (stream table)")
    (crc,) = struct.unpack_from(">I", data, end)
    if zlib.crc32(data[:end]) != crc:
        raise FormatError("corrupt .rc file (header checksum mismatch)")
    known = (FLAG_GRAY | FLAG_TAU | (FLAG_TABLES if version >= 3 else 0)
             | (FLAG_BLEND if version >= BLEND_VERSION else 0) | (FLAG_JPEG if version >= JPEG_VERSION else 0))
    if flags & ~known or w == 0 or h == 0 or rows == 0 or kind_byte >= len(KINDS):
        raise FormatError("corrupt .rc file (invalid header fields)")
    kind = KINDS[kind_byte]
    if q > 51:
        raise FormatError("corrupt .rc file (BPG quantizer out of range)")
    check_pixels(w, h, ".rc file")
    if kind == "rc+" and rows % (2 << (levels - 1)):
        raise FormatError("corrupt .rc file (RC+ strips must have a height divisible by 2 ** levels)")
    if kind == "rc+" and flags & FLAG_TAU and version < 4:
        raise FormatError("corrupt .rc file (tau in an RC+ file before format version 4)")
    passes = passes_of(kind, levels)
    if n != 6 * passes * _ceil_div(h, rows):  # arithmetic: nothing is allocated per strip
        raise FormatError("corrupt .rc file (stream count does not match the picture size)")
    tau = None
    if flags & FLAG_TAU:
        tau = np.array([_TAU.unpack_from(data, tau_start + i * _TAU.size) for i in range(tau_passes)], np.float32)
        tau = tau.reshape(tau_passes, 3, -1)
        if not (np.isfinite(tau).all() and (tau > 0).all()):
            raise FormatError("corrupt .rc file (invalid tau)")
    full = 1 << 3 * passes
    if flags & FLAG_TABLES and not (0 < mask < full or flags & FLAG_BLEND and mask == 0):
        raise FormatError("corrupt .rc file (table mask)")
    if flags & FLAG_BLEND and (not flags & FLAG_TABLES or not 0 < bmask < full or bmask & mask
                               or any(not 0 < a + b <= 64 for a, b in blend_ab)):
        raise FormatError("corrupt .rc file (blends)")
    if flags & FLAG_JPEG and (flags & FLAG_BLEND or version < FLOAT_VERSION
                              and (flags & FLAG_TAU or not flags & FLAG_TABLES or mask != full - 1)):
        raise FormatError("corrupt .rc file (JPEG colour never has blends, and before version 8 "
                          "needs tables for every pass and channel and has no tau)")
    if version >= FLOAT_VERSION and flags & FLAG_TABLES and mask == full - 1:
        raise FormatError("corrupt .rc file (a file of version 8 or later runs a network for some channel)")
    tables = unpack_tables(_channels_of(mask | bmask), blob, window) if flags & FLAG_TABLES else None
    lengths = list(struct.unpack_from(f">{n}I", data, table))
    start = end + 4
    if start + bpg_len + sum(lengths) != len(data):
        raise FormatError("truncated or corrupt .rc file (length mismatch)")
    return Header(w, h, q, window, rows, wid, pix, bpg_len, lengths, flags & (FLAG_GRAY | FLAG_JPEG), tau,
                  kind, version, tables, mask, bmask, blend_ab, bytes(fingerprint), levels), start


def runs_network(header: Header) -> bool:
    """Whether decoding the file runs a network: some pass and channel is not coded from a table."""
    return header.table_mask != (1 << 3 * header.passes) - 1


def kind_end(version: int) -> int:
    """Offset of what follows the fixed header, the kind byte, the float path and the levels
    (tau, tables...)."""
    return (_FIXED.size + (1 if version >= 2 else 0) + (FINGERPRINT_BYTES if version >= FLOAT_VERSION else 0)
            + (1 if version >= LEVELS_VERSION else 0))


def _channels_of(mask: int) -> int:
    """Bit c set when some pass codes channel c with a table."""
    out = 0
    while mask:
        out, mask = out | mask & 7, mask >> 3
    return out


def pass_tables(header: Header, k: int) -> list | None:
    """Pass k's per-channel coders from a header: a table's CDFs, an entropy.Blend or None (the
    model); None when the pass uses neither tables nor blends."""
    if not (header.table_mask | header.blend_mask) >> 3 * k & 7:
        return None

    def coder(c):
        if header.table_mask >> (3 * k + c) & 1:
            return entropy.table_cdf(header.tables[c])
        if header.blend_mask >> (3 * k + c) & 1:
            return entropy.Blend(header.tables[c], *header.blend_ab[c])
        return None
    return [coder(c) for c in range(3)]


def tables_only(coders: list | None) -> bool:
    """Every channel of a pass from its table: no network needed."""
    return coders is not None and all(isinstance(t, torch.Tensor) for t in coders)


def pack_tables(tables: list) -> bytes:
    """The header's table bytes: zlib of the chosen channels' frequencies (uint16 big-endian)."""
    raw = b"".join(np.asarray(t, dtype=">u2").tobytes() for t in tables if t is not None)
    return zlib.compress(raw, 9)


def unpack_tables(mask: int, blob: bytes, window: int) -> list:
    """Inverse of pack_tables, checked: sizes known before inflating, rows summing to the total."""
    if not 0 < mask < 8:
        raise FormatError("corrupt .rc file (table mask)")
    shapes = [(entropy.TABLE_CONTEXTS[c], window + 1) if mask >> c & 1 else None for c in range(3)]
    size = sum(2 * a * b for a, b in filter(None, shapes))
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(blob, size + 1)
    except zlib.error:
        raise FormatError("corrupt .rc file (tables do not inflate)") from None
    if len(raw) != size or not inflate.eof or inflate.unused_data:
        raise FormatError("corrupt .rc file (tables have the wrong size)")
    tables, pos = [], 0
    for shape in shapes:
        if shape is None:
            tables.append(None)
            continue
        t = np.frombuffer(raw, dtype=">u2", count=shape[0] * shape[1], offset=pos).reshape(shape)
        pos += t.nbytes
        if (t == 0).any() or (t.sum(axis=1, dtype=np.int64) != entropy.TABLE_TOTAL).any():
            raise FormatError("corrupt .rc file (invalid table frequencies)")
        tables.append(t.astype(np.uint16))
    return tables


def pixels_sha256(rgb: np.ndarray) -> bytes:
    return hashlib.sha256(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()).digest()


# ----------------------------------------------------------------------------- model handling
_MODEL_CACHE: dict[str, model_lib.ResidualModel] = {}


DEFAULT_KIND = "rc+"  # the kind codec.compress codes with when given none (rclib.compress: qselect.DEFAULT_MODEL)


def default_model(kind: str = DEFAULT_KIND, space: str = "ycbcr", levels: int = 1):
    """The shipped weights of a model kind ("rc" or "rc+") for x_l from BPG in `space`: over BPG
    in RGB, the kind's copy fine-tuned on it (model_lib.DEFAULT_RGB_WEIGHTS), and in JPEG colour
    ("jpeg") its copy for that (jpeg_model), where one is shipped.  levels above 1 (RC+ over BPG
    in YCbCr): its weights with level networks (model_lib.DEFAULT_LEVELS_WEIGHTS), where shipped."""
    if kind not in KINDS:
        raise InputError(f"model kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if space == "jpeg" and (jpeg := jpeg_model(kind)) is not None:
        return jpeg
    if kind == "rc+" and space == "ycbcr" and levels > 1 and model_lib.DEFAULT_LEVELS_WEIGHTS.exists():
        return _cached_load(model_lib.DEFAULT_LEVELS_WEIGHTS)
    rgb_path = model_lib.DEFAULT_RGB_WEIGHTS[kind]
    if space == "rgb" and rgb_path.exists():
        return _cached_load(rgb_path)
    path = model_lib.DEFAULT_WEIGHTS if kind == "rc" else model_lib.DEFAULT_PLUS_WEIGHTS
    if not path.exists():
        raise RclibError(f"no {kind} model weights at {path}; train them with `rclib train` "
                         "or pass a model explicitly")
    return _cached_load(path)


def jpeg_model(kind: str):
    """The kind's shipped weights for JPEG colour (model_lib.DEFAULT_JPEG_WEIGHTS), or None where
    it has none: its files in JPEG colour come from per-image tables alone."""
    path = model_lib.DEFAULT_JPEG_WEIGHTS.get(kind)
    return _cached_load(path) if path is not None and path.exists() else None


def _cached_load(path):
    """Weights loaded once per process (default models and the zoo share the cache)."""
    if str(path) not in _MODEL_CACHE:
        _MODEL_CACHE[str(path)] = model_lib.load(path)
    return _MODEL_CACHE[str(path)]


def resolve_model(model=None, keep_device: bool = False, space: str = "ycbcr", levels: int = 1):
    """None (the default kind), a kind name ("rc", "rc+") or a model object -> a model in eval
    mode on the CPU, where the coder needs it (keep_device: a model object stays on its device).
    space and levels pick a kind's shipped weights (default_model)."""
    if model is None or isinstance(model, str):
        model = default_model(model or DEFAULT_KIND, space, levels)
    return model.eval() if keep_device else model.eval().cpu()


def model_for_file(weights_id: bytes) -> model_lib.ResidualModel:
    """The shipped weights a file names in its header, from the zoo (model_lib.zoo()), so files
    written with earlier shipped weights keep decoding after the default changes."""
    path = model_lib.zoo().get(weights_id.hex())
    if path is None:
        raise ModelMismatch(f"file was coded with model weights {weights_id.hex()[:12]}…, which are "
                            "not among this rclib's weights (data/models); pass them with --model")
    return _cached_load(path)


def _weights_id(model) -> bytes:
    cached = getattr(model, "_rc_weights_id", None)
    if cached is None:
        cached = bytes.fromhex(model_lib.weights_id(model))
        model._rc_weights_id = cached
    return cached


def _plus_strip(model, x_l: torch.Tensor, y0: int, y1: int, window: int, x: torch.Tensor | None = None,
                streams: list[bytes] | None = None, bits: bool = False, tables: list | None = None,
                tau: torch.Tensor | None = None, fit: bool = False, blends: list | None = None,
                grids: list | None = None, freqs: list | None = None, levels: int = 1):
    """Rows y0..y1 (y0 a multiple of 2**levels) with an RC+ model, pass by pass (model_plus.plan),
    each pass seeing x_l (with the model's margin at its level) and the residuals of the earlier
    passes inside this strip only.

    With x: encode (6 streams per pass; with blends, per pass a list of per-channel Blend or None,
    only the blended channels; with grids (a list) and freqs, each pass's entropy.blend_grid_bits
    is appended to grids), with bits=True the ideal bits (1, 3, rows, W) (blended channels' as
    blends), or with fit=True each pass's subsample for fitting tau; with streams: decode,
    returning x's rows (tables: per pass, what pass_tables gives).  tau (passes, 3, K): each
    pass's temperature.  One function, so all passes see the same floats.
    """
    from . import tau as tau_lib

    width = x_l.shape[3]
    m = model.margin << (levels - 1)  # the deepest level's margin, in full-resolution rows
    ya, yb = max(y0 - m, 0), min(y1 + m, x_l.shape[2])
    xl = pad_even(x_l[:, :, ya:yb])
    residual = torch.zeros_like(xl)
    rows_out = torch.zeros(1, 3, y1 - y0, width, device=xl.device)
    out_streams = []
    for i, p in enumerate(plan(levels)):
        s = p.stride
        n_rows, n_cols = len(range(y0 + p.oy, y1, s)), len(range(p.ox, width, s))
        if n_rows == 0 or n_cols == 0:
            out_streams += [None] if fit else [b""] * 6
            if grids is not None:
                grids.append(np.zeros((3, len(entropy.BLEND_GRID))))
            continue
        mine = None if tables is None else tables[i]
        blend_k = None if blends is None else blends[i]
        if tables_only(mine) or (blends is not None and not bits and not any(blend_k)):
            mix = None  # every channel of this pass from its table: no network needed
        else:
            net = model.at_level(p.level)
            with torch.no_grad():
                params = _level_params(net, p, xl, residual, ya, y0, y1, x_l.shape[2])[:, :, :n_rows, :n_cols]
            mix = _frozen(net.pass_mixture(p.k, params.contiguous())).with_tau(None if tau is None else tau[i])
        x_l_k = x_l[:, :, y0 + p.oy:y1:s, p.ox::s]
        if streams is not None:
            x_k = entropy.decode(mix, x_l_k, streams[6 * i:6 * i + 6], window, mine)
        else:
            x_k = x[:, :, y0 + p.oy:y1:s, p.ox::s]
            if fit:
                out_streams.append(tau_lib.subsample(mix, x_k, x_l_k))
            elif bits:
                from .mixture import bit_map

                with torch.no_grad():
                    b = bit_map(mix, x_k, x_l_k)
                    if blend_k is not None:
                        b = entropy.blend_bit_map(mix, x_k, x_l_k, blend_k, b, window)
                    rows_out[:, :, p.oy::s, p.ox::s] = b
            elif blends is not None:
                out_streams += entropy.encode(mix, x_k, x_l_k, window, blend_k) if mix is not None else [b""] * 6
            else:
                out_streams += entropy.encode(mix, x_k, x_l_k, window)
                if grids is not None:
                    grids.append(entropy.blend_grid_bits(mix, x_k, x_l_k, freqs, window))
        y = y0 - ya + p.oy
        residual[:, :, y:y + s * n_rows:s, p.ox:p.ox + s * n_cols:s] = x_k - x_l_k
        if streams is not None:
            rows_out[:, :, p.oy::s, p.ox::s] = x_k
    return rows_out if (bits or streams is not None) else out_streams


def _level_params(model, p, xl: torch.Tensor, residual: torch.Tensor, ya: int, y0: int, y1: int,
                  height: int) -> torch.Tensor:
    """Pass p's raw mixture parameters from the strip's window (x_l and the residual so far, full
    resolution, rows from ya; the picture has `height` rows), at p's level: the rows within the
    level's margin of y0..y1, subsampled by 2**level; the result's rows from y0's on.  Residuals
    count as known on the rows of y0..y1."""
    step = p.stride // 2
    m = model.margin * step  # this level's margin (the window holds the deepest level's)
    a = max(y0 - m, 0) - ya
    b = xl.shape[2] if y1 + m >= height else y1 + m - ya
    xl, residual, ya = xl[:, :, a:b], residual[:, :, a:b], ya + a
    if step > 1:
        xl = pad_even(xl[:, :, ::step, ::step])
        residual = residual[:, :, ::step, ::step]
        pad = (0, residual.shape[3] % 2, 0, residual.shape[2] % 2)
        residual = torch.nn.functional.pad(residual, pad)  # zeros: no residual there
    rows = ya + p.stride * torch.arange(xl.shape[2] // 2, device=xl.device)
    known = ((rows >= y0) & (rows < y1)).to(xl.dtype).view(1, 1, -1, 1).expand(1, 1, -1, xl.shape[3] // 2)
    return model.pass_params(p.k, xl, residual, known.contiguous())[:, :, (y0 - ya) // p.stride:]


def _frozen(mix: Mixture) -> Mixture:
    """The mixture with its model's gates and lattice tables detached: coding builds no autograd
    graph (with it, decoding's peak memory grew by half)."""
    lattice = None if mix.lattice is None else tuple(t.detach() for t in mix.lattice)
    return dataclasses.replace(mix, gates=None if mix.gates is None else mix.gates.detach(), lattice=lattice)


def _strip_mixture(model, x_l: torch.Tensor, q: int, y0: int, y1: int) -> Mixture:
    """Mixture for rows y0..y1 of x_l (BPG at Q q), from those rows plus the model's margin."""
    m = model.margin
    ya, yb = max(y0 - m, 0), min(y1 + m, x_l.shape[2])
    with torch.no_grad():
        out = model(x_l[:, :, ya:yb], q)[:, :, y0 - ya:y1 - ya]
    return _frozen(model.mixture_of(out))


# ----------------------------------------------------------------------------- public API
def as_rgb(pixels) -> tuple[np.ndarray, int]:
    """The picture as checked uint8 (H, W, 3), and the header flags it needs (gray: R = G = B)."""
    pixels = np.asarray(pixels)
    if pixels.ndim == 2 and pixels.dtype == np.uint8:
        return bpg.check_rgb(np.repeat(pixels[..., None], 3, axis=2)), FLAG_GRAY
    return bpg.check_rgb(pixels), 0


def compress(rgb: np.ndarray, q: int = DEFAULT_Q, model=None, backend: str = "auto",
             tau: bool = False, bpg_file: bytes | None = None, tables: bool = True,
             blend: bool = False, jpeg: bool = True, ycc: np.ndarray | None = None,
             space: str = "ycbcr", plain: bytes | None = None, levels: int = 1) -> bytes:
    """Losslessly compress uint8 (H, W, 3) RGB or (H, W) grayscale at BPG quantizer q; returns
    .rc file bytes.  (Choosing q, "min" or "auto": rclib.compress / qselect.compress.)

    model: None or "rc" / "rc+" (the shipped weights of that kind for BPG's colour space) or a
    model object.
    tau: fit a per-image temperature of the scales at encode time (for RC+, one per pass;
    stored in the header), kept where the file comes out smaller with it.
    bpg_file: BPG's file at q when the caller has it already (a Q search made it), in either
    colour space.  space: BPG's colour space when bpg_file is None, "ycbcr" or "rgb" (bpg.encode).
    tables: code a channel (of a pass, for RC+) with a per-image table instead of the model where
    that is smaller (entropy.TABLE_*).
    blend: also try each channel as a blend of the model and its table (entropy.Blend, exponents
    fitted per picture and channel) and keep it where it is smaller (format version 5).
    jpeg: with tables, a picture decoded from a JPEG (colour.jpeg_ycc_of) is also coded in that
    JPEG's YCbCr (format version 6, flag bit 4), kept where that file is smaller; ycc: that
    YCbCr (colour.jpeg_ycc_of), when the caller has found it already.
    plain: with tau, the file this call makes without tau, when the caller has it already
    (qselect made it to choose a colour space or kind); it is not made again.
    levels: RC+ only: code pass 1's subimage with RC+'s four passes again, levels - 1 times
    (model_plus.plan; format version 10 above 1).
    """
    given, asked = rgb, model
    rgb, flags = as_rgb(rgb)
    named, model = model is None or isinstance(model, str), resolve_model(model, levels=levels)
    kind = model_lib.kind(model)
    if levels not in range(1, MAX_LEVELS + 1) or levels > 1 and kind != "rc+":
        raise InputError(f"levels must be 1..{MAX_LEVELS}, and above 1 only for RC+ (got {levels!r} for {kind})")
    h, w = rgb.shape[:2]
    if h >= 1 << 24 or w >= 1 << 24:
        raise InputError("picture too large")
    q = _check_q(q)
    if bpg_file is None:
        bpg_file = bpg.encode(rgb, q, backend=backend, space=space)
    in_rgb = bpg.colour_space(bpg_file) == "rgb"
    if in_rgb and named:  # a kind by name: its weights for BPG in RGB
        model = default_model(kind, "rgb")
    x_l = model_lib.to_tensor(bpg.decode(bpg_file))
    x = model_lib.to_tensor(rgb)
    rows = strip_rows(w, h)
    spans = _strips(h, rows)
    window = entropy.WINDOW
    fitted = _fit_tau(model, x, x_l, q, spans, levels) if tau else None
    # tau stays only where the file comes out smaller with it (the file without it made as asked:
    # a kind by name also tries its weights for JPEG colour)
    if fitted is None:
        if plain is not None:
            return plain
    elif plain is None:
        plain = compress(given, q, asked, backend, False, bpg_file, tables, blend, jpeg, ycc, levels=levels)
    t = None if fitted is None else torch.from_numpy(fitted)
    freqs = [entropy.quantize_table(n) for n in entropy.table_counts(x, x_l, window)] if tables else None
    blend = blend and tables

    def code(span, blends=None):
        """The strip's streams; with blend (first round) also its grid bits, with blends (second
        round) only the blended channels' streams."""
        y0, y1 = span
        if kind == "rc+":
            grids = [] if blend and blends is None else None
            out = _plus_strip(model, x_l, y0, y1, window, x=x, tau=t, grids=grids, freqs=freqs,
                              blends=None if blends is None else [blends] * passes_of(kind, levels), levels=levels)
            return out if grids is None else (out, grids)
        mix = _strip_mixture(model, x_l, q, y0, y1).with_tau(t)
        x_s, x_l_s = x[:, :, y0:y1], x_l[:, :, y0:y1]
        if blends is not None:
            return entropy.encode(mix, x_s, x_l_s, window, blends)
        out = entropy.encode(mix, x_s, x_l_s, window)
        return (out, [entropy.blend_grid_bits(mix, x_s, x_l_s, freqs, window)]) if blend else out

    per_strip = entropy.parallel_map(code, spans)
    by_blend, blend_ab = None, ((0, 0),) * 3
    if blend:
        grid = sum(g for _, grids in per_strip for g in grids)               # (3, grid points)
        per_strip = [streams for streams, _ in per_strip]
        blend_ab = tuple(entropy.BLEND_GRID[i] for i in grid.argmin(axis=1))
        blends = [entropy.Blend(freqs[c], *blend_ab[c]) for c in range(3)]
        by_blend = entropy.parallel_map(lambda span: code(span, blends), spans)
    chosen, mask, bmask = (_choose_tables(per_strip, freqs, x, x_l, spans, window, kind, by_blend, levels=levels)
                           if tables else (None, 0, 0))
    networked = mask != (1 << 3 * passes_of(kind, levels)) - 1
    if not networked:
        fitted = None  # tau scales the model's channels only; none is left
        if levels > 1:  # tables alone: the same bits at one level, in a file of the oldest version
            per_strip, mask, levels = _table_streams(freqs, x, x_l, spans, window, kind), (1 << 3 * PASSES[kind]) - 1, 1
            if named:  # naming the weights one level codes with, as a one-level call would
                model = default_model(kind, "rgb" if in_rgb else "ycbcr")
    streams = [s for strip in per_strip for s in strip]
    # a file that runs a network names the float path it ran on (version 9, or 10 with levels);
    # one from tables alone decodes anywhere and keeps the oldest version that holds it
    version = (LEVELS_VERSION if levels > 1 else NETWORK_VERSION if networked else RGB_VERSION if in_rgb
               else VERSION)
    header = Header(w, h, q, window, rows, _weights_id(model), pixels_sha256(rgb),
                    len(bpg_file), [len(s) for s in streams], flags, fitted, kind, version, chosen, mask, bmask,
                    blend_ab if bmask else ((0, 0),) * 3,
                    fingerprint_bytes() if version >= FLOAT_VERSION else b"", levels)
    out = pack_header(header) + bpg_file + b"".join(streams)
    if plain is not None:  # it has tried JPEG colour already
        return plain if len(plain) <= len(out) else out
    in_ycc = (_jpeg_colour_file(rgb, flags, q, model, bpg_file, rows, ycc, jpeg_model(kind) if named else None)
              if tables and jpeg and not in_rgb else None)
    return in_ycc if in_ycc is not None and len(in_ycc) < len(out) else out


def _jpeg_colour_file(rgb: np.ndarray, flags: int, q: int, model, bpg_file: bytes, rows: int,
                      ycc: np.ndarray | None = None, net=None) -> bytes | None:
    """The picture coded in JPEG colour (flag bit 4), or None when it is no decoded JPEG: the
    YCbCr that libjpeg turns into it, minus BPG's decoded YCbCr, every pass and channel from a
    per-image table (its G and B rows: Cb given e_Y, Cr given e_Y and e_Cb), or with `net` (the
    kind's weights for JPEG colour, jpeg_model, with a per-image tau) each channel from the shorter
    of the table and the network, which then names its weights (version 9).  ycc: the picture's YCbCr, if known."""
    ycc = colour.jpeg_ycc_of(rgb) if ycc is None else ycc
    if ycc is None:
        return None
    kind = model_lib.kind(model)
    x, x_l = jpeg_planes(ycc, bpg_file)
    window = entropy.WINDOW
    freqs = [entropy.quantize_table(n) for n in entropy.table_counts(x, x_l, window)]
    spans = _strips(rgb.shape[0], rows)
    full = (1 << 3 * PASSES[kind]) - 1

    def file(per_strip, chosen, mask, weights, tau=None) -> bytes:
        """The file of these streams: from tables alone (version 6), or running `weights` (9)."""
        networked = mask != full
        streams = [s for strip in per_strip for s in strip]
        header = Header(rgb.shape[1], rgb.shape[0], q, window, rows, _weights_id(weights), pixels_sha256(rgb),
                        len(bpg_file), [len(s) for s in streams], flags | FLAG_JPEG, tau, kind,
                        NETWORK_VERSION if networked else JPEG_VERSION, chosen, mask,
                        numerics=fingerprint_bytes() if networked else b"")
        return pack_header(header) + bpg_file + b"".join(streams)

    by_table = _table_streams(freqs, x, x_l, spans, window, kind)
    tables_only = file(by_table, freqs, full, model)
    if net is None:
        return tables_only
    # always with a fitted tau: it tells the network the picture's noise, as its table knows it
    fitted = _fit_tau(net, x, x_l, q, spans)
    t = None if fitted is None else torch.from_numpy(fitted)

    def code(span):
        y0, y1 = span
        if kind == "rc+":
            return _plus_strip(net, x_l, y0, y1, window, x=x, tau=t)
        mix = _strip_mixture(net, x_l, q, y0, y1).with_tau(t)
        return entropy.encode(mix, x[:, :, y0:y1], x_l[:, :, y0:y1], window)

    per_strip = entropy.parallel_map(code, spans)
    chosen, mask, _ = _choose_tables(per_strip, freqs, x, x_l, spans, window, kind, by_table=by_table)
    if mask == full:
        return tables_only
    # the network's channels must also pay for its tau and the float path's name
    out = file(per_strip, chosen, mask, net, fitted)
    return out if _keep_networked(out, tables_only) else tables_only


def _keep_networked(networked: bytes, tables_only: bytes) -> bool:
    """Whether JPEG colour keeps its file with the network's channels over the one from tables."""
    return len(networked) < len(tables_only)


def jpeg_planes(ycc: np.ndarray, bpg_file: bytes) -> tuple[torch.Tensor, torch.Tensor]:
    """JPEG colour's x and x_l, (1, 3, H, W) float: the picture's YCbCr (colour.jpeg_ycc_of) and
    BPG's decoded YCbCr."""
    return _ycc_plane(ycc), _ycc_plane(bpg.decode_ycbcr(bpg_file))


def _ycc_plane(ycc: np.ndarray) -> torch.Tensor:
    """(3, H, W) uint8 YCbCr -> (1, 3, H, W) float, as the coder works on it."""
    return torch.from_numpy(np.ascontiguousarray(ycc))[None].float()


def pass_grids(kind: str, levels: int = 1) -> list[tuple[int, int, int]]:
    """(row offset, column offset, stride) of the pixels each coded pass codes, in coding order."""
    return [(0, 0, 1)] if kind == "rc" else [(p.oy, p.ox, p.stride) for p in plan(levels)]


def _table_streams(freqs: list[np.ndarray], x, x_l, spans, window, kind, levels: int = 1) -> list[list[bytes]]:
    """Per strip, the streams of every pass (RC+: its subimage) with every channel from its table."""
    cdfs = [entropy.table_cdf(f) for f in freqs]

    def code(span):
        y0, y1 = span
        out = []
        for dy, dx, step in pass_grids(kind, levels):
            x_k, x_l_k = x[:, :, y0 + dy:y1:step, dx::step], x_l[:, :, y0 + dy:y1:step, dx::step]
            out += entropy.encode_tables(cdfs, x_k, x_l_k, window) if x_k.numel() else [b""] * 6
        return out

    return entropy.parallel_map(code, spans)


def _choose_tables(per_strip: list[list[bytes]], freqs: list[np.ndarray], x, x_l, spans, window, kind,
                   by_blend: list[list[bytes]] | None = None, by_table: list[list[bytes]] | None = None,
                   levels: int = 1):
    """Code every strip (and pass) with the per-image tables too; send a channel's table when it
    saves more than its own bytes, and then code each pass's channel with whichever of the model,
    the table (and the blend, whose streams by_blend holds) is shorter, replacing the model's
    streams in per_strip where another wins.  Returns the header's tables, table mask and blend
    mask ((None, 0, 0) when no table is worth sending).  by_table: the table streams, when the
    caller has coded them already."""
    by_table = _table_streams(freqs, x, x_l, spans, window, kind, levels) if by_table is None else by_table
    phases = range(passes_of(kind, levels))
    table_head, blend = _mask_structs(levels)
    sizes = lambda strips: np.array([[sum(len(s[6 * k + 2 * c]) + len(s[6 * k + 2 * c + 1]) for s in strips)  # noqa: E731
                                      for c in range(3)] for k in range(len(phases))])
    by_model, by_table_size = sizes(per_strip), sizes(by_table)
    side = [len(pack_tables([f])) for f in freqs]

    def option(by_blend_size):
        """(bytes saved net of the header section, tables, table mask, blend mask)."""
        mask, bmask, saved = coder_masks(by_model, by_table_size, side, by_blend_size)
        chosen = [f if _channels_of(mask | bmask) >> c & 1 else None for c, f in enumerate(freqs)]
        section = table_head.size + len(pack_tables(chosen)) + (blend.size if bmask else 0)
        return saved - section, chosen, mask, bmask

    options = [option(None)] + ([option(sizes(by_blend))] if by_blend is not None else [])
    net, chosen, mask, bmask = max(options, key=lambda o: o[0])  # ties: without blends
    if not (mask | bmask) or net <= 0:  # the whole section must pay for itself
        return None, 0, 0
    for k in range(len(phases)):
        for c in range(3):
            for bits, alts in ((mask, by_table), (bmask, by_blend)):
                if bits >> (3 * k + c) & 1:
                    j = 6 * k + 2 * c
                    for strip, alt in zip(per_strip, alts):
                        strip[j:j + 2] = alt[j:j + 2]
    return chosen, mask, bmask


def table_mask(by_model: np.ndarray, by_table: np.ndarray, side) -> tuple[int, float]:
    """The coder's choice of tables (without blends): coder_masks' table mask and saving."""
    mask, _, saved = coder_masks(by_model, by_table, side)
    return mask, saved


def coder_masks(by_model: np.ndarray, by_table: np.ndarray, side, by_blend: np.ndarray | None = None):
    """The coder's choice of tables and blends: a channel's table is sent when the passes it (or
    its blend) codes shorter than the model save more than its own size (side[c]), and then
    codes those passes, each with the shorter of the two.  by_model, by_table, by_blend: sizes
    (passes, 3), side: (3,), all in one unit (bytes, or ideal bits).  Returns the header's table
    mask and blend mask (bit 3 * pass + channel) and what the sent tables save."""
    alt = by_table if by_blend is None else np.minimum(by_table, by_blend)
    mask, bmask, saved_all = 0, 0, 0.0
    for c in range(3):
        wins = [k for k in range(len(by_model)) if alt[k, c] < by_model[k, c]]
        saved = sum(by_model[k, c] - alt[k, c] for k in wins)
        if wins and saved > side[c]:
            for k in wins:
                if by_blend is not None and by_blend[k, c] < by_table[k, c]:
                    bmask |= 1 << (3 * k + c)
                else:
                    mask |= 1 << (3 * k + c)
            saved_all += saved
    return mask, bmask, saved_all


def _check_q(q) -> int:
    if isinstance(q, str) and q.isdigit():
        q = int(q)
    if isinstance(q, str):
        raise InputError(f"q must be a quantizer 0..51 here, got {q!r} (rclib.compress chooses "
                         "'min' and 'auto')")
    return bpg.check_q(q)


def _fit_tau(model, x: torch.Tensor, x_l: torch.Tensor, q: int, spans, levels: int = 1) -> np.ndarray | None:
    """tau fitted on every 4th pixel of every strip (the coder's own parameters), (passes, 3, K):
    for RC+ each pass's own (ones where fitting did not help); None where none helped."""
    from . import tau

    if model_lib.kind(model) == "rc+":
        per_strip = entropy.parallel_map(
            lambda span: _plus_strip(model, x_l, span[0], span[1], entropy.WINDOW, x=x, fit=True, levels=levels),
            spans)
        parts = [[s[k] for s in per_strip if s[k] is not None] for k in range(passes_of("rc+", levels))]
        fitted = [tau.optimize(*tau.cat(mine)) if mine else None for mine in parts]
        if all(f is None for f in fitted):
            return None
        return np.stack([np.ones((3, tau.K), np.float32) if f is None else f for f in fitted])

    def sample(span):
        y0, y1 = span
        return tau.subsample(_strip_mixture(model, x_l, q, y0, y1), x[:, :, y0:y1], x_l[:, :, y0:y1])

    fitted = tau.optimize(*tau.cat(entropy.parallel_map(sample, spans)))
    return None if fitted is None else fitted[None]


def _space_or_ycbcr(bpg_file: bytes) -> str:
    """BPG's colour space, "ycbcr" where the part does not parse (decompress refuses it later)."""
    try:
        return bpg.colour_space(bpg_file)
    except FormatError:
        return "ycbcr"


class FloatPathError(FormatError):
    """Decoded pixels fail the checksum (a corrupt file, or one written on another float path)."""


def decompress(data: bytes, model=None) -> np.ndarray:
    """Inverse of compress; raises FormatError/ModelMismatch rather than returning wrong pixels.
    model: None (the weights the file names, from the zoo), a kind name (its shipped weights for
    the colour space of the file's BPG part) or a model object.

    A file that fails the checksum and was written on another float path than this process's (one
    from before the pin, on a machine whose native path is not the pinned one; one pinned to AVX2
    decoded under RCLIB_FLOAT_PATH=baseline) is decoded again in a child process on each other
    path this CPU runs (numerics.alternatives) before the checksum error is raised."""
    data = bytes(data)
    try:
        return _decompress(data, model)
    except FloatPathError as exc:
        header, _ = unpack_header(data)
        on_this_path = header.numerics and header.numerics == fingerprint_bytes(header.version)
        if on_this_path or not (model is None or isinstance(model, str)):
            raise  # written on this very path: corrupt; or a model object no child can rebuild
        for path in numerics.alternatives():
            pixels = _decompress_on(path, data, model)
            if pixels is not None:
                return pixels
        raise exc from None


def _decompress_on(path: str, data: bytes, model) -> np.ndarray | None:
    """decompress in a child process on float path `path` (numerics.PATHS); None where that fails
    too."""
    code = "import sys, rclib.codec as c; c._decode_stdin(sys.argv[1])"
    done = subprocess.run([sys.executable, "-c", code, model or ""], input=data, capture_output=True,
                          env=numerics.env_for(path))
    if done.returncode != 0:
        return None
    return np.load(io.BytesIO(done.stdout), allow_pickle=False)


def _decode_stdin(model: str) -> None:
    """The child of _decompress_on: .rc bytes on stdin, the pixels (.npy) on stdout."""
    buf = io.BytesIO()
    np.save(buf, _decompress(sys.stdin.buffer.read(), model or None), allow_pickle=False)
    sys.stdout.buffer.write(buf.getvalue())


def _decompress(data: bytes, model=None) -> np.ndarray:
    """decompress on this process's float path."""
    header, pos = unpack_header(data)
    if model is None:
        model = model_for_file(header.weights_id).eval().cpu()
    else:  # a kind by name: its weights for the file's colour (BPG's, or JPEG colour's network)
        model = resolve_model(model, space="jpeg" if header.flags & FLAG_JPEG and runs_network(header)
                              else _space_or_ycbcr(data[pos:pos + header.bpg_length]), levels=header.levels)
    if model_lib.kind(model) != header.kind:
        raise ModelMismatch(f"file was coded with an {header.kind} model, not {model_lib.kind(model)}")
    if header.weights_id != _weights_id(model):
        raise ModelMismatch(f"file was coded with model weights {header.weights_id.hex()[:12]}…, "
                            f"but the loaded weights are {_weights_id(model).hex()[:12]}…")
    if header.version < NETWORK_VERSION:
        model = model_lib.with_transposed_up(model)  # as the file's encoder ran it
    if header.window not in entropy.WINDOWS:
        raise FormatError(f"file uses a residual window of {header.window}; this rclib reads "
                          f"{' or '.join(map(str, entropy.WINDOWS))}")
    bpg_file = data[pos:pos + header.bpg_length]
    pos += header.bpg_length
    jpeg = bool(header.flags & FLAG_JPEG)  # then x and x_l are YCbCr, x the picture's JPEG colour
    try:
        in_rgb = bpg.colour_space(bpg_file) == "rgb"
        if in_rgb and (header.version < RGB_VERSION or jpeg):
            raise FormatError("its colour space is RGB, which this file's version or JPEG colour rules out")
        decoded = bpg.decode_ycbcr(bpg_file) if jpeg else bpg.decode(bpg_file)  # (3, H, W) or (H, W, 3)
    except FormatError as exc:
        raise FormatError(f"corrupt BPG part: {exc}") from None
    if (decoded.shape[1:] if jpeg else decoded.shape[:2]) != (header.height, header.width):
        raise FormatError("corrupt .rc file: BPG picture size differs from the header")
    x_l = _ycc_plane(decoded) if jpeg else model_lib.to_tensor(decoded)
    t = None if header.tau is None else torch.from_numpy(header.tau)
    tables = [pass_tables(header, k) for k in range(header.passes)]
    streams = []
    for n in header.stream_lengths:
        streams.append(data[pos:pos + n])
        pos += n
    spans = _strips(header.height, header.strip_rows)

    per_strip = 6 * header.passes

    def code(item):
        i, (y0, y1) = item
        mine = streams[per_strip * i:per_strip * (i + 1)]
        if header.kind == "rc+":
            return _plus_strip(model, x_l, y0, y1, header.window, streams=mine, tables=tables, tau=t,
                               levels=header.levels)
        if tables_only(tables[0]):
            mix = None  # every channel from its table: no forward pass needed
        else:
            mix = _strip_mixture(model, x_l, header.q, y0, y1).with_tau(t)
        return entropy.decode(mix, x_l[:, :, y0:y1], mine, header.window, tables[0])

    try:
        parts = entropy.parallel_map(code, enumerate(spans))
    except (RuntimeError, ValueError, IndexError) as exc:
        raise FormatError(f"corrupt residual data: {exc}") from None
    x = torch.cat(parts, dim=2)[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
    if jpeg:
        x = colour.jpeg_ycc_to_rgb(x.transpose(2, 0, 1))
    if pixels_sha256(x) != header.pixels_sha256:
        raise FloatPathError(_checksum_message(header))
    if header.flags & FLAG_GRAY:
        if not ((x[..., 0] == x[..., 1]).all() and (x[..., 0] == x[..., 2]).all()):
            raise FormatError("corrupt .rc file: marked grayscale, but its pixels are not R = G = B")
        return x[..., 0].copy()
    return x


def residual_bit_map(rgb: np.ndarray, x_l_rgb: np.ndarray, q: int, model=None, tau=None,
                     blends: list | None = None, levels: int = 1) -> np.ndarray:
    """The model's ideal cost of every subpixel of x given x_l (BPG at Q q), float (H, W, 3), in bits
    (blends: per pass, per channel an entropy.Blend or None: those channels' bits as the blend's;
    levels: RC+'s, model_plus.plan).

    Computed strip by strip with the coder's own context margins (and, for RC+, the residuals
    each strip's passes see), so memory stays bounded and the bits are the coder's; training's
    validation uses it too.  Runs on the model's device.
    """
    from .mixture import bit_map

    model = resolve_model(model, keep_device=True)  # training validates on its own device
    device = next(model.parameters()).device
    x, x_l = model_lib.to_tensor(rgb).to(device), model_lib.to_tensor(x_l_rgb).to(device)
    t = None if tau is None else torch.as_tensor(tau).to(device)

    def bits(span):
        y0, y1 = span
        if model_lib.kind(model) == "rc+":
            out = _plus_strip(model, x_l, y0, y1, entropy.WINDOW, x=x, bits=True, tau=t, blends=blends,
                              levels=levels)
        else:
            with torch.no_grad():
                mix = _strip_mixture(model, x_l, q, y0, y1).with_tau(t)
                out = bit_map(mix, x[:, :, y0:y1], x_l[:, :, y0:y1])
                if blends is not None and blends[0] is not None:
                    out = entropy.blend_bit_map(mix, x[:, :, y0:y1], x_l[:, :, y0:y1], blends[0], out)
        return out[0].permute(1, 2, 0).cpu().numpy()

    spans = strip_spans(x.shape[3], x.shape[2])
    return np.concatenate(entropy.parallel_map(bits, spans) if device.type == "cpu" else [bits(s) for s in spans])


# What numerics_fingerprint computes, by the format version whose files it names: zoo weights that
# never change and synthetic pictures (height, width).  Version 9's cover every shipped network
# shape (RC's `cpu` and `cpu-head`, RC+'s `cpu+` and `cpu+wide`) on a picture small enough for
# PyTorch to run the convolutions as matrix products (MKL) and on one that takes oneDNN's kernels,
# as real pictures do; version 8's (two networks, the small picture) missed a cache-dependent
# kernel that `cpu-head` runs (README, "Determinism").
FINGERPRINT_PROBES = {
    FLOAT_VERSION: (("rc_cpu_v1.pt", "rcplus_cpu_v1.pt"), ((40, 56),)),
    NETWORK_VERSION: (("rc_cpu_v1.pt", "rc_cpu_v4.pt", "rcplus_cpu_v1.pt", "rcplus_cpu_v4.pt"),
                      ((40, 56), (72, 264))),
}


def _checksum_message(header: Header) -> str:
    """Why decoded pixels may fail the checksum, naming the float paths where the file names one."""
    if not header.numerics:
        return ("decoded pixels fail the checksum: the file is corrupt, or it was written on a machine "
                "whose floating-point results differ from this one")
    theirs, ours = header.numerics.hex(), numerics_fingerprint(header.version)
    if theirs == ours and header.version < NETWORK_VERSION:  # version 8's probe missed a CPU-dependent kernel
        return ("decoded pixels fail the checksum: the file is corrupt, or it was written on another kind of "
                "CPU with the same version-8 float path (that version's fingerprint misses a difference in "
                "RC's transposed convolution: README, Determinism): decode it on the machine that wrote it")
    if theirs == ours:
        return "decoded pixels fail the checksum: the file is corrupt (it names this machine's float path)"
    return (f"decoded pixels fail the checksum: the file was written on float path {theirs} and this "
            f"machine computes {ours} (rclib.codec.numerics_fingerprint({header.version})): decode it "
            f"where that gives {theirs}")


def fingerprint_bytes(version: int = NETWORK_VERSION) -> bytes:
    """numerics_fingerprint(version) as the 6 bytes a header of that version holds."""
    return bytes.fromhex(numerics_fingerprint(version))


@functools.cache
def numerics_fingerprint(version: int = NETWORK_VERSION) -> str:
    """This machine's float results for coding files of a format version (8 or 9), named in 12 hex
    digits: the hash of the bits per subpixel that fixed zoo networks give fixed synthetic
    pictures (FINGERPRINT_PROBES), computed as the coder computes (one intra-op thread per strip,
    RC's upsampling as that version runs it).  A file decodes exactly where it was written on a
    machine with the same fingerprint; elsewhere (another SIMD path or PyTorch build) it may
    fail the pixel checksum ("Determinism" in the README)."""
    if version == LEVELS_VERSION:
        version = NETWORK_VERSION  # levels run the same networks, so the same computations name it
    if version not in FINGERPRINT_PROBES:
        named = ", ".join(map(str, FINGERPRINT_PROBES))
        raise ValueError(f"format version {version} names no float path (versions {named} do)")
    weights, sizes = FINGERPRINT_PROBES[version]
    digest = hashlib.sha256()
    numerics.check()  # warns where the pin came too late (torch ran before rclib was imported)
    for h, w in sizes:
        yy, xx = np.mgrid[0:h, 0:w]
        x_l = np.stack([(3 * yy + 2 * xx) % 256, (5 * xx + 40) % 256, (7 * yy + xx * yy // 8) % 256], -1)
        noise = np.random.default_rng(20261128).integers(-6, 7, size=(h, w, 3))
        x = np.clip(x_l + noise, 0, 255).astype(np.uint8)
        for name in weights:
            net = _cached_load(model_lib.MODELS_DIR / name)
            if version < NETWORK_VERSION:
                net = model_lib.with_transposed_up(net)
            maps = residual_bit_map(x, x_l.astype(np.uint8), 14, net)
            digest.update(np.ascontiguousarray(maps, dtype=np.float32).tobytes())
    return digest.hexdigest()[:12]


def _pass_sums(bit_map: np.ndarray, kind: str, levels: int = 1) -> np.ndarray:
    """Bits (H, W, 3) summed per (pass, channel): shape (passes, 3)."""
    return np.stack([bit_map[dy::s, dx::s].sum(axis=(0, 1), dtype=np.float64)
                     for dy, dx, s in pass_grids(kind, levels)])


def _table_bit_maps(rgb: np.ndarray, x_l_rgb: np.ndarray, freqs: list, window: int = entropy.WINDOW) -> np.ndarray:
    """Ideal bits (H, W, 3) of every subpixel under per-image tables (channels without one: 0)."""
    x, x_l = model_lib.to_tensor(rgb), model_lib.to_tensor(x_l_rgb)
    out = np.zeros(rgb.shape, np.float64)
    residual = x - x_l
    for c, f in enumerate(freqs):
        if f is not None:
            row = entropy.table_context(residual, c).numpy()
            sym = entropy._table_symbols(residual[0, c], window).numpy()
            bits = -np.log2(f.astype(np.float64) / entropy.TABLE_TOTAL)[row, sym] + 8 * (sym == window)
            out[..., c] = bits.reshape(rgb.shape[:2])
    return out


def table_only_bits(rgb: np.ndarray, x_l_rgb: np.ndarray) -> float:
    """Bits of the residual with every channel coded from its per-image table, the header's table
    section (mask, length, tables) included: what `auto` and the residual benchmark weigh."""
    return _table_only_bits(model_lib.to_tensor(rgb), model_lib.to_tensor(x_l_rgb))


def _table_only_bits(x: torch.Tensor, x_l: torch.Tensor) -> float:
    counts = entropy.table_counts(x, x_l)
    freqs = [entropy.quantize_table(n) for n in counts]
    return sum(entropy.table_bits(f, n) for f, n in zip(freqs, counts)) + 8 * (6 + len(pack_tables(freqs)))


def estimate_residual_bits(rgb: np.ndarray, x_l_rgb: np.ndarray, q: int, model=None,
                           tables: bool = True, bpg_file: bytes | None = None,
                           ycc: np.ndarray | None = None, tau: bool = False) -> float:
    """Ideal code length (bits) of x given x_l (BPG at Q q), as the coder would code it: the
    model's bits, or (tables) per pass and channel the per-image table's where that is smaller,
    a channel's table bytes counted when it is worth sending (the encoder's rule); with tables
    and BPG's file, JPEG colour's bits where the picture has it and they are fewer (with a kind
    by name, its weights for JPEG colour too where shipped; ycc: the picture's YCbCr,
    colour.jpeg_ycc_of, if known).  tau: the model's scales tempered by a per-image tau fitted as
    the encoder fits it, its header bytes counted, kept where that is fewer bits (`--tau`)."""
    named, model = model is None or isinstance(model, str), resolve_model(model)
    kind = model_lib.kind(model)
    by_model = _pass_sums(residual_bit_map(rgb, x_l_rgb, q, model), kind)
    side = 0
    if tau:
        tempered, tau_bits = _tempered_bits(rgb, x_l_rgb, q, model)
        if tempered is not None and tempered.sum() + tau_bits < by_model.sum():
            by_model, side = tempered, tau_bits
    if not tables:
        return float(by_model.sum()) + side
    rgb_bits = _coded_bits(rgb, x_l_rgb, by_model, kind) + side
    jpeg = (jpeg_colour_bits(rgb, bpg_file, ycc, q, jpeg_model(kind) if named else None)
            if bpg_file is not None else None)
    return rgb_bits if jpeg is None else min(rgb_bits, jpeg)


def jpeg_colour_bits(rgb: np.ndarray, bpg_file: bytes, ycc: np.ndarray | None = None, q: int | None = None,
                     net=None) -> float | None:
    """Bits of the residual in JPEG colour (every channel from its table, the table section
    included; with `net`, weights for JPEG colour, and q, per pass and channel the fewer of the
    table's and the network's with its fitted tau, as the encoder chooses), or None when the picture is no decoded
    JPEG (ycc: colour.jpeg_ycc_of(rgb), if known)."""
    ycc = colour.jpeg_ycc_of(rgb) if ycc is None else ycc
    if ycc is None:
        return None
    x_l_ycc = bpg.decode_ycbcr(bpg_file)
    by_tables = ycc_table_bits(ycc, x_l_ycc)
    if net is None:
        return by_tables
    x, x_l = ycc.transpose(1, 2, 0), x_l_ycc.transpose(1, 2, 0)
    by_model, tau_bits = _tempered_bits(x, x_l, q, net)  # the encoder always fits a tau here
    if by_model is None:
        by_model = _pass_sums(residual_bit_map(x, x_l, q, net), model_lib.kind(net))
    return min(by_tables, _coded_bits(x, x_l, by_model, model_lib.kind(net)) + tau_bits)


def _tempered_bits(x: np.ndarray, x_l: np.ndarray, q: int, model) -> tuple[np.ndarray | None, int]:
    """The model's bits per (pass, channel) with a per-image tau fitted as the encoder fits it,
    and the tau's header bits; (None, 0) where fitting did not help."""
    spans = strip_spans(x.shape[1], x.shape[0])
    fitted = _fit_tau(model, model_lib.to_tensor(x), model_lib.to_tensor(x_l), q, spans)
    if fitted is None:
        return None, 0
    return (_pass_sums(residual_bit_map(x, x_l, q, model, tau=fitted), model_lib.kind(model)),
            8 * _TAU.size * len(fitted))


def ycc_table_bits(ycc: np.ndarray, x_l_ycc: np.ndarray) -> float:
    """jpeg_colour_bits from the picture's YCbCr and BPG's decoded YCbCr, (3, H, W) uint8 both."""
    return _table_only_bits(_ycc_plane(ycc), _ycc_plane(x_l_ycc))


def _coded_bits(rgb, x_l_rgb, by_model: np.ndarray, kind: str, levels: int = 1) -> float:
    """The model's bits (passes, 3) with tables where the encoder's rule sends them ((H, W, 3)
    pictures: RGB, or YCbCr in JPEG colour)."""
    counts = entropy.table_counts(model_lib.to_tensor(rgb), model_lib.to_tensor(x_l_rgb))
    freqs = [entropy.quantize_table(n) for n in counts]
    by_table = _pass_sums(_table_bit_maps(rgb, x_l_rgb, freqs), kind, levels)
    side = [8 * len(pack_tables([f])) for f in freqs]
    mask, saved = table_mask(by_model, by_table, side)
    sent = sum(side[c] for c in range(3) if _channels_of(mask) >> c & 1)
    return float(by_model.sum() - saved + sent)


def estimate_coded_bits(rgb: np.ndarray, data: bytes, model=None) -> float:
    """Ideal residual bits of the picture as an .rc file codes it: the model (with the file's tau)
    where the file uses it, the file's tables (and their header bytes) where it uses them, its
    blends where it uses them; in JPEG colour, the same over the YCbCr residual."""
    header, pos = unpack_header(bytes(data))
    bpg_file = bytes(data[pos:pos + header.bpg_length])
    if header.flags & FLAG_JPEG:  # x and x_l as JPEG colour codes them, (H, W, 3) YCbCr
        x, x_l = (p[0].permute(1, 2, 0).numpy().astype(np.uint8)
                  for p in jpeg_planes(colour.jpeg_ycc_of(rgb), bpg_file))
    else:
        x, x_l = rgb, bpg.decode(bpg_file)
    blend_size = _mask_structs(header.levels)[1].size
    section = 8 * (len(pack_tables(header.tables)) + (blend_size if header.blend_mask else 0)
                   if header.table_mask | header.blend_mask else 0)
    if not runs_network(header):
        return float(_table_bit_maps(x, x_l, header.tables, header.window).sum() + section)
    blends = ([[c if isinstance(c, entropy.Blend) else None for c in (pass_tables(header, k) or [None] * 3)]
               for k in range(header.passes)] if header.blend_mask else None)
    by_model = _pass_sums(residual_bit_map(x, x_l, header.q, model or model_for_file(header.weights_id),
                                           header.tau, blends, header.levels), header.kind, header.levels)
    if not header.table_mask | header.blend_mask:
        return float(by_model.sum())
    by_table = _pass_sums(_table_bit_maps(x, x_l, header.tables, header.window), header.kind, header.levels)
    use = np.array([[header.table_mask >> (3 * k + c) & 1 for c in range(3)] for k in range(len(by_model))], bool)
    return float(np.where(use, by_table, by_model).sum() + section)


def info(data: bytes) -> dict:
    header, pos = unpack_header(bytes(data))
    n = header.width * header.height * 3
    residual = sum(header.stream_lengths)
    return {"width": header.width, "height": header.height, "q": header.q,
            "version": header.version, "model": header.kind, "levels": header.levels,
            "weights_id": header.weights_id.hex(),
            "bytes": len(data), "bpg_bytes": header.bpg_length, "residual_bytes": residual,
            "bpsp": 8 * len(data) / n, "bpg_bpsp": 8 * header.bpg_length / n,
            "residual_bpsp": 8 * residual / n,
            "strips": len(header.stream_lengths) // (6 * header.passes),
            "grayscale": bool(header.flags & FLAG_GRAY), "tau": header.tau is not None,
            "table_channels": "".join("RGB"[c] for c in range(3) if _channels_of(header.table_mask) >> c & 1),
            "table_mask": header.table_mask,
            "blend_channels": "".join("RGB"[c] for c in range(3) if _channels_of(header.blend_mask) >> c & 1),
            "blend_mask": header.blend_mask, "jpeg_colour": bool(header.flags & FLAG_JPEG),
            "bpg_colour": bpg.colour_space(bytes(data[pos:pos + header.bpg_length])),
            "float_path": header.numerics.hex() or None}


def extract_bpg(data: bytes) -> bytes:
    """The lossy preview: the embedded genuine .bpg file."""
    header, pos = unpack_header(bytes(data))
    return bytes(data[pos:pos + header.bpg_length])
