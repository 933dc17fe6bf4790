"""BPG: read and write genuine `.bpg` files (HEVC intra in Bellard's small container).

`encode(rgb, q)` writes a BPG file (4:4:4, 8-bit, YCbCr BT.601 full range, as the paper used;
`space="rgb"`: BPG's RGB colour space, the planes G, B, R coded as they are, beyond the paper);
`decode(data)` returns the RGB pixels the reference bpgdec gives.  Decoding is always rclib's own:
container -> rebuilt VPS/SPS + stored NALs -> FFmpeg's HEVC decoder (PyAV) -> BPG's integer
colour conversion.  Encoding uses the real `bpgenc` when it is on PATH (backend "bpgenc") or
libx265 through PyAV with bpgenc's `-m 8` settings (backend "embedded").
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import colour, hevc
from .errors import FormatError, InputError
from .limits import check_pixels

MAGIC = b"\x42\x50\x47\xfb"
FORMAT_GRAY, FORMAT_420, FORMAT_422, FORMAT_444 = 0, 1, 2, 3
CS_YCBCR, CS_RGB = 0, 1  # BPG's colour_space field: YCbCr BT.601, or RGB (planes G, B, R)
SPACES = {"ycbcr": CS_YCBCR, "rgb": CS_RGB}
Q_MIN, Q_MAX = 0, 51
BACKENDS = ("auto", "embedded", "bpgenc")
# Bumped whenever the embedded encoder's bytes change, so caches of BPG files (prep) are not
# reused across it.  2: the decoded-picture-hash SEI.
ENCODER_VERSION = 2

# bpgenc pads pictures to a multiple of its minimum coding block size before coding.
_PAD = 8
# x265 (inside bpgenc and inside PyAV) lowers the intra QP through `ipratio`; the slice QP of
# every reference file in shared/bpg is Q + _SLICE_QP_OFFSET.  We ask x265 for that QP directly
# (ipratio = 1) so the result does not depend on the x265 version's rounding.
_SLICE_QP_OFFSET = -3
# At equal slice QP the x265 bundled with PyAV quantizes ~10 % finer than bpgenc 0.9.8's x265
# (lower MSE on every plane, 5-7 % more bits).  One step of chroma QP offset brings both the
# bits and the MSE back to the reference's operating point (measured on shared/bpg photos).
_CHROMA_QP_OFFSET = 1
# In BPG's RGB colour space the "chroma" planes are B and R, as much the picture as G is.
_RGB_QP_OFFSET = 0


# ----------------------------------------------------------------------------- ue7 numbers
def _read_ue7(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(5):
        if pos >= len(data):
            raise FormatError("truncated BPG header")
        b = data[pos]
        pos += 1
        if i == 0 and b == 0x80:
            raise FormatError("invalid ue7 number in BPG header")
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            if value >= 1 << 32:
                raise FormatError("ue7 number out of range")
            return value, pos
    raise FormatError("ue7 number too long in BPG header")


def _write_ue7(value: int) -> bytes:
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


# ----------------------------------------------------------------------------- container
@dataclass
class BPGFile:
    """A parsed BPG file: header fields, the SPS summary and the stored HEVC NAL data."""

    pixel_format: int
    bit_depth: int
    color_space: int
    limited_range: bool
    width: int
    height: int
    sps: hevc.SPSFields
    hevc_data: bytes  # starts right after the (omitted) first start code

    def annexb(self) -> bytes:
        """A standard HEVC byte stream: rebuilt VPS and SPS, then the stored NALs."""
        sps = hevc.build_sps(self.sps, self.width, self.height, self.pixel_format, self.bit_depth)
        start = b"\x00\x00\x00\x01"
        return start + hevc.build_vps() + start + sps + start + self.hevc_data


def parse(data: bytes) -> BPGFile:
    """Parse a BPG file; raise FormatError for anything rclib cannot decode exactly."""
    data = bytes(data)
    if len(data) < 6 or data[:4] != MAGIC:
        raise FormatError("not a BPG file (bad magic)")
    f1, f2 = data[4], data[5]
    pixel_format, alpha1, bit_depth = f1 >> 5, (f1 >> 4) & 1, (f1 & 0xF) + 8
    color_space, has_ext, alpha2 = f2 >> 4, (f2 >> 3) & 1, (f2 >> 2) & 1
    limited, animation = (f2 >> 1) & 1, f2 & 1
    if pixel_format not in (FORMAT_420, FORMAT_444):
        raise FormatError(f"unsupported BPG pixel format {pixel_format} (rclib reads 4:2:0 and 4:4:4)")
    if bit_depth != 8:
        raise FormatError(f"unsupported BPG bit depth {bit_depth} (rclib reads 8-bit files)")
    if color_space not in (CS_YCBCR, CS_RGB) or limited:
        raise FormatError("unsupported BPG colour space (rclib reads full-range YCbCr BT.601 and RGB)")
    if color_space == CS_RGB and pixel_format != FORMAT_444:
        raise FormatError("unsupported BPG colour space (RGB with subsampled planes)")
    if alpha1 or alpha2:
        raise FormatError("BPG files with alpha are not supported")
    if animation:
        raise FormatError("animated BPG files are not supported")
    width, pos = _read_ue7(data, 6)
    height, pos = _read_ue7(data, pos)
    if width == 0 or height == 0:
        raise FormatError("BPG picture of size zero")
    check_pixels(width, height, "BPG file")
    picture_len, pos = _read_ue7(data, pos)
    if has_ext:
        ext_len, pos = _read_ue7(data, pos)
        pos += ext_len
    header_len, pos = _read_ue7(data, pos)
    if pos + header_len > len(data):
        raise FormatError("truncated BPG header")
    sps = hevc.SPSFields.read_bpg(hevc.BitReader(data[pos:pos + header_len]))
    pos += header_len
    end = len(data) if picture_len == 0 else pos - header_len - len(_write_ue7(header_len)) + picture_len
    if end > len(data) or pos >= end:
        raise FormatError("truncated BPG picture data")
    return BPGFile(pixel_format, bit_depth, color_space, bool(limited), width, height, sps, data[pos:end])


def write(width: int, height: int, annexb_stream: bytes, color_space: int = CS_YCBCR) -> bytes:
    """Wrap an x265 Annex B stream (VPS, SPS, PPS, slices) as a 4:4:4 8-bit BPG file whose planes
    are YCbCr (CS_YCBCR) or G, B, R (CS_RGB)."""
    nals = hevc.split_nals(annexb_stream)
    types = [hevc.nal_type(n) for n in nals]
    if hevc.NAL_SPS not in types:
        raise FormatError("encoder produced no SPS")
    parsed = hevc.parse_sps(nals[types.index(hevc.NAL_SPS)])
    if parsed.chroma_format_idc != 3 or parsed.bit_depth != 8:
        raise FormatError("encoder produced a stream that is not 8-bit 4:4:4")
    # The PPS, the slices and x265's decoded-picture-hash SEI (the MD5 of each plane, which the
    # decoder checks); VPS and SPS are rebuilt from BPG's header at decode.
    kept = [n for n, t in zip(nals, types) if t in (hevc.NAL_PPS, hevc.NAL_SEI_SUFFIX) or t < 32]
    hevc_data = b"\x00\x00\x01".join(kept)  # the first start code is omitted, the others kept
    header = hevc.bpg_hevc_header(parsed.fields)
    picture = _write_ue7(len(header)) + header + hevc_data
    flags1 = (FORMAT_444 << 5) | 0          # no alpha, bit depth 8
    flags2 = color_space << 4               # no extension, full range, still
    return (MAGIC + bytes([flags1, flags2]) + _write_ue7(width) + _write_ue7(height)
            + _write_ue7(len(picture)) + picture)


# ----------------------------------------------------------------------------- decoding
def decode_frame(bpg: BPGFile):
    """FFmpeg's decoded HEVC picture (an av.VideoFrame at the coded size, padding included)."""
    import av

    ctx = av.CodecContext.create("hevc", "r")
    ctx.thread_count = 1
    # A file carrying a decoded-picture-hash SEI (rclib's embedded encoder writes one) must decode
    # to that MD5; a damaged slice is then an error instead of a silently wrong picture.  Files
    # without the SEI (bpgenc's) decode unchecked: BPG itself has no checksum.
    ctx.options = {"err_detect": "crccheck+explode"}
    frames = []
    try:
        frames.extend(ctx.decode(av.Packet(bpg.annexb())))
        frames.extend(ctx.decode(None))
    except av.error.FFmpegError as exc:
        raise FormatError(f"corrupt HEVC data in BPG file: {exc}") from None
    if len(frames) != 1:
        raise FormatError(f"BPG picture data decoded to {len(frames)} pictures, expected 1")
    return frames[0]


def decode_planes(bpg: BPGFile) -> list[np.ndarray]:
    """Decode the HEVC picture and return its planes cropped to the BPG picture size."""
    frame = decode_frame(bpg)
    if frame.width < bpg.width or frame.height < bpg.height:
        raise FormatError("decoded picture smaller than the BPG header says")
    shift = 1 if bpg.pixel_format == FORMAT_420 else 0
    planes = []
    for i, plane in enumerate(frame.planes):
        h = frame.height >> (shift if i else 0)
        w = frame.width >> (shift if i else 0)
        buf = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:h, :w]
        if i:
            planes.append(buf[: -(-bpg.height // (1 << shift)), : -(-bpg.width // (1 << shift))].copy())
        else:
            planes.append(buf[: bpg.height, : bpg.width].copy())
    return planes


def colour_space(data: bytes) -> str:
    """"ycbcr" or "rgb": the colour space of a BPG file's planes (its header only)."""
    return "rgb" if parse(data).color_space == CS_RGB else "ycbcr"


def decode_ycbcr(data: bytes) -> np.ndarray:
    """BPG file bytes -> uint8 (3, H, W) Y, Cb, Cr at full resolution, as bpgdec has them before
    its colour conversion."""
    bpg = parse(data)
    if bpg.color_space != CS_YCBCR:
        raise FormatError("BPG file is in RGB, not YCbCr")
    return _ycbcr_planes(bpg)


def _ycbcr_planes(bpg: BPGFile) -> np.ndarray:
    """A parsed YCbCr file's planes, (3, H, W), chroma upsampled to full resolution."""
    y, cb, cr = decode_planes(bpg)
    if bpg.pixel_format == FORMAT_420:
        cb = colour.upsample_420(cb, bpg.height, bpg.width)
        cr = colour.upsample_420(cr, bpg.height, bpg.width)
    return np.stack([y, cb, cr])


def decode(data: bytes) -> np.ndarray:
    """BPG file bytes -> uint8 (H, W, 3) RGB, identical to the reference bpgdec's output."""
    bpg = parse(data)
    if bpg.color_space == CS_RGB:
        g, b, r = decode_planes(bpg)
        return np.stack([r, g, b], axis=-1)
    return colour.ycbcr_to_rgb(_ycbcr_planes(bpg))


# ----------------------------------------------------------------------------- encoding
def check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"expected a uint8 array of shape (H, W, 3), got {rgb.dtype} {rgb.shape}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InputError("empty picture")
    return np.ascontiguousarray(rgb)


def check_q(q: int) -> int:
    if not isinstance(q, (int, np.integer)) or not Q_MIN <= q <= Q_MAX:
        raise InputError(f"BPG quantizer must be an integer in {Q_MIN}..{Q_MAX}, got {q!r}")
    return int(q)


def have_bpgenc() -> bool:
    return shutil.which("bpgenc") is not None and shutil.which("bpgdec") is not None


def encode(rgb: np.ndarray, q: int, backend: str = "auto", space: str = "ycbcr") -> bytes:
    """Encode uint8 RGB at BPG quantizer `q` (bpgenc's -q) as a 4:4:4 BPG file in colour space
    `space`: "ycbcr" (BT.601, the paper's) or "rgb" (bpgenc's -c rgb)."""
    rgb = check_rgb(rgb)
    q = check_q(q)
    if backend not in BACKENDS:
        raise InputError(f"unknown BPG backend {backend!r}; choose one of {BACKENDS}")
    if space not in SPACES:
        raise InputError(f"unknown BPG colour space {space!r}; choose one of {tuple(SPACES)}")
    if backend == "auto":
        backend = "bpgenc" if have_bpgenc() else "embedded"
    key = (hashlib.sha256(rgb.data).hexdigest(), rgb.shape, q, space, backend)
    with _RECENT_LOCK:
        if key in _RECENT:
            _RECENT.move_to_end(key)
            return _RECENT[key]
    data = _encode_bpgenc(rgb, q, space) if backend == "bpgenc" else _encode_embedded(rgb, q, space)
    with _RECENT_LOCK:
        _RECENT[key] = data
        while sum(map(len, _RECENT.values())) > _RECENT_BYTES:
            _RECENT.popitem(last=False)
    return data


# The files encode() made last, by picture, Q, colour space and backend: choosing Q for each model
# kind (`--model auto` codes the picture with both) tries many of the same Qs, and the encoder is
# deterministic, so a second ask returns the first answer.  Bounded in bytes; forget() empties it
# (benchmarks time every encode from cold, as one `rclib compress` runs).
_RECENT: OrderedDict = OrderedDict()
_RECENT_LOCK = threading.Lock()
_RECENT_BYTES = 64 << 20


def forget() -> None:
    """Empty encode()'s memory of recent files."""
    with _RECENT_LOCK:
        _RECENT.clear()


def _encode_bpgenc(rgb: np.ndarray, q: int, space: str = "ycbcr") -> bytes:
    if not have_bpgenc():
        raise InputError("backend 'bpgenc' asked for, but bpgenc/bpgdec are not on PATH")
    from PIL import Image

    h, w = rgb.shape[:2]
    if h < 32 or w < 32:
        # The reference bpgenc crashes below 32x32; the embedded encoder handles those.
        return _encode_embedded(rgb, q, space)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.png"), os.path.join(tmp, "out.bpg")
        Image.fromarray(rgb).save(src)
        subprocess.run(["bpgenc", "-q", str(q), "-f", "444", "-c", space, "-m", "8", "-o", dst, src],
                       check=True, capture_output=True)
        with open(dst, "rb") as fh:
            return fh.read()


def _encode_embedded(rgb: np.ndarray, q: int, space: str = "ycbcr") -> bytes:
    import av

    h, w = rgb.shape[:2]
    # x265 refuses pictures under 16 pixels a side; for those, code with 16x16 minimum coding
    # blocks so the BPG header's implied picture size (a multiple of it) matches the stream.
    pad = _PAD if min(h, w) > _PAD else 2 * _PAD
    ph, pw = -(-h // pad) * pad, -(-w // pad) * pad
    padded = np.pad(rgb, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    if space == "rgb":  # BPG's RGB: the planes G, B, R, every one at the slice QP
        planes, offset = np.ascontiguousarray(padded[..., [1, 2, 0]].transpose(2, 0, 1)), _RGB_QP_OFFSET
    else:
        planes, offset = colour.rgb_to_ycbcr(padded), _CHROMA_QP_OFFSET
    qp = min(max(q + _SLICE_QP_OFFSET, 0), 51)
    ctx = av.CodecContext.create("libx265", "w")
    ctx.width, ctx.height, ctx.pix_fmt = pw, ph, "yuv444p"
    from fractions import Fraction
    ctx.time_base = Fraction(1, 25)
    ctx.options = {
        "preset": "veryslow",
        "tune": "ssim",
        "x265-params": (f"qp={qp}:ipratio=1:cbqpoffs={offset}:crqpoffs={offset}:"
                        f"min-cu-size={pad}:keyint=1:min-keyint=1:bframes=0:info=0:"
                        "repeat-headers=1:annexb=1:frame-threads=1:pools=none:log-level=error:"
                        "hash=1"),   # MD5 of the decoded planes in a SEI (54 bytes), checked at decode
    }
    frame = av.VideoFrame.from_ndarray(planes, format="yuv444p")
    stream = b"".join(bytes(p) for p in ctx.encode(frame))
    stream += b"".join(bytes(p) for p in ctx.encode(None))
    return write(w, h, stream, SPACES[space])
