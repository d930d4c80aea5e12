# SPDX-License-Identifier: GPL-3.0-or-later
"""Peak memory (RSS) of a final render, Optica against Cycles, each render in a process of its own.

    .venv/bin/python bench/memory.py                 # 1M-triangle mesh, 100,000 instances, 1M curve segments, 1280×720
    .venv/bin/python bench/memory.py --quick         # 100k triangles, 10,000 instances, 100k segments, 640×360
    .venv/bin/python bench/memory.py --scenes curves --json out.json

For each scene and engine a new Python process imports bpy, builds the scene by script
(bench/scenes_bpy.py: the smooth bumpy mesh; geometry-nodes instances of a 324-triangle sphere;
a Curves object of 8-point round hairs, 7 segments each) and then renders it once with `bpy.ops.render.render` (4 samples, 12 bounces, no denoising: the
memory of a render hardly depends on the sample count). Before the render the process's peak RSS
is reset to its current RSS (Linux: `5` written to /proc/self/clear_refs), so what is reported is

- before: RSS with Blender, the scene and its evaluated depsgraph loaded (the same for both engines
  up to Optica's add-on);
- peak: the highest RSS during the render (VmHWM), and peak − before: what the render itself
  needed (scene conversion, BVH, film, render result).

For the curves each engine also renders the scene with a tenth of the segments (same size and
settings): the MiB per million curve segments is the slope of peak − before between the two
counts, so the film, the render result and other fixed costs cancel out.

Goal (issue 11): Optica's peak ≤ Cycles' on every scene.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import _common as C  # noqa: E402

SCENES = {
    "mesh": ("smooth mesh, {n:,} triangles", "big_smooth_mesh", "n_triangles", 1_000_000, 100_000),
    "instances": ("{n:,} geometry-nodes instances", "many_instances", "count", 100_000, 10_000),
    "curves": ("Curves object, {n:,} curve segments", "hair_patch", "n_segments", 1_000_000, 100_000),
}
SEGMENT_SCENES = {"curves"}  # their table row also gives MiB per million curve segments


def rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def child(engine: str, scene_key: str, n: int, width: int, height: int) -> dict:
    """In the child process: build, reset the peak, render once, report."""
    sys.path.insert(0, str(ROOT / "tests"))
    import conftest  # isolates Blender's user folders before bpy loads

    import bpy
    import scenes_bpy
    import vs_cycles

    if engine == "optica":
        conftest.install_optica()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if engine == "optica":
        conftest.enable_optica()
    scene = vs_cycles.bs.new_empty_scene(width, height)
    _, builder, parameter, _, _ = SCENES[scene_key]
    getattr(scenes_bpy, builder)(scene, **{parameter: n})
    bpy.context.evaluated_depsgraph_get()
    vs_cycles.configure(scene, engine, 4, 0)
    with tempfile.TemporaryDirectory(prefix="optica-memory-") as tmp:
        scene.render.image_settings.file_format = "OPEN_EXR"
        scene.render.filepath = str(Path(tmp) / "out.exr")
        before = rss_kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # peak RSS := current RSS
        start = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        seconds = time.perf_counter() - start
        peak = rss_kib("VmHWM")
    return {"before_mib": before / 1024, "peak_mib": peak / 1024, "render_mib": (peak - before) / 1024,
            "seconds": seconds}


def run_child(engine: str, scene_key: str, n: int, width: int, height: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", engine, scene_key, str(n), str(width), str(height)],
                         capture_output=True, text=True, timeout=1800)
    lines = [line for line in out.stdout.splitlines() if line.startswith("@ ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{engine} on {scene_key} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(lines[-1][2:])


def select_scenes(keys: str | None) -> list[str]:
    wanted = [k.strip() for k in keys.split(",") if k.strip()] if keys else list(SCENES)
    unknown = [k for k in wanted if k not in SCENES]
    if unknown or not wanted:
        raise SystemExit(f"--scenes: unknown {', '.join(unknown) or '(none given)'} (known: {', '.join(SCENES)})")
    return wanted


def per_million(small: dict, n_small: int, large: dict, n_large: int) -> float:
    """What the render adds (peak − before) per million more elements, between two counts of the
    same scene: the slope, without the costs that do not grow with the scene (film, result)."""
    return (large["render_mib"] - small["render_mib"]) / ((n_large - n_small) / 1e6)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k triangles, 10,000 instances, 100k segments, 640x360")
    ap.add_argument("--scenes", help="comma-separated keys (default: all): " + ", ".join(SCENES))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", nargs=5, metavar=("ENGINE", "SCENE", "N", "W", "H"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        engine, key, n, w, h = args.child
        print("@ " + json.dumps(child(engine, key, int(n), int(w), int(h))), flush=True)
        return 0
    keys = select_scenes(args.scenes)
    width, height = (640, 360) if args.quick else (1280, 720)
    info = C.machine_info()
    C.print_machine(info)
    print(f"command: python bench/memory.py {' '.join(argv if argv is not None else sys.argv[1:])}", flush=True)
    rows, results, segment_lines = [], [], []
    for key in keys:
        label, _, _, n_full, n_quick = SCENES[key]
        n = n_quick if args.quick else n_full
        by_engine = {}
        for engine in ("cycles", "optica"):
            by_engine[engine] = r = run_child(engine, key, n, width, height)
            print(f"{label.format(n=n)}, {engine}: before {r['before_mib']:.0f} MiB, peak {r['peak_mib']:.0f} MiB "
                  f"(+{r['render_mib']:.0f} MiB), {r['seconds']:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
            if key in SEGMENT_SCENES:
                r["tenth"] = t = run_child(engine, key, n // 10, width, height)
                r["render_mib_per_million_segments"] = per_million(t, n // 10, r, n)
                print(f"  with {n // 10:,} segments: before {t['before_mib']:.0f} MiB, peak {t['peak_mib']:.0f} MiB "
                      f"(+{t['render_mib']:.0f} MiB): {r['render_mib_per_million_segments']:.0f} MiB per million "
                      "segments", flush=True)
        c, o = by_engine["cycles"], by_engine["optica"]
        rows.append([label.format(n=n), f"{width}x{height}", f"{c['before_mib']:.0f}", f"{c['peak_mib']:.0f}",
                     f"{c['render_mib']:.0f}", f"{o['before_mib']:.0f}", f"{o['peak_mib']:.0f}",
                     f"{o['render_mib']:.0f}", f"**{o['peak_mib'] / c['peak_mib']:.2f}**",
                     f"{o['render_mib'] / max(c['render_mib'], 1e-9):.2f}"])
        if key in SEGMENT_SCENES:
            cm, om = c["render_mib_per_million_segments"], o["render_mib_per_million_segments"]
            segment_lines.append(f"{label.format(n=n)}: the render adds {cm:.0f} MiB per million segments in Cycles, "
                                 f"{om:.0f} in Optica ({om / cm:.2f}x; slope between {n // 10:,} and {n:,})")
        results.append({"scene": label.format(n=n), "key": key, "n": n, "size": [width, height],
                        **{e: by_engine[e] for e in by_engine}})
    print()
    print(C.format_table(["scene", "size", "Cycles before MiB", "Cycles peak MiB", "Cycles render +MiB",
                          "Optica before MiB", "Optica peak MiB", "Optica render +MiB", "peak Optica/Cycles",
                          "render + Optica/Cycles"], rows))
    for line in segment_lines:
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
