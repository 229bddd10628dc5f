"""Errors that carry a message a person can act on.

Everything in ``core`` that rejects user input raises :class:`InputError`; the CLI and the GUI
catch exactly this type and show its message on one line, so the message must name what was wrong
and, when there is one, the file it came from.
"""


import os


class InputError(ValueError):
    """Bad input (data, parameters or files) with a one-line, human-readable message."""


def describe_os_error(error: OSError, path: str | os.PathLike[str]) -> str:
    """A short reason for a failed open or read, worded the same for images and point files."""
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError) or os.path.isdir(path):  # Windows: PermissionError
        return "is a directory"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error)
