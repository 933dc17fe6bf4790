"""BPG's integer colour conversion: RGB <-> YCbCr BT.601 full range, and 4:2:0 chroma upsampling.

The encoder side follows bpgenc (coefficients round(k * 2^23)); the decoder side follows bpgdec
(coefficients round(k * 2^22), luma/chroma upsampling with its Lanczos taps), so decoded pixels
match the reference decoder bit for bit.
"""
from __future__ import annotations

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
