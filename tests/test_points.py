"""Point files: formats, header and label detection, and one exact message for each problem.

Messages are compared whole: the row and column numbers in them are the contract (rows counted
from 1 with the header as row 1, columns by name with a header and from 1 without).
"""

import errno
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import palettelab.core.formats.bounded
import palettelab.core.formats.points
from palettelab.core.errors import InputError
from palettelab.core.formats.points import LABEL_COLUMNS, POINT_EXTENSIONS, PointSet, load_points


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def load(tmp_path: Path, name: str, content: str | bytes, **kwargs) -> PointSet:
    return load_points(write(tmp_path, name, content), **kwargs)


def error(tmp_path: Path, name: str, content: str | bytes, **kwargs) -> str:
    """The message of the InputError, with the file's path replaced by its name."""
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        load_points(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(path), name)


def save_npy(tmp_path: Path, name: str, array: np.ndarray) -> Path:
    path = tmp_path / name
    np.save(path, array, allow_pickle=True)
    return path


def save_npz(tmp_path: Path, name: str, **arrays: np.ndarray) -> Path:
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def npy_error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_points(path)
    return str(caught.value).replace(str(path), path.name)


# header detection


def test_header_row_names_the_columns(tmp_path):
    points = load(tmp_path, "p.csv", "sepal,petal\n1,2\n3.5,-4e-1\n")
    assert points.columns == ("sepal", "petal")
    np.testing.assert_array_equal(points.X, [[1, 2], [3.5, -0.4]])
    assert points.labels is None and points.label_names == ()
    assert len(points) == 2


def test_no_header_gives_numbered_columns(tmp_path):
    points = load(tmp_path, "p.csv", "1,2,3\n4,5,6\n")
    assert points.columns == ("x0", "x1", "x2")
    np.testing.assert_array_equal(points.X, [[1, 2, 3], [4, 5, 6]])


def test_a_header_of_numbers_is_data(tmp_path):
    assert len(load(tmp_path, "p.csv", "0,1\n2,3\n")) == 2


def test_a_single_numeric_row_is_one_point(tmp_path):
    np.testing.assert_array_equal(load(tmp_path, "p.csv", "1,2\n").X, [[1, 2]])


def test_header_is_kept_when_row_two_has_a_typo(tmp_path):
    assert (error(tmp_path, "p.csv", "a,b\n1,x\n")
            == "p.csv: row 2, column 'b': 'x' is not a number")


def test_text_column_in_every_row_is_not_a_header(tmp_path):
    assert (error(tmp_path, "p.csv", "5.1,3.5,setosa\n4.9,3.0,setosa\n")
            == "p.csv: row 1, column 3: 'setosa' is not a number")


def test_empty_header_cells_get_numbered_names(tmp_path):
    assert load(tmp_path, "p.csv", "a,,c\n1,2,3\n").columns == ("a", "x1", "c")


# labels


@pytest.mark.parametrize("header", ["label", "labels", "class", "target", "Label", "CLASS",
                                    " Target ", "LABELS"])
def test_label_column_by_each_name_and_any_case(tmp_path, header):
    points = load(tmp_path, "p.csv", f"a,{header},b\n1,0,2\n3,1,4\n5,0,6\n")
    assert points.columns == ("a", "b")
    np.testing.assert_array_equal(points.X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(points.labels, [0, 1, 0])
    assert points.labels.dtype == np.int64
    assert points.label_names == ("0", "1")
    assert header.strip().lower() in LABEL_COLUMNS


def test_first_label_name_in_precedence_wins(tmp_path):
    points = load(tmp_path, "p.csv", "x,class,label\n1,2,a\n3,4,b\n")
    assert points.columns == ("x", "class")
    np.testing.assert_array_equal(points.X, [[1, 2], [3, 4]])
    assert points.label_names == ("a", "b")


@pytest.mark.parametrize(("header", "columns"), [
    ("x,y", ("x", "y")), ("x,y,z", ("x", "y", "z")), ("X,Y", ("X", "Y")), ("y,x", ("y", "x")),
])
def test_y_is_a_coordinate(tmp_path, header, columns):
    rows = "".join(",".join(str(10 * i + j) for j in range(len(columns))) + "\n"
                   for i in range(3))
    points = load(tmp_path, "p.csv", f"{header}\n{rows}")
    assert points.columns == columns and points.X.shape == (3, len(columns))
    np.testing.assert_array_equal(points.X[:, 1], [1, 11, 21])
    assert points.labels is None and points.label_names == ()


def test_x_y_with_a_label_column(tmp_path):
    points = load(tmp_path, "p.csv", "X,Y,Label\n1,2,a\n3,4,b\n5,6,a\n")
    assert points.columns == ("X", "Y") and points.file_columns == ("X", "Y", "Label")
    np.testing.assert_array_equal(points.labels, [0, 1, 0])
    assert points.label_names == ("a", "b")


def test_a_typo_in_y_is_an_error_not_a_class(tmp_path):
    assert (error(tmp_path, "p.csv", "x,y\n1,2\n3,4o\n5,6\n")
            == "p.csv: row 3, column 'y': '4o' is not a number")


def test_label_strings_become_sorted_codes(tmp_path):
    points = load(tmp_path, "p.csv", "x,class\n1,b\n2,a\n3,b\n4,c\n")
    np.testing.assert_array_equal(points.labels, [1, 0, 1, 2])
    assert points.label_names == ("a", "b", "c")


def test_numeric_labels_sort_as_numbers_and_read_plainly(tmp_path):
    points = load(tmp_path, "p.csv", "x,label\n1,10\n2,2.0\n3,10\n4,-1\n5,2.5\n")
    np.testing.assert_array_equal(points.labels, [3, 1, 3, 0, 2])
    assert points.label_names == ("-1", "2", "2.5", "10")


def test_mixed_and_non_finite_labels_are_text(tmp_path):
    points = load(tmp_path, "p.csv", "x,label\n1,nan\n2,a\n3,2\n")
    np.testing.assert_array_equal(points.labels, [2, 1, 0])
    assert points.label_names == ("2", "a", "nan")


def test_quoted_labels_with_delimiters(tmp_path):
    points = load(tmp_path, "p.csv", 'x,label\n1,"a, b"\n2,c\n')
    assert points.label_names == ("a, b", "c")


def test_empty_label_cell_is_reported(tmp_path):
    assert (error(tmp_path, "p.csv", "x,label\n1,a\n2,\n")
            == "p.csv: row 3, column 'label' is empty")


def test_only_a_label_column_is_refused(tmp_path):
    assert (error(tmp_path, "p.csv", "Class\na\nb\n")
            == "p.csv: the only column is the label column 'Class', there are no coordinates")


def test_headerless_file_has_no_label_column(tmp_path):
    points = load(tmp_path, "p.csv", "1,0\n2,1\n")
    assert points.labels is None and points.X.shape == (2, 2)


# choosing the label column


def test_label_column_none_reads_every_column_as_data(tmp_path):
    points = load(tmp_path, "p.csv", "x,y,label\n1,2,0\n3,4,1\n", label_column=None)
    assert points.columns == ("x", "y", "label") and points.labels is None
    np.testing.assert_array_equal(points.X, [[1, 2, 0], [3, 4, 1]])
    assert (error(tmp_path, "q.csv", "x,label\n1,a\n", label_column=None)
            == "q.csv: row 2, column 'label': 'a' is not a number")


@pytest.mark.parametrize("label_column", ["x", 0])
def test_label_column_by_name_or_index(tmp_path, label_column):
    points = load(tmp_path, "p.csv", " x ,y,label\n7,2,0\n8,4,1\n7,6,1\n",
                  label_column=label_column)
    assert points.columns == ("y", "label")
    np.testing.assert_array_equal(points.X, [[2, 0], [4, 1], [6, 1]])
    np.testing.assert_array_equal(points.labels, [0, 1, 0])
    assert points.label_names == ("7", "8")
    assert points.file_columns == ("x", "y", "label")


def test_label_column_of_a_headerless_file(tmp_path):
    content = "5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,2.9,virginica\n"
    for label_column in (2, np.int64(2), "x2"):  # numpy integers are indices too
        points = load(tmp_path, "p.csv", content, label_column=label_column)
        assert points.columns == ("x0", "x1")
        np.testing.assert_array_equal(points.labels, [0, 0, 1])
    # the chosen column's text plays no part in finding the header: row 1 is data
    points = load(tmp_path, "q.csv", "1,2,cat\n3,4,1\n", label_column=2)
    assert points.X.shape == (2, 2) and points.label_names == ("1", "cat")


def test_a_chosen_name_makes_the_first_row_a_header(tmp_path):
    points = load(tmp_path, "p.csv", "species,a\nx,1\ny,2\n", label_column="species")
    assert points.columns == ("a",) and points.label_names == ("x", "y")


@pytest.mark.parametrize(("label_column", "problem"), [
    (3, "label_column 3 is out of range: the file has 3 columns (0 to 2)"),
    (-1, "label_column -1 is not a column index (columns count from 0)"),
    ("Label", "no column named 'Label' for the labels; the columns are a, b, label"),
    (1.0, "label_column must be 'auto', None, a column name or a column index, got 1.0"),
    (True, "label_column must be 'auto', None, a column name or a column index, got True"),
])
def test_bad_label_column(tmp_path, label_column, problem):
    assert (error(tmp_path, "p.csv", "a,b,label\n1,2,3\n", label_column=label_column)
            == f"p.csv: {problem}")


def test_missing_label_column_lists_at_most_ten_names(tmp_path):
    header = ",".join(f"c{j}" for j in range(12))
    message = error(tmp_path, "p.csv", f"{header}\n{','.join('0' * 12)}\n", label_column="z")
    assert message.endswith("the columns are c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, …")


def test_label_column_cannot_be_the_only_column(tmp_path):
    assert (error(tmp_path, "p.csv", "a\n1\n", label_column="a")
            == "p.csv: the only column is the label column 'a', there are no coordinates")


# delimiters and text details


def test_semicolon_csv(tmp_path):
    points = load(tmp_path, "p.csv", "a;b;label\n1;2;x\n3;4;y\n")
    assert points.columns == ("a", "b")
    np.testing.assert_array_equal(points.X, [[1, 2], [3, 4]])


def test_decimal_commas_get_a_hint(tmp_path):
    assert (error(tmp_path, "p.csv", "a;b\n1,5;2\n")
            == "p.csv: row 2, column 'a': '1,5' is not a number "
               "(decimal commas are not supported; use a point)")


def test_tsv(tmp_path):
    points = load(tmp_path, "p.tsv", "a\tb c\tlabel\n1\t2\tcat\n3 \t 4\tdog\n")
    assert points.columns == ("a", "b c")
    np.testing.assert_array_equal(points.X, [[1, 2], [3, 4]])
    assert points.label_names == ("cat", "dog")


def test_tsv_empty_cell(tmp_path):
    assert error(tmp_path, "p.tsv", "a\tb\n1\t\n") == "p.tsv: row 2, column 'b' is empty"


def test_whitespace_txt_with_comments(tmp_path):
    text = "# saved by numpy\n1 2\t3\n\n  4   5 6  # trailing comment\n7\t8\t9\n\n\n"
    points = load(tmp_path, "p.txt", text)
    assert points.columns == ("x0", "x1", "x2")
    np.testing.assert_array_equal(points.X, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_whitespace_txt_with_header_and_labels(tmp_path):
    points = load(tmp_path, "p.txt", "u v target\n1 2 1\n3 4 0\n")
    assert points.columns == ("u", "v")
    np.testing.assert_array_equal(points.labels, [1, 0])


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends(tmp_path, newline):
    points = load(tmp_path, "p.csv", newline.join(["a,b", "1,2", "3,4", ""]))
    np.testing.assert_array_equal(points.X, [[1, 2], [3, 4]])
    assert (error(tmp_path, "q.csv", newline.join(["a,b", "1,2", "3,z"]))
            == "q.csv: row 3, column 'b': 'z' is not a number")


def test_trailing_blank_lines_and_spaces(tmp_path):
    points = load(tmp_path, "p.csv", "a,b\n1,2\n3,4\n\n   \n\n")
    np.testing.assert_array_equal(points.X, [[1, 2], [3, 4]])


def test_utf8_bom_and_non_ascii_names(tmp_path):
    points = load(tmp_path, "p.csv", "\ufeffTempérature,b\n1,2\n".encode())
    assert points.columns == ("Température", "b")


def test_latin1_header(tmp_path):
    points = load(tmp_path, "p.csv", "Température,b\n1,2\n".encode("latin-1"))
    assert points.columns == ("Température", "b")


def test_quoted_cells(tmp_path):
    points = load(tmp_path, "p.csv", '"a","b"\n"1","2.5"\n')
    assert points.columns == ("a", "b")
    np.testing.assert_array_equal(points.X, [[1, 2.5]])


def test_result_is_contiguous_float64_and_read_only(tmp_path):
    points = load(tmp_path, "p.csv", "a,b,label\n1,2,x\n3,4,y\n")
    assert points.X.dtype == np.float64 and points.X.flags.c_contiguous
    assert not points.X.flags.writeable and not points.labels.flags.writeable
    with pytest.raises(ValueError):
        points.X[0, 0] = 5


# errors in text files


def test_non_numeric_cell_names_row_and_column(tmp_path):
    rows = "\n".join(f"{i},{i + 1}" for i in range(5))
    assert (error(tmp_path, "iris.csv", f"sepal_length,sepal_width\n{rows}\n1,abc\n")
            == "iris.csv: row 7, column 'sepal_width': 'abc' is not a number")


def test_rows_count_from_one_without_header(tmp_path):
    assert (error(tmp_path, "p.csv", "1,2\nx,3\n")
            == "p.csv: row 2, column 1: 'x' is not a number")


def test_blank_lines_still_count_as_rows(tmp_path):
    assert (error(tmp_path, "p.csv", "\na,b\n1,2\n\n3,x\n")
            == "p.csv: row 5, column 'b': 'x' is not a number")


def test_first_problem_in_file_order_is_reported(tmp_path):
    assert (error(tmp_path, "p.csv", "a,b\n1,nan\n2,x\n")
            == "p.csv: row 3, column 'b': 'x' is not a number")
    assert (error(tmp_path, "q.csv", "a,b\n1,2\n3,4,5\n6,x\n")
            == "q.csv: row 3 has 3 cells, expected 2")


def test_long_bad_cell_is_shortened(tmp_path):
    message = error(tmp_path, "p.csv", "a,b\n1," + "z" * 100 + "\n")
    assert message == f"p.csv: row 2, column 'b': '{'z' * 40}…' is not a number"


@pytest.mark.parametrize(("rows", "expected"), [
    ("1,2,3\n4,5\n", "row 12 has 2 cells, expected 3"),
    ("1,2,3\n4,5,6,7\n", "row 12 has 4 cells, expected 3"),
    ("1,2,3\n4\n", "row 12 has 1 cell, expected 3"),
])
def test_ragged_rows(tmp_path, rows, expected):
    before = "".join(f"{i},{i},{i}\n" for i in range(9))
    assert error(tmp_path, "p.csv", "a,b,c\n" + before + rows) == f"p.csv: {expected}"


def test_header_sets_the_row_width(tmp_path):
    assert error(tmp_path, "p.csv", "a,b\n1,2,3\n") == "p.csv: row 2 has 3 cells, expected 2"


@pytest.mark.parametrize(("cell", "shown"), [
    ("nan", "nan"), ("NaN", "nan"), ("inf", "inf"), ("-Infinity", "-inf"), ("1e999", "inf"),
])
def test_nan_and_inf_are_refused(tmp_path, cell, shown):
    assert (error(tmp_path, "p.csv", f"w,x\n1,2\n3,4\n5,{cell}\n")
            == f"p.csv: row 4, column 'x': {shown} is not allowed")


def test_nan_without_header(tmp_path):
    assert (error(tmp_path, "p.txt", "1 2\n3 4\n5 inf\n")
            == "p.txt: row 3, column 2: inf is not allowed")


def test_nan_in_a_file_with_labels(tmp_path):
    assert (error(tmp_path, "p.csv", "x,label,z\n1,a,2\n3,b,nan\n")
            == "p.csv: row 3, column 'z': nan is not allowed")


@pytest.mark.parametrize("content", ["", "\n\n", "  \n \t\n"])
def test_empty_file(tmp_path, content):
    assert error(tmp_path, "p.csv", content) == "p.csv: the file is empty"


def test_comments_only_txt_is_empty(tmp_path):
    assert error(tmp_path, "p.txt", "# nothing\n") == "p.txt: the file is empty"


def test_header_only(tmp_path):
    assert error(tmp_path, "p.csv", "a,b\n\n") == "p.csv: no data rows after the header (row 1)"


def test_cell_too_long_for_the_csv_module(tmp_path):
    limit = "field larger than field limit (131072)"
    assert (error(tmp_path, "p.csv", "a,b\n1,2\n3," + "9" * 200_000 + "\n")
            == f"p.csv: row 3: {limit}")
    assert error(tmp_path, "q.csv", "z" * 200_000 + ",b\n1,2\n") == f"q.csv: row 1: {limit}"


def test_binary_file(tmp_path):
    assert (error(tmp_path, "p.csv", b"\x89PNG\r\n\x1a\n\0\0")
            == "p.csv: not a text file (it contains NUL bytes)")


@pytest.mark.parametrize("content", ["a,b\n1,2\n3,4\n5,6\n7,8\n",  # plain: numpy's parser
                                     "a,b\n1,2\n3,4\n\n5,6\n7,8\n",
                                     "a,label\n1,x\n2,x\n3,y\n4,y\n"])  # careful parser
def test_too_many_points(tmp_path, content):
    assert (error(tmp_path, "p.csv", content, max_points=3)
            == "p.csv: more than the limit of 3 points")
    assert len(load(tmp_path, "q.csv", content, max_points=4)) == 4


def test_max_points_may_be_a_numpy_integer(tmp_path):
    content = "a,b\n1,2\n3,4\n5,6\n"
    assert len(load(tmp_path, "p.csv", content, max_points=np.int64(3))) == 3
    assert (error(tmp_path, "q.csv", content, max_points=np.int32(2))
            == "q.csv: more than the limit of 2 points")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_max_points_must_be_a_positive_integer(tmp_path, bad):
    with pytest.raises(InputError, match="max_points must be a positive integer"):
        load(tmp_path, "p.csv", "1,2\n", max_points=bad)


# errors about the file itself


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: no such file$"):
        load_points(tmp_path / "nope.csv")


def test_directory(tmp_path):
    folder = tmp_path / "points.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=r"points\.csv: is a directory$"):
        load_points(folder)


def test_permission_and_read_errors(tmp_path, monkeypatch):
    path = write(tmp_path, "p.csv", "1,2\n")

    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(palettelab.core.formats.bounded, "open", lambda *args: Unreadable(),
                        raising=False)
    with pytest.raises(InputError, match=r"p\.csv: read error \(Input/output error\)$"):
        load_points(path)

    def refuse(*args):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(palettelab.core.formats.bounded, "open", refuse, raising=False)
    with pytest.raises(InputError, match=r"p\.csv: permission denied$"):
        load_points(path)


@pytest.mark.parametrize(("name", "problem"), [
    ("p.xlsx", "unknown point file type '.xlsx'"),
    ("points", "unknown point file type (no extension)"),
])
def test_unknown_extension(tmp_path, name, problem):
    assert (error(tmp_path, name, "1,2\n")
            == f"{name}: {problem}; expected one of .csv, .tsv, .txt, .npy, .npz "
               "(text ones may end in .gz)")


def test_extension_case_is_ignored(tmp_path):
    assert len(load(tmp_path, "P.CSV", "1,2\n")) == 1
    assert ".csv" in POINT_EXTENSIONS


# .npy and .npz


def test_npy_2d(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(4, 3)
    points = load_points(save_npy(tmp_path, "p.npy", array))
    np.testing.assert_array_equal(points.X, array)
    assert points.X.dtype == np.float64 and points.columns == ("x0", "x1", "x2")
    assert points.labels is None


def test_npy_fortran_order_and_float32(tmp_path):
    array = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    points = load_points(save_npy(tmp_path, "p.npy", array))
    assert points.X.flags.c_contiguous
    np.testing.assert_array_equal(points.X, array)


def test_npy_1d_is_one_column(tmp_path):
    points = load_points(save_npy(tmp_path, "p.npy", np.array([1.0, 2.0, 3.0])))
    assert points.X.shape == (3, 1) and points.columns == ("x0",)


@pytest.mark.parametrize(("array", "problem"), [
    (np.zeros((2, 2, 2)), "an array of shape (2, 2, 2); expected points as a 2-D array (n, d) "
                          "or one column (n,)"),
    (np.float64(3.0), "an array of shape (); expected points as a 2-D array (n, d) "
                      "or one column (n,)"),
    (np.zeros((0, 2)), "an empty array of shape (0, 2), no points"),
    (np.zeros((3, 0)), "an empty array of shape (3, 0), no points"),
    (np.array([[1, 2]], dtype=object),
     "the array holds Python objects, which are never loaded from files (allow_pickle=False) "
     "(dtype object)"),
    (np.ones((2, 2), dtype=complex),
     "the array holds complex numbers; points must be real (dtype complex128)"),
    (np.array([["1", "2"]]), "the array holds text, not numbers (dtype <U1)"),
    (np.zeros(3, dtype=[("a", "f8"), ("b", "f8")]),
     "the array holds a structured (record) array; save a plain numeric array "
     "(dtype [('a', '<f8'), ('b', '<f8')])"),
])
def test_npy_unsuitable_arrays(tmp_path, array, problem):
    assert npy_error(save_npy(tmp_path, "p.npy", array)) == f"p.npy: {problem}"


def test_npy_non_finite_value(tmp_path):
    array = np.zeros((5, 3))
    array[3, 1] = -np.inf
    assert (npy_error(save_npy(tmp_path, "p.npy", array))
            == "p.npy: row 4, column 2: -inf is not allowed")


def test_npy_too_many_points_checked_before_reading(tmp_path, monkeypatch):
    path = save_npy(tmp_path, "p.npy", np.zeros((5, 2)))
    monkeypatch.setattr(np.lib.format, "read_array", None)  # reading the data would fail
    with pytest.raises(InputError, match=r"p\.npy: 5 points, more than the limit of 4 points$"):
        load_points(path, max_points=4)


def test_npy_not_an_array_and_truncated(tmp_path):
    assert (error(tmp_path, "p.npy", "1,2\n")
            == "p.npy: not a NumPy .npy file (no valid .npy header)")
    whole = save_npy(tmp_path, "whole.npy", np.arange(100.0)).read_bytes()
    assert (error(tmp_path, "cut.npy", whole[:-40])
            == "cut.npy: truncated or corrupt array data")


def test_npz_x_and_y(tmp_path):
    X = np.arange(8.0).reshape(4, 2)
    points = load_points(save_npz(tmp_path, "p.npz", X=X, y=np.array(["b", "a", "b", "c"]),
                                  other=np.zeros(3)))
    np.testing.assert_array_equal(points.X, X)
    np.testing.assert_array_equal(points.labels, [1, 0, 1, 2])
    assert points.label_names == ("a", "b", "c")


def test_npz_labels_key_and_numeric_labels(tmp_path):
    path = save_npz(tmp_path, "p.npz", X=np.zeros((3, 2)), labels=np.array([7, 3, 7]))
    points = load_points(path)
    np.testing.assert_array_equal(points.labels, [1, 0, 1])
    assert points.label_names == ("3", "7")


def test_npz_single_array_of_any_name(tmp_path):
    points = load_points(save_npz(tmp_path, "p.npz", data=np.ones((2, 3))))
    assert points.X.shape == (2, 3) and points.labels is None


def test_npz_compressed(tmp_path):
    path = tmp_path / "p.npz"
    np.savez_compressed(path, X=np.ones((4, 2)), y=np.array([True, False, True, True]))
    points = load_points(path)
    assert points.label_names == ("False", "True")


def test_npz_byte_string_labels(tmp_path):
    path = save_npz(tmp_path, "p.npz", X=np.zeros((3, 1)), y=np.array([b"b", b"a", b"b"]))
    assert load_points(path).label_names == ("a", "b")


def test_npy_format_version_3_is_refused(tmp_path):
    path = tmp_path / "p.npy"
    with open(path, "wb") as stream:
        np.lib.format.write_array(stream, np.zeros((2, 2)), version=(3, 0))
    assert npy_error(path) == "p.npy: unsupported .npy format version 3.0"


@pytest.mark.parametrize(("arrays", "problem"), [
    ({"a": np.zeros((2, 2)), "b": np.zeros(2)}, "no array named 'X' among a, b"),
    ({"X": np.zeros((3, 2)), "y": np.zeros(2)},
     "array 'y': labels of shape (2,) do not match 3 points; expected shape (3,)"),
    ({"X": np.zeros((2, 2)), "y": np.array([0.0, np.nan])}, "array 'y': row 2: nan is not a label"),
    ({"X": np.array([[1, 2]], dtype=object)},
     "array 'X': the array holds Python objects, which are never loaded from files "
     "(allow_pickle=False) (dtype object)"),
    ({"X": np.array([[np.nan, 1.0]])}, "array 'X': row 1, column 1: nan is not allowed"),
])
def test_npz_errors(tmp_path, arrays, problem):
    path = tmp_path / "p.npz"
    _savez_any(path, arrays)
    assert npy_error(path) == f"p.npz: {problem}"


def _savez_any(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez, but able to store object arrays (pickled) for the refusal tests."""
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=True)


def test_npz_not_a_zip_and_empty(tmp_path):
    assert error(tmp_path, "p.npz", "1,2\n") == "p.npz: not a NumPy .npz file (not a zip archive)"
    path = tmp_path / "empty.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    assert npy_error(path) == "empty.npz: the .npz file holds no arrays"


def test_array_label_column(tmp_path):
    array = np.array([[1.0, 5.0, 0.5], [2.0, 6.0, 0.25], [3.0, 5.0, 0.5]])
    for label_column in (1, "x1"):
        points = load_points(save_npy(tmp_path, "p.npy", array), label_column=label_column)
        assert points.columns == ("x0", "x2") and points.file_columns == ("x0", "x1", "x2")
        np.testing.assert_array_equal(points.X, array[:, [0, 2]])
        assert points.X.flags.c_contiguous
        np.testing.assert_array_equal(points.labels, [0, 1, 0])
        assert points.label_names == ("5", "6")
    with pytest.raises(InputError, match="out of range: the file has 3 columns"):
        load_points(save_npy(tmp_path, "p.npy", array), label_column=3)
    with pytest.raises(InputError, match="the only column is the label column 'x0'"):
        load_points(save_npy(tmp_path, "one.npy", np.zeros(3)), label_column=0)


def test_npz_label_column_replaces_the_y_array(tmp_path):
    X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 1.0]])
    bad_y = np.array([0.0, np.nan, 1.0])  # refused when read, so it must not be read at all
    path = save_npz(tmp_path, "p.npz", X=X, y=bad_y)
    assert load_points(path, label_column=None).labels is None
    points = load_points(path, label_column=1)
    assert points.columns == ("x0",)
    np.testing.assert_array_equal(points.labels, [0, 1, 1])
    with pytest.raises(InputError, match="row 2: nan is not a label"):
        load_points(path)


# a bad cell in a data column reads the same whichever way the file is parsed


def gz(content: str) -> bytes:
    import gzip

    return gzip.compress(content.encode())


#: a header, 40 good rows, the bad cell in row 42 and a good row after it
BAD_CELL_FILE = ("x,y,label\n" + "".join(f"{i},{i + 1},{i % 2}\n" for i in range(40))
                 + "7,8x,1\n9,10,0\n")


@pytest.mark.parametrize(("name", "content", "piece"), [
    ("fast.csv", BAD_CELL_FILE, 1 << 20),  # numpy's parser fails, the careful one reports
    ("pieces.csv", BAD_CELL_FILE, 64),
    ("careful.csv", BAD_CELL_FILE.replace(",1\n", ",b\n"), 1 << 20),  # text labels
    ("packed.csv.gz", gz(BAD_CELL_FILE), 64),
    ("spaces.txt", BAD_CELL_FILE.replace(",", " "), 1 << 20),
])
def test_bad_data_cell_on_every_path(tmp_path, monkeypatch, name, content, piece):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", piece)
    assert error(tmp_path, name, content) == f"{name}: row 42, column 'y': '8x' is not a number"



VALID_FILES = [
    ("a.csv", "a,b,label\n1,2,0\n3,4e3,1\n-5,.5,0\n"),
    ("b.csv", "1;2\n3;4\n"),
    ("c.tsv", "x\ty\n1\t2\n3\t4\n"),
    ("d.txt", "1 2 3 # c\n4\t5 6\n"),
    ("e.csv", '"p","q"\n"1","2"\n'),
    ("f.csv", "u\n1\n2\n3\n"),
]


@pytest.mark.parametrize(("name", "content"), VALID_FILES)
def test_fast_and_careful_parsers_agree(tmp_path, monkeypatch, name, content):
    fast = load(tmp_path, name, content)
    monkeypatch.setattr(palettelab.core.formats.points, "_fast_table", lambda *args: None)
    careful = load(tmp_path, name, content)
    np.testing.assert_array_equal(fast.X, careful.X)
    assert fast.columns == careful.columns
    assert fast.label_names == careful.label_names
    np.testing.assert_array_equal(
        fast.labels if fast.labels is not None else [],
        careful.labels if careful.labels is not None else [])


def test_plain_files_take_the_fast_path(tmp_path, monkeypatch):
    def refuse(*args):
        raise AssertionError("the careful parser ran on a plain file")

    monkeypatch.setattr(palettelab.core.formats.points, "_careful_table", refuse)
    rows = "".join(f"{i * 0.5},{-i},{i % 3}\n" for i in range(1000))
    points = load(tmp_path, "p.csv", "x0,x1,class\n" + rows)
    assert points.X.shape == (1000, 2)
    np.testing.assert_array_equal(np.bincount(points.labels), [334, 333, 333])


def test_values_match_python_float(tmp_path):
    rng = np.random.default_rng(3)
    values = rng.normal(size=(200, 2)) * 10.0 ** rng.integers(-8, 8, size=(200, 2))
    text = "".join(f"{a!r},{b!r}\n" for a, b in values.tolist())
    np.testing.assert_array_equal(load(tmp_path, "p.csv", text).X, values)


# the PointSet itself


def test_point_set_checks_its_shapes():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="d column names"):
        PointSet(X, ("a",), None, (), "p")
    with pytest.raises(ValueError, match="label_names exactly when"):
        PointSet(X, ("a", "b"), np.zeros(3, np.int64), (), "p")
    with pytest.raises(ValueError, match="do not match 3 points"):
        PointSet(X, ("a", "b"), np.zeros(2, np.int64), ("0",), "p")
    assert len(PointSet(X, ("a", "b"), None, (), "p")) == 3


def test_gzipped_text_files_load_like_plain_ones(tmp_path):
    import gzip

    text = "a,b,label\n1,2,x\n3,4,y\n"
    plain = tmp_path / "p.csv"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "p.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    a, b = load_points(plain), load_points(packed)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.labels, b.labels)
    broken = tmp_path / "q.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="not a readable gzip file"):
        load_points(broken)
    with pytest.raises(InputError, match=r"unknown point file type '\.npy'"):
        load_points(tmp_path / "r.npy.gz")


def test_the_bundled_digits_file_loads_with_its_labels():
    from palettelab.core.resources import resource_path

    digits = load_points(resource_path("digits.csv.gz"))
    assert digits.X.shape == (1797, 64)
    assert digits.labels is not None and digits.label_names == tuple(map(str, range(10)))


# large text files are parsed in pieces (so that a GUI thread is never locked out for long)


@pytest.mark.parametrize("piece", [1, 7, 64, 1 << 20])
def test_text_parsed_in_pieces_is_the_whole_table(tmp_path, monkeypatch, piece):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", piece)
    X = np.round(np.random.default_rng(0).normal(size=(300, 3)), 4)
    body = "\n".join(",".join(f"{v:.4f}" for v in row) for row in X)
    points = load(tmp_path, "p.csv", f"a,b,c\n{body}\n\n")
    np.testing.assert_array_equal(points.X, X)


def test_bad_cell_in_a_later_piece_is_reported_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", 32)
    rows = "\n".join(f"{i},{i + 1}" for i in range(50))
    assert (error(tmp_path, "p.csv", f"a,b\n{rows}\n7,oops\n3,4\n")
            == "p.csv: row 52, column 'b': 'oops' is not a number")


def test_row_limit_holds_across_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", 16)
    rows = "\n".join(f"{i},{i}" for i in range(40))
    assert error(tmp_path, "p.csv", f"{rows}\n", max_points=30) == ("p.csv: more than the "
                                                                   "limit of 30 points")
    assert load(tmp_path, "q.csv", f"{rows}\n", max_points=40).X.shape == (40, 2)


# bounded reading (issue 14): nothing is sized from a limit, and every read is capped


def test_wide_files_load_under_a_memory_limit(tmp_path):
    """``loadtxt(max_rows=20_000_001)`` allocated rows x columns up front: 29.8 GiB for this
    file, 9.69 GiB for the bundled digits.  Both load under a 1.5 GiB address-space limit."""
    import subprocess
    import sys

    X = np.round(np.random.default_rng(0).normal(size=(300, 200)), 3)
    path = tmp_path / "wide.csv"
    np.savetxt(path, X, delimiter=",", fmt="%.3f")
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))\n"
        "from palettelab.core.formats.points import load_points\n"
        "from palettelab.core.resources import resource_path\n"
        "print(load_points(sys.argv[1]).X.shape, load_points(resource_path('digits.csv.gz'))"
        ".X.shape)\n")
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(300, 200) (1797, 64)"


@pytest.mark.parametrize("name", ["zero.csv", "zero.txt", "zero.csv.gz", "zero.npy",
                                  "zero.npz"])
def test_endless_file_is_refused_quickly(tmp_path, name):
    import os
    import time

    if not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    link = tmp_path / name
    link.symlink_to("/dev/zero")
    started = time.perf_counter()
    with pytest.raises(InputError, match=rf"{name}: "):
        load_points(link)
    assert time.perf_counter() - started < 5


def test_decompressed_text_is_bounded(tmp_path, monkeypatch):
    import gzip

    monkeypatch.setattr(palettelab.core.formats.points, "MAX_TEXT_BYTES", 1 << 20)
    bomb = gzip.compress(b"\n" * (4 << 20))  # 4 KiB expanding to 4 MiB
    assert error(tmp_path, "bomb.csv.gz", bomb) == ("bomb.csv.gz: more than 1 MiB of "
                                                     "decompressed text; save large point "
                                                     "sets as .npy")
    assert error(tmp_path, "big.csv", b"\n" * (2 << 20)).startswith("big.csv: more than 1 MiB "
                                                                    "of text")


def test_a_line_without_end_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.formats.bounded, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", 256)
    assert error(tmp_path, "p.csv", "a,b\n1,2\n" + "1," * 2000) == (
        "p.csv: row 3 is longer than 1000 bytes; not a point file?")


def test_values_are_bounded_however_wide_the_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.formats.points, "MAX_CELLS", 1000)
    row = ",".join(["1"] * 100) + "\n"
    assert load(tmp_path, "p.csv", row * 10).X.shape == (10, 100)
    assert error(tmp_path, "p.csv", row * 11) == ("p.csv: more than the limit of 1,000 values "
                                                  "(100 columns a row)")
    path = tmp_path / "p.npy"
    np.save(path, np.zeros((2, 600)))
    with pytest.raises(InputError, match=r"p\.npy: an array of shape \(2, 600\), more than the "
                                         r"limit of 1,000 values"):
        load_points(path)


@pytest.mark.parametrize("piece", [8, 64, 1 << 20])
def test_labels_gathered_in_pieces_are_the_labels_of_the_whole_file(tmp_path, monkeypatch,
                                                                    piece):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", piece)
    # numeric labels first (numpy's parser takes those pieces), text labels later
    values = [str(i % 3) for i in range(40)] + ["b", "a", "10"] * 5
    rows = "".join(f"{i},{i * 2},{value}\n" for i, value in enumerate(values))
    points = load(tmp_path, "p.csv", "x,y,label\n" + rows)
    assert points.label_names == ("0", "1", "10", "2", "a", "b")  # compared as text
    assert [points.label_names[code] for code in points.labels] == values
    numeric = load(tmp_path, "q.csv", "x,y,label\n" + rows[:rows.index(",b\n") - 5])
    assert numeric.label_names == ("0", "1", "2")


def test_quoted_line_break_stays_in_one_piece(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", 4)
    points = load(tmp_path, "p.csv", 'x,label\n1,"two\nlines"\n2,b\n')
    assert points.label_names == ("b", "two\nlines")


def test_header_after_blank_pieces_and_crlf_across_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(palettelab.core.formats.points, "_PARSE_PIECE", 3)
    assert error(tmp_path, "p.csv", b"\r\n\r\n\r\nx,y\r\n1,2\r\n3,oops\r\n") == (
        "p.csv: row 6, column 'y': 'oops' is not a number")
    np.testing.assert_array_equal(load(tmp_path, "q.csv", b"\r\n\r\nx,y\r1,2\r3,4\r").X,
                                  [[1, 2], [3, 4]])


def test_damaged_npy_header_and_npz_member_are_input_errors(tmp_path):
    """Found by fuzzing: numpy's header parser raised tokenize.TokenError, and a damaged zip
    member offset raised OSError."""
    import io as bytes_io

    out = bytes_io.BytesIO()
    np.save(out, np.zeros((3, 2)))
    damaged = out.getvalue().replace(b"(3, 2)", b"(3, 2 ")
    assert error(tmp_path, "p.npy", damaged) == ("p.npy: not a NumPy .npy file (no valid .npy "
                                                 "header)")
    out = bytes_io.BytesIO()
    np.savez(out, X=np.zeros((3, 2)))
    data = bytearray(out.getvalue())
    at = data.rindex(b"PK\x01\x02")  # the central directory entry: its local header offset
    data[at + 42:at + 46] = (10**6).to_bytes(4, "little")
    message = error(tmp_path, "p.npz", bytes(data))
    assert message.startswith("p.npz: ")
