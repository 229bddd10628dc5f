"""``palettelab compare``: one image through every quantizer installed, with the same figures.

    palettelab compare IN -k N [-o SHEET.png] [--json]

Prints, for each method of :data:`palettelab.core.quantization.compare.METHODS` that runs here
(pngquant and libimagequant only when installed), PSNR and mean OKLab error over the visible
pixels, the colours used and the seconds taken.  ``--json`` prints ``{"input", "k",
"methods": [{"name", "psnr", "oklab_error", "colours", "seconds"}, ...], "sheet"}`` instead
(``psnr`` is null for a result identical to the original).  ``-o`` writes a contact sheet:
the original, then each method's result beside its error heat map, captioned with its
figures (written atomically; PNG, or another picture type by its extension).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from palettelab.app.cli import options

#: sheet types by extension (an RGB picture; the indexed formats of ``quantize`` do not fit)
SHEET_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="quantize one image with every method installed and compare the results",
        description="Quantize one image with our k-means (OKLab and RGB), Pillow's median cut, "
                    "fast octree and maximum coverage, and pngquant and libimagequant when "
                    "installed; print PSNR, OKLab error, colours and seconds of each.",
    )
    p.add_argument("input", metavar="IN", help="image file")
    p.add_argument("-k", "--colors", dest="k", type=int, required=True, metavar="N",
                   help="palette size, 2 to 256")
    p.add_argument("-o", "--output", metavar="SHEET.png",
                   help="also write a contact sheet: each result beside its error heat map")
    p.add_argument("--seed", type=options.seed, default=0, metavar="S",
                   help=f"random seed of our k-means, 0 to {options.SEED_MAX} (default 0)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(run=run, parser=p)


def _write_sheet(path: str, sheet) -> None:
    from PIL import Image

    from palettelab.app.cli.runtime import raise_if_interrupted
    from palettelab.core.formats.atomic import atomic_write

    picture = Image.fromarray(sheet)
    kind = Image.registered_extensions()[Path(path).suffix.lower()]
    raise_if_interrupted()  # a Ctrl-C dropped inside a callback still stops the run
    with atomic_write(path) as out:
        picture.save(out, format=kind)


def _table(results) -> str:
    lines = [f"{'method':<18} {'PSNR dB':>8} {'OKLab error':>12} {'colours':>8} {'seconds':>8}"]
    for r in results:
        lines.append(f"{r.name:<18} {r.psnr:8.2f} {r.oklab_error:12.4f} {r.colours:8d} "
                     f"{r.seconds:8.3f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not 2 <= args.k <= 256:
        args.parser.error(f"-k must be 2 to 256, got {args.k}")
    from palettelab.app.cli.runtime import check_stdout, print_json
    from palettelab.core.formats.atomic import check_output_suffix
    from palettelab.core.formats.image_read import load_image
    from palettelab.core.quantization.compare import compare, contact_sheet

    if args.output:
        check_output_suffix(args.output, SHEET_EXTENSIONS, "a contact sheet is a picture")
    check_stdout("the figures")
    image = load_image(args.input).pixels
    results = compare(image, args.k, random_state=args.seed)
    if args.output:
        _write_sheet(args.output, contact_sheet(image, results))
    if args.json:
        print_json({"input": args.input, "k": args.k,
                    "methods": [r.summary() for r in results], "sheet": args.output})
    else:
        print(_table(results))
    return 0
