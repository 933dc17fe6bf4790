"""rclib: lossless image compression built on lossy compression (RC, Mentzer et al., CVPR 2020)."""
from .errors import FormatError, InputError, RclibError

__version__ = "0.1.0"
__all__ = ["RclibError", "FormatError", "InputError", "__version__"]
