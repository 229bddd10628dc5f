"""``palettelab quantize``: reduce an image to N colours, or remap it to a given palette.

    palettelab quantize IN [IN ...] -k N -o OUT [--space oklab|lab|rgb]
               [--dither none|fs|bayer] [--dither-strength F] [--lock HEX[,HEX...]]
               [--palette PALETTE_FILE] [--seed S] [--json] [--format png|gif|webp|tif|bmp]
               [--jobs N] [--quiet] [--shared] [--per-frame] [--matte HEX]
               [--importance MASK.png]
    palettelab quantize IN --map PALETTE_FILE -o OUT [--dither ...]

One input goes to the file OUT (``-``: standard input or output); several inputs, a directory
or an OUT ending in ``/`` go to the directory OUT (:mod:`palettelab.app.cli.batch`).

Everything that can be checked before the (possibly long) run is checked first -- output
types, names and folders, the palette file, standard output for ``--json``, and the output
format's size limits once the input is read -- so a mistake costs no waiting.  The image and
the ``--palette`` file are one transaction: both are replaced, or neither.  The core modules (and
Numba) are imported only when the command runs, keeping ``palettelab --help`` instant.
"""

from __future__ import annotations

import argparse
import sys
import time

from palettelab.app.cli import image_job, options
from palettelab.app.cli.image_job import STDIO, Job, Settings
from palettelab.core.errors import InputError

PROG = "palettelab"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "quantize",
        help="reduce an image to N colours (or remap it to a palette file)",
        description="Reduce an image to N colours and write the recoloured image (indexed "
                    "PNG/GIF/BMP/TIFF, lossless WebP). With --map, remap it to the colours of "
                    "a palette file instead.",
    )
    p.add_argument("inputs", nargs="+", metavar="IN",
                   help="image file to read, a directory of images, or - for standard input")
    p.add_argument("-k", "--colors", dest="k", type=int, metavar="N",
                   help="number of colours, 1-256 (required unless --map)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="image to write; the type comes from the extension "
                        "(.png .gif .bmp .tif .webp); - for standard output. With several "
                        "inputs, a directory input or a trailing /, a directory (created if "
                        "missing) receiving NAME.<format> for each input")
    p.add_argument("--format", choices=tuple(options.FORMATS), default=None,
                   help="type of the outputs in a directory or on standard output "
                        "(default: png)")
    p.add_argument("--jobs", type=options.positive_int, default=None, metavar="N",
                   help="files quantized at once (default: every core)")
    p.add_argument("--shared", action="store_true",
                   help="one palette for all inputs, from their combined colours")
    p.add_argument("--quiet", action="store_true",
                   help="no progress line on stderr")
    p.add_argument("--per-frame", action="store_true",
                   help="animations: a palette for each frame (default: one for all frames)")
    p.add_argument("--map", metavar="PALETTE_FILE",
                   help="remap to the colours of this palette file, without k-means")
    p.add_argument("--space", choices=("oklab", "lab", "rgb"), default="oklab",
                   help="colour space to cluster and match in (default: oklab)")
    p.add_argument("--dither", choices=("none", "fs", "bayer"), default="none",
                   help="none, fs (Floyd-Steinberg) or bayer (ordered 8x8); default none")
    p.add_argument("--dither-strength", type=float, default=1.0, metavar="F",
                   help="error diffusion strength for --dither fs, 0-1 (default 1)")
    p.add_argument("--lock", metavar="HEX[,HEX...]", default="",
                   help="colours that must be in the palette unchanged, e.g. '#ff0000,#ffffff'")
    p.add_argument("--palette", metavar="PALETTE_FILE",
                   help="also write the palette (.gpl .ase .aco .json .txt .css .png); "
                        "with several inputs, only with --shared")
    p.add_argument("--importance", metavar="MASK", default=None,
                   help="an image the size of IN whose grey levels weight its pixels: white "
                        "counts fully, black (almost) not at all; one input only")
    p.add_argument("--matte", metavar="HEX", default=None,
                   help="flatten soft transparency onto this colour: entries at least half "
                        "opaque are blended onto it, the others become transparent (GIF does "
                        "this onto white by default), e.g. '#ffffff'")
    p.add_argument("--seed", type=options.seed, default=None, metavar="S",
                   help=f"random seed, 0 to {options.SEED_MAX} (same seed, same result; "
                        f"default 0)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (palette, counts, seconds) to stdout")
    p.set_defaults(run=run, parser=p)


def _check_usage(args: argparse.Namespace, batch: bool) -> None:
    parser: argparse.ArgumentParser = args.parser
    if args.map is None and args.k is None:
        parser.error("-k N is required (or --map PALETTE_FILE to remap to a palette)")
    if args.k is not None and not 1 <= args.k <= 256:
        parser.error(f"-k must be between 1 and 256, got {args.k}")
    if not 0.0 <= args.dither_strength <= 1.0:
        parser.error(f"--dither-strength must be between 0 and 1, got {args.dither_strength}")
    if args.map is not None:
        clash = [flag for flag, used in (("-k", args.k is not None), ("--lock", bool(args.lock)),
                                         ("--palette", args.palette is not None),
                                         ("--seed", args.seed is not None),
                                         ("--shared", args.shared),
                                         ("--per-frame", args.per_frame),
                                         ("--importance", args.importance is not None)) if used]
        if clash:
            parser.error(f"--map uses the palette file as it is; {', '.join(clash)} "
                         f"cannot be combined with it")
    if args.shared and args.per_frame:
        parser.error("--shared gives every frame one palette; --per-frame cannot be combined "
                     "with it")
    if STDIO in args.inputs and len(args.inputs) > 1:
        parser.error("- (standard input) must be the only input")
    if batch:
        if args.importance is not None:
            parser.error("--importance is a mask for one image; give one input")
        if args.output == STDIO:
            parser.error("-o - (standard output) takes one input; give a directory for several")
        if args.palette is not None and not args.shared:
            parser.error("--palette with several inputs needs --shared (one palette for all)")
    elif args.output == STDIO:
        if args.json:
            parser.error("-o - and --json both write to standard output; choose one")
    elif args.format is not None:
        ext = options.FORMATS[args.format][1]
        if not args.output.lower().endswith(ext) and not (
                args.format == "tif" and args.output.lower().endswith(".tiff")):
            parser.error(f"--format {args.format} does not match the output name "
                         f"{args.output!r}")
    options.check_distinct_outputs(parser, [("-o", None if args.output == STDIO else args.output),
                                            ("--palette", args.palette)])


def _settings(args: argparse.Namespace, target) -> Settings:
    matte = None
    if args.matte is not None:
        from palettelab.core.color.codes import parse_color

        try:
            matte = parse_color(args.matte)
        except InputError as exc:
            raise InputError(f"--matte: {exc}") from None
    return Settings(k=args.k, target=target, space=args.space, dither=args.dither,
                    strength=args.dither_strength, lock=args.lock,
                    seed=0 if args.seed is None else args.seed, per_frame=args.per_frame,
                    matte=matte, importance=args.importance)


def _stdin() -> bytes:
    """All of standard input (an image piped in)."""
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None or stream.isatty():
        raise InputError("standard input: no image piped in (- reads an image from a pipe "
                         "or a redirected file)")
    try:
        return stream.read()
    except (OSError, ValueError) as exc:
        raise InputError(f"standard input: cannot read ({exc})") from None


def run(args: argparse.Namespace) -> int:
    from palettelab.app.cli import batch

    is_batch = batch.is_batch(args.inputs, args.output)
    _check_usage(args, is_batch)
    if is_batch:
        return _run_batch(args)
    return _run_single(args)


def _run_single(args: argparse.Namespace) -> int:
    """One file: the contract of docs/DESIGN.md, plus - for standard input and output."""
    from palettelab.app.cli.runtime import check_stdout, print_json, write_binary_stdout

    source = args.inputs[0]
    fmt = None
    if args.output == STDIO:
        check_stdout("the image", binary=True)
        fmt = options.FORMATS[args.format or "png"][0]
    else:
        from palettelab.core.formats.image_write import check_image_path

        check_image_path(args.output)
    if args.palette is not None:
        from palettelab.core.formats.palettes import check_palette_path

        check_palette_path(args.palette)
    if args.json:
        check_stdout("the JSON summary")
    target = _map_palette(args)
    data = _stdin() if source == STDIO else None
    job = Job(source="standard input" if data is not None else source, output=args.output,
              fmt=fmt, palette=args.palette, data=data)
    done = image_job.run(job, _settings(args, target))
    for note in done.notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    if done.encoded is not None:
        write_binary_stdout(done.encoded, "the image")
    if args.json:
        print_json(done.summary)
    return 0


def _map_palette(args: argparse.Namespace):
    if args.map is None:
        return None
    from palettelab.core.formats.palettes import read_palette

    return read_palette(args.map, max_colors=256).colors  # an indexed image holds 256


def _run_batch(args: argparse.Namespace) -> int:
    """Several files into a directory (see :mod:`palettelab.app.cli.batch`)."""
    from pathlib import Path

    from palettelab.app.cli import batch
    from palettelab.app.cli.runtime import check_stdout, print_json

    started = time.perf_counter()
    fmt, ext = options.FORMATS[args.format or "png"]
    files, listing_errors = batch.expand(args.inputs)
    folder = Path(args.output)
    outputs = [batch.output_name(f, folder, ext) for f in files]
    problem = batch.clash(files, outputs)
    if problem is not None:
        args.parser.error(problem)
    if args.palette is not None:
        from palettelab.core.formats.palettes import check_palette_path

        check_palette_path(args.palette)
    if args.json:
        check_stdout("the JSON summary")
    batch.make_folder(folder)
    data = _stdin() if files == [STDIO] else None
    jobs = [Job(source="standard input" if data is not None else f, output=str(out), fmt=fmt,
                data=data) for f, out in zip(files, outputs, strict=True)]
    target = _map_palette(args)
    n_jobs = args.jobs or batch.default_jobs()
    for line in listing_errors:
        print(f"{PROG}: error: {line}", file=sys.stderr)
    if args.shared and jobs:
        target, jobs, unread = _shared(args, jobs)
        listing_errors += unread
        n_jobs = 1  # the palette's kernels ran here: no fork after Numba started its threads
    outcomes = batch.run_all(jobs, _settings(args, target), n_jobs)
    finished = batch.report(outcomes, len(jobs), args.quiet)
    if args.json:
        print_json(batch.json_summary(finished, listing_errors, started))
    failed = listing_errors or any(o.error is not None for o in finished)
    return 1 if failed else 0


def _shared(args: argparse.Namespace, jobs: list[Job]):
    """The --shared palette of the inputs that can be read (written to --palette at once),
    those jobs, and an error line for each other input (printed at once)."""
    from palettelab.core.quantization.pipeline import shared_palette

    kept: list[Job] = []
    errors: list[str] = []

    def images():  # one file's frames at a time: the palette keeps only their histograms
        for job in jobs:
            try:
                frames = image_job.palette_images(job)
            except (InputError, OSError) as exc:
                errors.append(str(exc))
                print(f"{PROG}: error: {exc}", file=sys.stderr)
                continue
            kept.append(job)
            yield from frames

    try:
        palette, counts = shared_palette(images(), args.k, space=args.space, locked=args.lock,
                                         random_state=0 if args.seed is None else args.seed)
    except InputError:
        if kept:
            raise
        return None, kept, errors  # no input could be read: each has its error line
    if args.palette is not None:
        from palettelab.core.formats.palettes import write_palette

        write_palette(args.palette, palette, counts=counts)
    return palette, kept, errors
