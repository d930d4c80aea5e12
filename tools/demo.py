#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the animated demo (demo/demo.blend) with Optica straight to a video, out/demo.mp4.

Run through `python build.py demo [options]`, which builds everything first and runs this with
.venv's Python: Blender (the `bpy` module) with the built extension installed into a temporary
user folder, then `bpy.ops.optica.export_animation` — the streaming export (render, colour
management, H.264 encoding overlapped) — with a progress bar. The defaults take about two
minutes on 2 cores (48 frames, 640×360, 16 samples); `--frames`, `--samples`, `--percentage`
make it shorter.

demo/demo.blend is made by tools/make_demo.py.
"""

import argparse
import sys
import time
from pathlib import Path

import _blender_env

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blend", type=Path, default=ROOT / "demo" / "demo.blend")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "demo.mp4")
    ap.add_argument("--frames", type=int, default=0, help="render only the first N frames (0: all)")
    ap.add_argument("--samples", type=int, default=0, help="samples per pixel (0: the file's, 16)")
    ap.add_argument("--percentage", type=int, default=100, help="resolution percentage")
    ap.add_argument("--method", choices=("STREAM", "PARALLEL"), default="STREAM")
    ap.add_argument("--codec", choices=("H264", "HEVC", "AV1"), default="H264")
    a = ap.parse_args(argv)
    if not a.blend.is_file():
        print(f"demo: {a.blend} is missing (tools/make_demo.py builds it)", file=sys.stderr)
        return 1

    _blender_env.isolate()
    import bpy

    _blender_env.install()
    bpy.ops.wm.open_mainfile(filepath=str(a.blend.resolve()), load_ui=False)
    scene = bpy.context.scene
    if a.samples:
        scene.optica.samples = a.samples
    scene.render.resolution_percentage = a.percentage
    options = {}
    if a.frames:
        options.update(use_frame_range_override=True, frame_start=scene.frame_start,
                       frame_end=scene.frame_start + a.frames - 1)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    w = scene.render.resolution_x * a.percentage // 100
    h = scene.render.resolution_y * a.percentage // 100
    print(f"demo: {a.blend.name}: {w}×{h}, {scene.optica.samples} samples, {a.method} export to {a.out}",
          flush=True)
    t0 = time.perf_counter()
    result = bpy.ops.optica.export_animation(filepath=str(a.out.resolve()), method=a.method, codec=a.codec,
                                             verbose=True, notify=True, **options)
    if result != {"FINISHED"}:
        print(f"demo: the export failed ({result})", file=sys.stderr)
        return 1
    print(f"demo: wrote {a.out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
