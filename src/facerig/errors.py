"""Error types. Anything raised as :class:`FacerigError` is shown to CLI users as one line."""


class FacerigError(Exception):
    """A user-facing error: bad input, missing data, unsupported option.

    The CLI prints ``error: <message>`` and exits with status 2; no traceback.
    """


class MeshError(FacerigError):
    """The input mesh cannot be used (empty, NaN, degenerate, wrong format, too large...)."""


class DataError(FacerigError):
    """Training / evaluation data is missing or malformed (e.g. ICT FaceKit not found)."""
