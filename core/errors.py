"""Errors that carry a message a person can act on.

Everything in ``core`` that rejects user input raises :class:`InputError`; the CLI and the GUI
catch exactly this type and show its message on one line, so the message must name what was wrong
and, when there is one, the file it came from.
"""


class InputError(ValueError):
    """Bad input (data, parameters or files) with a one-line, human-readable message."""
