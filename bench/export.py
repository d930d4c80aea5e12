#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Video export benchmark (issue 5): Optica's STREAM and PARALLEL exports, PyAV against the
ffmpeg tool, and Blender's own Render Animation to FFmpeg, side by side in one run.

    .venv/bin/python bench/export.py [--frames 16 --samples 8 --repeat 2 --json out.json]
    .venv/bin/python bench/export.py --quick        # ~1 min: 8 frames at 50 %
    .venv/bin/python bench/export.py --motion-blur --frames 300 --percentage 25 --samples 4 \
        --skip-parallel --skip-blender --encode-frames 0   # issue 15: STREAM with motion blur

Needs `python build.py` first (it installs the built dist/optica-*.zip into a throw-away Blender
user folder, as the tests do) and demo/demo.blend. What it measures, on the demo scene:

1. render only: the frames rendered with Optica's final-render session (`frames.FrameRenderer`,
   the very code the export uses), nothing else — the floor for any export;
2. STREAM: `operators.export` streaming (render → colour → H.264 encode, encoding
   overlapped with the next frame's render); goal: within 5 % of (1);
   (1) and (2) alternate `--repeat` times; the best of each is compared;
3. PARALLEL: worker processes (one per core) render to a temporary EXR sequence, then encode;
4. Blender baseline: `bpy.ops.render.render(animation=True)` with Optica as the engine and
   Blender's FFmpeg output (MPEG-4 / H.264, CRF 20 "High quality", "Good" preset);
5. encoding alone: the frames of (1), colour-managed and enlarged to 1920×1080, encoded by
   PyAV (`optica_core.sinks.video.VideoWriter`) and by the `ffmpeg` command-line tool fed the same raw RGB24
   frames through a pipe, with the same settings (libx264, CRF 20, preset medium, BT.709 TV
   range, frame threads); goal: PyAV within 5 % of ffmpeg. Skipped (and said) if `ffmpeg`
   is not installed (`apt-get install -y ffmpeg`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(BENCH))

import _blender_env  # noqa: E402
from _common import cpu_seconds, format_table, machine_info, print_machine  # noqa: E402


def timed(fn):
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, cpu_seconds() - c0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _blender_env.add_animation_options(ap, frames=16, samples=8)
    ap.add_argument("--repeat", type=int, default=2, help="alternating render-only / STREAM runs")
    ap.add_argument("--encode-frames", type=int, default=48, help="1080p frames for PyAV vs ffmpeg")
    ap.add_argument("--quick", action="store_true", help="8 frames at 50 %%, 1 repeat, 24 encode frames")
    ap.add_argument("--skip-blender", action="store_true", help="leave out Blender's Render Animation")
    ap.add_argument("--skip-parallel", action="store_true", help="leave out the PARALLEL export")
    ap.add_argument("--motion-blur", action="store_true",
                    help="Render Properties › Motion Blur on (Blender's defaults: centred, 0.5 frame): issue 15's "
                         "'export wall <= 1.05x render-only with motion blur'")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    if a.quick:
        a.frames, a.percentage, a.repeat, a.encode_frames = 8, 50, 1, 24

    info = machine_info()
    _blender_env.isolate()
    import bpy

    _blender_env.install()
    scene, (w, h), export_modules = _blender_env.open_animation(a.blend, a.frames, a.samples, a.percentage)
    scene.render.use_motion_blur = a.motion_blur
    options, plan_mod, run_mod = export_modules.options, export_modules.plan, export_modules.run
    frames_mod, colour = export_modules.frames, export_modules.colour
    import av
    from optica_core.sinks import video as encoder

    fps = plan_mod.scene_fps(scene)
    out = Path(tempfile.mkdtemp(prefix="optica-bench-export-"))
    print_machine(info)
    print(f"scene: {a.blend.name}, {a.frames} frames at {w}×{h}, {a.samples} spp, "
          f"{scene.optica.max_bounces} bounces, motion blur {'on' if a.motion_blur else 'off'}; PyAV {av.__version__}; "
          f"temporary files in {out}", flush=True)
    figures: dict = {"machine": info, "frames": a.frames, "size": [w, h], "samples": a.samples,
                     "motion_blur": a.motion_blur}

    frames_rgb8: list[np.ndarray] = []

    def render_only():
        renderer = frames_mod.FrameRenderer(scene)
        processor = colour.display_processor(scene)
        keep = not frames_rgb8
        for f in range(1, a.frames + 1):
            frame = renderer.render(f)
            if keep:
                frames_rgb8.append(processor.to_uint8(frame.pixels))
        scene.frame_set(1)

    def export(method, name):
        path = out / name
        path.unlink(missing_ok=True)
        plan = plan_mod.prepare(options.Options(filepath=str(path), method=method, crf=20, preset="MEDIUM"), scene)
        result = run_mod.run(plan)
        assert result.frames == a.frames, result.summary()
        return result

    # 1 + 2: render only and STREAM, alternating
    runs = {"render_only": [], "stream": []}
    for k in range(a.repeat):
        for key, fn in (("render_only", render_only), ("stream", lambda: export("STREAM", "stream.mp4"))):
            wall, cpu, _res = timed(fn)
            runs[key].append((wall, cpu))
            print(f"  {key:<12} run {k + 1}: {wall:7.2f} s wall, {cpu:7.2f} s CPU", flush=True)
    best = {k: min(v) for k, v in runs.items()}

    # 3: PARALLEL
    if not a.skip_parallel:
        wall, cpu, res = timed(lambda: export("PARALLEL", "parallel.mp4"))
        best["parallel"] = (wall, cpu)
        print(f"  {'parallel':<12}      : {wall:7.2f} s wall, {cpu:7.2f} s CPU (workers included)", flush=True)

    # 4: Blender's own Render Animation to FFmpeg
    if not a.skip_blender:
        r = scene.render
        r.image_settings.media_type = "VIDEO"
        r.ffmpeg.format, r.ffmpeg.codec = "MPEG4", "H264"
        r.ffmpeg.constant_rate_factor, r.ffmpeg.ffmpeg_preset = "HIGH", "GOOD"
        r.filepath = str(out / "blender_")
        wall, cpu, _ = timed(lambda: bpy.ops.render.render(animation=True))
        best["blender"] = (wall, cpu)
        print(f"  {'blender':<12}      : {wall:7.2f} s wall, {cpu:7.2f} s CPU", flush=True)

    rows = []
    base = best["render_only"][0]
    labels = {"render_only": "render only (FrameRenderer)", "stream": "Optica STREAM export",
              "parallel": f"Optica PARALLEL export ({os.cpu_count()} workers, EXR)",
              "blender": "Blender Render Animation, FFmpeg H.264"}
    for key in ("render_only", "stream", "parallel", "blender"):
        if key in best:
            wall, cpu = best[key]
            rows.append([labels[key], f"{wall:.2f}", f"{a.frames / wall:.2f}", f"{cpu / wall:.2f}",
                         f"{(wall / base - 1) * 100:+.1f} %"])
    print()
    print(format_table(["run", "wall s", "frames/s", "CPU s / wall s", "vs render only"], rows))
    figures["runs"] = {k: [list(x) for x in v] for k, v in runs.items()}
    figures["best"] = {k: list(v) for k, v in best.items()}

    # 5: PyAV against the ffmpeg tool, on the same frames at 1080p
    big = [np.ascontiguousarray(np.repeat(np.repeat(f, 1920 // f.shape[1], 0), 1920 // f.shape[1], 1)[:1080, :1920])
           for f in frames_rgb8]
    big = [b for b in big if b.shape[:2] == (1080, 1920)]
    if not big or not a.encode_frames:
        print("\nencoding: the rendered frames do not scale to 1080p evenly (use --percentage 100 or 50)")
    else:
        seq = [big[k % len(big)] for k in range(a.encode_frames)]
        settings = encoder.EncoderSettings(codec="H264", encoder="CPU", crf=20, preset="MEDIUM")

        def pyav():
            with encoder.VideoWriter(out / "pyav.mp4", 1920, 1080, fps, settings) as wr:
                for f in seq:
                    wr.write(f)

        ffmpeg = shutil.which("ffmpeg")

        def cli():
            cmd = [ffmpeg, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "1920x1080",
                   "-r", f"{fps.numerator}/{fps.denominator}", "-i", "-",
                   "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
                   "-c:v", "libx264", "-crf", "20", "-preset", "medium", "-g", str(round(2 * float(fps))),
                   "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                   "-color_range", "tv", str(out / "ffmpeg.mp4")]
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
            for f in seq:
                p.stdin.write(f.tobytes())
            p.stdin.close()
            if p.wait() != 0:
                raise RuntimeError(f"ffmpeg exited with {p.returncode}")

        enc = {"pyav": []}
        if ffmpeg:
            enc["ffmpeg"] = []
        for _k in range(max(1, a.repeat)):
            for key, fn in (("pyav", pyav), ("ffmpeg", cli)):
                if key in enc:
                    wall, cpu, _ = timed(fn)
                    enc[key].append((wall, cpu))
        rows = []
        tool = "?"
        if ffmpeg:
            tool = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        for key, label in (("pyav", f"PyAV {av.__version__} (FFmpeg {'.'.join(map(str, av.library_versions['libavcodec']))} libavcodec)"),
                           ("ffmpeg", f"ffmpeg tool ({tool.replace('ffmpeg version ', '').split(' ')[0]})")):
            if key in enc:
                wall, cpu = min(enc[key])
                sz = (out / f"{key}.mp4").stat().st_size / 1e6
                rows.append([label, f"{wall:.2f}", f"{len(seq) / wall:.1f}", f"{cpu / wall:.2f}", f"{sz:.2f}"])
        print(f"\nencoding {len(seq)} frames 1920×1080 (libx264, CRF 20, medium, BT.709 TV range, rgb24 in):")
        print(format_table(["encoder", "wall s", "fps", "CPU s / wall s", "MB"], rows))
        if "ffmpeg" in enc:
            ratio = min(enc["pyav"])[0] / min(enc["ffmpeg"])[0]
            print(f"PyAV / ffmpeg wall time: {ratio:.3f}")
            figures["pyav_over_ffmpeg"] = ratio
        else:
            print("ffmpeg is not installed: the command-line comparison is skipped (apt-get install -y ffmpeg)")
        figures["encode"] = {k: [list(x) for x in v] for k, v in enc.items()}

    s, r0 = best["stream"][0], best["render_only"][0]
    print(f"\nSTREAM / render only: {s / r0:.3f} (goal ≤ 1.05)")
    if "parallel" in best:
        print(f"PARALLEL / STREAM: {best['parallel'][0] / s:.3f}")
    if "blender" in best:
        print(f"STREAM / Blender Render Animation: {s / best['blender'][0]:.3f}")
    figures["stream_over_render"] = s / r0
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1, default=str))
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
