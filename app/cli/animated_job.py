"""An animated input through ``palettelab quantize`` (GIF, APNG, animated WebP in; the same
three out), after :func:`palettelab.app.cli.image_job.run` found it animated.

Every frame is quantized with one global palette -- the palette of all frames' combined
histogram (:func:`~palettelab.core.quantization.pipeline.shared_palette`), so colours do not
flicker from frame to frame -- or, with ``--per-frame``, each with its own.  A target palette
(``--map``, ``--shared``) is used for every frame.  Durations, loop count and disposal are
kept (:mod:`palettelab.core.formats.animation`).
"""

from __future__ import annotations

from palettelab.app.cli.image_job import STDIO, Done, Job, Settings, quantized, summary


def run(job: Job, settings: Settings, animation, fmt: str, started: float) -> Done:
    from palettelab.core.formats.animation import encode_animation, save_animation
    from palettelab.core.formats.image_write import check_image_size

    height, width, channels = animation.frames[0].shape
    if job.output != STDIO:
        check_image_size(job.output, height, width, alpha=channels == 4)
    frames = _quantized_frames(animation.frames, settings)
    encoded = None
    if job.output == STDIO:
        encoded, notes = encode_animation(frames, animation, fmt)
    else:
        notes = save_animation(job.output, frames, animation, fmt)
    result = summary(frames[0], settings, started)
    if not settings.per_frame:  # one palette: the counts are those of every frame
        result["counts"] = [int(c) for c in sum(f.counts for f in frames)]
    result.update(frames=len(frames), frames_written=len(frames))
    return Done(result, tuple(notes), encoded)


def _quantized_frames(frames, settings: Settings) -> list:
    if settings.per_frame or settings.target is not None:
        return [quantized(frame, settings) for frame in frames]
    from dataclasses import replace

    from palettelab.core.quantization.pipeline import shared_palette

    palette, _counts = shared_palette(frames, settings.k, space=settings.space,
                                      locked=settings.lock, random_state=settings.seed)
    common = replace(settings, target=palette)
    return [quantized(frame, common) for frame in frames]
