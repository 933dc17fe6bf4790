"""Reading and writing pictures without silent loss: 8-bit RGB in, exact PNG out, atomic writes."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import InputError
from .limits import check_pixels

READABLE = {"PNG", "PPM", "TIFF", "BMP"}


def read_picture(path: str | Path) -> tuple[np.ndarray, str | None]:
    """Read a picture for lossless coding: (H, W) uint8 for grayscale, else (H, W, 3) uint8.

    The second value is a note for the user when a conversion happened (palette -> RGB).
    """
    im = _open(path)
    mode = im.mode
    rgb = _to_rgb8(im, Path(path))
    if mode in ("L", "1"):
        return rgb[..., 0].copy(), None
    if mode == "P":
        return rgb, "palette picture stored as RGB: every pixel colour is exact, the palette table is not kept"
    return rgb, None


def read_rgb8(path: str | Path) -> np.ndarray:
    """Read PNG/PPM/TIFF/BMP as uint8 (H, W, 3), converting only where it is exact.

    Grayscale and palette pictures become RGB (every value kept); RGBA is accepted only when
    fully opaque; 16-bit, float, CMYK and transparent pictures are refused with a clear message.
    """
    return _to_rgb8(_open(path), Path(path))


def _open(path: str | Path):
    """Open and fully load a picture; unreadable or truncated files raise InputError."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        im = Image.open(path)  # reads the header only
        check_pixels(*im.size, str(path), error=InputError)
        im.load()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"{path}: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: cannot read picture ({exc})") from None
    return im


def _to_rgb8(im, path: Path) -> np.ndarray:
    if im.format not in READABLE:
        raise InputError(f"{path}: {im.format} input is not supported (use PNG, PPM, TIFF or BMP)")
    depth = sample_depth(im, path)
    if depth is not None:
        raise InputError(f"{path}: {depth}; rclib codes 8-bit pictures only "
                         "(reducing them to 8 bits would lose data)")
    if getattr(im, "n_frames", 1) > 1:
        raise InputError(f"{path}: multi-frame pictures are not supported")
    mode = im.mode
    if mode == "P":
        if "transparency" in im.info:
            im = im.convert("RGBA")
            mode = "RGBA"
        else:
            return np.asarray(im.convert("RGB"))
    if mode in ("1", "L"):
        return np.asarray(im.convert("RGB"))
    if mode == "RGB":
        return np.asarray(im)
    if mode in ("RGBA", "LA"):
        if im.getextrema()[-1][0] < 255:
            raise InputError(f"{path}: has transparent pixels; rclib codes opaque RGB only "
                             "(alpha would be lost)")
        return np.asarray(im.convert("RGB"))
    if mode in ("I;16", "I;16B", "I;16L", "I", "F") or mode.startswith("I;16"):
        raise InputError(f"{path}: {mode} is not 8-bit; rclib codes 8-bit pictures only "
                         "(reducing to 8 bits would lose data)")
    raise InputError(f"{path}: picture mode {mode} is not supported (8-bit RGB, gray or palette)")


def sample_depth(im, path: Path) -> str | None:
    """Why a picture's samples are not 8-bit, read from its own header, or None when they are.

    Pillow reads 16-bit RGB(A) PNG and TIFF as 8-bit modes and rescales PPM/PGM whose maxval is
    not 255, so the mode alone cannot tell: these would be silently reduced.
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if im.format == "PNG" and head[12:16] == b"IHDR" and len(head) >= 26:
        bits, colour = head[24], head[25]
        if bits == 16:
            return "16 bits per sample"
        if bits != 8 and colour not in (0, 3):  # 1/2/4-bit gray or palette expand exactly
            return f"{bits} bits per sample"
    elif im.format == "PPM":
        maxval = _pnm_maxval(head)
        if maxval is not None and maxval != 255:
            return f"maxval {maxval} (not 8 bits per sample)"
    elif im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        if any(b not in (1, 8) for b in bits):
            return f"{'/'.join(map(str, bits))} bits per sample"
        if im.tag_v2.get(339, 1) not in (1,):
            return "samples are not unsigned integers"
    elif im.format == "BMP" and len(head) >= 30:
        bpp = int.from_bytes(head[28:30], "little")
        if bpp not in (1, 4, 8, 24, 32):
            return f"{bpp} bits per pixel"
    return None


def _pnm_maxval(head: bytes) -> int | None:
    """The maxval of a P2/P3/P5/P6 header (None for bitmaps P1/P4, which have none)."""
    if head[:2] in (b"P1", b"P4"):
        return None
    tokens = []
    for line in head[2:].split(b"\n"):
        tokens += line.split(b"#", 1)[0].split()
        if len(tokens) >= 3:
            try:
                return int(tokens[2])
            except ValueError:
                return None
    return None


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread at once)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def atomic_write(path: str | Path, data: bytes, force: bool = False) -> None:
    """Write bytes to `path` via a temporary file and rename; refuse to overwrite unless forced."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path}: exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a new file gets what umask allows
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def png_bytes(rgb: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG of uint8 (H, W, 3) RGB or (H, W) grayscale."""
    from io import BytesIO
    from PIL import Image

    buf = BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def write_png(path: str | Path, rgb: np.ndarray, force: bool = False) -> None:
    atomic_write(path, png_bytes(rgb), force=force)
