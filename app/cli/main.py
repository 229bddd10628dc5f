"""The ``palettelab`` command line (the contract is in docs/DESIGN.md, "Command line").

    palettelab [FILE]          open the GUI on FILE (default: the bundled sample image)
    palettelab COMMAND ...     a batch command: ``quantize``, ``cluster`` or ``compare``
    palettelab --version
    palettelab --self-test     check that the window and the compute kernels work

This module must not import Qt: batch commands run without a display, and the GUI modules are
imported only when the GUI is actually launched.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from palettelab import __version__
from palettelab.app.cli import cluster as cmd_cluster
from palettelab.app.cli import compare as cmd_compare
from palettelab.app.cli import quantize as cmd_quantize
from palettelab.app.cli.runtime import batch_process
from palettelab.app.cli.startup import skip_blas_probe
from palettelab.core.errors import InputError

PROG = "palettelab"

# Batch subcommands: name -> function that adds its subparser to the given subparsers action and
# sets ``run=<callable taking the parsed args, returning the exit status>`` as a default.
COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "quantize": cmd_quantize.add_parser,
    "cluster": cmd_cluster.add_parser,
    "compare": cmd_compare.add_parser,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [-h] [--version] [FILE | COMMAND ...]",
        description=(
            "Colour quantization and k-means exploration. With no COMMAND, open the GUI on "
            "FILE (an image or a point file; default: the bundled sample image)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, quantize the sample image once, check the "
                             "result and exit (0 when all is well)")
    subparsers = parser.add_subparsers(
        dest="command",
        prog=PROG,  # else subcommand usage lines repeat the custom top-level usage
        metavar="COMMAND",
        help=f"one of: {', '.join(COMMANDS)} (COMMAND -h for its options)",
    )
    for add_command in COMMANDS.values():
        add_command(subparsers)
    return parser


def _looks_like_file(word: str) -> bool:
    """A lone positional that is not a command is FILE if it looks like a path.

    A bare word such as ``quantise`` is treated as a (mistyped) command, so it is a usage error
    (exit 2) rather than "no such file".
    """
    path = Path(word)
    return bool(path.suffix) or "/" in word or "\\" in word or path.exists()


#: Qt platforms that need a display server, and the variable that names it
_DISPLAY_VARIABLES = {"xcb": "DISPLAY", "wayland": "WAYLAND_DISPLAY",
                      "wayland-egl": "WAYLAND_DISPLAY"}


def check_display() -> None:
    """InputError, before Qt is loaded, when the window has no display to open on.

    Without one Qt aborts the process (exit 134, seven lines of Qt messages).  On Linux and the
    BSDs, that is when QT_QPA_PLATFORM (a ``;``-separated list) names only xcb/wayland, or is
    unset, and the variable each of them needs is not set; any other platform (offscreen,
    minimal, vnc, eglfs, ...) is left to Qt.  Windows and macOS always have a display.
    """
    if sys.platform in ("win32", "darwin", "cygwin"):
        return
    names = [name.split(":")[0].strip() for name in
             os.environ.get("QT_QPA_PLATFORM", "").split(";") if name.strip()]
    for name in names or ["xcb", "wayland"]:
        variable = _DISPLAY_VARIABLES.get(name)
        if variable is None or os.environ.get(variable):
            return
    raise InputError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not "
                     "set); use the batch commands (palettelab quantize, palettelab cluster) "
                     "or set QT_QPA_PLATFORM=offscreen")


def run_gui(file: str | None) -> int:
    """Open the GUI on FILE, or on the bundled sample image."""
    if file is None:
        from palettelab.core.resources import sample_image

        target = str(sample_image())  # fails clearly if the bundled sample data is missing
    else:
        if not Path(file).is_file():
            raise InputError(f"{file}: no such file")
        target = file
    check_display()
    from palettelab.app.gui.launch import run

    return run(target)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (argparse exits 2 itself on bad usage,
    130 after Ctrl-C or SIGTERM)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()

    # argparse cannot mix an optional FILE with subcommands, so FILE is taken out by hand. This
    # relies on the top-level options taking no values (a subcommand's own options come after
    # its name, so they never precede the first positional).
    positionals = [a for a in argv if not a.startswith("-")]
    gui_file: str | None = None
    if positionals and positionals[0] not in COMMANDS:
        first = positionals[0]
        if not _looks_like_file(first):
            known = f" (commands: {', '.join(COMMANDS)})"
            parser.error(f"unknown command {first!r}{known}")
        if len(positionals) > 1:
            parser.error(f"unrecognized arguments: {' '.join(positionals[1:])}")
        gui_file = first
        argv.remove(first)
    args = parser.parse_args(argv)

    try:
        if args.self_test:
            check_display()
            from palettelab.app.gui.launch import self_test

            return self_test()
        if args.command is None:
            return run_gui(gui_file)
        with batch_process():
            skip_blas_probe()
            return int(args.run(args))
    except (InputError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM in a batch command; no output was touched
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def entry() -> NoReturn:
    """The ``palettelab`` command and ``python -m palettelab``: :func:`main`'s status becomes
    the process's exit status.

    After an interruption the process ends at once (``os._exit``, once the streams are
    flushed): the outputs are already rolled back, and CPython, having seen a
    KeyboardInterrupt, sometimes reported it at exit by killing itself with SIGINT, so that
    the status was -2 instead of 130 although ``main`` had returned 130 and printed its line
    (one test run in a fresh clone, a signal 0.5 s into a run that was loading kernels)."""
    status = main()
    if status == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(status)
