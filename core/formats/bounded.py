"""Bounded reading: every reader takes at most a fixed number of bytes from a file.

A palette or point file can be anything a user points at: a symlink to ``/dev/zero``, a FIFO,
a 2 MB gzip that expands to 2 GB.  ``Path.read_bytes()`` and ``gzip.decompress()`` size their
work by the input, so such files used to end in a MemoryError traceback (12.4 GB peak and 40 s
for the gzip bomb).  Here every read is capped, and the cap is an :class:`InputError` naming
the file:

* :func:`read_capped` reads a small file whole, but never more than ``limit + 1`` bytes, so an
  endless device is refused after ``limit`` bytes (palettes: 64 MiB, about 50 ms from
  ``/dev/zero``).
* :func:`text_pieces` streams a text file, gzipped or not, as decoded pieces of whole lines:
  the caller parses one piece at a time, so memory holds one piece and never the whole text.
  Decompressed bytes are counted against ``max_bytes``; a NUL byte (``/dev/zero``, a binary
  file, UTF-16) stops the read at the first piece; a line longer than
  :data:`MAX_LINE_BYTES` stops it too (a 2 GB file of digits without a line end).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from typing import IO

from palettelab.core.errors import InputError, describe_os_error

#: longest line (row) of a text file: a row of 100,000 cells of 20 characters fits
MAX_LINE_BYTES = 16 << 20

#: what a damaged gzip stream raises while it is read
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


class NotUtf8(Exception):
    """A piece was not UTF-8: the caller reads the file again as Latin-1."""


def path_name(path: object, what: str) -> str:
    """``path`` as text for messages; anything that is not a path is an InputError
    (``load_image(None)`` used to end in open's TypeError)."""
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise InputError(f"{what} must be a file path (str or os.PathLike), got {path!r}"
                         ) from None


def open_input(path: str | os.PathLike[str], name: str) -> IO[bytes]:
    """Open a file for reading; OS errors become one-line InputErrors naming it."""
    try:
        return open(path, "rb")  # closed by the caller's with
    except OSError as error:
        raise InputError(f"{name}: {describe_os_error(error, path)}") from None


def read_capped(path: str | os.PathLike[str], name: str, limit: int) -> bytes:
    """The whole file, or an InputError when it holds more than ``limit`` bytes."""
    with open_input(path, name) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as error:
            raise InputError(f"{name}: read error ({describe_os_error(error, path)})") from None
    if len(data) > limit:
        raise InputError(f"{name}: larger than {_size(limit)}; not a file of this kind")
    return data


def text_pieces(handle: IO[bytes], name: str, *, compressed: bool, encoding: str,
                quoted: bool, piece_bytes: int, max_bytes: int) -> Iterator[tuple[int, str]]:
    """(lines before the piece, text) for consecutive pieces of whole lines of the file.

    Pieces are about ``piece_bytes`` long, decoded with ``encoding`` ("utf-8": a leading byte
    order mark is dropped and an invalid byte raises :class:`NotUtf8`), and every line end
    (CRLF, CR, LF) is ``"\\n"``.  With ``quoted``, a piece never ends inside a ``"``-quoted
    cell, so that a quoted line break stays within one piece as the csv module expects.
    """
    carry = b""
    lines = 0
    for block in _blocks(handle, name, compressed, piece_bytes, max_bytes):
        data = carry + block if carry else block
        cut = _cut(data, quoted)
        if cut == 0:
            if len(data) > MAX_LINE_BYTES:
                raise InputError(f"{name}: row {lines + 1} is longer than "
                                 f"{_size(MAX_LINE_BYTES)}; not a point file?")
            carry = data
            continue
        carry = data[cut:]
        text = _decoded(data[:cut], encoding, lines == 0)
        yield lines, text
        lines += text.count("\n")
    if carry:
        yield lines, _decoded(carry, encoding, lines == 0)


def _blocks(handle: IO[bytes], name: str, compressed: bool, piece_bytes: int,
            max_bytes: int) -> Iterator[bytes]:
    stream = gzip.GzipFile(fileobj=handle, mode="rb") if compressed else handle
    total = 0
    while True:
        try:
            block = stream.read(piece_bytes)
        except _GZIP_ERRORS as error:
            if not compressed:
                raise
            raise InputError(f"{name}: not a readable gzip file ({error})") from None
        except OSError as error:
            raise InputError(f"{name}: read error ({error.strerror or error})") from None
        if not block:
            return
        total += len(block)
        if total > max_bytes:
            what = "decompressed text" if compressed else "text"
            raise InputError(f"{name}: more than {_size(max_bytes)} of {what}; save large "
                             "point sets as .npy")
        if b"\0" in block:
            raise InputError(f"{name}: not a text file (it contains NUL bytes)")
        yield block


def _cut(data: bytes, quoted: bool) -> int:
    """Length of the longest prefix of whole lines (0: none).  A CR at the very end is left
    for the next block, which may start with its LF; with ``quoted``, the prefix holds an even
    number of quote characters."""
    cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1
    if quoted:
        odd = data.count(b'"', 0, cut) % 2
        while odd and cut > 0:
            start = max(data.rfind(b"\n", 0, cut - 1), data.rfind(b"\r", 0, cut - 1)) + 1
            odd ^= data.count(b'"', start, cut) % 2
            cut = start
    return cut


def _decoded(raw: bytes, encoding: str, first: bool) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise NotUtf8 from None
    if first and text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _size(limit: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if limit >= 1 << shift:
            return f"{limit / (1 << shift):g} {unit}"
    return f"{limit} bytes"
