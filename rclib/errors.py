"""Exceptions rclib raises: one base class so callers and the CLI can catch them all."""


class RclibError(Exception):
    """Base class of every error rclib raises on purpose."""


class FormatError(RclibError):
    """A file or bitstream is malformed, truncated or uses an unsupported feature."""


class InputError(RclibError):
    """An input picture cannot be coded losslessly as given (mode, bit depth, size)."""
