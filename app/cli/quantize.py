"""``palettelab quantize``: reduce an image to N colours, or remap it to a given palette.

    palettelab quantize IN -k N -o OUT [--space oklab|lab|rgb] [--dither none|fs|bayer]
               [--dither-strength F] [--lock HEX[,HEX...]] [--palette PALETTE_FILE] [--seed S]
               [--json]
    palettelab quantize IN --map PALETTE_FILE -o OUT [--dither ...]

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

from palettelab.app.cli import options

PROG = "palettelab"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "quantize",
        help="reduce an image to N colours (or remap it to a palette file)",
        description="Reduce an image to N colours and write the recoloured image (indexed "
                    "PNG/GIF/BMP/TIFF, lossless WebP). With --map, remap it to the colours of "
                    "a palette file instead.",
    )
    p.add_argument("input", metavar="IN", help="image file to read")
    p.add_argument("-k", "--colors", dest="k", type=int, metavar="N",
                   help="number of colours, 1-256 (required unless --map)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="image to write; the type comes from the extension "
                        "(.png .gif .bmp .tif .webp)")
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
                   help="also write the palette (.gpl .ase .aco .json .txt .css .png)")
    p.add_argument("--seed", type=options.seed, default=None, metavar="S",
                   help=f"random seed, 0 to {options.SEED_MAX} (same seed, same result; "
                        f"default 0)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (palette, counts, seconds) to stdout")
    p.set_defaults(run=run, parser=p)


def _check_usage(args: argparse.Namespace) -> None:
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
                                         ("--seed", args.seed is not None)) if used]
        if clash:
            parser.error(f"--map uses the palette file as it is; {', '.join(clash)} "
                         f"cannot be combined with it")
    options.check_distinct_outputs(parser, [("-o", args.output), ("--palette", args.palette)])


def run(args: argparse.Namespace) -> int:
    _check_usage(args)
    from palettelab.app.cli.runtime import check_stdout, print_json
    from palettelab.core.color.codes import hex_color
    from palettelab.core.formats.atomic import atomic_outputs
    from palettelab.core.formats.image_read import load_image
    from palettelab.core.formats.image_write import check_image_path, check_image_size, save_image
    from palettelab.core.formats.palettes import check_palette_path, read_palette, write_palette
    from palettelab.core.quantization.pipeline import quantize, remap

    started = time.perf_counter()
    check_image_path(args.output)
    if args.palette is not None:
        check_palette_path(args.palette)
    if args.json:
        check_stdout("the JSON summary")
    target = read_palette(args.map).colors if args.map is not None else None

    loaded = load_image(args.input)
    for note in loaded.notes:
        print(f"{PROG}: note: {args.input}: {note}", file=sys.stderr)
    height, width, channels = loaded.pixels.shape
    check_image_size(args.output, height, width, alpha=channels == 4)
    if target is not None:
        q = remap(loaded.pixels, target, space=args.space, dither=args.dither,
                  dither_strength=args.dither_strength)
    else:
        q = quantize(loaded.pixels, args.k, space=args.space, dither=args.dither,
                     dither_strength=args.dither_strength, locked=args.lock,
                     random_state=0 if args.seed is None else args.seed)
    with atomic_outputs():  # the image and the palette are replaced together, or neither
        notes = save_image(args.output, q)
        if args.palette is not None:
            write_palette(args.palette, q.palette, counts=q.counts)
    for note in notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    if args.json:
        summary = {
            "n_colors": int(q.palette.shape[0]),
            "palette": [hex_color(c) for c in q.palette],
            "counts": [int(c) for c in q.counts],
            "space": args.space,
            "dither": args.dither,
            "seconds": round(time.perf_counter() - started, 4),
        }
        print_json(summary)
    return 0
