"""Datasets: the embedded photo set built from Debian packages, the paper's sets, and loading.

The embedded set follows shared/datasets.md: photographs only (chosen by eye, listed below with
SHA-256 of each source file), the largest variant of each picture, JPEG artifacts removed the way
the seed's Open Images set was made (a seeded random antialiased downscale by at least 2x so the
longer side lands in 512..1024 px), stored as PNG, split by source package.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import eet
from .errors import InputError, RclibError

# (split, Debian package, path inside the package, SHA-256 of that file); judged by eye once:
# renders, logos and art were left out (lxqt kde-plasma/plasma_arch/simple_blue_widescreen,
# lomiri umang/analogpattern, all of mate's desktop/abstract folders).
EMBEDDED_PHOTOS = [
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/Butterfly-Kenneth-Wimer.jpg", "c237c26f6f0b18db3afa62a0eff13cb8208b79a1ef35aaadcb745d8f9faef146"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/Valendas.png", "f2d275c51d116942cea8e7d80d30c7d3c130349a0695caf2aa235f926ae15759"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/after-the-rain.jpg", "e6cb8b3e09b904cc493ff17fddcd564d4e46a1761d05adf972c285a1fd878234"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/appleflower.png", "bae8a8eb8274b29509f1cbbfe250081331c5704a1fea25d5052166a0451e67f3"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/beam.png", "3d199194b048cb793c0ad558337cda3e16f14cd054168d1d813620e24a0a5659"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/butterfly.png", "13175434d99075e075de7321942e66169e3c99ac9416024dcf4123bd3b38749c"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/cloud.png", "522dbf79dfaff751cf8ef2f337c9d196a231fa096bc38806a76ce048b8c7b5a2"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/drop.png", "3b726aea9a6f8af36431c6f1974f982f7f4c5a4443499500bda31be27e4ffde8"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/flowers.png", "3a935d8be4d6c9784f9079ff2814acd2de2c8406e9fe584be03e90264f37c371"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/fog.jpg", "a8235344ee6b5ab1b6de3ccef731bcc0e6509cf33ce832db87eae1eb75987083"),
    ("val", "lxqt-themes", "usr/share/lxqt/wallpapers/this-is-not-windows.jpg", "2d885e0438c0ab244f818d33d8f745a1cc486558462faf9bf3948675c68ac227"),
    ("val", "libjxl-testdata", "usr/share/libjxl-testdata/jxl/flower/flower.png", "06fe0af7a5c790d2932a40e2d76b0d91aa6e73f3e55cc3f97ea6afae0133c2e7"),
    # enlightenment-data: the 14 nature photos (3840x2160 JPEG q~99, 4:4:4), each the largest of
    # the sizes in its Eet container; its art wallpapers (Dunes, Flat-*, Squiggle*, Paper-Flower,
    # Sunset-Hills) are left out.  "a.edj!b" is entry b of Eet file a; the digest is the entry's.
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Bamboo.edj!edje/images/0",
     "d8d003f6ebb4437bac4a579eadef7fdf4aae0144e443edd444c8af61bff17809"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Foggy-Trees.edj!edje/images/0",
     "6a1934df4d3d0d4cfc654bb125a9322b49188dabc519dd918a9fa71ef5c6ee0c"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/God-Rays.edj!edje/images/0",
     "cb871506ee3d339d26bf382c5c9e98f1fa749bd99d7e5b6cb3a4cb849d50354d"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Green-Maple.edj!edje/images/0",
     "4db2abb44fb3dec55f18fc4e4eb0f72e4af9fe7af9cce1d5573f926e49811b0e"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Lichen-Branches.edj!edje/images/0",
     "08c9e543b99ec73ff73203bcfc5b8c3f9f0ec9c3aa2e8e94fdb2a640e5f6179a"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Mountain.edj!edje/images/0",
     "dcbef7e92cc196474f3b4eabf80b45a4dab0bdf8066deaf9ef565048bb72f8bb"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Peaks.edj!edje/images/0",
     "4fea206973cdc79c91fa8045eb9201696f91f627c1b6760da0bed766e0a85549"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Red-Maple.edj!edje/images/0",
     "bb6097ffef927fb219f7225da09df55ce2110a8c2b636d6e387802b9c1bf567e"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Sea-of-Lanterns.edj!edje/images/0",
     "e1a4db127d62346f2e7930abb5770caebe7ce6257afa7bc842a1e79a8dac4fe4"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Snow-Trees.edj!edje/images/0",
     "3671426df1713ecd0165679ca5023eb5ad631d0c5a1b58386722cb020dc6f3cb"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Spruce-Needles.edj!edje/images/0",
     "fa3f06176b8c1ffc57964912c1faf512c845278f6d95addf6e4f0f56ef643d7e"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Sunset-Clouds.edj!edje/images/0",
     "c99581ba894a81cc0169cc2b2656f80d0f7884787368ff21a15ac539af0ffd08"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/White-Flower.edj!edje/images/0",
     "a55797bf0a107c1f64725ec3a6d5cefcd617730831ec230bf16398e0a7100c46"),
    ("val", "enlightenment-data", "usr/share/enlightenment/data/backgrounds/Yellow-Flower.edj!edje/images/0",
     "00b486e183927954465f42122b9462bcfebc0474d10ab790323d0e1cfe10fd9c"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg", "bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/Dragonfly_by_Bolly.jpg", "af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/Picture_0B_by_freespace.jpg", "c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/Picture_1A_by_freespace.jpg", "89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg", "d2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg", "66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/free_by_Peter_Nerlich.jpg", "85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg", "cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg", "e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg", "4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg", "414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg", "a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f"),
    ("train", "lomiri-wallpapers-16.04", "usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg", "474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/Aqua.jpg", "5c30118205982da441bf7e6a1ada636a8a0be879408140b3148280c665ed6bce"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/Blinds.jpg", "f7aac0dcc2e06d0491643e84df3da1d9db7c4610f58806a880d56e074799f600"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/Dune.jpg", "8a67c2cb0be8c46b70c237311a4fa4d2b4ac7d39568135384787801fa5cc9a91"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/FreshFlower.jpg", "972b0a0c4e5e3fa93f4f244fc84bc64b121a5eac3aaa5856f1308c1f38a02f8e"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/Garden.jpg", "d3095ee09d425ef23d27155412136cf14fc3c9af76ca58b452f55e23da324e78"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/GreenMeadow.jpg", "8fa0de0aa4089f7319c9fb7a6d006d4cab6023e8c8853731557cff53567b4832"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/LadyBird.jpg", "e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/RainDrops.jpg", "3e4ea9671c28c90a86cf67b3db9daf18c4741587c596333a7529ca589aaa0c16"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/Storm.jpg", "77ca53077831d3237f73393a91fc879158abc046d852941c26e90de336356957"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/TwoWings.jpg", "665e5abf8a5399070a91a9a8e455fe071e5b61697ff78fdeda4e9843ef545aeb"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/Wood.jpg", "19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07"),
    ("train", "mate-backgrounds", "usr/share/backgrounds/mate/nature/YellowFlower.jpg", "254da96256acb7add685679775a04d1e4a5bc8cd13e5a5a3d61351ce198a5306"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg", "c272434ef39f2abf1ed48a15a8910088020f3165329a5092f3940ec9464bc05f"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg", "05bef6722fc0ed81292cceb3ed026c38d17e510f3c84be7d68610c2b1a723c3f"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg", "6e0f3a72feb5a4a9fec191b77e34874c3c69e2d93040deb3f07773e73385023d"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg", "8e3703fae3a3c217b1fc2b399b706cd3720584268d071ba153e4809daa55f1ce"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg", "586682dcb362b9f620068f10138f87d0d3649939aef238adc5807cb951976a7a"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg", "95603a6560c7e8d50e0e03b3f4adbe39c5258c72528e74e4ecaea1daf4e499de"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/Kite/contents/images/2560x1600.jpg", "bdca288ce296a981e80659c021cf707caddc702c0c8d4247e60bd618476d47f8"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg", "cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/Path/contents/images/2560x1600.jpg", "7477457d7f17b736259f1b021864778ad4ba802cf3214e6728181ff29126bba8"),
    ("train", "plasma-workspace-wallpapers", "usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg", "c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8"),
    ("train", "palapeli-data", "usr/share/palapeli/collection/castle-maintenon.jpg", "f4a6bf48b97d97715413f9ebd2d8744bd46df0e492bc8326e2513d51084f2612"),
    ("train", "palapeli-data", "usr/share/palapeli/collection/cincinnati-bridge.jpg", "09772d09318b34a5c5edd58ee86ff462bcd2907006f31cc8e0704310f8e9ab60"),
    ("train", "palapeli-data", "usr/share/palapeli/collection/citrus-fruits.jpg", "0cbd7154a14789803167c86705130d0358875198231269df168ea26224e70848"),
    ("train", "palapeli-data", "usr/share/palapeli/collection/european-honey-bee.jpg", "9d54ae706bddd899c91b2b801d9ca4556a5a9a399b4043f9d539df62a8cb7f27"),
    ("train", "palapeli-data", "usr/share/palapeli/collection/panther-chameleon-female.jpg", "adb9e2834a8a3db40ca3817452b956ada527085e5aa2bd604c465651a3834ae4"),
    ("train", "sddm-theme-maldives", "usr/share/sddm/themes/maldives/background.jpg", "032d28ee4f3d885e9340ae430457fd59341e9fbf8ca45502d86ad14362ffb4a0"),
]

# The paper's test sets, for users with the network.  SHA-256 values are pinned on first download
# (stored in the cache's checksums.json) unless given here; a later mismatch is an error.
PAPER_DATASETS = {
    "div2k_valid_hr": ("https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip", None),
    "clic2020_mobile_valid": ("https://data.vision.ee.ethz.ch/cvl/clic/mobile_valid_2020.zip", None),
    "clic2020_professional_valid": ("https://data.vision.ee.ethz.ch/cvl/clic/professional_valid_2020.zip", None),
}

IMAGE_SUFFIXES = (".png", ".ppm", ".pnm", ".tif", ".tiff", ".bmp", ".jpg", ".jpeg", ".webp")


class DatasetError(RclibError):
    """A dataset could not be fetched or its content is not what the recipe expects."""


def cache_dir() -> Path:
    """Where downloads and prepared data live: $RCLIB_CACHE, else ~/.cache/rclib."""
    return Path(os.environ.get("RCLIB_CACHE", Path.home() / ".cache" / "rclib"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------- loading
def list_images(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"not a folder: {folder}")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def load_rgb(path) -> np.ndarray:
    """Read a picture (a path or a binary file) as uint8 (H, W, 3) for datasets (lossy inputs and
    opaque alpha allowed)."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA") and im.getextrema()[-1][0] < 255:
            raise InputError(f"{path}: has transparent pixels; not a plain photograph")
        return np.asarray(im.convert("RGB"))


# ----------------------------------------------------------------------------- embedded set
def _download_debs(packages: list[str], dest: Path) -> dict[str, Path]:
    """apt-get download each package once into `dest` (cached)."""
    dest.mkdir(parents=True, exist_ok=True)
    found = {p: next(iter(sorted(dest.glob(f"{p}_*.deb"))), None) for p in packages}
    missing = [p for p, f in found.items() if f is None]
    if missing:
        if shutil.which("apt-get") is None:
            raise DatasetError("apt-get is needed to fetch the embedded dataset (Debian packages)")
        cmd = ["apt-get", "download", *missing]
        run = subprocess.run(cmd, cwd=dest, capture_output=True, text=True)
        if run.returncode != 0:  # package lists may be missing on a fresh machine
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            run = subprocess.run(cmd, cwd=dest, capture_output=True, text=True)
        if run.returncode != 0:
            raise DatasetError(f"apt-get download {' '.join(missing)} failed:\n{run.stderr.strip()}")
        found = {p: next(iter(sorted(dest.glob(f"{p}_*.deb"))), None) for p in packages}
    return found


def _downscale(rgb: np.ndarray, key: str, seed: int) -> np.ndarray:
    """Seeded random antialiased downscale: longer side to U(512, 1024), always by >= 2x."""
    from PIL import Image

    rng = np.random.default_rng([seed, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)])
    h, w = rgb.shape[:2]
    target = min(int(rng.integers(512, 1025)), max(h, w) // 2)
    scale = target / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS, reducing_gap=None))


def source_photo(package: str, inner: str) -> np.ndarray:
    """The full-size original of one listed photo (verified), as uint8 RGB."""
    entry = next((p for p in EMBEDDED_PHOTOS if p[1] == package and p[2] == inner), None)
    if entry is None:
        raise InputError(f"{package}:{inner} is not in the embedded recipe")
    deb = _download_debs([package], cache_dir() / "debs")[package]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        return load_rgb(io.BytesIO(_read_source(Path(tmp), entry)))


def _read_source(extracted: Path, photo: tuple) -> bytes:
    """The verified bytes of one listed source file ("file!entry" for an Eet member)."""
    _, pkg, inner, digest = photo
    outer, _, member = inner.partition("!")
    path = extracted / outer
    if not path.exists():
        raise DatasetError(f"{pkg} no longer contains {outer}; the recipe needs updating")
    raw = path.read_bytes()
    if member:
        try:
            raw = eet.read(raw, member)
        except eet.EetError as exc:
            raise DatasetError(f"{pkg}:{outer}: {exc}; the recipe needs updating") from None
    if hashlib.sha256(raw).hexdigest() != digest:
        raise DatasetError(f"{pkg}:{inner} differs from the recipe (SHA-256 mismatch)")
    return raw


def prepare_embedded(root: Path | None = None, seed: int = 0, limit: int | None = None,
                     progress: bool = True) -> Path:
    """Fetch, verify and downscale the embedded photo set into root/{train,val}/*.png.

    Returns root (default: cache_dir()/embedded).  Work already done is skipped.  `limit` keeps
    the first N photos of each split (for fast tests).
    """
    from PIL import Image
    from tqdm.auto import tqdm

    root = Path(root) if root else cache_dir() / "embedded"
    photos = _select(limit)
    todo = [p for p in photos if not (root / p[0] / _out_name(p)).exists()]
    if todo:
        debs = _download_debs(sorted({p[1] for p in todo}), cache_dir() / "debs")
        with tempfile.TemporaryDirectory() as tmp:
            for split, pkg, inner, digest in tqdm(todo, desc="embedded photos", disable=not progress):
                extracted = Path(tmp) / pkg
                if not extracted.exists():
                    subprocess.run(["dpkg-deb", "-x", str(debs[pkg]), str(extracted)], check=True)
                photo = (split, pkg, inner, digest)
                rgb = load_rgb(io.BytesIO(_read_source(extracted, photo)))
                out = root / split / _out_name(photo)
                out.parent.mkdir(parents=True, exist_ok=True)
                small = _downscale(rgb, f"{pkg}/{inner}", seed)
                tmp_out = out.with_suffix(".tmp.png")
                Image.fromarray(small).save(tmp_out)
                os.replace(tmp_out, out)
    _prune(root)
    _write_manifest(root, photos)
    return root


def _prune(root: Path) -> None:
    """Delete prepared photos that are no longer in the recipe (left by an older rclib), so they
    cannot slip into training or validation unlisted."""
    listed = {(p[0], _out_name(p)) for p in EMBEDDED_PHOTOS}
    for split in ("train", "val"):
        for path in (root / split).glob("*.png"):
            if (split, path.name) not in listed:
                path.unlink()


def _select(limit: int | None) -> list[tuple]:
    if limit is None:
        return list(EMBEDDED_PHOTOS)
    out = []
    for split in ("train", "val"):
        out += [p for p in EMBEDDED_PHOTOS if p[0] == split][:limit]
    return out


def _out_name(photo: tuple) -> str:
    _, pkg, inner, _ = photo
    outer = inner.partition("!")[0]  # an Eet container is named after its one picture
    stem = Path(outer).stem if not outer.endswith("/2560x1600.jpg") else Path(outer).parts[-4]
    return f"{pkg}__{stem}.png"


def _write_manifest(root: Path, photos: list[tuple]) -> None:
    import pandas as pd

    rows = []
    for split, pkg, inner, digest in photos:
        out = root / split / _out_name((split, pkg, inner, digest))
        if out.exists():
            from PIL import Image
            with Image.open(out) as im:
                w, h = im.size
            rows.append(dict(split=split, file=f"{split}/{out.name}", package=pkg, source=inner,
                             source_sha256=digest, width=w, height=h, png_sha256=sha256_file(out)))
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)


def split_digest(split: str, root: Path | None = None) -> tuple[int, str]:
    """(photos, SHA-256) of one split of the prepared embedded set: its PNG names and digests from
    the manifest, so a record of what a model was trained on survives changes to the other split."""
    import pandas as pd

    root = Path(root) if root else cache_dir() / "embedded"
    rows = pd.read_csv(root / "manifest.csv")
    rows = rows[rows.split == split].sort_values("file")
    lines = "".join(f"{f} {d}\n" for f, d in zip(rows.file, rows.png_sha256))
    return len(rows), hashlib.sha256(lines.encode()).hexdigest()


# ----------------------------------------------------------------------------- paper sets
def fetch_archive(name: str, url: str, sha256: str | None = None, root: Path | None = None,
                  progress: bool = True) -> Path:
    """Download an archive of pictures, verify its SHA-256, unpack it; return the picture folder.

    Without `sha256` the first download's digest is pinned in root/checksums.json and every
    later download must match it.
    """
    from tqdm.auto import tqdm

    root = Path(root) if root else cache_dir() / "datasets"
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    if (target / ".complete").exists():
        return target
    pins_path = root / "checksums.json"
    pins = json.loads(pins_path.read_text()) if pins_path.exists() else {}
    expected = sha256 or pins.get(name)
    archive = root / (name + "." + url.rsplit("/", 1)[-1].split(".", 1)[-1])
    part = archive.with_name(archive.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(part, "wb") as fh:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
                for block in iter(lambda: resp.read(1 << 20), b""):
                    fh.write(block)
                    bar.update(len(block))
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise DatasetError(f"could not download {url}: {exc}") from None
    digest = sha256_file(part)
    if expected and digest != expected:
        part.unlink()
        raise DatasetError(f"{name}: SHA-256 {digest} does not match the expected {expected}")
    os.replace(part, archive)
    if not expected:
        pins[name] = digest
        pins_path.write_text(json.dumps(pins, indent=2, sort_keys=True))
    _unpack(archive, target)
    (target / ".complete").write_text(digest)
    return target


def _unpack(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            members = zf.namelist()
            _check_members(members, target)
            zf.extractall(target)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            _check_members(tf.getnames(), target)
            tf.extractall(target, filter="data")
    else:
        raise DatasetError(f"{archive.name}: neither a zip nor a tar archive")
    # Flatten: move pictures from sub-folders up so the dataset is one folder of pictures.
    for p in list(target.rglob("*")):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and p.parent != target:
            os.replace(p, target / p.name)


def _check_members(names: list[str], target: Path) -> None:
    base = target.resolve()
    for n in names:
        if not (base / n).resolve().is_relative_to(base):
            raise DatasetError(f"archive member escapes the target folder: {n}")


def fetch_paper_dataset(name: str, root: Path | None = None) -> Path:
    if name not in PAPER_DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(PAPER_DATASETS)}")
    url, digest = PAPER_DATASETS[name]
    return fetch_archive(name, url, digest, root)


def resolve(dataset: str, split: str = "val") -> Path:
    """A dataset name or folder -> a folder of pictures (fetched/prepared when needed)."""
    if dataset == "embedded":
        return prepare_embedded() / split
    if dataset in PAPER_DATASETS:
        return fetch_paper_dataset(dataset)
    path = Path(dataset)
    if not path.is_dir():
        raise InputError(f"{dataset!r} is neither a known dataset nor a folder")
    return path
