# SPDX-License-Identifier: GPL-3.0-or-later
"""The Blender side of the degenerate-geometry catalogue (test_degenerate_geometry.py has the
core's): what modifiers and users make in a real file — vertices at NaN and Inf (as geometry
nodes can produce; set through foreach_set), a zero-scale object, a mirrored (negative-scale)
object, an object at the camera's position, a light inside a closed mesh — rendered by the
installed engine without an error and without NaN pixels."""

from __future__ import annotations

import math

import bpy
import numpy as np

from conftest import add_object, empty_scene, optica_module


def _cube(name, size=1.0):
    h = size / 2
    me = bpy.data.meshes.new(name)
    me.from_pydata(
        [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)],
        [],
        [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)],
    )
    return me


def test_degenerate_objects_render_without_error_or_nan(optica_installed):
    scene = empty_scene()
    scene.render.resolution_x, scene.render.resolution_y = 48, 32
    scene.optica.samples = 2
    broken = _cube("Broken")
    co = np.zeros(len(broken.vertices) * 3, np.float32)
    broken.vertices.foreach_get("co", co)
    co[:3] = np.nan
    co[3:6] = np.inf
    broken.vertices.foreach_set("co", co)
    add_object(scene, "Broken", broken, (0, 0, 0.5))
    add_object(scene, "Flat", _cube("Flat")).scale = (0, 1, 1)
    add_object(scene, "Mirrored", _cube("Mirrored"), (1.5, 0, 0.5)).scale = (-1, 1, -1)
    cam = add_object(scene, "Camera", bpy.data.cameras.new("Camera"), (0, -4, 1), (math.radians(80), 0, 0))
    scene.camera = cam
    add_object(scene, "AtCamera", _cube("AtCamera", 0.3), (0, -4, 1))
    light = bpy.data.lights.new("Inside", "POINT")
    light.energy = 100
    add_object(scene, "Inside", light, (1.5, 0, 0.5))
    final, render_result = optica_module("addon.final"), optica_module("addon.render_result")
    sink = render_result.ArrayResult()
    outcome = final.FinalSession(sink, status=sink).render(bpy.context.evaluated_depsgraph_get())
    assert outcome.samples == 2 and not outcome.cancelled
    assert not np.isnan(sink.images["Combined"]).any()
