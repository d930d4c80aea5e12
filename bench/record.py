#!/usr/bin/env python3
"""Viewport recording: what it costs the viewport's sampling, and how fast the encoder is at 1080p.

    .venv/bin/python bench/record.py                    # 1920×1080 view, 3 × 12 s per case (~3 min)
    .venv/bin/python bench/record.py --size 960 540 --seconds 8 --rounds 2
    .venv/bin/python bench/record.py --json out.json

With the working tree's add-on (no install), in real Blender (bpy 5.0, headless: the session
without its drawing layer), real PyAV/x264 and Blender's OCIO configuration:

- **sampling with and without recording**: the viewport session refines a fixed view (the
  100k-triangle bumpy sphere + 1,024 instances of bench/viewport.py, 4 bounces) for `--seconds`
  without a recording, then recording at 30 fps constant rate, then at a variable rate (H.264,
  preset FASTEST, CRF 20), `--rounds` times in turn (the machine is shared: alternating spreads
  other processes' load over all cases). Per case: samples per second; the CPU (in cores, from
  /proc per thread) of the threads that were there before the recording started (sampling,
  Blender) and of those it started (its own thread, the encoder's); the recording's share of
  the process's CPU; and what the recording did (frames, viewport images, repeated, dropped, and
  how busy its thread was in wall-clock time). Recording should cost sampling no more than its
  CPU share.
- **encoder real-time factor at 1080p**: real 1920×1080 viewport images (a few samples of the
  same scene) through the recording's path: colour management (OCIO, AgX) → RGB→YUV (BT.709) →
  encoder, every frame a new image (the worst case: a view that changes all the time); the same
  with the images colour-managed beforehand (the encoder alone); and a repeated frame (a still
  view at constant rate). Frames per second and the real-time factor at 30 fps (> 1: faster
  than real time), per codec and preset, with the whole machine (no sampling meanwhile).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import _common as C  # noqa: E402
import viewport as V  # noqa: E402  (the scene and the working tree's add-on)

FPS = 30
ENCODERS = (("H264", "FASTEST"), ("H264", "FASTER"), ("H264", "MEDIUM"), ("HEVC", "FASTEST"))


def _modules():
    import importlib

    vp, _dn = V._import_addon()
    return vp, importlib.import_module("optica_src.addon.viewport.recording")


TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by thread id (/proc)."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return out


def sampling_case(session, rec_mod, opts, config, seconds: float) -> dict:
    """Samples per second over `seconds` of steady refinement, recording with `opts` (or not),
    and the CPU (in cores) of the threads that were there before (sampling, Blender) and of
    those the recording started (its own thread, the encoder's threads)."""
    session.wait(pixel_size=1, timeout=300)
    before = set(thread_cpu())
    rec = rec_mod.start(session, opts, config) if opts is not None else None
    time.sleep(0.5)  # the recording's first image and encoder start-up
    st = session.stats()
    s0, c0, t0 = st.samples, thread_cpu(), time.perf_counter()
    time.sleep(seconds)
    st = session.stats()
    c1 = thread_cpu()
    dt = time.perf_counter() - t0
    used = {tid: c1[tid] - c0.get(tid, 0.0) for tid in c1}
    out = {
        "samples_per_second": (st.samples - s0) / dt,
        "cores_sampling": sum(v for tid, v in used.items() if tid in before) / dt,
        "cores_recording": sum(v for tid, v in used.items() if tid not in before) / dt,
    }
    if rec is not None:
        rec_mod.stop(session)
        out.update({k: getattr(rec.stats, k) for k in ("frames", "images", "repeated", "dropped", "late")})
        out["recording_thread_busy"] = rec.stats.busy_seconds / max(rec.stats.seconds, 1e-9)
        out["bytes"] = rec.path.stat().st_size
        out["encoder"] = rec.writer.choice.label
        if rec.error is not None:
            raise RuntimeError(rec.error)
    return out


def _share(case: dict) -> float:
    """The recording's part of the CPU the process got."""
    return case["cores_recording"] / max(case["cores_sampling"] + case["cores_recording"], 1e-9)


class _Grab:
    """A sink keeping the full-resolution images a session publishes."""

    def __init__(self):
        self.frames: collections.deque = collections.deque(maxlen=4)

    def write(self, frame):
        if frame.pixel_size == 1:
            self.frames.append(frame)

    def close(self):
        pass

    def abort(self):
        pass


def _encode_seconds(video, settings, size, path: Path, n: int, frame_k) -> float:
    """Seconds to write `n` frames (`frame_k(writer, k)` writes frame k) and finalize the file:
    the flush counts, so frames buffered in the encoder's lookahead are not free."""
    writer = video.VideoWriter(path, size[0], size[1], Fraction(FPS), settings, live=True)
    try:
        t = time.perf_counter()
        for k in range(n):
            frame_k(writer, k)
        writer.close()
        return time.perf_counter() - t
    finally:
        writer.abort()
        path.unlink(missing_ok=True)


def encoder_speed(video, processors, images, view, codec: str, preset: str, n: int, folder: Path) -> dict:
    """Frames per second (the file finalized) through colour → YUV → encoder (new images),
    through YUV → encoder alone (images colour-managed beforehand), and of repeated frames."""
    h, w = images[0].shape[:2]
    settings = video.EncoderSettings(codec=codec, encoder="CPU", preset=preset, crf=20, keyframe_interval=FPS)
    proc = processors.get(view)
    rgb8 = [proc.to_uint8(img) for img in images]
    path = folder / f"speed-{codec}-{preset}.mp4"

    def new(writer, k):
        writer.write(proc.to_uint8(images[k % len(images)]), k)

    def encode(writer, k):
        writer.write(rgb8[k % len(rgb8)], k)

    def repeat(writer, k):  # a still view: one image, then the same frame again
        if k == 0:
            writer.write(rgb8[0], k)
        else:
            writer.repeat(k)

    fps = {
        name: n / _encode_seconds(video, settings, (w, h), path, n, fn)
        for name, fn in (("new", new), ("encode", encode), ("repeat", repeat))
    }
    return {
        "codec": codec,
        "preset": preset,
        "encoder": video.choose_encoder(settings).name,
        "new_images_fps": fps["new"],
        "encoder_only_fps": fps["encode"],
        "repeated_fps": fps["repeat"],
        "realtime_factor_new": fps["new"] / FPS,
        "realtime_factor_repeated": fps["repeat"] / FPS,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, nargs=2, default=(1920, 1080), metavar=("W", "H"), help="viewport region")
    ap.add_argument("--seconds", type=float, default=12.0, help="per sampling case")
    ap.add_argument("--rounds", type=int, default=3, help="times each sampling case runs, in turn")
    ap.add_argument("--frames", type=int, default=60, help="frames per encoder speed measurement")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    args = ap.parse_args(argv)
    w, h = args.size

    oc = C.import_core()
    info = C.machine_info()
    C.print_machine(info)
    print("command: %s" % " ".join([".venv/bin/python", "bench/record.py", *(argv or sys.argv[1:])]))
    import bpy

    vp, rec_mod = _modules()
    import importlib

    colour = importlib.import_module("optica_src.operators.export.colour")
    from optica_core.sinks import video

    config = colour.blender_config_path()
    scene = V.build_scene(bpy, oc, 100_000, 1_024, w, h)
    scene.optica.viewport_samples = 1_000_000
    scene.optica.max_bounces = 4
    view_matrix = tuple(v for row in scene.camera.matrix_world.inverted() for v in row)
    view = vp.ViewState(width=w, height=h, view_matrix=view_matrix, lens=100.0)
    session = vp.ViewportSession()
    grab = _Grab()
    session.attach(grab)
    results: dict = {"machine": info, "args": vars(args)}
    folder = Path(tempfile.mkdtemp(prefix="optica-bench-record-"))
    try:
        session.update(bpy.context.evaluated_depsgraph_get(), view)
        session.wait(pixel_size=1, timeout=600)
        enc = video.EncoderSettings(encoder="AUTO", preset="FASTEST", crf=20)
        cases = {
            "no recording": None,
            "recording, 30 fps constant": rec_mod.RecordOptions(str(folder / "cfr.mp4"), "CFR", FPS, enc),
            "recording, variable rate": rec_mod.RecordOptions(str(folder / "vfr.mkv"), "VFR", FPS, enc),
        }
        runs: dict = {name: [] for name in cases}
        for r in range(args.rounds):
            for name, opts in cases.items():
                runs[name].append(sampling_case(session, rec_mod, opts, config, args.seconds))
                print(
                    "  round %d, %s: %.3f samples/s" % (r + 1, name, runs[name][-1]["samples_per_second"]), flush=True
                )
        results["sampling"] = runs
        images = [f.pixels for f in grab.frames]
        colour_view = session.colour_view
    finally:
        session.stop()
        for p in folder.iterdir():
            p.unlink()
    assert not any(t.name == "optica-viewport" for t in threading.enumerate())

    base = statistics.median(x["samples_per_second"] for x in runs["no recording"])
    rows = []
    for name, xs in runs.items():
        sps = statistics.median(x["samples_per_second"] for x in xs)
        row = [
            name,
            "%.3f" % sps,
            "%.2f" % (sps * w * h / 1e6),
            "%+.1f %%" % (100 * (sps / base - 1)),
            "%.2f" % statistics.median(x["cores_sampling"] for x in xs),
            "%.2f" % statistics.median(x["cores_recording"] for x in xs),
            "%.0f %%" % (100 * statistics.median(_share(x) for x in xs)),
        ]
        if name == "no recording":
            row += ["", "", "", "", "", ""]
        else:
            row += [
                "%d" % statistics.median(x["frames"] for x in xs),
                "%d" % statistics.median(x["images"] for x in xs),
                "%d" % statistics.median(x["repeated"] for x in xs),
                "%d" % statistics.median(x["dropped"] for x in xs),
                "%d" % statistics.median(x["late"] for x in xs),
                "%.0f %%" % (100 * statistics.median(x["recording_thread_busy"] for x in xs)),
            ]
        rows.append(row)
    print()
    print("sampling at %d×%d, median of %d × %.0f s (H.264 FASTEST, CRF 20):" % (w, h, args.rounds, args.seconds))
    print(
        C.format_table(
            [
                "case",
                "samples/s",
                "M paths/s",
                "vs none",
                "CPU: sampling side",
                "CPU: recording",
                "recording's CPU share",
                "frames",
                "images",
                "repeated",
                "dropped",
                "late ticks",
                "recording thread busy (wall)",
            ],
            rows,
        )
    )

    processors = colour.Processors(config)
    t = time.perf_counter()
    for img in images:
        processors.get(colour_view).to_uint8(img)
    colour_ms = (time.perf_counter() - t) / len(images) * 1000
    speeds = []
    for codec, preset in ENCODERS:
        speeds.append(encoder_speed(video, processors, images, colour_view, codec, preset, args.frames, folder))
    folder.rmdir()
    results["encoder"] = speeds
    results["colour_ms_per_image"] = colour_ms
    print()
    print(
        "encoder at %d×%d, %d frames, real viewport images (%s), colour management %.0f ms per image; "
        "real-time factor at %d fps:" % (w, h, args.frames, colour_view.view, colour_ms, FPS)
    )
    print(
        C.format_table(
            [
                "codec",
                "preset",
                "encoder",
                "new images fps (colour + encode)",
                "× real time",
                "encoder alone fps",
                "× real time",
                "repeated frame fps",
                "× real time",
            ],
            [
                [
                    s["codec"],
                    s["preset"],
                    s["encoder"],
                    "%.1f" % s["new_images_fps"],
                    "%.2f" % s["realtime_factor_new"],
                    "%.1f" % s["encoder_only_fps"],
                    "%.2f" % (s["encoder_only_fps"] / FPS),
                    "%.1f" % s["repeated_fps"],
                    "%.2f" % s["realtime_factor_repeated"],
                ]
                for s in speeds
            ],
        )
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
