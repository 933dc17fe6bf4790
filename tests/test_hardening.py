"""Reliability: coding from many threads at once, honest bit depths, bounded decoding, and
one-line errors for everything the CLI can meet (issue #14)."""
from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import rclib
from rclib import codec
from rclib.errors import InputError


def test_concurrent_coding_gives_the_sequential_bytes(photos, tiny_model):
    """Two threads of one process coding at once: every file is the one coded alone, and decodes;
    torch's thread count is back where it was afterwards."""
    big = photos["astronaut"][:600, :64]
    small = photos["chelsea"][:16, :16]
    expected = codec.compress(big, q=12, model=tiny_model)
    threads_before = torch.get_num_threads()
    stop = threading.Event()
    errors = []

    def background():
        try:
            while not stop.is_set():
                blob = codec.compress(small, q=12, model=tiny_model)
                assert np.array_equal(codec.decompress(blob, model=tiny_model), small)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=background)
    worker.start()
    try:
        results = [codec.compress(big, q=12, model=tiny_model) for _ in range(6)]
        decoded = [codec.decompress(r, model=tiny_model) for r in results]
    finally:
        stop.set()
        worker.join()
    assert not errors
    assert all(r == expected for r in results)
    assert all(np.array_equal(d, big) for d in decoded)
    assert torch.get_num_threads() == threads_before


# ----------------------------------------------------------------------------- bit depth (F3)
def _png16(arr: np.ndarray) -> bytes:
    """A 16-bit PNG written by hand (gray, gray+alpha, RGB or RGBA by the channel count)."""
    import struct
    import zlib

    arr = arr if arr.ndim == 3 else arr[..., None]
    h, w, c = arr.shape
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _pnm(magic: bytes, maxval: int, arr: np.ndarray) -> bytes:
    h, w = arr.shape[:2]
    body = arr.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    return magic + b"\n# a comment\n" + f"{w} {h}\n{maxval}\n".encode() + body


def _not_8_bit_inputs():
    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (6, 5, 3)).astype(np.uint16)
    rgb16[0, 0] = 515  # 515 >> 8 == 2: the value the old reader kept
    yield "rgb16.png", _png16(rgb16)
    yield "rgba16.png", _png16(np.dstack([rgb16, np.full((6, 5), 65535, np.uint16)]))
    yield "la16.png", _png16(np.dstack([rgb16[..., 0], np.full((6, 5), 65535, np.uint16)]))
    yield "gray16.png", _png16(rgb16[..., 0])
    yield "rgb16.ppm", _pnm(b"P6", 65535, rgb16)
    yield "rgb1000.ppm", _pnm(b"P6", 1000, rgb16 % 1001)
    yield "gray100.pgm", _pnm(b"P5", 100, (rgb16[..., 0] % 101).astype(np.uint8))
    from PIL import Image
    import io

    buf = io.BytesIO()
    Image.fromarray(rgb16[..., 0].astype(np.uint16)).save(buf, format="TIFF")
    yield "gray16.tif", buf.getvalue()
    import imagecodecs

    yield "rgb16.tif", imagecodecs.tiff_encode(rgb16)


@pytest.mark.parametrize("name,blob", list(_not_8_bit_inputs()), ids=lambda v: v if isinstance(v, str) else "")
def test_inputs_that_are_not_8_bit_are_refused_in_one_line(tmp_path, name, blob):
    from rclib.imageio import read_picture

    path = tmp_path / name
    path.write_bytes(blob)
    with pytest.raises(InputError, match="8-bit pictures only") as err:
        read_picture(path)
    assert "\n" not in str(err.value)
    # and the CLI says so in one line, writes nothing
    out = tmp_path / "out.rc"
    run = subprocess.run([sys.executable, "-m", "rclib", "compress", str(path), str(out), "--q", "12"],
                         capture_output=True, text=True)
    assert run.returncode != 0 and not out.exists()
    assert len(run.stderr.strip().splitlines()) == 1 and "8-bit" in run.stderr


def test_8_bit_pnm_and_low_depth_png_are_still_read(tmp_path):
    from PIL import Image

    from rclib.imageio import read_picture

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    (tmp_path / "a.ppm").write_bytes(_pnm(b"P6", 255, rgb))
    assert np.array_equal(read_picture(tmp_path / "a.ppm")[0], rgb)
    Image.fromarray(rgb[..., 0] > 128).save(tmp_path / "b.png")  # 1-bit PNG
    assert read_picture(tmp_path / "b.png")[0].max() == 255


# ----------------------------------------------------------------------------- bounded decoding
def _rc_declaring(width: int, height: int, rows: int) -> bytes:
    """A small .rc whose header (with a valid CRC) declares a huge picture in `rows`-row strips."""
    header = codec.Header(width, height, 12, 16, rows, bytes(32), bytes(32), 10, [1] * 6)
    body = codec.pack_header(header)
    return body + bytes(16)


def test_a_tiny_rc_declaring_a_huge_picture_is_refused_at_once():
    import time

    for w, h, rows in ((1, 2 ** 32 - 1, 1), (8192, 8192, 64), (2 ** 20, 2 ** 20, 1)):
        start = time.perf_counter()
        with pytest.raises(rclib.FormatError, match="limit|corrupt"):
            codec.unpack_header(_rc_declaring(w, h, rows))
        assert time.perf_counter() - start < 1.0


def test_a_bpg_declaring_a_huge_picture_is_refused(photos):
    from rclib import bpg

    blob = bpg.encode(photos["chelsea"][:16, :16], 30)
    p = bpg.parse(blob)
    big = bpg.write(8192, 8192, p.annexb())
    with pytest.raises(rclib.FormatError, match="limit"):
        bpg.decode(big)


def _rewrapped(blob: bytes, edit) -> bytes:
    """A consistent BPG file (lengths right) around the NALs of `blob` after `edit(nals)`."""
    from rclib import bpg, hevc

    p = bpg.parse(blob)
    nals = edit(hevc.split_nals(p.annexb()))
    return bpg.write(p.width, p.height, b"".join(b"\x00\x00\x00\x01" + n for n in nals))


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_a_damaged_slice_in_a_consistent_bpg_is_an_error(photos, damage):
    """rclib's BPG files carry the MD5 of their decoded planes (x265's picture-hash SEI), so a
    slice cut short or with a flipped bit is refused, not decoded to a damaged picture."""
    from rclib import bpg, hevc

    blob = bpg.encode(photos["coffee_odd"], 12, backend="embedded")

    def edit(nals):
        i = next(i for i, n in enumerate(nals) if hevc.nal_type(n) < 32)
        s = bytearray(nals[i])
        if damage == "cut":
            s = s[: 2 * len(s) // 3]
        else:
            s[len(s) // 2] ^= 0x10
        return nals[:i] + [bytes(s)] + nals[i + 1:]

    assert np.array_equal(bpg.decode(_rewrapped(blob, lambda nals: nals)), bpg.decode(blob))
    with pytest.raises(rclib.FormatError, match="corrupt HEVC data"):
        bpg.decode(_rewrapped(blob, edit))


def test_pixel_limit_is_one_setting(monkeypatch, tmp_path, photos):
    from PIL import Image

    from rclib.imageio import read_picture

    Image.fromarray(photos["chelsea"][:20, :30]).save(tmp_path / "a.png")
    monkeypatch.setenv("RCLIB_MAX_PIXELS", "500")
    with pytest.raises(InputError, match="limit of 500"):
        read_picture(tmp_path / "a.png")
    monkeypatch.setenv("RCLIB_MAX_PIXELS", "600")
    assert read_picture(tmp_path / "a.png")[0].shape == (20, 30, 3)


def test_decompression_bomb_is_one_line(tmp_path):
    """A 109 KB PNG declaring 30000 x 30000 pixels."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
    (tmp_path / "bomb.png").write_bytes(png)
    run = subprocess.run([sys.executable, "-m", "rclib", "compress", str(tmp_path / "bomb.png"),
                          str(tmp_path / "o.rc")], capture_output=True, text=True)
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "limit" in run.stderr


# ----------------------------------------------------------------------------- CLI errors
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rclib", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture()
def small_rc(tmp_path, photos, tiny_model):
    from PIL import Image

    Image.fromarray(photos["chelsea"][:24, :32]).save(tmp_path / "in.png")
    torch.save({"config": __import__("dataclasses").asdict(tiny_model.config),
                "state_dict": tiny_model.state_dict()}, tmp_path / "tiny.pt")
    assert _cli("compress", tmp_path / "in.png", tmp_path / "in.rc", "--q", "12",
                "--model", tmp_path / "tiny.pt").returncode == 0
    return tmp_path


def test_output_path_errors_are_one_line(small_rc):
    d = small_rc
    (d / "afile").write_text("x")
    (d / "adir").mkdir()
    cases = [
        ("decompress", d / "in.rc", d / "adir", "--force", "--model", d / "tiny.pt"),
        ("decompress", d / "in.rc", d / "afile" / "out.png", "--model", d / "tiny.pt"),
        ("compress", d / "in.png", "/proc/rclib-out.rc", "--q", "12", "--model", d / "tiny.pt"),
    ]
    for case in cases:
        run = _cli(*case)
        assert run.returncode == 1, (case, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr, run.stderr


def test_a_foreign_model_file_is_one_line(small_rc):
    run = _cli("decompress", small_rc / "in.rc", small_rc / "o.png", "--model", small_rc / "in.png")
    assert run.returncode == 1 and "not rclib residual-model weights" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_outputs_respect_the_umask(small_rc):
    import os

    run = subprocess.run(["sh", "-c", f"umask 022 && {sys.executable} -m rclib decompress "
                          f"{small_rc / 'in.rc'} {small_rc / 'o.png'} --model {small_rc / 'tiny.pt'}"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert os.stat(small_rc / "o.png").st_mode & 0o777 == 0o644


def test_a_grayscale_flag_on_a_colour_file_is_refused(photos, tiny_model):
    """Setting the flag (CRC recomputed) must not make the decoder drop G and B."""
    import struct
    import zlib

    blob = bytearray(codec.compress(photos["chelsea"][:24, :24], q=12, model=tiny_model))
    _, start = codec.unpack_header(bytes(blob))
    blob[5] |= codec.FLAG_GRAY
    blob[start - 4:start] = struct.pack(">I", zlib.crc32(bytes(blob[:start - 4])))
    with pytest.raises(rclib.FormatError, match="grayscale"):
        codec.decompress(bytes(blob), model=tiny_model)


def test_a_header_quantizer_out_of_range_is_refused():
    header = codec.Header(64, 64, 52, 16, 64, bytes(32), bytes(32), 10, [1] * 6)
    with pytest.raises(rclib.FormatError, match="quantizer out of range"):
        codec.unpack_header(codec.pack_header(header) + bytes(16))
