# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion blur against Cycles in real Blender, both engines rendering the same animated scene
through Blender in one process (Render › Motion Blur on, the frame mid-animation).

One scene per kind of motion: a cube moving across the frame (object transform blur), a
turning camera (camera blur), an armature bending a mesh and a shape key moving its vertices
(deformation blur). The default suite compares each at low resolution and sample count with
test_vs_cycles' statistic (the means within 2 %, the per-pixel error within Cycles' own noise,
here with less slack), and checks that the frame rendered without its blur fails that bound;
the slow tests check the means within 1 % and that Optica's error against a 2 × 2048-sample
Cycles reference keeps falling like 1/√spp (no plateau: a blur with the wrong shape, shutter or
time distribution is a bias).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import bpy_scenes as bs  # noqa: E402


SIZE = (48, 48)
FRAME = 5


@pytest.fixture
def scene(optica_scene):
    s = bs.new_empty_scene(*SIZE)
    s.frame_start, s.frame_end = 1, 10
    return s


def stage(scene):
    """A grey ground, a sun and a grey world: every surface lit, shadows that move."""
    bs.plane(scene, "Ground", 20.0, bs.diffuse("Ground", (0.5, 0.5, 0.5)))
    bs.light(scene, "SUN", energy=3.0, location=(0, 0, 5), rotation_deg=(40, 0, 30), angle=math.radians(2))
    bs.world(scene, (0.3, 0.35, 0.4))


def cube(scene, name, center, size, material):
    h = size / 2
    verts = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (0, size)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    ob = bs.mesh_object(scene, name, verts, faces, material)
    ob.location = center
    return ob


def moving_cube(scene):
    stage(scene)
    bs.camera(scene, (0, -7, 2.5), (75, 0, 0), lens=35)
    ob = cube(scene, "Cube", (0, 0, 0), 1.5, bs.diffuse("Red", (0.8, 0.2, 0.1)))
    for f, x, angle in ((1, -6.0, 0.0), (9, 6.0, 4.0)):
        ob.location.x = x
        ob.rotation_euler.z = angle
        ob.keyframe_insert("location", frame=f)
        ob.keyframe_insert("rotation_euler", frame=f)
    bs.linear_keyframes(ob.animation_data.action)
    scene.render.motion_blur_shutter = 1.0


def rotating_camera(scene):
    stage(scene)
    for i, x in enumerate((-2.0, 0.0, 2.0)):
        cube(scene, f"Cube{i}", (x, 1.0, 0), 0.8, bs.diffuse(f"C{i}", (0.2 + 0.3 * i, 0.5, 0.8 - 0.3 * i)))
    cam = bs.camera(scene, (0, -8, 2), (80, 0, 0), lens=35)
    for f, angle in ((1, -1.2), (9, 1.2)):
        cam.rotation_euler.z = angle
        cam.keyframe_insert("rotation_euler", frame=f)
    bs.linear_keyframes(cam.animation_data.action)
    scene.render.motion_blur_shutter = 0.8


def strip_mesh(scene, name, n, material):
    """A subdivided slab along X (n + 1 vertex columns), so deformations bend it visibly."""
    xs = np.linspace(-1.5, 1.5, n + 1)
    verts = [(x, y, z) for x in xs for y in (-0.4, 0.4) for z in (0.2, 0.8)]
    faces = []
    for i in range(n):
        a, b = 4 * i, 4 * (i + 1)
        faces += [(a, b, b + 1, a + 1), (a + 2, a + 3, b + 3, b + 2), (a, a + 2, b + 2, b), (a + 1, b + 1, b + 3, a + 3)]
    faces += [(0, 1, 3, 2), (4 * n, 4 * n + 2, 4 * n + 3, 4 * n + 1)]
    return bs.mesh_object(scene, name, verts, faces, material)


def armature_mesh(scene):
    stage(scene)
    bs.camera(scene, (0, -6, 3), (65, 0, 0), lens=35)
    ob = strip_mesh(scene, "Arm", 12, bs.diffuse("Arm", (0.2, 0.6, 0.3)))
    arm_data = bpy.data.armatures.new("Rig")
    rig = bs.link(scene, bpy.data.objects.new("Rig", arm_data))
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm_data.edit_bones.new("Bone")
    bone.head, bone.tail = (0, 0, 0.8), (1, 0, 0.8)
    bpy.ops.object.mode_set(mode="OBJECT")
    group = ob.vertex_groups.new(name="Bone")
    # Weights ramping up along the bone: a smooth bend (rigid 0/1 weights fold the slab's faces
    # onto each other at the hinge, coplanar overlaps that neither engine shades reliably).
    for i, v in enumerate(ob.data.vertices):
        if v.co.x > 0:
            group.add([i], min(v.co.x / 1.5, 1.0), "REPLACE")
    mod = ob.modifiers.new("Armature", "ARMATURE")
    mod.object = rig
    pose = rig.pose.bones["Bone"]
    pose.rotation_mode = "XYZ"
    # About the bone's X: the slab's far half lifts, gently (a sharp concave crease converges to a
    # slightly different value in each engine, motion blur or not).
    for f, angle in ((4, 0.0), (6, 1.2)):
        pose.rotation_euler.x = angle
        pose.keyframe_insert("rotation_euler", frame=f)
    bs.linear_keyframes(rig.animation_data.action)
    scene.render.motion_blur_shutter = 1.0


def shape_key_mesh(scene):
    stage(scene)
    bs.camera(scene, (0, -6, 3), (65, 0, 0), lens=35)
    ob = strip_mesh(scene, "Keys", 12, bs.diffuse("Keys", (0.7, 0.6, 0.2)))
    ob.shape_key_add(name="Basis")
    key = ob.shape_key_add(name="Wave")
    for i, point in enumerate(key.data):
        point.co.z += 1.2 * math.sin(point.co.x * 2.0)
    key.value = 0.0
    for f, value in ((4, 0.0), (6, 1.0)):
        key.value = value
        key.keyframe_insert("value", frame=f)
    bs.linear_keyframes(ob.data.shape_keys.animation_data.action)
    scene.render.motion_blur_shutter = 1.0


SCENES = {"moving cube": moving_cube, "rotating camera": rotating_camera, "armature": armature_mesh,
          "shape key": shape_key_mesh}


def blurred(scene, build):
    build(scene)
    scene.frame_set(FRAME)
    scene.render.use_motion_blur = True


@pytest.mark.parametrize("name", list(SCENES))
def test_motion_blur_matches_cycles(scene, tmp_path, name):
    """Each kind of motion at 48 × 48 and 128 samples: the means within 2 %, the per-pixel error
    (2 × 2 bins, relative to the mean) within 1.5 × Cycles' own (two seeds) + 0.003; Optica's frame
    without its blur is outside that bound (the comparison sees the blur)."""
    blurred(scene, SCENES[name])

    def without_blur():
        scene.render.use_motion_blur = False

    bs.assert_matches_cycles_per_pixel(scene, tmp_path, name, without_blur, "the frame without blur", mean_tol=0.02)


render = bs.render_with


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENES))
def test_motion_blur_converges_to_cycles(scene, tmp_path, name):
    """Against a 2 × 2048-sample Cycles reference (its own noise subtracted): Optica's mean
    within 1 % at 1024 samples, and its error falling like 1/√spp from 64 to 1024 samples."""
    blurred(scene, SCENES[name])
    bs.assert_converges_to_cycles(scene, tmp_path, name)
