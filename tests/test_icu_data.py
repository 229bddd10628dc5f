"""The bundle's slimmed ICU data (``packaging/icu_data.py``): the common-data format is read
and written back item for item, the policy keeps what Qt uses here, and Qt runs on the slim library
(collation in root order, Turkish case mapping) in a child process that loads it first."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("icu_data", ROOT / "packaging" / "icu_data.py")
icu_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(icu_data)

QT_LIB = Path(__import__("PySide6").__file__).parent / "Qt" / "lib"
ICU = sorted(QT_LIB.glob("libicudata.so.*"))
needs_icu = pytest.mark.skipif(
    not ICU or not sys.platform.startswith("linux") or not shutil.which("readelf")
    or not (shutil.which("cc") or shutil.which("gcc")),
    reason="needs Linux, PySide6's own ICU, readelf and a C compiler")


@pytest.mark.parametrize(("name", "kept"), [
    ("icudt73l/coll/root.res", True),
    ("icudt73l/coll/ucadata.icu", True),
    ("icudt73l/coll/res_index.res", True),
    ("icudt73l/res_index.res", True),
    ("icudt73l/coll/en.res", True),
    ("icudt73l/coll/en_US_POSIX.res", False),
    ("icudt73l/coll/de.res", False),
    ("icudt73l/coll/zh_Hant.res", False),
    ("icudt73l/coll/de__PHONEBOOK.res", False),
    ("icudt73l/coll/es_.res", False),
    ("icudt73l/root.res", True),
    ("icudt73l/pool.res", True),
    ("icudt73l/supplementalData.res", True),
    ("icudt73l/likelySubtags.res", True),
    ("icudt73l/en.res", True),
    ("icudt73l/en_GB.res", False),
    ("icudt73l/fr_CA.res", False),
    ("icudt73l/cnvalias.icu", True),
    ("icudt73l/ibm-943_P15A-2003.cnv", False),
    ("icudt73l/uts46.nrm", True),
    ("icudt73l/brkitr/line.brk", True),
    ("icudt73l/brkitr/cjdict.dict", False),
    ("icudt73l/zone/root.res", True),
    ("icudt73l/zone/ja.res", False),
    ("icudt73l/zone/en.res", False),
    ("icudt73l/curr/pool.res", True),
    ("icudt73l/translit/root.res", False),
    ("icudt73l/translit/en.res", False),
])
def test_the_policy_keeps_root_english_and_the_tables(name, kept):
    assert icu_data.keep(name) is kept


def _items(count: int) -> list[tuple[str, bytes]]:
    return [(f"pkg/item{i:03d}.res", bytes([i]) * (7 * i + 1)) for i in range(count)]


def test_common_data_round_trip():
    header = b"\x20\x00\xda\x27" + b"\x14\x00\x00\x00\x00\x00\x02\x00CmnD" + b"\x01" + bytes(15)
    blob = icu_data.write_items(header, _items(5))
    again_header, items = icu_data.read_items(blob)
    assert again_header == header
    assert [name for name, _ in items] == [name for name, _ in _items(5)]
    for (_, data), (_, padded) in zip(_items(5), items, strict=True):
        assert padded[:len(data)] == data and not padded[len(data):].strip(b"\0")
        assert len(padded) % 16 == 0
    with pytest.raises(ValueError, match="not ICU common data"):
        icu_data.read_items(b"\x20\x00\x00\x00" + bytes(60))
    with pytest.raises(ValueError, match="big-endian"):
        icu_data.read_items(header[:8] + b"\x01" + header[9:] + bytes(8))


@needs_icu
def test_qts_own_archive_comes_back_item_for_item():
    _, blob = icu_data._symbol(ICU[0])
    header, items = icu_data.read_items(blob)
    again = icu_data.write_items(header, items)
    assert len(again) == len(blob)
    assert icu_data.read_items(again) == (header, items)


@needs_icu
def test_qt_runs_on_the_slim_library(tmp_path):
    slim = tmp_path / ICU[0].name
    shutil.copyfile(ICU[0], slim)
    full_size = slim.stat().st_size
    saved = icu_data.slim_library(slim)
    assert saved == full_size - slim.stat().st_size > full_size * 0.7
    name, blob = icu_data._symbol(slim)
    _, items = icu_data.read_items(blob)
    assert name.startswith("icudt") and all(icu_data.keep(n) for n, _ in items)
    probe = (
        "from PySide6.QtCore import QCollator, QLocale\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "app = QCoreApplication([])\n"
        "c = QCollator(QLocale('de_DE')); c.setNumericMode(True)\n"
        "print(sorted(['zebra', 'Äpfel', 'file10', 'apple', 'file2'], key=c.sortKey))\n"
        "print(QLocale('tr_TR').toUpper('istanbul'))\n")
    env = dict(os.environ, LD_LIBRARY_PATH=str(tmp_path))  # searched before Qt's RUNPATH
    env["LD_DEBUG"] = "libs"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert f"{slim}" in out.stderr  # the slim library is the one loaded
    lines = out.stdout.splitlines()
    # the root collation's order (ICU's fallback would put Ä after z, and file10 before file2)
    assert lines == ["['Äpfel', 'apple', 'file2', 'file10', 'zebra']", "İSTANBUL"]
    assert "collator" not in out.stderr.lower()
