#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the animated demo scene and save it as demo/demo.blend.

    .venv/bin/python tools/make_demo.py [--out demo/demo.blend]

Two seconds at 24 fps (48 frames), 640×360, 16 samples, Optica as the render engine: a camera
circling a small still life (a gold sphere, matte coloured blocks, a glowing
ring) on a floor, with a red ball bouncing through it, lit by a low sun and a blue-grey sky.
Built from arrays and bmesh (no operators), saved compressed so the file stays small.
`python build.py demo` renders it with Optica's streaming video export to out/demo.mp4.
"""

import argparse
import math
import sys
from pathlib import Path

import _blender_env

ROOT = Path(__file__).resolve().parent.parent


def material(bpy, name, rgb, *, metallic=0.0, roughness=0.5, emission=0.0):
    mat = bpy.data.materials.new(name)
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Metallic"].default_value = metallic
    bsdf.inputs["Roughness"].default_value = roughness
    if emission:
        bsdf.inputs["Emission Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Emission Strength"].default_value = emission
    mat.diffuse_color = (*rgb, 1.0)
    return mat


def mesh_object(bpy, scene, name, build, mat, location=(0, 0, 0), smooth=False):
    import bmesh

    me = bpy.data.meshes.new(name)
    bm = bmesh.new()
    build(bmesh, bm)
    bm.to_mesh(me)
    bm.free()
    if smooth:
        me.shade_smooth()
    me.materials.append(mat)
    ob = bpy.data.objects.new(name, me)
    ob.location = location
    scene.collection.objects.link(ob)
    return ob


def build(bpy, frames=48):
    from mathutils import Vector

    bpy.ops.wm.read_factory_settings(use_empty=True)
    _blender_env.enable()  # read_factory_settings disabled it
    scene = bpy.context.scene
    scene.name = "Demo"
    r = scene.render
    r.engine = "OPTICA"
    r.resolution_x, r.resolution_y, r.resolution_percentage = 640, 360, 100
    r.fps, r.fps_base = 24, 1.0
    scene.frame_start, scene.frame_end = 1, frames
    scene.optica.samples = 16
    scene.optica.max_bounces = 4
    scene.optica.noise_threshold = 0.0
    scene.view_settings.view_transform = "AgX"
    scene.view_settings.look = "AgX - Punchy"

    world = bpy.data.worlds.new("Sky")
    world.color = (0.25, 0.32, 0.45)
    background = next((n for n in world.node_tree.nodes if n.type == "BACKGROUND"), None) if world.node_tree else None
    if background is not None:
        background.inputs["Color"].default_value = (0.25, 0.32, 0.45, 1.0)
        background.inputs["Strength"].default_value = 1.0
    scene.world = world

    floor_mat = material(bpy, "Floor", (0.55, 0.52, 0.48), roughness=0.8)
    mesh_object(bpy, scene, "Floor", lambda bmesh, bm: bmesh.ops.create_grid(bm, x_segments=1, y_segments=1,
                                                                             size=12.0), floor_mat)
    gold = material(bpy, "Gold", (1.0, 0.75, 0.35), metallic=1.0, roughness=0.25)
    mesh_object(bpy, scene, "Gold Sphere", lambda bmesh, bm: bmesh.ops.create_uvsphere(
        bm, u_segments=32, v_segments=16, radius=0.7), gold, (0.0, 0.0, 0.7), smooth=True)
    for k, (rgb, xy, h) in enumerate([((0.1, 0.35, 0.8), (-1.6, 0.6), 0.9), ((0.2, 0.7, 0.25), (1.5, 0.9), 0.6),
                                      ((0.85, 0.85, 0.8), (1.0, -1.3), 0.4), ((0.8, 0.45, 0.1), (-1.1, -1.2), 0.5)]):
        mesh_object(bpy, scene, f"Block {k}", lambda bmesh, bm, h=h: bmesh.ops.create_cube(bm, size=1.0),
                    material(bpy, f"Block {k}", rgb, roughness=0.6), (*xy, h / 2)).scale = (0.6, 0.6, h)
    ring = mesh_object(bpy, scene, "Ring", lambda bmesh, bm: _torus(bmesh, bm, 0.9, 0.06),
                       material(bpy, "Glow", (1.0, 0.55, 0.2), emission=6.0), (0.0, 0.0, 0.7))
    ring.rotation_euler = (math.radians(70), 0, 0)
    ring.keyframe_insert("rotation_euler", frame=1)
    ring.rotation_euler = (math.radians(70), 0, math.radians(180))
    ring.keyframe_insert("rotation_euler", frame=frames)

    ball = mesh_object(bpy, scene, "Ball", lambda bmesh, bm: bmesh.ops.create_uvsphere(
        bm, u_segments=24, v_segments=12, radius=0.25), material(bpy, "Red", (0.85, 0.08, 0.05), roughness=0.3),
        smooth=True)
    for f in range(1, frames + 1, 4):  # a ball bouncing across the set
        t = (f - 1) / (frames - 1)
        ball.location = (-2.4 + 4.8 * t, -0.2, 0.25 + 1.6 * abs(math.sin(3 * math.pi * t)))
        ball.keyframe_insert("location", frame=f)

    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 3.5
    sun.angle = math.radians(3)
    sun_ob = bpy.data.objects.new("Sun", sun)
    sun_ob.rotation_euler = (math.radians(55), 0, math.radians(-40))
    scene.collection.objects.link(sun_ob)

    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.data.lens = 35
    scene.collection.objects.link(cam)
    scene.camera = cam
    for f in range(1, frames + 1, 6):  # a quarter turn around the set
        a = math.radians(-100 + 90 * (f - 1) / (frames - 1))
        cam.location = Vector((6.5 * math.cos(a), 6.5 * math.sin(a), 2.6))
        direction = Vector((0, 0, 0.6)) - cam.location
        cam.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
        cam.keyframe_insert("location", frame=f)
        cam.keyframe_insert("rotation_euler", frame=f)
    scene.frame_set(1)
    return scene


def _torus(bmesh, bm, major, minor, n=48, m=12):
    verts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        for j in range(m):
            b = 2 * math.pi * j / m
            rr = major + minor * math.cos(b)
            verts.append(bm.verts.new((rr * math.cos(a), rr * math.sin(a), minor * math.sin(b))))
    for i in range(n):
        for j in range(m):
            bm.faces.new((verts[i * m + j], verts[((i + 1) % n) * m + j], verts[((i + 1) % n) * m + (j + 1) % m],
                          verts[i * m + (j + 1) % m]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "demo" / "demo.blend")
    ap.add_argument("--frames", type=int, default=48)
    a = ap.parse_args(argv)
    _blender_env.isolate()
    import bpy

    _blender_env.install()
    build(bpy, a.frames)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    bpy.context.preferences.filepaths.save_version = 0  # no demo.blend1 backup next to it
    bpy.ops.wm.save_as_mainfile(filepath=str(a.out.resolve()), compress=True, check_existing=False)
    print(f"make_demo: wrote {a.out} ({a.out.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
