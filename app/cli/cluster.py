"""``palettelab cluster``: cluster the rows of a point file and write one label per row.

    palettelab cluster POINTS -k N -o LABELS.csv [--method kmeans|minibatch|spectral]
               [--init k-means++|random] [--n-init N] [--seed S] [--json]
               [--animate STEPS.gif] [--embed tsne|pca|none]

LABELS.csv has a header ``label`` and one integer a line, in input order.  A ground-truth
column in the input (``label``, ``labels``, ``class`` or ``target``) is never clustered; with
``--json`` the summary then also reports the matched accuracy.  Like ``quantize``, the output
path is checked before the run and written atomically.

One column of integers under a header is valid CSV, TSV and whitespace text alike, so
``.csv``, ``.tsv`` and ``.txt`` get the same bytes (and ``palettelab cluster`` reads each of
them back as a point file); any other name is refused, so that ``-o labels.png`` does not
produce a text file named like an image.  ``-o -`` writes the labels to standard output (not
together with ``--json``, which prints there too).

``--embed tsne`` (or ``pca``) clusters a 2-D embedding of the points instead of the points
themselves: k-means finds the digits' classes far better in a t-SNE map (0.94 of the labels
against 0.79 on the raw pixels).  The labels stay in input order; ``--json`` adds the
embedding's seconds, and the inertia stays that of the labelling in the input space.

``--animate STEPS.gif`` also writes the k-means run as an animated GIF, one frame per step
(:mod:`palettelab.core.step_animation`): the kept start run again from its centres, so the
last frame shows the labels written.  The labels and the GIF are one transaction.
"""

from __future__ import annotations

import argparse
import time

from palettelab.app.cli import options

METHODS = ("kmeans", "minibatch", "spectral")
#: the command's method names -> :data:`palettelab.core.points_session.METHODS`
SESSION_METHODS = {"kmeans": "k-means", "minibatch": "mini-batch", "spectral": "spectral"}
STDOUT = "-"  # besides the label file's extensions (core.formats.points.LABEL_EXTENSIONS)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "cluster",
        help="cluster the rows of a point file (CSV/TSV/TXT/NPY/NPZ)",
        description="Cluster the rows of a point file and write one label per row.",
    )
    p.add_argument("input", metavar="POINTS", help="point file: .csv .tsv .txt .npy .npz")
    p.add_argument("-k", "--clusters", dest="k", type=int, required=True, metavar="N",
                   help="number of clusters")
    p.add_argument("-o", "--output", required=True, metavar="LABELS.csv",
                   help="where to write the labels (header 'label', one integer a line): "
                        ".csv, .tsv or .txt, or - for standard output")
    p.add_argument("--method", choices=METHODS, default="kmeans",
                   help="kmeans (default), minibatch (millions of points) or spectral "
                        "(non-linear shapes such as moons)")
    p.add_argument("--init", choices=("k-means++", "random"), default="k-means++",
                   help="how k-means picks its starting centres (default k-means++)")
    p.add_argument("--n-init", type=int, default=1, metavar="N",
                   help="number of starts; the lowest inertia wins (default 1)")
    p.add_argument("--seed", type=options.seed, default=0, metavar="S",
                   help=f"random seed, 0 to {options.SEED_MAX} (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (n_clusters, inertia, n_iter, seconds)")
    p.add_argument("--embed", choices=("tsne", "pca", "none"), default="none",
                   help="cluster a 2-D embedding of the points: tsne (neighbours kept "
                        "together: the digits' classes), pca, or none (default)")
    p.add_argument("--animate", metavar="STEPS.gif", default=None,
                   help="also write the k-means run as an animated GIF, one frame per step "
                        "(--method kmeans)")
    p.set_defaults(run=run, parser=p)


def _check_usage(args: argparse.Namespace) -> None:
    if args.k < 1:
        args.parser.error(f"-k must be at least 1, got {args.k}")
    if args.n_init < 1:
        args.parser.error(f"--n-init must be at least 1, got {args.n_init}")
    if args.output == STDOUT and args.json:
        args.parser.error("-o - and --json both write to standard output; give -o a file name")
    if args.animate is not None:
        if args.method != "kmeans":
            args.parser.error("--animate shows the steps of k-means: use --method kmeans")
        options.check_distinct_outputs(args.parser, [("-o", None if args.output == STDOUT
                                                      else args.output),
                                                     ("--animate", args.animate)])


def _check_output(path: str) -> None:
    """InputError unless the labels can be written to ``path`` (before the run)."""
    from palettelab.app.cli.runtime import check_stdout
    from palettelab.core.formats.atomic import check_output_suffix
    from palettelab.core.formats.points import LABEL_EXTENSIONS

    if path == STDOUT:
        check_stdout("the labels")
        return
    check_output_suffix(path, LABEL_EXTENSIONS, "labels are written as text",
                        ", or - for standard output")


def _write_labels(path: str, labels) -> None:
    from palettelab.app.cli.runtime import raise_if_interrupted, write_stdout
    from palettelab.core.formats.points import labels_text, write_labels

    raise_if_interrupted()  # a Ctrl-C dropped inside a callback still stops the run
    if path == STDOUT:
        write_stdout(labels_text(labels), "the labels")
        return
    write_labels(path, labels)


def run(args: argparse.Namespace) -> int:
    _check_usage(args)
    import numpy as np

    from palettelab.app.cli.runtime import check_stdout, print_json
    from palettelab.core.points_session import PointsSession

    started = time.perf_counter()
    _check_output(args.output)
    if args.animate is not None:
        from palettelab.core.formats.atomic import check_output_suffix

        check_output_suffix(args.animate, (".gif",), "the animation is a GIF", "")
    if args.json:
        check_stdout("the JSON summary")
    points = PointsSession.load(args.input, k=args.k, init=args.init, seed=args.seed)
    embed_started = time.perf_counter()
    session = points if args.embed == "none" else points.embedded(args.embed)
    embed_seconds = time.perf_counter() - embed_started
    # as the estimators fit: n_init starts drawn from the seed, the lowest inertia kept
    session.fit(SESSION_METHODS[args.method], n_init=args.n_init)
    labels = np.asarray(session.labels, dtype=np.int64)
    # the k-means objective of the labelling in the input space, whatever the method
    from palettelab.core.clustering.metrics import labelling_inertia

    inertia = labelling_inertia(points.X, labels)
    frames = None
    if args.animate is None:
        _write_labels(args.output, labels)
    else:
        from palettelab.core.formats.atomic import atomic_outputs
        from palettelab.core.step_animation import render, save_gif

        steps = session.replay()
        pictures = render(session.X, steps, session.projection(), initial=session.initial,
                          seed=args.seed)
        frames = len(pictures)
        with atomic_outputs():  # both files, or neither
            save_gif(args.animate, pictures)
            _write_labels(args.output, labels)
    if args.json:
        summary = {"n_clusters": int(args.k), "method": args.method, "inertia": inertia,
                   "n_iter": session.n_iter, "n_points": session.n,
                   "seconds": round(time.perf_counter() - started, 4)}
        accuracy = session.accuracy()  # when the file has a label column
        if accuracy is not None:
            summary["accuracy"] = round(accuracy, 6)
        if frames is not None:
            summary["frames"] = frames
        if args.embed != "none":
            summary["embed"] = args.embed
            summary["embed_seconds"] = round(embed_seconds, 4)
        print_json(summary)
    return 0
