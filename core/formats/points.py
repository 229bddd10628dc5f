"""Reading point files: tables of numbers to cluster, with optional ground-truth labels.

Every point file leaves :func:`load_points` as a :class:`PointSet` (an (n, d) float64 array, its
column names and, when the file has one, a label column encoded as integer codes), and every
failure is an :class:`~palettelab.core.errors.InputError` whose one-line message names the file
and, for a
bad value, the row and the column, so that the user can find it in an editor or a spreadsheet.
Nothing is dropped silently: a cell that is not a number, a row with the wrong number of cells, a
NaN or an infinity stops the load.

Decisions:

* **Formats** come from the extension: ``.csv`` (comma, or semicolon when the first line has
  semicolons and no comma, as spreadsheets write in locales with decimal commas), ``.tsv`` (tab),
  ``.txt`` (any whitespace; ``#`` starts a comment, as with ``numpy.savetxt``/``loadtxt``),
  ``.npy`` and ``.npz``.  CSV and TSV cells may be quoted with ``"``.  Text is UTF-8 (a byte
  order mark is ignored), or Latin-1 when it is not valid UTF-8, so that a header written by an
  old spreadsheet still loads; CRLF and CR line ends are accepted.  Decimal commas are not: such
  a cell is reported, with a hint.
* **Header.**  The first row is a header when it has a cell that is not a number and either
  there is no second row, or the first row names a label column, or one of its non-numeric cells
  sits above a number.  The last condition (looser than "the second row is all numbers") keeps a
  typo in row 2 reported against the header's names, while a headerless file with a text column
  in every row is reported as that text column, not mistaken for a header.  A label column
  chosen by index plays no part (its text may be labels or a name).  A header of numbers
  only (``0,1,2``) cannot be told from data and is read as data.  Empty header cells are named
  like headerless columns (``x0``, ``x1``, ...).
* **Labels.**  By default (``label_column="auto"``), with a header, a column named ``label``,
  ``labels``, ``class`` or ``target`` (any case) is ground truth, never a coordinate.  When
  several are present the first name in that order wins and the others must hold numbers.
  ``y`` is a coordinate: ``x,y`` is the usual header of 2-D points, and taking it as labels
  made such files 1-D data, clustered ``x,y,z`` on x and z, and turned a typo in ``y`` into a
  class instead of an error.  A headerless file has no label column unless one is chosen:
  ``label_column`` may name a column (exactly, surrounding spaces ignored; a headerless file's
  columns are ``x0``, ``x1``, ...) or give its index from 0, and None reads every column as
  data.  Label values may be numbers or text.  Codes follow the *sorted* distinct values
  (numerically when every value is a number, else by text), so the same labels get the same
  codes whatever the row order; ``label_names`` keeps the values as text (numbers written
  plainly, ``2`` rather than ``2.0``).
* **Numbering.**  Rows are the file's lines counted from 1 with the header as row 1, as a
  spreadsheet or an editor shows them (blank and comment lines are skipped but still counted).
  Columns are named when there is a header, else counted from 1.  Rows and columns of ``.npy`` and
  ``.npz`` arrays are counted from 1 as well, so that every message reads the same way.
* **Arrays.**  A 2-D numeric (bool, integer or float) array is taken as it is; a 1-D one is one
  column (``(n,)`` → ``(n, 1)``).  A ``.npz`` must hold an array ``X``, or a single array of any
  name; an array ``y`` (else ``labels``) of length n gives the labels (scikit-learn's ``X, y``;
  ``y`` is an array there, not a column).  A chosen ``label_column`` takes a column of the
  points array instead, and is the only way a ``.npy`` file has labels.  Pickled data is never
  loaded (``allow_pickle=False``), and an array's shape and type are checked from its header
  before its data is read, so that an oversized or unsuitable array costs nothing.
* **Speed.**  Text is parsed by ``numpy.loadtxt`` (C code: a million rows of two columns in
  about a second) whenever the file is plain: numbers only (numeric labels included), one row a
  line.  Anything else (text labels, lines of only spaces, odd whitespace) and every failure
  goes through a careful parser, a few times slower, which splits the rows with the csv module,
  converts whole columns with Python's ``float``, and finds the first problem in file order.
  The fast path accepts only what the careful parser would accept, with the same values.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import stat
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

import numpy as np

from palettelab.core.checks import check_int, is_integer
from palettelab.core.errors import InputError
from palettelab.core.formats.bounded import NotUtf8, open_input, path_name, text_pieces

#: extensions of the point files offered in file dialogs and accepted by :func:`load_points`
POINT_EXTENSIONS = (".csv", ".tsv", ".txt", ".npy", ".npz")

#: header names (case-insensitive) of a ground-truth column, in order of precedence
LABEL_COLUMNS = ("label", "labels", "class", "target")

#: ``load_points(label_column=AUTO)`` finds the label column by its name (:data:`LABEL_COLUMNS`)
AUTO = "auto"

#: most column names listed in a message about a column that is not there
_LISTED_NAMES = 10

#: the most points accepted by default: 20 M points of 3 float64 coordinates are 480 MB
DEFAULT_MAX_POINTS = 20_000_000

#: array kinds accepted as coordinates (bool, signed, unsigned, float) and as labels (+ text)
_NUMERIC_KINDS = "biuf"
_LABEL_KINDS = "biufUS"
_KIND_PROBLEMS = {
    "c": "complex numbers; points must be real",
    "O": "Python objects, which are never loaded from files (allow_pickle=False)",
    "U": "text, not numbers",
    "S": "bytes, not numbers",
    "V": "a structured (record) array; save a plain numeric array",
    "M": "dates, not numbers",
    "m": "time spans, not numbers",
}
#: what reading a damaged .npy/.npz raises (a zip member can fail while decompressing; numpy's
#: header parser lets tokenize.TokenError out of a header cut in a bracket: found by fuzzing)
_ARRAY_ERRORS = (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError,
                 zipfile.BadZipFile, zlib.error)

#: longest excerpt of a bad cell quoted in a message
_SHOWN_CHARS = 40


@dataclass(frozen=True, eq=False)
class PointSet:
    """Points to cluster and, when known, their ground truth.

    ``X`` is (n, d) float64, C-contiguous, finite and read-only (shared by the views and the
    worker, nobody should change it).  ``columns`` names the d coordinates (``x0``, ``x1``, ...
    when the source has no names).  ``labels`` holds (n,) int64 codes 0..c-1 into
    ``label_names`` (the original values as text, in code order), or is None with empty
    ``label_names``.  ``path`` is the file, or a description such as ``dataset:moons``.
    ``file_columns`` names every column of the file in order, the label column included: the
    choices of ``load_points(label_column=...)`` by index (empty for points not read from a file).
    Equality is identity (``eq=False``): comparing arrays element-wise has no single truth value.
    """

    X: np.ndarray
    columns: tuple[str, ...]
    labels: np.ndarray | None
    label_names: tuple[str, ...]
    path: str
    file_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # cheap shape checks: a PointSet built by hand elsewhere must keep the same promises
        if self.X.ndim != 2 or self.X.dtype != np.float64 or len(self.columns) != self.X.shape[1]:
            raise ValueError(f"PointSet needs (n, d) float64 X with d column names, got "
                             f"{self.X.dtype} {self.X.shape} and {len(self.columns)} names")
        if (self.labels is None) != (not self.label_names):
            raise ValueError("PointSet needs label_names exactly when it has labels")
        if self.labels is not None and self.labels.shape != (self.X.shape[0],):
            raise ValueError(f"PointSet labels of shape {self.labels.shape} do not match "
                             f"{self.X.shape[0]} points")

    def __len__(self) -> int:
        return self.X.shape[0]


def make_point_set(X: np.ndarray, columns: tuple[str, ...], labels: np.ndarray | None,
                   label_names: tuple[str, ...], path: str,
                   file_columns: tuple[str, ...] = ()) -> PointSet:
    """A :class:`PointSet` whose arrays are C-contiguous (float64, int64) and read-only.

    Shared by the file readers and :mod:`palettelab.core.datasets`; the arrays may be copied.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    X.flags.writeable = False
    if labels is not None:
        labels = np.ascontiguousarray(labels, dtype=np.int64)
        labels.flags.writeable = False
    return PointSet(X, tuple(columns), labels, tuple(label_names), path, tuple(file_columns))


def load_points(path: str | os.PathLike[str], *, max_points: int = DEFAULT_MAX_POINTS,
                label_column: str | int | None = AUTO) -> PointSet:
    """Read a point file (format from its extension, see :data:`POINT_EXTENSIONS`).

    ``max_points`` refuses files with more points than that.  ``label_column`` is :data:`AUTO`
    (a column named as in :data:`LABEL_COLUMNS`, or a .npz file's ``y`` array), None (no
    labels: every column is data), or the name or 0-based index of the column holding the
    labels.  Raises :class:`InputError`, naming the file (and the row and column of a bad
    value), for anything that stops the file loading.
    """
    name = path_name(path, "the point file path")
    label_column = _check_label_column(label_column, name)
    max_points = check_int(max_points, "max_points", low=1)
    stem, extension = os.path.splitext(name)
    extension = extension.lower()
    compressed = extension == ".gz"
    if compressed:  # text point files may be gzipped, as the bundled digits are
        extension = os.path.splitext(stem)[1].lower()
    if extension not in POINT_EXTENSIONS or (compressed and extension in (".npy", ".npz")):
        kind = f"file type '{extension}'" if extension else "file type (no extension)"
        raise InputError(f"{name}: unknown point {kind}; expected one of "
                         f"{', '.join(POINT_EXTENSIONS)} (text ones may end in .gz)")
    with open_input(path, name) as handle:
        if extension == ".npy":
            return _load_npy(handle, name, max_points, label_column)
        if extension == ".npz":
            return _load_npz(handle, name, max_points, label_column)
    try:
        return _load_text(path, name, extension, compressed, "utf-8", max_points, label_column)
    except NotUtf8:  # a header written by an old spreadsheet: the whole file is Latin-1
        return _load_text(path, name, extension, compressed, "latin-1", max_points,
                          label_column)


def _check_label_column(label_column: object, name: str) -> str | int | None:
    """``label_column`` with numpy integers made Python ints; the wrong type, or a negative
    index, is refused before reading."""
    if label_column is None or isinstance(label_column, str):
        return label_column
    if not is_integer(label_column):
        raise InputError(f"{name}: label_column must be 'auto', None, a column name or a "
                         f"column index, got {label_column!r}")
    if label_column < 0:
        raise InputError(f"{name}: label_column {label_column} is not a column index "
                         "(columns count from 0)")
    return int(label_column)


# text files


class _Dialect(NamedTuple):
    """How one text file splits into cells."""

    delimiter: str | None  # None: any run of whitespace
    quotechar: str | None
    comments: str | None


class _Layout(NamedTuple):
    """What the first rows say about the file: where the data starts and what each column is."""

    start: int  # line number of the header (the body follows it), 0 without one
    width: int  # cells per row
    names: tuple[str, ...]  # the header's, else x0, x1, ...
    header: bool  # whether the names come from a header (else columns are counted from 1)
    label: int | None  # index of the label column


Pieces = Iterator[tuple[int, str]]  # (lines before the piece, text of whole lines)


def _load_text(path: str | os.PathLike[str], name: str, extension: str, compressed: bool,
               encoding: str, max_points: int, label_column: str | int | None) -> PointSet:
    """Stream the file piece by piece (see :func:`~palettelab.core.formats.bounded.text_pieces`):
    memory holds one piece of text, the numbers parsed so far and the label codes."""
    with open_input(path, name) as handle:
        pieces = text_pieces(handle, name, compressed=compressed, encoding=encoding,
                             quoted=extension != ".txt", piece_bytes=_PARSE_PIECE,
                             max_bytes=MAX_TEXT_BYTES)
        dialect, layout, body = _head(pieces, name, extension, label_column)
        table = _Table(layout, dialect, name, max_points)
        for offset, text in body:
            table.add(text, offset)
    X, labels = table.result()
    codes, label_names = labels if labels is not None else (None, ())
    return make_point_set(X, tuple(layout.names[j] for j in table.features), codes,
                          label_names, name, layout.names)


def _head(pieces: Pieces, name: str, extension: str,
          label_column: str | int | None) -> tuple[_Dialect, _Layout, Pieces]:
    """The dialect (from the first line that is not blank), the layout (from the first two
    rows) and the pieces of the body, what follows the header."""
    dialect = None
    kept: list[tuple[int, str]] = []
    found: list[tuple[int, list[str]]] = []
    for offset, text in pieces:
        if dialect is None:
            if not text.strip():
                continue
            dialect = _dialect(text, extension)
        kept.append((offset, text))
        try:
            found += [(line + offset, cells) for line, cells
                      in itertools.islice(_rows(text, dialect), 2 - len(found))]
        except _CsvError as error:
            raise InputError(f"{name}: row {error.line + offset}: {error.problem}") from None
        if len(found) == 2:
            break
    if not found or dialect is None:
        raise InputError(f"{name}: the file is empty")
    layout = _layout(found, name, label_column)
    return dialect, layout, itertools.chain(_after(kept, layout.start), pieces)


def _after(kept: list[tuple[int, str]], start: int) -> Pieces:
    """The pieces with every line up to line ``start`` dropped."""
    for offset, text in kept:
        if start <= offset:
            yield offset, text
            continue
        parts = text.split("\n", start - offset)
        if len(parts) == start - offset + 1:
            yield start, parts[-1]


def _dialect(text: str, extension: str) -> _Dialect:
    if extension == ".txt":
        return _Dialect(None, None, "#")
    if extension == ".tsv":
        return _Dialect("\t", '"', None)
    stripped = text.lstrip()
    end = stripped.find("\n")
    first = stripped if end < 0 else stripped[:end]
    delimiter = ";" if ";" in first and "," not in first else ","
    return _Dialect(delimiter, '"', None)


def _rows(text: str, dialect: _Dialect) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every row that is not blank or a comment, lazily."""
    if dialect.delimiter is None:
        for number, line in enumerate(io.StringIO(text), 1):
            cells = line.split(dialect.comments, 1)[0].split()
            if cells:
                yield number, cells
        return
    reader = csv.reader(io.StringIO(text), delimiter=dialect.delimiter,
                        quotechar=dialect.quotechar)
    try:
        for cells in reader:
            if len(cells) > 1 or (cells and cells[0].strip()):
                yield reader.line_num, cells
    except csv.Error as error:  # e.g. a cell longer than csv.field_size_limit()
        raise _CsvError(reader.line_num, str(error)) from None


class _CsvError(Exception):
    """The csv module gave up on a line; turned into an InputError naming the row."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _layout(found: list[tuple[int, list[str]]], name: str,
            label_column: str | int | None) -> _Layout:
    """Find the header, if any, and the label column from the first two rows (line, cells)."""
    (line, cells), second = found[0], found[1] if len(found) > 1 else None
    named = _named_label(cells, label_column)
    chosen = label_column if isinstance(label_column, int) else None
    header = _is_header(cells, None if second is None else second[1], named, chosen)
    if header:
        if second is None:
            raise InputError(f"{name}: no data rows after the header (row {line})")
        names = tuple(cell.strip() or f"x{j}" for j, cell in enumerate(cells))
    else:
        names = tuple(f"x{j}" for j in range(len(cells)))
        line = 0
    label = named if label_column == AUTO else _chosen_label(label_column, names, name)
    _check_coordinates_left(names, label, name)
    return _Layout(line, len(names), names, header, label)


def _named_label(cells: list[str], label_column: str | int | None) -> int | None:
    """Index of the cell of a first row that names the label column, if one does."""
    if not isinstance(label_column, str):
        return None
    stripped = [cell.strip() for cell in cells]
    if label_column != AUTO:
        return stripped.index(label_column) if label_column in stripped else None
    folded = [cell.lower() for cell in stripped]
    for wanted in LABEL_COLUMNS:
        if wanted in folded:
            return folded.index(wanted)
    return None


def _chosen_label(label_column: str | int | None, names: tuple[str, ...],
                  name: str) -> int | None:
    """The index of an explicitly chosen label column among ``names`` (None: no labels)."""
    if label_column is None:
        return None
    if isinstance(label_column, int):
        if label_column >= len(names):
            raise InputError(f"{name}: label_column {label_column} is out of range: the file "
                             f"has {_count(len(names), 'column')} (0 to {len(names) - 1})")
        return label_column
    if label_column not in names:
        listed = ", ".join(names[:_LISTED_NAMES]) + (", …" if len(names) > _LISTED_NAMES else "")
        raise InputError(f"{name}: no column named '{label_column}' for the labels; the "
                         f"columns are {listed}")
    return names.index(label_column)


def _check_coordinates_left(names: tuple[str, ...], label: int | None, name: str) -> None:
    if label is not None and len(names) == 1:
        raise InputError(f"{name}: the only column is the label column '{names[0]}', "
                         "there are no coordinates")


def _is_header(first: list[str], second: list[str] | None, named: int | None,
               chosen: int | None) -> bool:
    """Whether the first row is a header (see the module's notes).  It is when it names the
    label column; a column chosen by index is left out, as its text says nothing."""
    if named is not None:
        return True
    words = [j for j, cell in enumerate(first) if j != chosen and not _is_number(cell)]
    if not words:
        return False
    if second is None:
        return True
    return any(j < len(second) and _is_number(second[j]) for j in words)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


#: bytes of text read and parsed at a time: each numpy call holds the GIL throughout, and a GUI
#: thread waiting for it freezes (one call over a 17 MB file held it for half a second).  A
#: 1 MiB piece took 11.5 ms here (25 ms under load: the window's longest freeze while a 1M-point
#: file loaded); 256 KiB take 2.7 ms, and the whole file loads as fast
_PARSE_PIECE = 1 << 18

#: most text read from a point file, after decompression.  Only one piece is held at a time, but
#: reading takes time: 1 GiB of blank lines out of a 1 MB gzip took 5 s here (2 GiB: 13 s).  20 M
#: rows of three numbers with 6 significant digits are about 0.5 GB; larger sets load faster
#: (and without this limit) as .npy
MAX_TEXT_BYTES = 1 << 30

#: most values (rows times columns, the label column included) in one point file: 800 MB as
#: float64, which bounds memory however wide the rows are
MAX_CELLS = 100_000_000


class _Table:
    """The body parsed piece by piece: float64 blocks of coordinates and the label codes.

    Each piece goes through :func:`_fast_table` (numpy's C parser) or, when that cannot take
    it, :func:`_careful_table`; the limits on rows and cells are checked after every piece, so
    an oversized file is refused once a piece past the limit has been read, never after the
    whole file.  (numpy's ``max_rows`` is never passed: ``loadtxt`` allocates ``max_rows`` x
    columns up front, 29.8 GiB for a 300 x 200 file with the limit of 20 M rows.)
    """

    def __init__(self, layout: _Layout, dialect: _Dialect, name: str, max_points: int) -> None:
        self.layout, self.dialect, self.name = layout, dialect, name
        self.max_points = max_points
        self.features = [j for j in range(layout.width) if j != layout.label]
        self.blocks: list[np.ndarray] = []
        self.labels = _Labels() if layout.label is not None else None
        self.rows = 0

    def add(self, text: str, offset: int) -> None:
        table = _fast_table(text, self.layout, self.dialect)
        if table is None:
            X = _careful_table(text, offset, self.layout, self.dialect, self.name, self.labels)
        else:
            X = table[:, self.features] if self.labels is not None else table
            if self.labels is not None and len(table):
                self.labels.add_numbers(table[:, self.layout.label])
        self.rows += len(X)
        if self.rows > self.max_points:
            raise _too_many(self.name, self.max_points)
        if self.rows * self.layout.width > MAX_CELLS:
            raise InputError(f"{self.name}: more than the limit of {MAX_CELLS:,} values "
                             f"({self.layout.width:,} columns a row)")
        if len(X):
            self.blocks.append(X)

    def result(self) -> tuple[np.ndarray, tuple[np.ndarray, tuple[str, ...]] | None]:
        if not self.blocks:  # only a header and blank lines (a data row was seen first)
            raise InputError(f"{self.name}: no data rows")
        X = self.blocks[0] if len(self.blocks) == 1 else np.concatenate(self.blocks)
        self.blocks.clear()
        return X, None if self.labels is None else self.labels.result()


def _fast_table(text: str, layout: _Layout, dialect: _Dialect) -> np.ndarray | None:
    """A piece's table by ``numpy.loadtxt``, or None when the careful parser must decide.

    Only a table of finite numbers with the expected width is accepted; numpy's number syntax
    is a subset of Python's ``float`` used by the careful parser, so both agree on every file
    this accepts.
    """
    with warnings.catch_warnings():
        # loadtxt warns about blank lines and empty pieces; they are fine here.  The filters
        # are process-wide (Python < 3.14): another thread's UserWarning may be missed
        # meanwhile, which is harmless
        warnings.simplefilter("ignore", UserWarning)
        try:
            table = np.loadtxt(io.StringIO(text), dtype=np.float64, delimiter=dialect.delimiter,
                               quotechar=dialect.quotechar, comments=dialect.comments, ndmin=2)
        except ValueError:
            return None
    if table.shape[0] == 0:
        return table.reshape(0, layout.width)
    if table.shape[1] != layout.width or not _all_finite(table):
        return None
    return table


def _careful_table(text: str, offset: int, layout: _Layout, dialect: _Dialect, name: str,
                   labels: _Labels | None) -> np.ndarray:
    """Parse a piece row by row, raising an InputError for its first problem in file order;
    its label cells go to ``labels``.

    Rows are split first (csv module or ``str.split``), then whole columns are converted with
    Python's ``float``; the search for the first bad cell runs only when that fails.  Python
    objects exist for one piece's cells only.
    """
    features = [j for j in range(layout.width) if j != layout.label]
    try:
        numbered = list(_rows(text, dialect))
    except _CsvError as error:
        raise InputError(f"{name}: row {error.line + offset}: {error.problem}") from None
    if not numbered:
        return np.empty((0, len(features)))
    lines = [line + offset for line, _ in numbered]
    rows = [row for _, row in numbered]
    widths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    ragged = np.flatnonzero(widths != layout.width)
    if ragged.size:
        row = int(ragged[0])
        raise InputError(f"{name}: row {lines[row]} has {_count(widths[row], 'cell')}, "
                         f"expected {layout.width}")
    table = np.array(rows, dtype=object).reshape(len(rows), layout.width)
    del rows, numbered

    def where(row: int, column: int) -> str:
        return f"{name}: row {lines[row]}, column {_column_name(layout, column)}"

    X = _numbers(table[:, features], features, where)
    if not _all_finite(X):
        row, column = np.argwhere(~np.isfinite(X))[0]
        raise InputError(f"{where(row, features[column])}: {X[row, column]} is not allowed")
    if labels is not None:
        label = layout.label
        labels.add_cells(table[:, label].tolist(), lambda row: where(row, label))
    return X


def _numbers(cells: np.ndarray, columns: list[int],
             where: Callable[[int, int], str]) -> np.ndarray:
    """Object cells as float64 (Python's float syntax), or an InputError for the first bad one."""
    try:
        return cells.astype(np.float64)
    except ValueError:
        row, column = next(index for index, cell in np.ndenumerate(cells)
                           if not _is_number(cell))
        raise InputError(f"{where(row, columns[column])}{_cell_problem(cells[row, column])}"
                         ) from None


def _cell_problem(cell: str) -> str:
    text = cell.strip()
    if not text:
        return " is empty"
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
    problem = f": {shown!r} is not a number"
    if "," in text and _is_number(text.replace(",", ".", 1)):
        problem += " (decimal commas are not supported; use a point)"
    return problem


def _column_name(layout: _Layout, column: int) -> str:
    return f"'{layout.names[column]}'" if layout.header else str(column + 1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _too_many(name: str, max_points: int) -> InputError:
    return InputError(f"{name}: more than the limit of {max_points:,} points")


def _all_finite(values: np.ndarray) -> bool:
    # a finite sum proves every value finite; only when it is not is every value examined
    return bool(np.isfinite(values.sum()) or np.isfinite(values).all())


# labels


class _Labels:
    """Label codes gathered piece by piece, merged at the end.

    Each piece keeps its sorted distinct values (float64 when every one of its cells is a finite
    number, else text) and its codes into them: labels cost one integer a row, never a Python
    object (a 5 M-row file with a text label column peaked at 3.8 GB when every cell was one).
    When any piece has text, every value is compared as text, numbers written plainly.
    """

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []

    def add_numbers(self, values: np.ndarray) -> None:
        distinct, codes = np.unique(values, return_inverse=True)
        self.parts.append((distinct, codes.reshape(-1)))

    def add_cells(self, cells: list[str], where: Callable[[int], str]) -> None:
        values = [cell.strip() for cell in cells]
        for index, value in enumerate(values):
            if not value:
                raise InputError(f"{where(index)} is empty")
        try:
            numbers = np.array(values, dtype=np.float64)
        except ValueError:
            numbers = None
        if numbers is not None and _all_finite(numbers):
            self.add_numbers(numbers)
            return
        distinct, codes = np.unique(np.array(values), return_inverse=True)
        self.parts.append((distinct, codes.reshape(-1)))

    def result(self) -> tuple[np.ndarray, tuple[str, ...]]:
        parts = self.parts
        text = any(distinct.dtype.kind == "U" for distinct, _ in parts)
        if text:
            parts = [(distinct if distinct.dtype.kind == "U"
                      else np.array([_number_text(value) for value in distinct.tolist()]), codes)
                     for distinct, codes in parts]
        merged = np.unique(np.concatenate([distinct for distinct, _ in parts]))
        codes = np.concatenate([np.searchsorted(merged, distinct)[codes]
                                for distinct, codes in parts]).astype(np.int64)
        if text:
            return codes, tuple(str(value) for value in merged)
        return codes, tuple(_number_text(value) for value in merged.tolist())


def _numeric_labels(values: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    distinct, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1), tuple(_number_text(value) for value in distinct.tolist())


def _number_text(value: float | int | bool) -> str:
    """A label value as text: whole numbers without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# NumPy files


def _load_npy(handle: IO[bytes], name: str, max_points: int,
              label_column: str | int | None) -> PointSet:
    X = _read_points_array(handle, name, "", max_points)
    return _array_point_set(X, None, name, label_column)


def _load_npz(handle: IO[bytes], name: str, max_points: int,
              label_column: str | int | None) -> PointSet:
    if not _seekable_file(handle):  # a zip is read from its end: /dev/zero has none
        raise InputError(f"{name}: not a regular file; a .npz archive must be one")
    try:
        archive = zipfile.ZipFile(handle)
    except _ARRAY_ERRORS:
        raise InputError(f"{name}: not a NumPy .npz file (not a zip archive)") from None
    with archive:
        members = {member[:-4]: member for member in archive.namelist()
                   if member.endswith(".npy")}
        if not members:
            raise InputError(f"{name}: the .npz file holds no arrays")
        if "X" in members:
            key = "X"
        elif len(members) == 1:
            (key,) = members
        else:
            listed = ", ".join(sorted(members))
            raise InputError(f"{name}: no array named 'X' among {listed}")
        with _member(archive, members[key], name) as member:
            X = _read_points_array(member, name, f"array '{key}': ", max_points)
        label_key = next((k for k in ("y", "labels") if k in members and k != key), None)
        labels = None
        if label_key is not None and label_column == AUTO:
            with _member(archive, members[label_key], name) as member:
                labels = _read_labels_array(member, name, label_key, X.shape[0])
    return _array_point_set(X, labels, name, label_column)


def _member(archive: zipfile.ZipFile, member: str, name: str) -> IO[bytes]:
    """Open a member of the archive; a damaged local header (a bad offset raised OSError,
    found by fuzzing) is an InputError."""
    try:
        return archive.open(member)
    except _ARRAY_ERRORS:
        raise InputError(f"{name}: the .npz archive is damaged (member {member!r})") from None


def _seekable_file(handle: IO[bytes]) -> bool:
    """False for a device, a FIFO or a socket; true for regular files and in-memory streams."""
    try:
        return stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    except (OSError, AttributeError, io.UnsupportedOperation):
        return True


def _array_point_set(X: np.ndarray, labels: tuple[np.ndarray, tuple[str, ...]] | None,
                     name: str, label_column: str | int | None) -> PointSet:
    """The points of an array, columns ``x0``, ``x1``, ...: with ``labels`` (from a separate
    array) when ``label_column`` is automatic, else with the chosen column of X as labels."""
    columns = tuple(f"x{j}" for j in range(X.shape[1]))
    label = None if label_column == AUTO else _chosen_label(label_column, columns, name)
    _check_coordinates_left(columns, label, name)
    features = [j for j in range(len(columns)) if j != label]
    if label is not None:
        labels = _numeric_labels(X[:, label])
        X = X[:, features]
    codes, label_names = labels if labels is not None else (None, ())
    return make_point_set(X, tuple(columns[j] for j in features), codes, label_names, name,
                          columns)


def _read_points_array(stream: IO[bytes], name: str, what: str,
                       max_points: int) -> np.ndarray:
    """An (n, d) float64 array from a .npy stream, checked from its header before reading."""
    shape, dtype = _array_header(stream, name, what)
    _check_kind(dtype, _NUMERIC_KINDS, name, what)
    if len(shape) not in (1, 2):
        raise InputError(f"{name}: {what}an array of shape {shape}; expected points as a "
                         "2-D array (n, d) or one column (n,)")
    if shape[0] > max_points:
        raise InputError(f"{name}: {what}{shape[0]:,} points, more than the limit of "
                         f"{max_points:,} points")
    if math.prod(shape) > MAX_CELLS:
        raise InputError(f"{name}: {what}an array of shape {shape}, more than the limit of "
                         f"{MAX_CELLS:,} values")
    if 0 in shape:
        raise InputError(f"{name}: {what}an empty array of shape {shape}, no points")
    array = _array_data(stream, name, what).reshape(shape[0], -1)
    X = np.ascontiguousarray(array, dtype=np.float64)
    if not _all_finite(X):
        row, column = np.argwhere(~np.isfinite(X))[0]
        raise InputError(f"{name}: {what}row {row + 1}, column {column + 1}: "
                         f"{X[row, column]} is not allowed")
    return X


def _read_labels_array(stream: IO[bytes], name: str, key: str,
                       n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    what = f"array '{key}': "
    shape, dtype = _array_header(stream, name, what)
    _check_kind(dtype, _LABEL_KINDS, name, what)
    if shape != (n,):
        raise InputError(f"{name}: {what}labels of shape {shape} do not match {n} points; "
                         f"expected shape ({n},)")
    values = _array_data(stream, name, what)
    if values.dtype.kind == "S":
        values = np.char.decode(values, "latin-1")
    if values.dtype.kind == "f" and not _all_finite(values):
        index = int(np.argmin(np.isfinite(values)))
        raise InputError(f"{name}: {what}row {index + 1}: {values[index]} is not a label")
    if values.dtype.kind == "U":
        distinct, codes = np.unique(values, return_inverse=True)
        return codes.reshape(-1), tuple(str(value) for value in distinct)
    return _numeric_labels(values)


def _array_header(stream: IO[bytes], name: str,
                  what: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a .npy header; the stream is left at its start again."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(stream)
        reader = readers.get(version)
        if reader is not None:
            shape, _fortran, dtype = reader(stream)
            stream.seek(0)
    except _ARRAY_ERRORS:
        kind = "an array" if what else "a NumPy .npy file"
        raise InputError(f"{name}: {what}not {kind} (no valid .npy header)") from None
    if reader is None:
        raise InputError(f"{name}: {what}unsupported .npy format version "
                         f"{version[0]}.{version[1]}")
    return shape, dtype


def _check_kind(dtype: np.dtype, kinds: str, name: str, what: str) -> None:
    if dtype.kind not in kinds:
        problem = _KIND_PROBLEMS.get(dtype.kind, "not numbers")
        raise InputError(f"{name}: {what}the array holds {problem} (dtype {dtype})")


def _array_data(stream: IO[bytes], name: str, what: str) -> np.ndarray:
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except _ARRAY_ERRORS:
        raise InputError(f"{name}: {what}truncated or corrupt array data") from None


#: a label file's extensions: one integer column under a header is valid CSV, TSV and text
LABEL_EXTENSIONS = (".csv", ".tsv", ".txt")


def labels_text(labels) -> str:
    """Cluster labels as a label file's text: a header ``label``, one integer a line."""
    return "label\n" + "".join(f"{int(label)}\n" for label in np.asarray(labels).tolist())


def write_labels(path: str | os.PathLike[str], labels) -> None:
    """Write cluster labels to ``path`` (.csv, .tsv or .txt, see :func:`labels_text`),
    atomically; InputError for another extension or a missing folder."""
    from palettelab.core.formats.atomic import atomic_write, check_output_suffix

    check_output_suffix(path, LABEL_EXTENSIONS, "labels are written as text")
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(labels_text(labels))
