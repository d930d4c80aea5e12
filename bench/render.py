#!/usr/bin/env python3
"""Rendering speed of optica_core: paths per second (samples · pixels / s).

    python bench/render.py                 # Cornell box, the 1M-triangle displaced sphere and the
                                           # PBR spheres textured and flat, 256×256, 16 spp, 1 thread
                                           # and all cores (~30 s on 2 cores)
    python bench/render.py --quick         # 128×128, 4 spp, 100k-triangle sphere
    python bench/render.py --json out.json # also write every figure as JSON
    python bench/render.py --scenes pbr_textured,pbr_flat --threads 1   # shader cost only
    python bench/render.py --motion        # also each scene with motion blur (below)
    python bench/render.py --scenes hair   # 1M curve segments (optica_core.scenes.hair_patch)

`pbr_textured` is optica_core.scenes.pbr_spheres(): materials as Blender's glTF importer builds
them (base-colour texture, roughness/metallic through Separate Color, a normal map), shader
programs run per hit; `pbr_flat` is the same scene with constant Principled BSDFs. Their
paths/s ratio is printed last (issue 8's goal: textured ≥ 0.6× flat).

Each measurement: Renderer(threads=k), set_scene (timed apart), one warm-up accumulate(1),
reset(), then accumulate(spp) timed; the best of --repeat such timed passes counts. A path is
one camera sample of one pixel with all its bounces (the scene's max_bounces, 12 by default,
with Russian roulette), so paths/s is Cycles' "pixel-samples per second". "CPU s / render s" is
the process's CPU time over the wall time of the timed pass: about the number of cores the
render really got (below the thread count when other processes compete for the cores).

--motion adds two variants of each scene (docs/scene-dict.md, *Motion blur*; a centred shutter of
half a frame): "moving" gives every placement three transform steps (a 0.1-unit slide and a
6° turn about its own Z over the shutter: moving instances, swept TLAS boxes); "deforming" gives
every mesh three vertex steps (the mesh sliding 0.02 units: the deforming-triangle leaf routine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="128×128, 4 spp, 100k-triangle sphere")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    ap.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), help="image size (default 256 256)")
    ap.add_argument("--spp", type=int, help="samples per pixel (default 16)")
    ap.add_argument("--triangles", type=int, help="displaced sphere triangles (default 1,000,000)")
    ap.add_argument("--scenes", default="cornell_box,displaced_sphere,pbr_textured,pbr_flat")
    ap.add_argument("--threads", default="1,0", help="comma-separated thread counts, 0 = all cores (1,0)")
    ap.add_argument("--repeat", type=int, default=2, help="timed passes per measurement; the best counts (2)")
    ap.add_argument("--motion", action="store_true", help="also each scene with moving placements / deforming meshes")
    ap.add_argument("--segments", type=int, default=1_000_000, help="curve segments of the hair scenes (1,000,000)")
    args = ap.parse_args(argv)
    w, h = args.size or ((128, 128) if args.quick else (256, 256))
    spp = args.spp or (4 if args.quick else 16)
    tris = args.triangles or (100_000 if args.quick else 1_000_000)
    threads = [int(s) for s in args.threads.split(",") if s.strip()]

    oc = C.import_core()
    info = C.machine_info()
    C.print_machine(info)
    print("command: %s" % " ".join(["python", "bench/render.py", *(argv if argv is not None else sys.argv[1:])]))
    builders = {
        "cornell_box": lambda: ("cornell_box(%d, %d)" % (w, h), oc.scenes.cornell_box(width=w, height=h)),
        "displaced_sphere": lambda: ("displaced_sphere(%d, %d, %d)" % (tris, w, h),
                                     oc.scenes.displaced_sphere(n_triangles=tris, width=w, height=h)),
        "pbr_textured": lambda: ("pbr_spheres(%d, %d)" % (w, h), oc.scenes.pbr_spheres(w, h)),
        "pbr_flat": lambda: ("pbr_spheres(%d, %d, textured=False)" % (w, h),
                             oc.scenes.pbr_spheres(w, h, textured=False)),
        "hair": lambda: ("hair_patch(%d, %d, %d)" % (args.segments, w, h),
                         oc.scenes.hair_patch(args.segments, w, h)),
        "hair_ribbons": lambda: ("hair_patch(%d, %d, %d, shape='ribbon')" % (args.segments, w, h),
                                 oc.scenes.hair_patch(args.segments, w, h, shape="ribbon")),
    }
    results = {"machine": info, "args": {"size": [w, h], "spp": spp, "triangles": tris, "threads": threads,
                                         "repeat": args.repeat}, "runs": []}
    rows = []
    t_start = time.perf_counter()
    cases = []
    for key in [s.strip() for s in args.scenes.split(",") if s.strip()]:
        if key not in builders:
            ap.error("unknown scene %r" % key)
        label, d = builders[key]()
        cases.append((label, d))
        if args.motion:
            cases.append((label + " moving", with_motion(oc, d, "moving")))
            cases.append((label + " deforming", with_motion(oc, d, "deforming")))
    for label, d in cases:
        bounces = d["render"].get("max_bounces", 12)
        for k in threads:
            kk = k if k > 0 else (os.cpu_count() or 1)
            r = oc.Renderer(threads=k)
            t_set, _ = C.best_of(lambda: r.set_scene(d), 1)
            r.accumulate(1)  # warm-up: first-touch of the film, lazy initialisation

            def timed():
                r.reset()
                c0 = time.process_time()
                n = r.accumulate(spp)
                cpu = time.process_time() - c0
                if n != spp:
                    raise RuntimeError("accumulate(%d) returned %r" % (spp, n))
                return cpu

            t, cpu = C.best_of(timed, args.repeat)
            paths = spp * w * h / t
            run = {"scene": label, "threads": kk, "width": w, "height": h, "spp": spp, "max_bounces": bounces,
                   "set_scene_s": t_set, "render_s": t, "cpu_s": cpu, "paths_per_s": paths}
            results["runs"].append(run)
            rows.append([label, kk, "%d×%d" % (w, h), spp, bounces, "%.0f" % (t_set * 1e3), "%.3f" % t,
                         "%.1f" % (cpu / t), "%.3f" % (paths * 1e-6)])
            print("%s, %d thread(s): %.3f M paths/s" % (label, kk, paths * 1e-6), flush=True)
            del r
    print()
    print(C.format_table(["scene", "threads", "size", "spp", "max bounces", "set_scene ms", "render s",
                          "CPU s / render s", "M paths/s"], rows))
    print_pbr_ratio(results["runs"], w, h)
    results["total_s"] = time.perf_counter() - t_start
    print("\ntotal %.0f s" % results["total_s"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
        print("wrote %s" % args.json)
    return 0


def with_motion(oc, d: dict, kind: str) -> dict:
    """`d` with a centred half-frame shutter and every placement moving ("moving") or every mesh
    deforming ("deforming"), three steps each."""
    import numpy as np

    v = dict(oc.validate_scene(d))
    v["motion"] = {"shutter": 0.5, "position": "CENTER"}
    if kind == "moving":
        groups = []
        for g in v["instances"]:
            xf = np.asarray(g["transforms"], np.float32)
            steps = []
            for s in (-1.0, 0.0, 1.0):
                a = np.radians(3.0) * s
                turn = np.array([[np.cos(a), -np.sin(a), 0, 0], [np.sin(a), np.cos(a), 0, 0], [0, 0, 1, 0],
                                 [0, 0, 0, 1]], np.float32)
                step = xf @ turn
                step[:, 0, 3] += 0.05 * s
                steps.append(step)
            groups.append(dict(g, motion=np.ascontiguousarray(np.stack(steps), np.float32)))
        v["instances"] = groups
    else:
        meshes = {}
        for name, m in v["meshes"].items():
            p = np.asarray(m["vertices"], np.float32)
            steps = np.stack([p + np.float32([0.01 * s, 0, 0]) for s in (-1.0, 0.0, 1.0)])
            meshes[name] = dict(m, motion={"vertices": steps, "velocities": None})
        v["meshes"] = meshes
    return v


def print_pbr_ratio(runs: list, w: int, h: int) -> None:
    """Textured over flat paths/s, per thread count (the goal: at least 0.6)."""
    by = {(run["scene"], run["threads"]): run for run in runs}
    for (scene, threads), run in by.items():
        flat = by.get(("pbr_spheres(%d, %d, textured=False)" % (w, h), threads))
        if scene == "pbr_spheres(%d, %d)" % (w, h) and flat:
            # CPU time per path is steadier than wall time on a shared machine.
            cpu_ratio = (flat["cpu_s"] / flat["spp"]) / (run["cpu_s"] / run["spp"])
            print("textured / flat PBR spheres, %d thread(s): %.2fx paths/s (%.2fx by CPU time)"
                  % (threads, run["paths_per_s"] / flat["paths_per_s"], cpu_ratio))


if __name__ == "__main__":
    sys.exit(main())
