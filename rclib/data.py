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
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import eet, rcc
from .errors import InputError, RclibError
from .imageio import atomic_write

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
    # gcompris-qt-data: every photo of 0.3 MPix or more in the activities shared/datasets.md names
    # (clickgame's sea* only), looked at once on contact sheets: all photographs; castleClinton
    # left out (black and white).  Lossy WebP inside Qt resource files: "file.rcc!member".
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/clickgame.rcc!gcompris/src/activities/clickgame/resource/sea1.webp", "a3a8c196d24f6c37fc2e9bebd421ffa339485cf511fc2c3258ba9e5a17076170"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/clickgame.rcc!gcompris/src/activities/clickgame/resource/sea2.webp", "533dcc0d871a390d5ee648ce1b4cfbccb41890cc1e514e5966f3cc02550d75a4"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/clickgame.rcc!gcompris/src/activities/clickgame/resource/sea3.webp", "9c8236a6ade2a59fb05dfe03802cd9aa5d5e672c85731b136847287c33265974"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/clickgame.rcc!gcompris/src/activities/clickgame/resource/sea4.webp", "21295e109d35b0f11a9c8dd17524be6212571cb28fad56613be1f8789a261f5e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/clickgame.rcc!gcompris/src/activities/clickgame/resource/sea5.webp", "08c6d1ae0ea47c5136137148c817472da329ca1e67063b0fb3e60190e5c55b00"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/clickgame.rcc!gcompris/src/activities/clickgame/resource/sea6.webp", "42f7a4152c54f8bf065e8ad182472729a5374a6860c573a4de1ea0987e026cf3"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/alpaca.webp", "ffd29864f09bf7439144e8da04d772fb455cfe9891d50e60ae70b99a16e42d5e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/bee.webp", "810de9fea0499e4d1a7584c8b62b509ef1c404d9bec3094d53aeb8a77abdc7b2"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/butterfly.webp", "e12b50bb4ee6bb36bd4e3ab428a2d1ea87d5390b5a6a4aa189b10950a1925860"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/calf.webp", "5957d392349d9016e0b6a2ca900ebd12a6a6eed6b21a1fb69111d1fabbca3973"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/camels.webp", "df4da85790b8a403f5095e796d042f28f8386831a4970ab4b3035746ae038edc"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/caterpillar.webp", "1aca9fcc5a0e3e9f2b2bc7d0f231e509f935dd8207b064e7c1810e0466e9403a"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/chamaeleon.webp", "8a338c7df32949c5a5e1fef4b901d554b1c1af71c6a5bd81882522c11e0c41e5"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/cheetah.webp", "b9d85c2e2899036e7b0caf458696586adf63d431e5034362bb48a0abd8d29149"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/crab.webp", "822be2d08adc89a71e6eeff1500eea684c6f0961c98ddb1b23f0e66bbae4f987"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/dolphin.webp", "2847f84c4c9698a9b55124145dd679868da1239b0f174db8f2c83e173cbb9d8c"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/flying_fox.webp", "076622230f0634c0ef952f8f197280262db2355205c22f0c8f7731a13557c54a"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/gibbon.webp", "a7b242c4b014e7e37f2f3fac95c841c49e2dea5d5aa886e2ab4758e0372af9f8"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/giraffe.webp", "c39106edc785a65bf0eee10bf039375b2fc3f72b405d76fec392a1a40b39d4f0"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/goat.webp", "acba63337c11582a5cc3fd97573e4fefd353da82e63a06f1947cdbb11f49b7bd"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/gorilla.webp", "5ce6131ce966f585b263e2f04cbd504dd7366f99885ca3cbef12aa25d559b5d4"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/gosling.webp", "dab7bc930f6fe4f7a32db0b8f1bd86d905db50d8aa2e646522c428c731a80853"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/heron.webp", "63006dabe8b74b826eba8d8d80c4330ff38f57fd3e1010254f4644d830c48067"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/horse.webp", "15b49393342bf7de3fef6c1bb083cc7b643fa90b5b46e1a344833eb1d515a795"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/kingfisher.webp", "b637658d7e0f8f555b5683a8c912646d57ba37be6ba9684df893a1d07ee9e637"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/kitten.webp", "c6f3a52585a3d6179c78e15375a9d9b11f37bfd0ac33b477f3b67cda06c59727"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/long_nosed_monkey.webp", "7dcb1048527339524e6decd296d4bf8c22d74415fe5d6fcaa3354ae17530bf86"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/macaque.webp", "3a97a3c854c6d93cc67cc608e569ed0e6157f22cd5dd7e118fb0a42641eeada8"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/meerkats.webp", "459198d83393a1835c76861d901144d209a0bead29f4b9d2ef5b472eeab01fdd"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/northern_harrier.webp", "e2b2f388dc6f92ce2ea0f40f2d8d2d1ec6e8a135d05986cae67a7d0330c1ac26"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/nubian_ibex.webp", "5268033ecc366dbcf949a06e62361785a7be788dfa2b1ad343e7ded8104cfaf2"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/penguin.webp", "1c8be6df0a6ff161ad49a789b5699f842b18f5dc93bf6b66fd5f1342266643b2"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/pika.webp", "1c8a4014d079380622c55d15afe6cad5bb53c42b09eb5b4e7bec8f127fdd063f"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/red_panda.webp", "ec755f7b9d8953037161a7cf4f01270fdc92382913b33d987ceb27c1dfa6ded1"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/rhinoceros.webp", "250140eb6d3a0af11b87c084ce18a6c41a8ed679c97ef758b58ba54e04b11f9c"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/spoonbills.webp", "f67d7d04bf3ba2270953db11be657fc3fc7292d4d070891f5164fef5b1665f96"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/squirrel.webp", "56bdd761a41440bdd47eae4aa75b1703f9d24c5d09c8352f9b462deaa6b9b96f"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/swans.webp", "5fe69699bf37d702c3ca9b2b76c727aff717494ba368272952e05ac233028eda"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/erase.rcc!gcompris/src/activities/erase/resource/toucan.webp", "977b0ff4277075a4ef79e0c335276fd5a2ae68f8bf366503fd33203c49f82b04"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/cat.webp", "ab7c3e1b04e80bc567b00dba49946918b5a38be1f37618f0d2b4887ef5792770"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/chicken.webp", "30a07d3c7dfc191ff4d160826ad14babb4cfb9cb47b15ec8a098857f135bfcd4"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/cow.webp", "db359136be5ef7c435a2521e7f782a7f13ab48634f8a955864b1557ca21926db"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/dog.webp", "5e9d9544495740101e4cfff817d986b683731112b2cf17fde2e4c2a26c3c5314"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/duck.webp", "fa4572f2022a3aded4b627b9234fb8abf1658d125b267dc8d28cb1a8213c3b60"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/horse.webp", "87879a9644b71713f52aadf22562f30cc3e6e25a36e07d602a90e0cf6ec888aa"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/owl.webp", "e8b7d705a955799f02eb3e8ded6487991d2c5c8274fee828ac75c0b917b3e237"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/pig.webp", "4f3d27d1fd3d0b3c0482d72a7b62101c133329f95427dcb3fb1319e69d53b7c8"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/sheep.webp", "3bac61d5dabb709cdea2511f63bab6bfcde9736536a39f1f7510f5258a75b088"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/egypt/bentPyramid.webp", "ca717a088d790a901ffa1b03162c5cc438f99924d457f988263f158a7cc2cb38"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/egypt/greatPyramidOfGiza.webp", "f8427c09579493e7918d00134423ed40140c2f3fa09fb13341d3c1a0640fc1e9"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/egypt/meidumPyramid.webp", "694a4eaebc52849aacf802383bc5c755c0fff97b8342a4ef733c7a36c6e6aa53"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/egypt/redPyramid.webp", "7df87dfe904e18fee2062e8dba2cbfc5c7b807e27c688b271a7380000865c2cf"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/arlesAmphitheater.webp", "62d80a80ca5e5040bdb87c6f2fb57fa333d9b190c9a41066e4017cd4268656d9"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/chateaudeChambord.webp", "a96693bfff66c9a747a066b8d798aaf876427de969603c4125bf881f8af0ac2d"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/chateaudeChenonceau.webp", "4e414fc35ae9b4e18e3219d6278287fb720e89facd332fef9a1c4fe9c3c3adc3"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/citedeCarcassonne.webp", "b9de4b334e76df53df948de034f4bcc744be682a904ad7c61a9f9f7ac8de326b"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/eiffelTower.webp", "cf115ede228937f0dfea0ffd7efa5fa24a948f388091ce1a123e7636b25c080b"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/montStMichel.webp", "1c097b958c4bc0e52384e572c3e3ed70abbb54e9b4936cd0852320e1ce12561e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/palaisdesPapes.webp", "fded6367850d2fafaf5ecad961ba51efbdc0c3d3171f7cc058d2ccfd2e6897e6"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/pontduGard.webp", "b9e560a9ae2fd919baec7f5ceb08877d57194e614481b25058693a88c232897f"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/reimsCathedral.webp", "720ddce0a3124d68e306008c152fb19ec2a2917b3609ba8a31607cffaf52c2d2"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/france/rocamadour.webp", "e9642c03c23004248bcdf0a364d9828625ba5ef75f82e4a10bfdf2b16bd0a18c"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/aulaPalatina.webp", "5b39680425fca3ff5f56b3bd79d11683a46a009d66ef23445e165ea72524b3cb"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/berlinCathedral.webp", "b552994f64727ceaa04218d6a5e7a86b08cb8b550c1eeae0b010f857286d308e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/brandenburgGate.webp", "2cb312c79a20e0cd8ed865c5b15a95af86d8d95a0ab96da8814c073857abf4bb"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/neuschwansteinCastle.webp", "15ec5fcb8758d54efa65581b9682e5cc766d700f3f329d700a06d0550d2c8e03"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/schwerinPalace.webp", "91be8dd19821221b2b3c30a78cb43a17d8017751a1d36acd751b1e9417acbbae"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/trierImperialBaths.webp", "dd1818360d153c095e227157d128e498fe9b29437594e8e5c663184cad4120fb"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/germany/wormsCathedral.webp", "c90cdcbf981bcd5f118b553b059448db6fb0bfe801b40240e02ccd2975b92a59"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/ajantaCave.webp", "7dbf980b3711f7557ed4d5748e494c48f72ac34ff601cf1a46f272ff9ab20543"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/charminar.webp", "a657a2139787bded963966d92b4ff9825327572e5e73d4badc1ac52cc063db0f"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/gatewayofIndia.webp", "8d1053776a85a9703f819ae6a82f981cbfa9a8961712404afee235afd87a0e48"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/goldenTemple.webp", "ec52355726f8c36c78f0db526dc0fd8c823f5572a5ced04e8914a82a7b496a8c"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/greatStupa.webp", "3b6741152471d00646271d3a413c08af0533766f09dc87af19abb9ff71801886"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/hawaMahal.webp", "4edb7eed9db596bd7f3ad98eb34a82c04c32ff1d57aeec80a815c1248feb8e04"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/konarkSunTemple.webp", "c94ddb83bb2d878fecaf0677e8e6c1e73ede7dd39bd69f5e84d2f68e84515156"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/mysorePalace.webp", "a84a26be8d9447341e5235dd319acc71a49f2d91c8dd55a17a89867c64a580c0"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/qutubMinar.webp", "dea912cbd3950dacbba8cd810e39713525c27d54e58ce6ba7502a0f83cf24c95"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/rangGhar.webp", "41791947f8772c9bf483ddb13a4fa4dfbbd1eef44f29937a99eebc5361d981a2"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/india/victoriaMemorial.webp", "be7b3264cd3391e5b50714e0cec31f2e23e658498b5aba584a4b9aaf526dc51e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/cabrillo.webp", "e109eb44fd12f853a4adfa0c30ca5a6bcc03205a58c9e6802b88886751d42277"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/canyondeChelly.webp", "2148fe45a54186a6e8bc4a395bbbffa0e3530e65232ceda5b841397a0d031bfb"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/castillodeSanMarcos.webp", "b1d3584272eb66d8211a9cb71a3647e88597986f8020eca9691c488282ea9a88"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/fortSumter.webp", "42c8376f99f770fa9daa92afb8cde44dc58dd3282b10c5ba8fabec02ea4b9643"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/georgeWashingtonBirthplace.webp", "134f44b0e1c333202da337c73b6752db36fcbb5cb73e05cfcb4e5f4ff2fb4f43"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/lincolnMemorial.webp", "52eab4d110bd168e644c9152a60a911cdd8ba5e3d4b661e966f256a074f66fb8"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/mountRushmore.webp", "d9fec7d6ac491a64c5dab74fed447054e9d188dc9732715bef12bd63909e87c8"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/navajo.webp", "fa8d36162b1380ac7998ab32d82f7b86b390cdce830acd807ef314291cc03ee5"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/usa/statueofLiberty.webp", "8eeda3c92c734520b4b7865eb04a900402a329890064058bcb4448d21669a3a8"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/chichenItza.webp", "9882593801be435822f1d948afb36b171ed7fc7a301dfa74b11df5ea9afaf681"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/christTheRedeemer.webp", "3133f2872b3d791595296fd4bf4812654326e01f5c7cd2d870765bfd6772fa2b"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/colosseum.webp", "0d38a0c2d4910f895c003825999345a86da080ff76d709bba923153cbd654945"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/greatWallofChina.webp", "546e2483d17c2b732ce375d946afba6fc612166abcd6d976217747a982b60777"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/machuPicchu.webp", "e04e163ccef6e59411dff15c3459768b2f442fe2ff5042369d9a480f1f272068"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/petra.webp", "cc782ccdd5b508299ad17402df2d0d375c26e1f9b18e4d2e6c3fd474fcaeb458"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_monuments.rcc!gcompris/src/activities/explore_monuments/resource/wonders/tajMahal.webp", "fc0d45ec5a258568858c70d2d78eb23a5eb769255d74b384f70c20422d2eb351"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/bison.webp", "11f3b2c5b876ee083924ff3ffab233c3e1d161993605b67d4d2ab5a9f1d9cf25"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/chameleon.webp", "f3ececf0133c1301227fdea62d74bce7bcc0d138b048714b116aa4a0744260d5"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/crocodile.webp", "840cf54b69bf4fb9a14a99fe502e237ad36e7230c146ca884b7b0e444ec12534"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/dragon.webp", "fc36683cc2069ac83ae84f2da61c2774149d1a1dcb99820380b724ca50d3532e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/giraffe.webp", "68014ed783cf6a8b8c9c4202cf2c467a34819dab08bf566e93d5fcd872e41f5c"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/hedgehog.webp", "780aceaa624415db1f6ff304ed13e804572686316e69d21ee0e13856ef173f7e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/jaguar.webp", "22704727b6643480c62487ffb2d9fd618a3f499dde84b1eb789d4b0b11477e85"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/kangaroo.webp", "683964b6f57fdced539b3da8983ef4f4c9d78a0be3e251363fc5a17d4fb4fe7e"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/koala.webp", "77b243c27d79f3f5706497af5c1e8e9134f87d634def2b81e2074b572b575d18"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/lemur.webp", "4fccf91dd5e6a749d9eb621f982e6a0d7072830db91ba0daabcd86b1de7a9747"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/moose.webp", "2252a671c2e0ade9ce6ff6d41957348a81ebccfd952ba59bfddceff0b059ea48"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/narwhal.webp", "2a94d2fc7482ca806ce60210031f167782f7407ed47cd721371355e2ab575afc"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/panda.webp", "70ccf9a9db5008100eb6955ae25fabd4f7769427be784d627cf6315f6dfce692"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/polar_bear.webp", "0544cef0a7d6940d3c143a04eecb7065bf9b90d7d367ad8bacbef6631b506070"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/scarlet_macaw.webp", "8b088ed71a87e7e929cf08b49a1e1c977c47544307d348e52a0f4a85128662a0"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/africa.webp", "c4b27aebe08498a882efa57ebc1ac2798ae2173228656f107cd8bff6098b5acf"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/america.webp", "72af64588442d1e251ed33568629d35bf88b3fa348def66265320571bdda0927"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/australia.webp", "b7e0bc6da6f9fd8b2ae453f9a4a7021e5439bbd8944d4566b938134c0fa24951"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/ireland.webp", "20ef5a10a55b03632dc5fec2434c3a7814c15abbbe7489dedb4aa97ee6b111af"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/italy.webp", "b30a023e5d36bb053a4ee8e57bd0b4fa2042e3d0a5ab8e663a341ba6e35672ad"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/japan.webp", "0f0aa2d3116e01acdc693b626b1b60699124145670e624121289a7ced5020679"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/mexico.webp", "cd1286e5d7649bc446a47297f0127a38295e5a5f39a641b528e0c5063675c9d1"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/middleeast.webp", "bc847e52730f5920b6743b59c881cc16430a1d2438ceba9008a2880530f7aaf2"),
    ("train", "gcompris-qt-data", "usr/share/gcompris-qt/rcc/explore_world_music.rcc!gcompris/src/activities/explore_world_music/resource/music/orchestra.webp", "b4a6d85a40cefbd33cc6801ffcbb3ad7026d8d79be134c753b4f12b0b862cedf"),
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


def _key_int(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def _downscale(rgb: np.ndarray, key: str, seed: int, longer: tuple[int, int] = (512, 1024)) -> np.ndarray:
    """Seeded random antialiased downscale: longer side to U(longer), always by >= 2x."""
    from PIL import Image

    rng = np.random.default_rng([seed, _key_int(key)])
    h, w = rgb.shape[:2]
    target = min(int(rng.integers(longer[0], longer[1] + 1)), max(h, w) // 2)
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
    if member and outer.endswith(".rcc"):
        try:
            files = rcc.read(raw)
        except rcc.RccError as exc:
            raise DatasetError(f"{pkg}:{outer}: {exc}; the recipe needs updating") from None
        if member not in files:
            raise DatasetError(f"{pkg}:{outer} no longer contains {member}; the recipe needs updating")
        raw = files[member]
    elif member:
        try:
            raw = eet.read(raw, member)
        except eet.EetError as exc:
            raise DatasetError(f"{pkg}:{outer}: {exc}; the recipe needs updating") from None
    if hashlib.sha256(raw).hexdigest() != digest:
        raise DatasetError(f"{pkg}:{inner} differs from the recipe (SHA-256 mismatch)")
    return raw


# Samples made from each source photo (shared/datasets.md's recipe plus issue #11's "more samples
# per photo"): every photo at the recipe's downscale; training photos also at a stronger one
# (and, for an ablation, with synthetic sensor noise); validation photos from clean
# sources (PNG, enlightenment's JPEG q~99 4:4:4) also as a 768x512 crop at native resolution,
# where real noise, grain and fine texture survive.  Variant "" is the recipe's own picture.
TRAIN_VARIANTS = ("", "~small")
# "~noisy" (the downscale plus synthetic sensor noise, add_sensor_noise) is prepared only for
# bench/noise_ablation.py: after 1000 steps it changed validation bits by -0.2 % on enlightenment's
# native crops, +1.1 % on flower's, +0.03 % overall, so it does not earn its BPG prep and memory.
ABLATION_VARIANTS = ("~noisy",)
VAL_VARIANTS = ("", "~native")
NATIVE_PACKAGES = ("enlightenment-data", "libjxl-testdata")
NATIVE_CROP = (512, 768)  # (height, width), Kodak's size


def variants(photo: tuple, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The variant suffixes prepared for one recipe entry (plus `extra` training variants)."""
    if photo[0] == "train":
        return TRAIN_VARIANTS + tuple(extra)
    return VAL_VARIANTS if photo[1] in NATIVE_PACKAGES else ("",)


def prepare_embedded(root: Path | None = None, seed: int = 0, limit: int | None = None,
                     progress: bool = True, extra_variants: tuple[str, ...] = ()) -> Path:
    """Fetch, verify and prepare the embedded photo set into root/{train,val}/*.png.

    Returns root (default: cache_dir()/embedded, or embedded-limitN for a limited run so the full
    set's manifest is never rewritten by one).  Work already done is skipped.  `limit` keeps the
    first N photos of each split (for fast tests); `extra_variants` (ABLATION_VARIANTS) are
    prepared into root/ablation (never seen by training) and left out of the manifest.
    """
    from tqdm.auto import tqdm

    if root is None:
        root = cache_dir() / ("embedded" if limit is None else f"embedded-limit{limit}")
    root = Path(root)
    photos = _select(limit)
    folder = lambda split, v: root / ("ablation" if v in ABLATION_VARIANTS else split)  # noqa: E731
    todo = [p for p in photos
            if any(not (folder(p[0], v) / _out_name(p, v)).exists() for v in variants(p, extra_variants))]
    if todo:
        debs = _download_debs(sorted({p[1] for p in todo}), cache_dir() / "debs")
        with tempfile.TemporaryDirectory() as tmp:
            for photo in tqdm(todo, desc="embedded photos", disable=not progress):
                split, pkg, inner, _ = photo
                extracted = Path(tmp) / pkg
                if not extracted.exists():
                    subprocess.run(["dpkg-deb", "-x", str(debs[pkg]), str(extracted)], check=True)
                rgb = load_rgb(io.BytesIO(_read_source(extracted, photo)))
                for variant in variants(photo, extra_variants):
                    out = folder(split, variant) / _out_name(photo, variant)
                    if not out.exists():
                        _save_png(out, make_variant(rgb, f"{pkg}/{inner}", variant, seed))
    _prune(root)
    _write_manifest(root, photos)
    return root


def make_variant(rgb: np.ndarray, key: str, variant: str, seed: int = 0) -> np.ndarray:
    """One prepared sample of a source photo (see TRAIN_VARIANTS); seeded by the photo's key."""
    if variant == "":
        return _downscale(rgb, key, seed)
    if variant == "~small":
        return _downscale(rgb, key + variant, seed, longer=(256, 512))
    if variant == "~noisy":
        rng = np.random.default_rng([seed, _key_int(key + variant)])
        return add_sensor_noise(_downscale(rgb, key + variant, seed), rng)
    if variant == "~native":
        h, w = rgb.shape[:2]
        ch, cw = min(NATIVE_CROP[0], h), min(NATIVE_CROP[1], w)
        y0, x0 = (h - ch) // 2, (w - cw) // 2
        return np.ascontiguousarray(rgb[y0:y0 + ch, x0:x0 + cw])
    raise ValueError(f"unknown variant {variant!r}")


def add_sensor_noise(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Signal-dependent noise like a camera's (Poisson-Gaussian: variance a*x + b), partly shared
    by the three channels and, half of the time, spatially correlated as after demosaicing."""
    x = rgb.astype(np.float32)
    sigma_mid = rng.uniform(0.8, 3.5)      # noise std at mid-grey, in 8-bit levels
    shot = rng.uniform(0.3, 1.0)           # share of that variance growing with the signal
    var = sigma_mid ** 2 * (shot * x / 128.0 + (1.0 - shot))
    rho = rng.uniform(0.2, 0.8)            # share common to R, G and B
    noise = (np.sqrt(rho) * rng.standard_normal((*x.shape[:2], 1))
             + np.sqrt(1 - rho) * rng.standard_normal(x.shape)).astype(np.float32)
    if rng.random() < 0.5:
        k = np.array([0.25, 0.5, 0.25], np.float32)
        noise = (k[0] * np.roll(noise, 1, 0) + k[1] * noise + k[2] * np.roll(noise, -1, 0))
        noise = (k[0] * np.roll(noise, 1, 1) + k[1] * noise + k[2] * np.roll(noise, -1, 1))
        noise /= noise.std() + 1e-8
    return np.clip(np.rint(x + np.sqrt(var) * noise), 0, 255).astype(np.uint8)


def _save_png(out: Path, rgb: np.ndarray) -> None:
    """Atomic, and safe when two runs prepare the same cache: a private temporary name, then rename."""
    from PIL import Image

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".part-", suffix=".png")
    os.close(fd)
    try:
        Image.fromarray(rgb).save(tmp, format="PNG")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _prune(root: Path) -> None:
    """Delete prepared photos that are no longer in the recipe (left by an older rclib), so they
    cannot slip into training or validation unlisted.  Other runs' temporary files are left alone."""
    listed = {(p[0], _out_name(p, v)) for p in EMBEDDED_PHOTOS for v in variants(p)}
    for split in ("train", "val"):
        for path in (root / split).glob("*.png"):
            if not path.name.startswith(".part-") and (split, path.name) not in listed:
                path.unlink(missing_ok=True)


def _select(limit: int | None) -> list[tuple]:
    if limit is None:
        return list(EMBEDDED_PHOTOS)
    out = []
    for split in ("train", "val"):
        out += [p for p in EMBEDDED_PHOTOS if p[0] == split][:limit]
    return out


def _out_name(photo: tuple, variant: str = "") -> str:
    _, pkg, inner, _ = photo
    outer, _, member = inner.partition("!")
    if outer.endswith(".rcc"):  # the same animal appears in several gcompris activities
        stem = f"{Path(outer).stem}-{Path(member).stem}"
    elif outer.endswith("/2560x1600.jpg"):
        stem = Path(outer).parts[-4]
    else:  # an Eet container is named after its one picture
        stem = Path(outer).stem
    return f"{pkg}__{stem}{variant}.png"


def package_of(name: str) -> str:
    """The source package of a prepared picture's file name, with its variant ("pkg~native")."""
    stem = Path(name).stem
    pkg, _, rest = stem.partition("__")
    variant = rest[rest.index("~"):] if "~" in rest else ""
    return pkg + variant


def _write_manifest(root: Path, photos: list[tuple]) -> None:
    import pandas as pd
    from PIL import Image

    rows = []
    for photo in photos:
        split, pkg, inner, digest = photo
        for variant in variants(photo):
            out = root / split / _out_name(photo, variant)
            if out.exists():
                with Image.open(out) as im:
                    w, h = im.size
                rows.append(dict(split=split, file=f"{split}/{out.name}", package=pkg, variant=variant,
                                 source=inner, source_sha256=digest, width=w, height=h,
                                 png_sha256=sha256_file(out)))
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".manifest-", suffix=".csv")
    os.close(fd)
    pd.DataFrame(rows).to_csv(tmp, index=False)
    os.replace(tmp, root / "manifest.csv")


def split_digest(split: str, root: Path | None = None, packages=None, variants=None) -> tuple[int, str]:
    """(pictures, SHA-256) of one split of the prepared embedded set: its PNG names and digests from
    the manifest, so a record of what a model was trained on survives changes to the other split.
    `packages` / `variants` restrict it to some source packages / sample variants (a model trained
    on an earlier recipe records which)."""
    import pandas as pd

    root = Path(root) if root else cache_dir() / "embedded"
    rows = pd.read_csv(root / "manifest.csv", keep_default_na=False)
    rows = rows[rows.split == split]
    if packages is not None:
        rows = rows[rows.package.isin(list(packages))]
    if variants is not None:
        rows = rows[rows.variant.isin(list(variants))]
    rows = rows.sort_values("file")
    lines = "".join(f"{f} {d}\n" for f, d in zip(rows.file, rows.png_sha256))
    return len(rows), hashlib.sha256(lines.encode()).hexdigest()


# ----------------------------------------------------------------------------- paper sets
def fetch_archive(name: str, url: str, sha256: str | None = None, root: Path | None = None,
                  progress: bool = True) -> Path:
    """Download an archive of pictures through pooch (retries, progress bar, SHA-256 check, written
    atomically), unpack it; return the picture folder.

    Without `sha256` the first download's digest is pinned in root/checksums.json and every
    later download must match it.
    """
    import pooch
    import requests

    root = Path(root) if root else cache_dir() / "datasets"
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    if (target / ".complete").exists():
        return target
    pins_path = root / "checksums.json"
    pins = json.loads(pins_path.read_text()) if pins_path.exists() else {}
    expected = sha256 or pins.get(name)
    fname = name + "." + url.rsplit("/", 1)[-1].split(".", 1)[-1]
    fetcher = pooch.create(path=root, base_url="", registry={fname: f"sha256:{expected}" if expected else None},
                           urls={fname: url}, retry_if_failed=2)
    try:
        archive = Path(fetcher.fetch(fname, downloader=pooch.HTTPDownloader(progressbar=progress, timeout=60)))
    except ValueError:  # pooch's hash mismatch (after its retries); the download is not kept
        raise DatasetError(f"{name}: SHA-256 of the download does not match the expected {expected}") from None
    except (OSError, requests.RequestException) as exc:
        raise DatasetError(f"could not download {url}: {exc}") from None
    digest = sha256_file(archive)
    if not expected:
        pins[name] = digest
        atomic_write(pins_path, json.dumps(pins, indent=2, sort_keys=True).encode(), force=True)
    _unpack(archive, target)
    atomic_write(target / ".complete", digest.encode(), force=True)
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
