#!/usr/bin/env python3
"""What motion blur costs the export today: a 300-frame animation exported with Render
Properties › Motion Blur off, then on (issue 15; the core does not render the steps yet).

    python bench/motion_export.py                 # 300 frames
    python bench/motion_export.py --frames 60     # shorter
    python bench/motion_export.py --json out.json

Needs the venv with bpy 5.0 and optica_core (`python build.py`); the exporter is loaded from this
source tree. The scene, built by script: 20 cubes flying on keyframes (one mesh, one instance
group), a 20,000-vertex strip bent by an armature, a shape-key mesh, a static 200,000-triangle
grid (never read again per step), a camera panning, 250 k hair points (static). Per frame the
scene is set (`scene.frame_set`) and one SceneExporter (kept for the whole animation, as a render
job keeps it) exports the depsgraph — with motion blur on, 3 steps each (Cycles' default), so
two extra sub-frame evaluations per frame. Measured: the export wall time per frame, the
`frame_set` wall per frame (what Blender itself spends evaluating the frame), and for reference
one 64×64 render at 16 samples of a frame (the core's time for this scene). Best of --repeat.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import convert as CV  # noqa: E402


def build(bpy, frames: int):
    import numpy as np

    scene = CV.new_scene(bpy)
    scene.frame_start, scene.frame_end = 1, frames
    cam = scene.camera
    cam.rotation_euler.z = 0.0
    cam.keyframe_insert("rotation_euler", frame=1)
    cam.rotation_euler.z = 0.6
    cam.keyframe_insert("rotation_euler", frame=frames)
    bpy.ops.mesh.primitive_cube_add(size=0.3)
    cube = bpy.context.object
    rng = np.random.default_rng(0)
    for i in range(20):
        ob = cube if i == 0 else cube.copy()
        if i:
            scene.collection.objects.link(ob)
        for f in (1, frames):
            ob.location = tuple(rng.uniform(-4, 4, 3))
            ob.keyframe_insert("location", frame=f)
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=316, y_subdivisions=316, size=8.0, location=(0, 0, -1))
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=199, y_subdivisions=99, size=2.0, location=(0, 2, 0))
    strip = bpy.context.object
    rig_data = bpy.data.armatures.new("Rig")
    rig = bpy.data.objects.new("Rig", rig_data)
    scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = rig_data.edit_bones.new("Bone")
    bone.head, bone.tail = (0, 0, 0), (1, 0, 0)
    bpy.ops.object.mode_set(mode="OBJECT")
    group = strip.vertex_groups.new(name="Bone")
    group.add([v.index for v in strip.data.vertices if v.co.x > 0], 1.0, "REPLACE")
    strip.modifiers.new("Armature", "ARMATURE").object = rig
    pose = rig.pose.bones["Bone"]
    pose.rotation_mode = "XYZ"
    for f, angle in ((1, 0.0), (frames, 2.0)):
        pose.rotation_euler.y = angle
        pose.keyframe_insert("rotation_euler", frame=f)
    bpy.ops.mesh.primitive_uv_sphere_add(location=(2, 0, 0))
    ball = bpy.context.object
    ball.shape_key_add(name="Basis")
    key = ball.shape_key_add(name="Squash")
    for point in key.data:
        point.co.z *= 0.5
    for f, value in ((1, 0.0), (frames, 1.0)):
        key.value = value
        key.keyframe_insert("value", frame=f)
    fur_scene_points = 250_000
    n_curves = fur_scene_points // 8
    curves = bpy.data.hair_curves.new("Fur")
    curves.add_curves([8] * n_curves)
    roots = rng.uniform(-3, 3, (n_curves, 3)) * (1, 1, 0)
    pts = np.repeat(roots, 8, axis=0) + np.tile(np.linspace(0, 0.2, 8), n_curves)[:, None] * (0, 0, 1)
    curves.position_data.foreach_set("vector", pts.astype(np.float32).ravel())
    scene.collection.objects.link(bpy.data.objects.new("Fur", curves))
    return scene


def run(bpy, oc, export_mod, scene, frames: int, motion: bool) -> dict:
    scene.render.use_motion_blur = motion
    exporter = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES)
    export_s = frame_set_s = 0.0
    stats = {}
    for f in range(1, frames + 1):
        t0 = time.perf_counter()
        scene.frame_set(f)
        dg = bpy.context.evaluated_depsgraph_get()
        t1 = time.perf_counter()
        exporter.export(dg)
        t2 = time.perf_counter()
        frame_set_s += t1 - t0
        export_s += t2 - t1
        stats = exporter.last_stats
    return {"export_s": export_s, "frame_set_s": frame_set_s,
            "last_stats": {k: v for k, v in stats.items() if k.startswith(("motion", "seconds", "meshes", "curves"))}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    import bpy

    oc = C.import_core()
    export_mod = CV.load_exporter_module()
    info = C.machine_info()
    C.print_machine(info)
    command = ["python", "bench/motion_export.py", *(argv if argv is not None else sys.argv[1:])]
    print("blender %s; command: %s" % (bpy.app.version_string, " ".join(command)))
    scene = build(bpy, args.frames)
    results = {}
    for motion in (False, True, False, True)[: 2 * args.repeat]:
        r = run(bpy, oc, export_mod, scene, args.frames, motion)
        key = "on" if motion else "off"
        if key not in results or r["export_s"] < results[key]["export_s"]:
            results[key] = r
    # One render of the middle frame for scale: the core's time for this scene.
    scene.frame_set(args.frames // 2)
    scene.render.use_motion_blur = False
    d = export_mod.SceneExporter(log=lambda *a: None, evaluable=oc.shading.NODE_TYPES).export(
        bpy.context.evaluated_depsgraph_get())
    d["render"]["width"], d["render"]["height"] = 64, 64
    d["render"].pop("region", None)
    renderer = oc.Renderer(threads=0)
    t0 = time.perf_counter()
    renderer.set_scene(d)
    renderer.accumulate(16)
    render_s = time.perf_counter() - t0
    off, on = results["off"], results["on"]
    n = args.frames
    rows = [["motion blur off", "%.1f" % (1e3 * off["export_s"] / n), "%.1f" % (1e3 * off["frame_set_s"] / n)],
            ["motion blur on (3 steps)", "%.1f" % (1e3 * on["export_s"] / n), "%.1f" % (1e3 * on["frame_set_s"] / n)]]
    print(C.format_table(["%d frames" % n, "export ms/frame", "frame_set ms/frame"], rows))
    print("export with motion blur: %.2f× the export without; +%.1f ms a frame; one 64×64 16-spp render of a frame "
          "(set_scene + accumulate): %.0f ms" % (on["export_s"] / off["export_s"],
                                                  1e3 * (on["export_s"] - off["export_s"]) / n, 1e3 * render_s))
    print("last frame, motion on: %s" % on["last_stats"])
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "frames": n, "off": off, "on": on,
                                               "render_64_16spp_s": render_s}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
