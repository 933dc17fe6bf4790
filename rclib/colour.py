"""BPG's integer colour conversion: RGB <-> YCbCr BT.601 full range, and 4:2:0 chroma upsampling.

The encoder side follows bpgenc (coefficients round(k * 2^23)); the decoder side follows bpgdec
(coefficients round(k * 2^22), luma/chroma upsampling with its Lanczos taps), so decoded pixels
match the reference decoder bit for bit.
"""
from __future__ import annotations

import functools

import numpy as np

K_R, K_B = 0.299, 0.114
K_G = 1.0 - K_R - K_B


def _rint(x: float) -> int:
    return int(np.rint(x))  # lrint: round half to even, as C's default rounding mode


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB -> uint8 (3, H, W) Y, Cb, Cr planes exactly as bpgenc computes them."""
    shift = 23
    one = 1 << shift
    coef = np.array([
        [K_R, K_G, K_B],
        [-0.5 * K_R / (1 - K_B), -0.5 * K_G / (1 - K_B), 0.5],
        [0.5, -0.5 * K_G / (1 - K_R), -0.5 * K_B / (1 - K_R)],
    ])
    c = np.array([[_rint(v * one) for v in row] for row in coef], dtype=np.int64)
    x = rgb.astype(np.int64)
    acc = np.einsum("hwc,kc->khw", x, c) + (1 << (shift - 1))
    out = acc >> shift
    out[1:] += 128
    return np.clip(out, 0, 255).astype(np.uint8)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """uint8 (3, H, W) full-resolution Y, Cb, Cr -> uint8 (H, W, 3) RGB exactly as bpgdec."""
    shift = 22
    one = 1 << shift
    c_r_cr = _rint(2 * (1 - K_R) * one)
    c_g_cb = _rint(2 * K_B * (1 - K_B) / K_G * one)
    c_g_cr = _rint(2 * K_R * (1 - K_R) / K_G * one)
    c_b_cb = _rint(2 * (1 - K_B) * one)
    y = ycc[0].astype(np.int64) * one + (1 << (shift - 1))
    cb = ycc[1].astype(np.int64) - 128
    cr = ycc[2].astype(np.int64) - 128
    r = (y + c_r_cr * cr) >> shift
    g = (y - c_g_cb * cb - c_g_cr * cr) >> shift
    b = (y + c_b_cb * cb) >> shift
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


# bpgdec's 7-tap half-phase Lanczos filter, for output samples at even and odd positions.
_TAPS_EVEN = np.array([2, -6, 18, 57, -10, 4, -1], dtype=np.int64)
_TAPS_ODD = _TAPS_EVEN[::-1].copy()


def _upsample_axis(plane: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Double `plane` along `axis` with edge replication (unnormalized: gains a factor 64)."""
    n_in = plane.shape[axis]
    idx = np.clip(np.arange(-3, n_in + 3), 0, n_in - 1)
    padded = np.take(plane, idx, axis=axis)
    out_shape = list(plane.shape)
    out_shape[axis] = 2 * n_in
    out = np.empty(out_shape, dtype=np.int64)
    even = sum(t * np.take(padded, np.arange(k, k + n_in), axis=axis) for k, t in enumerate(_TAPS_EVEN))
    odd = sum(t * np.take(padded, np.arange(k, k + n_in), axis=axis) for k, t in enumerate(_TAPS_ODD))
    sl_e = [slice(None)] * plane.ndim
    sl_o = [slice(None)] * plane.ndim
    sl_e[axis] = slice(0, None, 2)
    sl_o[axis] = slice(1, None, 2)
    out[tuple(sl_e)] = even
    out[tuple(sl_o)] = odd
    sl = [slice(None)] * plane.ndim
    sl[axis] = slice(0, n_out)
    return out[tuple(sl)]


def upsample_420(chroma: np.ndarray, height: int, width: int) -> np.ndarray:
    """bpgdec's 4:2:0 -> 4:4:4 chroma interpolation (JPEG chroma siting) for 8-bit planes."""
    vertical = _upsample_axis(chroma.astype(np.int64), height, axis=0)  # x64, kept in int16 range
    both = _upsample_axis(vertical, width, axis=1)                      # x4096
    return np.clip((both + (1 << 11)) >> 12, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- decoded JPEGs
# A picture decoded from a JPEG is the image of integer YCbCr under the decoder's colour
# conversion: only about one RGB triple in four is such an image, so its residual is cheaper to
# code in that YCbCr (rclib's "JPEG colour" mode). libjpeg's conversion (jdcolor.c, used by
# libjpeg-turbo, Pillow and most decoders): 16-bit fixed point, R and B rounded per table entry,
# G's two products summed before one rounding shift, then clipped to 0..255.
_JPEG_SHIFT = 16


def _jpeg_fix(k: float) -> int:
    return int(k * (1 << _JPEG_SHIFT) + 0.5)


_C = np.arange(256, dtype=np.int64) - 128
_HALF = 1 << (_JPEG_SHIFT - 1)
_JPEG_CR_R = (_jpeg_fix(1.40200) * _C + _HALF) >> _JPEG_SHIFT
_JPEG_CB_B = (_jpeg_fix(1.77200) * _C + _HALF) >> _JPEG_SHIFT
_JPEG_CR_G = -_jpeg_fix(0.71414) * _C
_JPEG_CB_G = -_jpeg_fix(0.34414) * _C + _HALF


def jpeg_ycc_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """uint8 (3, ...) Y, Cb, Cr -> uint8 (..., 3) RGB exactly as libjpeg's decoder converts them."""
    y, cb, cr = (ycc[i].astype(np.int64) for i in range(3))
    rgb = np.stack([y + _JPEG_CR_R[cr], y + ((_JPEG_CB_G[cb] + _JPEG_CR_G[cr]) >> _JPEG_SHIFT),
                    y + _JPEG_CB_B[cb]], axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


# Offsets tried around the rounded conversion, nearest first (L1, then lexicographic).
_OFFSETS = sorted(((a, b, c) for a in range(-2, 3) for b in range(-2, 3) for c in range(-2, 3)),
                  key=lambda d: (sum(map(abs, d)), d))


def jpeg_ycc_of(rgb: np.ndarray, most_missing: float = 0.01) -> np.ndarray | None:
    """uint8 (3, H, W) YCbCr that libjpeg's conversion turns into exactly `rgb` (H, W, 3), or None
    when some pixel has none (the picture was not decoded from a JPEG; in a band of rows, more
    than `most_missing` of its pixels failing the near search, or 5 times that failing the
    nearest offsets, ends the search early).

    Each pixel takes the first of the offsets around bpgenc's rounded conversion that maps back
    to it (unique away from clipping); pixels clipped far from it (saturated colours) take, per
    colour, the nearest of all YCbCr that map to it."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    rows = max(1, (1 << 18) // rgb.shape[1])  # in bands of ~256k pixels: memory stays small
    bands = []
    for y in range(0, rgb.shape[0], rows):
        band = _lift(rgb[y:y + rows], most_missing)
        if band is None:
            return None
        bands.append(band)
    return np.concatenate(bands, axis=1)


def _lift(rgb: np.ndarray, most_missing: float) -> np.ndarray | None:
    """jpeg_ycc_of for one band of rows."""
    guess = rgb_to_ycbcr(rgb).reshape(3, -1).astype(np.int64)
    target = rgb.reshape(-1, 3)
    out = np.zeros_like(guess)
    todo = np.arange(target.shape[0])
    for i, d in enumerate(_OFFSETS):
        if todo.size == 0 or i == 7 and todo.size > 5 * most_missing * target.shape[0]:
            break  # (after the offsets of L1 <= 1, a picture that is no decoded JPEG fails fast)
        c = guess[:, todo] + np.array(d)[:, None]
        inside = ((c >= 0) & (c <= 255)).all(axis=0)
        ok = inside & (jpeg_ycc_to_rgb(np.clip(c, 0, 255)) == target[todo]).all(axis=1)
        out[:, todo[ok]] = c[:, ok]
        todo = todo[~ok]
    if todo.size > most_missing * target.shape[0]:
        return None
    if todo.size:
        keys, order = _jpeg_inverse()
        colours, which = np.unique(target[todo], axis=0, return_inverse=True)
        wanted = (colours[:, 0].astype(np.int32) << 16) | (colours[:, 1].astype(np.int32) << 8) | colours[:, 2]
        los, his = np.searchsorted(keys, wanted), np.searchsorted(keys, wanted + 1)
        for i, (lo, hi) in enumerate(zip(los, his)):
            if lo == hi:
                return None
            cands = np.stack(np.unravel_index(order[lo:hi], (256, 256, 256)))
            mine = todo[which.ravel() == i]
            near = np.abs(cands - guess[:, mine[0]][:, None]).sum(axis=0).argmin()
            out[:, mine] = cands[:, near][:, None]
    return out.reshape(3, *rgb.shape[:2]).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def _jpeg_inverse() -> tuple[np.ndarray, np.ndarray]:
    """Every YCbCr triple's RGB key under libjpeg's conversion, sorted, with the triples' flat
    indices in that order (built once, ~2 s and 200 MB, only for pictures with saturated colours)."""
    ycc = np.stack(np.unravel_index(np.arange(1 << 24), (256, 256, 256))).astype(np.uint8)
    rgb = jpeg_ycc_to_rgb(ycc).astype(np.int32)
    keys = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    order = np.argsort(keys, kind="stable")
    return keys[order], order
