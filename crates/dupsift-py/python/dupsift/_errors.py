"""The exceptions dupsift raises.

Every one is a :class:`dupsift.Error`, and also the builtin a caller would catch for it:
``ValueError`` for parameters and columns, ``OSError`` for inputs that cannot be read.
"""


class Error(Exception):
    """Base class of every error dupsift raises."""


class ParameterError(Error, ValueError):
    """Parameters that cannot work (an unknown name, a wrong type, a threshold out of range...)."""


class ColumnError(Error, ValueError):
    """A table without a usable text column (missing, or not strings)."""


class InputError(Error, OSError):
    """An input that does not exist or cannot be read, or changed while being read."""


class StrictError(Error, ValueError):
    """A bad input (unreadable, malformed, invalid UTF-8...) under ``strict=True``."""
