"""Slim the ICU data library the bundle ships with Qt (``libicudata.so.NN``: 32 MB).

Qt's wheels link QtCore to ICU, and ICU's data library holds every locale's collation,
break-iterator dictionaries, unit, currency, zone and language names, transliterators and 230
legacy code-page converters.  What Qt uses of it in this app: collation (``QCollator``, the
file dialog's natural sort order) and locale fallback; its text boundaries, case mapping,
normalisation and the Unicode codecs are built into Qt or into ``libicuuc``, and its locale
names and formats are Qt's own CLDR tables.  So the bundle keeps the tables every lookup needs
(aliases, ``res_index``, ``pool``, the supplemental data, normalisation, properties), the root
and English collation and the break-iterator rules, and drops the rest: every locale's names
and formats, the transliterators, the converters and the break-iterator dictionaries.
Another locale's collation falls back to the root collation (the Unicode collation
algorithm's default order), as ICU does for any locale without a tailoring; measured with
Qt: ``QCollator`` in root order with numeric mode for every locale, Turkish case mapping
intact, no warning; only Swedish-style tailorings (Ä after Z) and legacy codecs
(``QStringDecoder("Shift_JIS")``) are gone.

The data is ICU's "common data" format (``CmnD``): a header, then a table of contents
(``count``, then ``count`` pairs of name and data offsets from the table's start, sorted by
name), the names, and the items, each aligned to 16 bytes.  :func:`slim_library` reads the
``icudtNN_dat`` symbol's bytes out of the library, writes the kept items in the same order
and assembles a new library around them with the C compiler (``.incbin``), with the same
SONAME and symbol.  Measured on ICU 73 (PySide6 6.11): 32.0 MB to 4.1 MB, 7.5 MB to 0.8 MB
after xz.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

#: folders dropped whole: transliteration (1.1 MB), which Qt never calls
DROPPED_FOLDERS = ("translit",)
#: a locale's bundle (``de.res``, ``zh_Hant_TW.res``, ``de__PHONEBOOK.res``)
_LOCALE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]*)*\.res")
_ALIGN = 16
#: the one table whose name looks like a locale's bundle
_INDEX = "res_index.res"


def keep(name: str) -> bool:
    """Whether item ``name`` (``icudt73l/coll/de.res``, say) stays in the slim data."""
    parts = name.split("/")[1:]  # without the package folder
    leaf = parts[-1]
    folder = parts[0] if len(parts) > 1 else ""
    if folder in DROPPED_FOLDERS or leaf.endswith((".cnv", ".dict")):
        return False  # code-page converters, break-iterator dictionaries
    if not _LOCALE.fullmatch(leaf) or leaf == _INDEX:
        return True  # root, pool, the supplemental tables, rules, properties, aliases
    return folder in ("", "coll") and leaf == "en.res"  # English data and collation


def read_items(blob: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header and the (name, bytes) items of common data ``blob``."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    if (magic1, magic2) != (0xDA, 0x27) or blob[12:16] != b"CmnD":
        raise ValueError("not ICU common data")
    if blob[8]:
        raise ValueError("big-endian ICU data (only little-endian is read)")
    count = struct.unpack_from("<I", blob, header_size)[0]
    base = header_size
    toc = [struct.unpack_from("<II", blob, base + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(toc):
        end = toc[i + 1][1] if i + 1 < count else len(blob) - base
        name = blob[base + name_at:blob.index(b"\0", base + name_at)].decode("ascii")
        items.append((name, blob[base + data_at:base + end]))
    return blob[:header_size], items


def write_items(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """Common data of ``items`` (kept in their sorted order) under ``header``: ICU's own
    archive comes back item for item, only the fill before the first item differs (ICU's
    0xAA, here zeros)."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    data_at = _aligned(len(header) + toc_size + len(names)) - len(header)
    toc, name_at, body = [struct.pack("<I", len(items))], toc_size, bytearray()
    for name, data in items:
        toc.append(struct.pack("<II", name_at, data_at + len(body)))
        name_at += len(name) + 1
        body += data + b"\0" * (_aligned(len(data)) - len(data))
    head = header + b"".join(toc) + names
    return head + b"\0" * (len(header) + data_at - len(head)) + bytes(body)


def _aligned(size: int) -> int:
    return -(-size // _ALIGN) * _ALIGN


def _symbol(library: Path) -> tuple[str, bytes]:
    """The ``icudtNN_dat`` symbol's name and bytes in ELF ``library``."""
    symbols = subprocess.run(["readelf", "-Ws", "--dyn-syms", str(library)], check=True,
                             capture_output=True, text=True).stdout
    found = re.search(r":\s+([0-9a-f]+)\s+(\S+)\s+OBJECT\s+GLOBAL\s+\S+\s+\S+\s+(icudt\d+_dat)",
                      symbols)
    if not found:
        raise ValueError(f"{library.name}: no icudtNN_dat symbol")
    address, size, name = int(found[1], 16), int(found[2], 0), found[3]
    segments = subprocess.run(["readelf", "-lW", str(library)], check=True,
                              capture_output=True, text=True).stdout
    for line in segments.splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"]:
            offset, start, file_size = int(fields[1], 16), int(fields[2], 16), int(fields[4], 16)
            if start <= address < start + file_size:
                with open(library, "rb") as f:
                    f.seek(offset + address - start)
                    return name, f.read(size)
    raise ValueError(f"{library.name}: {name} lies in no loaded segment")


def slim_library(library: Path) -> int:
    """Replace ``library`` (a ``libicudata.so.NN``) by one holding only the kept items;
    returns the bytes saved, or 0 (and leaves it alone) without a C compiler or readelf."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("readelf") is None:
        return 0
    symbol, blob = _symbol(library)
    header, items = read_items(blob)
    slim = write_items(header, [(name, data) for name, data in items if keep(name)])
    soname = re.search(r"\(SONAME\).*\[(.*)\]", subprocess.run(
        ["readelf", "-d", str(library)], check=True, capture_output=True, text=True).stdout)[1]
    with tempfile.TemporaryDirectory() as tmp:
        data, source, built = Path(tmp) / "data.bin", Path(tmp) / "data.s", Path(tmp) / soname
        data.write_bytes(slim)
        source.write_text(f'.section .rodata\n.globl {symbol}\n.type {symbol}, @object\n'
                          f'.balign {_ALIGN}\n{symbol}:\n.incbin "{data}"\n'
                          f'.size {symbol}, . - {symbol}\n'
                          '.section .note.GNU-stack,"",@progbits\n')
        subprocess.run([cc, "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-o", str(built),
                        str(source)], check=True)
        before = library.stat().st_size
        partial = library.with_name(library.name + ".partial")
        shutil.copyfile(built, partial)
        partial.chmod(library.stat().st_mode)
        partial.replace(library)
    return before - library.stat().st_size
