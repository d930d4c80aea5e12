"""The command line: `python -m optica_core render|farm …` (docs/farm.md).

    python -m optica_core render scene.optica -o out.exr --samples 128 --passes all
    python -m optica_core render shot/ --frame 12 -o out.png --ocio blender
    python -m optica_core farm shot/ --out frames/ --workers 2 --chunk 4
    python -m optica_core farm shot/ --out shot.mp4

Exit status: 0 done, 1 a clear error (printed on one line, nothing half-written), 130 interrupted
(Ctrl-C: complete files stay, nothing half-written; a farm re-run resumes). A progress bar goes
to stderr when it is a terminal; otherwise only the closing summary line is printed.
"""

from __future__ import annotations

import argparse
import os
import sys

from .render import PASSES, RenderSettings, check_passes

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except KeyboardInterrupt:
        print("optica_core: interrupted: nothing half-written was left"
              + ("; run the same command again to resume" if args.command is _farm else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError, RuntimeError) as error:
        print(f"optica_core: error: {error}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m optica_core", description="Optica's renderer without Blender.")
    commands = parser.add_subparsers(required=True, metavar="render|farm")

    render = commands.add_parser("render", help="render one scene file to an image")
    render.add_argument("scene", help="a scene file written by optica_core.save_scene (.optica), or an "
                        "animation folder with --frame")
    render.add_argument("--frame", type=int, help="the frame of an animation folder to render")
    render.add_argument("-o", "--output", required=True, help="OUT.exr (linear, with passes), .png or .jpg")
    _sampling_options(render, "64 samples, or the folder's manifest")
    render.add_argument("--threads", type=int, default=0, help="render threads; 0 = all cores")
    render.add_argument("--device", choices=("CPU", "OPTIX", "AUTO"), default="CPU",
                        help="CPU (default), OPTIX (an NVIDIA GPU; an error where OptiX cannot run) or AUTO "
                        "(OptiX where it runs, else the CPU); see docs/gpu.md")
    _view_options(render)
    render.set_defaults(command=_render)

    farm = commands.add_parser("farm", help="render an animation folder on a Dask cluster")
    farm.add_argument("folder", help="an animation folder written by optica_core.sequence")
    farm.add_argument("--out", required=True, help="a folder for the frames (created if missing), or a video "
                      "file (.mp4, .mkv, .mov) encoded with the folder's encoder and colour settings")
    farm.add_argument("--format", default="exr", choices=("exr", "png", "jpeg"),
                      help="frame files in an --out folder (default exr)")
    farm.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 "
                      "(default: a local cluster on 127.0.0.1)")
    farm.add_argument("--workers", type=int, default=0, help="local cluster: worker processes (0 = one per core)")
    farm.add_argument("--threads", type=int, default=0, help="render threads per worker (0 = cores / task slots)")
    farm.add_argument("--chunk", type=int, default=0, help="frames per task (0 = automatic: tapering to single frames at the end)")
    farm.add_argument("--retries", type=int, default=2, help="retries of a failed task (default 2)")
    farm.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the cluster (default 60)")
    farm.add_argument("--max-seconds", type=float, help="stop (resumably) after this long (default: no limit)")
    _sampling_options(farm, "the folder's manifest")
    farm.add_argument("--ocio", help="OCIO configuration for PNG/JPEG and video: a path, or 'blender' (default: "
                      "the folder's manifest, else $OCIO)")
    farm.set_defaults(command=_farm)
    return parser


def _sampling_options(parser, default: str) -> None:
    """Options that override the render settings (None: not given; then `default` applies)."""
    note = f" (default: {default})"
    parser.add_argument("--samples", type=int, help=f"samples per pixel{note}")
    parser.add_argument("--time-limit", type=float, help=f"seconds of sampling, 0 = none{note}")
    parser.add_argument("--noise-threshold", type=float, help=f"adaptive sampling threshold, 0 = off{note}")
    parser.add_argument("--denoise", action="store_true", default=None,
                        help="denoise with Intel Open Image Denoise (pyoidn)")
    parser.add_argument("--denoise-quality", choices=("high", "balanced", "fast"), help=f"OIDN's quality{note}")
    parser.add_argument("--passes", default="combined",
                        help=f"comma-separated passes for EXR files, or 'all' ({', '.join(PASSES)})")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _sampling_overrides(args) -> dict:
    given = {"samples": args.samples, "time_limit": args.time_limit, "noise_threshold": args.noise_threshold,
             "denoise": args.denoise, "denoise_quality": args.denoise_quality}
    return {k: v for k, v in given.items() if v is not None}


def _view_options(parser) -> None:
    note = "the folder's manifest, else "
    parser.add_argument("--ocio", help="OCIO configuration for PNG/JPEG: a path, or 'blender' for Blender's own "
                        f"(default: {note}$OCIO)")
    parser.add_argument("--view", help=f"view transform (default: {note}AgX where the configuration has it)")
    parser.add_argument("--display", help=f"display (default: {note}the configuration's)")
    parser.add_argument("--look", help=f"look (default: {note}None)")
    parser.add_argument("--exposure", type=float, help=f"exposure in stops (default: {note}0)")
    parser.add_argument("--gamma", type=float, help=f"display gamma (default: {note}1)")


def _passes(text: str) -> tuple[str, ...]:
    names = [n for n in PASSES if n != "noisy"] if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    return check_passes(names)


def _progress_bar(total: int, unit: str, quiet: bool):
    """A tqdm bar on a terminal; None when quiet, not on a terminal, or tqdm is missing."""
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True)


# --------------------------------------------------------------------------------------------
# render


def _render(args) -> int:
    from . import Renderer, load_scene
    from .denoise import require_oidn
    from .render import render_frame
    from .sinks import colour, images

    sequence = _sequence(args)
    manifest = sequence.manifest if sequence is not None else None
    render = dict(manifest.render) if manifest is not None else {}
    settings = RenderSettings.from_dict({**render, **_sampling_overrides(args)}, _passes(args.passes))
    fmt, processors = images.format_of(args.output), None
    if fmt != "EXR" and settings.passes == ("combined",):  # else check() says PNG/JPEG hold Combined only
        config = _ocio_config(args.ocio or (sequence.ocio_config() if sequence is not None else None))
        color = {k: v for k, v in (manifest.color if manifest is not None else {}).items() if k in colour.VIEW_FIELDS}
        color.update({k: getattr(args, k) for k in colour.VIEW_FIELDS if getattr(args, k) is not None})
        processors = colour.Processors(config, default=colour.default_view(config, **color))
    writer = images.ImageWriter(fmt, processors)
    writer.check(settings.passes, os.path.dirname(os.path.abspath(args.output)))
    if settings.denoise:
        require_oidn()
    scene = sequence.load_frame(args.frame) if sequence is not None else load_scene(args.scene)
    renderer = Renderer(threads=args.threads, device=args.device)
    if renderer.device_note and not args.quiet:
        print(renderer.device_note, file=sys.stderr)
    bar = _progress_bar(settings.limits.samples, "spp", args.quiet)
    try:
        frame = render_frame(renderer, scene, settings, index=args.frame or 0,
                             progress=None if bar is None else lambda done, _total: bar.update(done - bar.n))
    finally:
        if bar is not None:
            bar.close()
    writer.write(args.output, frame)
    if not args.quiet:
        print(f"{args.output}: {frame.samples} samples in {frame.info['seconds']:.2f} s", file=sys.stderr)
    return 0


def _ocio_config(spec: str | None) -> str:
    from .sinks import colour

    if spec is None and not os.environ.get("OCIO"):
        raise ValueError("PNG/JPEG files need an OCIO configuration: --ocio PATH, --ocio blender (Blender's own), "
                         "or the OCIO environment variable")
    return colour.resolve_config(spec)


def _sequence(args):
    """The animation folder to render frame --frame of, or None for a scene file."""
    if not os.path.isdir(args.scene):
        if args.frame is not None:
            raise ValueError(f"--frame {args.frame}: {args.scene} is a scene file, not an animation folder")
        return None
    from .sequence import Sequence

    if args.frame is None:
        raise ValueError(f"{args.scene} is an animation folder: say which frame with --frame")
    return Sequence(args.scene)


# --------------------------------------------------------------------------------------------
# farm


def _farm(args) -> int:
    from .farm import FarmJob, run_farm

    job = FarmJob(folder=args.folder, out=args.out, format=args.format, scheduler=args.scheduler,
                  workers=args.workers, threads=args.threads, chunk=args.chunk, retries=args.retries,
                  sampling=_sampling_overrides(args),
                  passes=_passes(args.passes), ocio=args.ocio, timeout=args.timeout,
                  max_seconds=args.max_seconds)
    bar = None

    def show(frame, tracker):
        nonlocal bar
        if bar is None:
            bar = _progress_bar(tracker.total, "frame", args.quiet)
            if bar is None:
                return
        bar.update(1)
        bar.set_postfix_str(" ".join(f"{_short(w)}:{n}" for w, n in sorted(tracker.per_worker.items())))

    try:
        result = run_farm(job, progress=show)
    finally:
        if bar is not None:
            bar.close()
    print(f"{args.out}: {result.summary()}", file=sys.stderr)
    return 0


def _short(address: str) -> str:
    return address.rsplit("/", 1)[-1]
