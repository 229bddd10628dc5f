"""core/formats/atomic.py: transactions of several outputs, the overwrite rule (mode, owner,
read-only files), temporary names within NAME_MAX, removal of stale temporary files."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from palettelab.core.errors import InputError
from palettelab.core.formats import atomic
from palettelab.core.formats.atomic import (
    atomic_outputs,
    atomic_write,
    check_output_path,
    first_repeated,
    remove_stale_temps,
    same_file,
)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _write(path: Path, data: bytes) -> None:
    with atomic_write(path) as out:
        out.write(data)


# --- transactions (issue 14, item 6) ------------------------------------------------------------


def test_outputs_of_a_transaction_appear_together(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    with atomic_outputs():
        _write(a, b"A")
        assert not a.exists()  # held back until every output is complete
        _write(b, b"B")
    assert a.read_bytes() == b"A" and b.read_bytes() == b"B"
    assert _names(tmp_path) == ["a.bin", "b.bin"]


def test_a_failure_in_the_transaction_commits_nothing(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"old a")
    with pytest.raises(InputError, match=r"b\.bin: cannot write"):
        with atomic_outputs():
            _write(a, b"new a")
            with atomic_write(b) as out:
                out.write(b"half")
                raise OSError(errno.ENOSPC, "No space left on device")
    assert a.read_bytes() == b"old a"
    assert _names(tmp_path) == ["a.bin"]


@pytest.mark.parametrize("existed", [True, False])
def test_a_failed_rename_puts_back_the_outputs_already_renamed(tmp_path, monkeypatch, existed):
    a, b, c = (tmp_path / f"{n}.bin" for n in "abc")
    if existed:
        a.write_bytes(b"old a")
    c.write_bytes(b"old c")
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == c and str(src).endswith(".part"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(InputError) as exc:
        with atomic_outputs():
            _write(a, b"new a")
            _write(b, b"new b")
            _write(c, b"new c")
    assert str(exc.value) == f"{c}: cannot write (Input/output error)"
    assert (a.read_bytes() == b"old a") if existed else not a.exists()
    assert not b.exists()
    assert c.read_bytes() == b"old c"
    assert _names(tmp_path) == (["a.bin", "c.bin"] if existed else ["c.bin"])


def test_the_same_file_twice_in_a_transaction_is_refused(tmp_path):
    with pytest.raises(InputError, match="written twice"):
        with atomic_outputs():
            _write(tmp_path / "x.png", b"1")
            _write(tmp_path / "." / "x.png", b"2")
    assert _names(tmp_path) == []


def test_same_file_sees_through_dots_symlinks_and_hard_links(tmp_path):
    x = tmp_path / "x.png"
    x.write_bytes(b"x")
    (tmp_path / "sym.png").symlink_to(x)
    os.link(x, tmp_path / "hard.png")
    assert same_file(x, tmp_path / "." / "x.png")
    assert same_file(x, tmp_path / "sym.png")
    assert same_file(x, tmp_path / "hard.png")
    assert not same_file(x, tmp_path / "y.png")
    assert first_repeated([tmp_path / "y.png", x, tmp_path / "hard.png"]) == (1, 2)
    assert first_repeated([x, tmp_path / "y.png"]) is None


# --- the overwrite rule (item 12) ---------------------------------------------------------------


def test_a_replaced_file_keeps_its_mode(tmp_path):
    out = tmp_path / "private.txt"
    out.write_bytes(b"old")
    out.chmod(0o600)
    _write(out, b"new")
    assert out.read_bytes() == b"new"
    assert out.stat().st_mode & 0o777 == 0o600


def test_a_new_file_gets_the_umask_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        _write(tmp_path / "new.txt", b"new")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_keeps_the_owner_of_a_replaced_file(tmp_path):
    out = tmp_path / "theirs.txt"
    out.write_bytes(b"old")
    os.chown(out, 12345, 23456)
    _write(out, b"new")
    assert (out.stat().st_uid, out.stat().st_gid) == (12345, 23456)


def test_a_read_only_file_is_refused_and_kept(tmp_path):
    out = tmp_path / "frozen.txt"
    out.write_bytes(b"old")
    out.chmod(0o444)
    with pytest.raises(InputError, match=r"frozen.txt: is read-only \(mode 0444\); not replaced"):
        _write(out, b"new")
    assert out.read_bytes() == b"old"
    assert _names(tmp_path) == ["frozen.txt"]


def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.txt"
    real.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    _write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_device_is_not_an_output(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        check_output_path(os.devnull)


# --- temporary names (item 10) ------------------------------------------------------------------


def test_the_longest_valid_name_can_be_written(tmp_path):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    for name in ("a" * (name_max - 4) + ".png", "é" * ((name_max - 4) // 2) + ".png"):
        _write(tmp_path / name, b"data")
        assert (tmp_path / name).read_bytes() == b"data"
    assert len(_names(tmp_path)) == 2


# --- stale temporary files (item 9) -------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _aged(path: Path, seconds: float) -> Path:
    path.write_bytes(b"partial")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_stale_temporary_files_of_ours_are_removed(tmp_path):
    dead = _dead_pid()
    stale = _aged(tmp_path / f".out.png.plab{dead}-abcd1234.part", 120)
    stale_backup = _aged(tmp_path / f".out.png.plab{dead}-abcd1234.old", 120)
    abandoned = _aged(tmp_path / f".out.png.plab{os.getpid()}-zzzz9999.part", 7 * 3600)
    kept = [
        _aged(tmp_path / f".out.png.plab{dead}-abcd5678.part", 5),  # too fresh
        _aged(tmp_path / f".out.png.plab{os.getpid()}-abcd5678.part", 120),  # running
        _aged(tmp_path / ".out.png.abcd1234.part", 7 * 3600),  # not our pattern
        _aged(tmp_path / "notes.part", 7 * 3600),
    ]
    removed = remove_stale_temps(tmp_path)
    assert sorted(removed) == sorted(p.name for p in (stale, stale_backup, abandoned))
    assert _names(tmp_path) == sorted(p.name for p in kept)


def test_a_write_removes_stale_temporary_files_in_its_folder(tmp_path):
    stale = _aged(tmp_path / f".out.png.plab{_dead_pid()}-abcd1234.part", atomic.STALE_AFTER_S + 1)
    _write(tmp_path / "other.txt", b"x")
    assert not stale.exists()
    assert _names(tmp_path) == ["other.txt"]
